namespace BatchSwap.Swap.Backends;

/// <summary>The runs submitted to swap backends and not complete yet (the queue depth), now and at its highest.</summary>
internal sealed class SwapIoDepth
{
    private long _now, _max;

    /// <summary>Runs in flight now.</summary>
    public long Now => Volatile.Read(ref _now);

    /// <summary>The most runs in flight at once so far.</summary>
    public long Max => Volatile.Read(ref _max);

    /// <summary>Adds submitted runs (or, negative, completed ones).</summary>
    public void Add(int runs)
    {
        long now = Interlocked.Add(ref _now, runs);
        long max;
        while (now > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, max) != max) { }
    }
}
