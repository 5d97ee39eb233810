using System.Collections.Concurrent;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// Compression engines on CPU cores: N long-lived threads, each with its own codec contexts, that take
/// jobs from posted batches. The submitting thread claims jobs too (like IAA's poll mode) and never sleeps
/// while a job of its batch is unclaimed; it only spins for jobs that engines are finishing.
/// Jobs are claimed one at a time with an interlocked counter, so the pages of one large folio spread
/// over every engine.
/// </summary>
internal sealed unsafe class CpuEngines : IBatchCompressor
{
    // Engine threads.
    private readonly Thread[] _threads;
    // Batches posted for help, one entry per engine asked.
    private readonly ConcurrentQueue<(JobBatch Batch, int Generation)> _posted = new();
    // Wakes engine threads; released once per posted entry.
    private readonly SemaphoreSlim _wake = new(0);
    // Set to stop the engines.
    private volatile bool _stopping;

    // Injected faults, if any.
    private readonly Faults.FaultInjector? _faults;
    // Exceptions contained while running jobs.
    private long _contained;

    // Threads of the tier busy now in its slow paths (faults, reclaim), the submitter included.
    private readonly Func<int> _busyThreads;
    // Cores of the machine.
    private readonly int _cores = Environment.ProcessorCount;

    public CpuEngines(int engines, Faults.FaultInjector? faults = null, int maxJobs = 64, Func<int>? busyThreads = null)
    {
        _faults = faults;
        _busyThreads = busyThreads ?? (() => 1);
        ArgumentOutOfRangeException.ThrowIfNegative(engines);
        MaxJobs = maxJobs;
        _threads = new Thread[engines];
        for (int i = 0; i < engines; i++)
        {
            _threads[i] = new Thread(EngineLoop) { IsBackground = true, Name = $"batchswap-engine-{i}" };
            _threads[i].Start();
        }
    }

    /// <inheritdoc/>
    public string Name => $"cpu x{Engines}";
    /// <inheritdoc/>
    public int Engines => _threads.Length;
    /// <inheritdoc/>
    public int MaxJobs { get; }

    /// <inheritdoc/>
    public void Run(JobBatch batch)
    {
        int count = batch.Count;
        if (count == 0) return;
        int gen = batch.Open();
        // Engines help only where a core is idle: when every core already runs a thread of the tier, waking an
        // engine would only take a core from another worker and add a wake-up.
        int idleCores = _cores - Math.Max(1, _busyThreads());
        int helpers = Math.Min(Math.Min(Engines, count - 1), idleCores);
        for (int i = 0; i < helpers; i++) _posted.Enqueue((batch, gen));
        if (helpers > 0) _wake.Release(helpers);

        Work(batch, gen, batch.ContextOf);

        // Every job is claimed; wait for the engines to finish theirs.
        var spin = new SpinWait();
        while (Volatile.Read(ref batch.Remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>Claims and runs jobs until none is left unclaimed.</summary>
    private void Work(JobBatch batch, int generation, Func<byte, IPageCodecContext> contexts)
    {
        while (true)
        {
            int i = batch.TryClaim(generation);
            if (i < 0) return;
            try
            {
                RunContained(ref batch.Jobs[i], contexts);
            }
            finally
            {
                // Whatever happened, the job is over: the submitter must never wait for it forever.
                Interlocked.Decrement(ref batch.Remaining);
            }
        }
    }

    /// <summary>
    /// Runs one job so that nothing it throws escapes: an exception outside the codec (an engine bug, a context
    /// that cannot be made, an injected engine-throw) is contained, counted, and the job run once more from the
    /// start; if that throws too, the job fails (a compression: its folio goes to the swap device; a
    /// decompression: the load fails loudly). The thread lives on either way.
    /// </summary>
    private void RunContained(ref PageJob job, Func<byte, IPageCodecContext> contexts)
    {
        try
        {
            _faults?.EngineThrowPoint();
            PageWork.Run(ref job, contexts(job.CodecId), _faults);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _contained);
            try
            {
                PageWork.Run(ref job, contexts(job.CodecId), _faults);
            }
            catch (Exception)
            {
                job.Result = job.Kind == JobKind.Compress ? JobResult.Failed : JobResult.Corrupt;
            }
        }
    }

    /// <summary>Exceptions thrown while running jobs that the engines contained.</summary>
    public long ContainedExceptions => Volatile.Read(ref _contained);

    /// <summary>The engine threads (for shutdown checks).</summary>
    internal IReadOnlyList<Thread> Threads => _threads;

    private void EngineLoop()
    {
        var contexts = new IPageCodecContext?[8];
        Func<byte, IPageCodecContext> get = id => contexts[id] ??= JobBatch.CreateContext(id);
        try
        {
            while (true)
            {
                _wake.Wait();
                if (_stopping) return;
                if (!_posted.TryDequeue(out (JobBatch Batch, int Generation) p)) continue;
                try
                {
                    Work(p.Batch, p.Generation, get);
                }
                catch (Exception)
                {
                    // Work contains each job's exceptions; anything else must not end the thread either.
                    Interlocked.Increment(ref _contained);
                }
            }
        }
        finally
        {
            foreach (IPageCodecContext? c in contexts) c?.Dispose();
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        if (_threads.Length > 0) _wake.Release(_threads.Length);
        foreach (Thread t in _threads) t.Join();
        _wake.Dispose();
    }
}
