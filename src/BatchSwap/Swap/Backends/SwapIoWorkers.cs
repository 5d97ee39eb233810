namespace BatchSwap.Swap.Backends;

/// <summary>A backend whose runs are moved one system call (or a few) at a time, on any thread.</summary>
internal interface IRunTransfer
{
    /// <summary>Moves run <paramref name="run"/> of <paramref name="batch"/>; true when every byte moved.</summary>
    bool Transfer(SwapIoBatch batch, int run);
}

/// <summary>
/// The I/O submission threads of a tier: runs queued here are moved by whichever thread is free, so that a reclaiming
/// thread's writes are in flight while it compresses the next batch, and the runs of one batch go to the device
/// together (a queue depth above 1). The queue is a ring of plain structs under a lock: queuing allocates nothing.
/// </summary>
internal sealed class SwapIoWorkers : IDisposable
{
    private struct Item
    {
        public IRunTransfer Backend;
        public SwapIoBatch Batch;
        public int Run;
    }

    // Guards the ring (a monitor: the threads wait on it).
    private readonly object _lock = new();
    private Item[] _ring = new Item[256];
    private int _head, _count;
    private bool _stopping;
    private readonly Thread[] _threads;

    /// <summary>Starts <paramref name="threads"/> I/O threads.</summary>
    public SwapIoWorkers(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "at least one I/O thread");
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = $"batchswap-swapio{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>The threads (tests check that they end).</summary>
    public IReadOnlyList<Thread> Threads => _threads;

    /// <summary>Queues run <paramref name="run"/> of <paramref name="batch"/> for <paramref name="backend"/>.</summary>
    public void Queue(IRunTransfer backend, SwapIoBatch batch, int run)
    {
        lock (_lock)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(SwapIoWorkers));
            if (_count == _ring.Length)
            {
                // Grows once to the most runs ever queued at the same time.
                var bigger = new Item[_ring.Length * 2];
                for (int i = 0; i < _count; i++) bigger[i] = _ring[(_head + i) % _ring.Length];
                _ring = bigger;
                _head = 0;
            }
            _ring[(_head + _count) % _ring.Length] = new Item { Backend = backend, Batch = batch, Run = run };
            _count++;
            Monitor.Pulse(_lock);
        }
    }

    private void Run()
    {
        while (true)
        {
            Item item;
            lock (_lock)
            {
                while (_count == 0 && !_stopping) Monitor.Wait(_lock);
                if (_count == 0) return; // stopping, and every queued run has been done
                item = _ring[_head];
                _ring[_head] = default;
                _head = (_head + 1) % _ring.Length;
                _count--;
            }
            bool ok;
            try
            {
                ok = item.Backend.Transfer(item.Batch, item.Run);
            }
            catch (Exception)
            {
                ok = false; // a backend bug must not end the thread or leave the run incomplete
            }
            item.Batch.Complete(item.Run, ok);
        }
    }

    /// <summary>Finishes the queued runs, then ends the threads.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        foreach (Thread t in _threads) t.Join();
    }
}
