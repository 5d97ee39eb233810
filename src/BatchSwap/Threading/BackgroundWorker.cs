namespace BatchSwap.Threading;

/// <summary>
/// A background thread that sleeps until woken, then runs one round of work, counted busy while it runs: the wake
/// loop kswapd and the zswap shrink worker share. Wakes while it runs are folded into one more round (the kernel's
/// wake_up of a thread that is already awake). The work checks <see cref="IsStopping"/> to end a long round early.
/// </summary>
internal sealed class BackgroundWorker : IDisposable
{
    // One round of work.
    private readonly Action _work;
    // Where the thread counts itself busy.
    private readonly BusyThreads _busy;
    // A pending wake (at most one).
    private readonly SemaphoreSlim _wake = new(0, 1);
    // Set to stop.
    private volatile bool _stopping;
    // Set once disposed.
    private int _disposed;

    /// <summary>Starts a thread named <paramref name="name"/> that runs <paramref name="work"/> each time it is woken.</summary>
    public BackgroundWorker(string name, Action work, BusyThreads busy)
    {
        _work = work;
        _busy = busy;
        Thread = new Thread(Run) { IsBackground = true, Name = name };
        Thread.Start();
    }

    /// <summary>The thread (tests check that it ends).</summary>
    public Thread Thread { get; }

    /// <summary>Whether the worker has been told to stop.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Wakes the thread for a round, unless a wake is pending already (cheap then).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount > 0) return;
        try { _wake.Release(); } catch (SemaphoreFullException) { } catch (ObjectDisposedException) { }
    }

    private void Run()
    {
        while (true)
        {
            _wake.Wait();
            if (_stopping) return;
            _busy.Add(1);
            try
            {
                _work();
            }
            finally
            {
                _busy.Add(-1);
            }
        }
    }

    /// <summary>Stops the thread after the round it runs, if any, and waits for it. A second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        try { _wake.Release(); } catch (SemaphoreFullException) { }
        Thread.Join();
        _wake.Dispose();
    }
}
