namespace BatchSwap.Swap;

/// <summary>One page to load: a locked slot and the frame to fill.</summary>
internal unsafe struct LoadRequest
{
    /// <summary>Swap type of the slot.</summary>
    public int Type;
    /// <summary>Slot offset.</summary>
    public int Slot;
    /// <summary>The slot's info word, as locked.</summary>
    public ulong Info;
    /// <summary>The frame to fill.</summary>
    public byte* Frame;
    /// <summary>How the load ended.</summary>
    public LoadResult Result;
}
