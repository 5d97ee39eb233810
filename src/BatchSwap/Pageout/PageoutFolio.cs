namespace BatchSwap.Pageout;

/// <summary>
/// One folio of a pageout batch: the folios of a flushed plug, each with the swap slots it was given and what became
/// of it. Reclaim fills it, zswap and the page-I/O layer answer it, and the memory node frees it. The layers below
/// reclaim see only this type, never the plug.
/// </summary>
internal struct PageoutFolio
{
    /// <summary>Head frame.</summary>
    public int Head;
    /// <summary>Folio order.</summary>
    public int Order;
    /// <summary>Swap type of its slots.</summary>
    public int SwapType;
    /// <summary>First of its 2^Order contiguous slots.</summary>
    public int SlotOffset;
    /// <summary>What became of it.</summary>
    public PageoutOutcome Outcome;
    /// <summary>Set by zswap when it rejected the folio because a page did not compress and could not be kept as-is.</summary>
    public bool CompressPoor;
}
