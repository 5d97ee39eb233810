namespace BatchSwap.Faults;

/// <summary>What an injected fault does to one swap I/O.</summary>
internal enum IoFault : byte
{
    /// <summary>Nothing: the I/O runs.</summary>
    None,
    /// <summary>The I/O fails before moving anything.</summary>
    Error,
    /// <summary>The I/O moves part of its bytes, then fails (a short read or write).</summary>
    Short,
}
