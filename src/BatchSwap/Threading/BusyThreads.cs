namespace BatchSwap.Threading;

/// <summary>
/// Threads keeping a core busy with the tier's work now: faulting threads, direct and background reclaim, the zswap
/// shrink worker. The compression engines read it to leave cores to them. Made first, so every part gets it through
/// its constructor.
/// </summary>
internal sealed class BusyThreads
{
    // Threads busy now.
    private int _count;

    /// <summary>Threads busy now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Adds to or takes from the count.</summary>
    public void Add(int delta) => Interlocked.Add(ref _count, delta);
}
