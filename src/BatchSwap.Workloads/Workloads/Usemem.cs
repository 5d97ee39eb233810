using System.Diagnostics;
using BatchSwap.Access;
using BatchSwap.Compression;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Workloads.Workloads;

/// <summary>The parameters of a usemem run (see docs/workloads.md).</summary>
public sealed record UsememOptions
{
    /// <summary>Worker threads (W).</summary>
    public int Workers { get; init; } = 2;
    /// <summary>Bytes per worker (S), a whole number of pages.</summary>
    public long SizePerWorker { get; init; } = 512L << 20;
    /// <summary>Verification passes after the fill (P).</summary>
    public int Passes { get; init; } = 2;
    /// <summary>Folio order of each worker's region (O).</summary>
    public int Order { get; init; }
    /// <summary>Order in which passes visit pages.</summary>
    public AccessOrder Access { get; init; } = AccessOrder.Sequential;

    /// <summary>Throws <see cref="ArgumentException"/> with one clear sentence for a bad value.</summary>
    public void Validate()
    {
        if (Workers is < 1 or > 1024) throw new ArgumentException($"--workers must be in [1, 1024], got {Workers}");
        if (SizePerWorker < 4096) throw new ArgumentException($"--size must be at least 4KiB, got {SizePerWorker} bytes");
        if (SizePerWorker % 4096 != 0) throw new ArgumentException($"--size must be a whole number of 4 KiB pages, got {SizePerWorker} bytes");
        if (Passes is < 0 or > 1000) throw new ArgumentException($"--passes must be in [0, 1000], got {Passes}");
        if (Order is < 0 or > PageSize.MaxOrder) throw new ArgumentException($"--order must be in [0, {PageSize.MaxOrder}], got {Order}");
    }
}

/// <summary>What a usemem run measured.</summary>
public sealed record UsememResult
{
    /// <summary>W × S × (1 + P) / wall time, in MiB/s (the bytes touched / wall time for an interrupted run).</summary>
    public double ThroughputMiBps { get; init; }
    /// <summary>Wall-clock seconds of the whole run.</summary>
    public double WallSeconds { get; init; }
    /// <summary>Seconds until the last worker finished its fill.</summary>
    public double FillSeconds { get; init; }
    /// <summary>
    /// Whether the run was cancelled before it touched every page: the figures are then those of the pages touched
    /// (throughput over them, mismatches among them, counters until the workers stopped).
    /// </summary>
    public bool Interrupted { get; init; }
    /// <summary>Seconds from then to the end of the passes.</summary>
    public double PassSeconds { get; init; }
    /// <summary>Pages that did not read back as written (must be 0).</summary>
    public long Mismatches { get; init; }
    /// <summary>Counters over the run (events as deltas, gauges at the end).</summary>
    public required CounterSnapshot Counters { get; init; }
    /// <summary>
    /// Fault-in latency: the passes' accesses that found their page not resident (swapped out to the pool or the
    /// file), timed from the touch to having the page. Fill accesses are first touches and are not timed.
    /// </summary>
    public LatencySummary FaultLatency { get; init; } = LatencySummary.Empty;
}

/// <summary>Progress of a run, reported about ten times a second.</summary>
/// <param name="Phase">"fill" or "pass N".</param>
/// <param name="PagesDone">Pages touched so far by all workers, over all phases.</param>
/// <param name="PagesTotal">Pages the whole run touches.</param>
public readonly record struct UsememProgress(string Phase, long PagesDone, long PagesTotal);

/// <summary>
/// The kernel community's usemem load on a <see cref="MemoryTier"/>: W workers each fill a region of S bytes with
/// pages from a page source, then P times visit every page and compare it with what they wrote.
/// </summary>
public static class Usemem
{
    /// <summary>
    /// Runs the load. Workers share the tier's default group (one limit). When <paramref name="cancel"/> is signalled the
    /// workers stop within 1024 pages and the result holds what they did, with <see cref="UsememResult.Interrupted"/> set.
    /// </summary>
    public static UsememResult Run(MemoryTier tier, IPageSource source, UsememOptions options,
        Action<UsememProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        var regions = new Region[options.Workers];
        try
        {
            for (int w = 0; w < options.Workers; w++) regions[w] = tier.Allocate(options.SizePerWorker, options.Order);
            return RunWorkers(tier, source, options, new RegionPages(regions), progress, cancel);
        }
        finally
        {
            foreach (Region? r in regions) r?.Dispose();
        }
    }

    /// <summary>The regions of a run, one a worker, through the tier's API.</summary>
    private readonly struct RegionPages(Region[] regions) : IUsememPages
    {
        public void Fill(int worker, long page, ReadOnlySpan<byte> data) => regions[worker].Write(page, data);

        public bool Check(int worker, long page, ReadOnlySpan<byte> expected, LatencyHistogram faults)
        {
            // A page found not resident is a fault-in: time the touch until the page is ours.
            Region r = regions[worker];
            bool resident = r.IsResident(page);
            long t0 = resident ? 0 : Stopwatch.GetTimestamp();
            using ReadOnlyPageLease lease = r.PinReadOnly(page);
            if (!resident) faults.Record(Stopwatch.GetTimestamp() - t0);
            return lease.Span.SequenceEqual(expected);
        }
    }

    /// <summary>
    /// The load itself, over <paramref name="target"/>'s page sets (made, and disposed after, by the caller): W workers
    /// fill their set, then P times visit every page and compare it with what they wrote. A struct target is called
    /// directly, without an interface dispatch a page.
    /// </summary>
    internal static UsememResult RunWorkers<T>(MemoryTier tier, IPageSource source, UsememOptions options, T target,
        Action<UsememProgress>? progress, CancellationToken cancel)
        where T : struct, IUsememPages
    {
        long pages = options.SizePerWorker / PageSize.Bytes;
        long total = pages * options.Workers * (1 + options.Passes);
        long done = 0;
        long mismatches = 0;
        long pagesTouched = 0;
        int filling = options.Workers;
        long fillEndTicks = 0;
        Exception? failure = null;

        var faultLatency = new LatencyHistogram[options.Workers];
        for (int w = 0; w < options.Workers; w++) faultLatency[w] = new LatencyHistogram();
        CounterSnapshot before = tier.Snapshot();
        long start = Stopwatch.GetTimestamp();

        var threads = new Thread[options.Workers];
        for (int w = 0; w < options.Workers; w++)
        {
            int worker = w;
            threads[w] = new Thread(() =>
            {
                // Pages this worker touched and found wrong; added to the totals however the worker ends.
                long touched = 0, bad = 0;
                try
                {
                    for (long i = 0; i < pages; i++)
                    {
                        target.Fill(worker, i, source.GetPage(AccessPattern.FillSourcePage(worker, i, source.PageCount)));
                        touched++;
                        if ((i & 1023) == 1023) { Interlocked.Add(ref done, 1024); cancel.ThrowIfCancellationRequested(); }
                    }
                    Interlocked.Add(ref done, pages & 1023);
                    if (Interlocked.Decrement(ref filling) == 0) Volatile.Write(ref fillEndTicks, Stopwatch.GetTimestamp());

                    long n = 0;
                    LatencyHistogram faults = faultLatency[worker];
                    for (int pass = 0; pass < options.Passes; pass++)
                    {
                        foreach (long i in AccessPattern.Visit(options.Access, worker, pages))
                        {
                            if (!target.Check(worker, i, source.GetPage(AccessPattern.FillSourcePage(worker, i, source.PageCount)), faults)) bad++;
                            touched++;
                            if ((++n & 1023) == 0) { Interlocked.Add(ref done, 1024); cancel.ThrowIfCancellationRequested(); }
                        }
                    }
                    Interlocked.Add(ref done, n & 1023);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    // Interrupted: the worker stops here and its figures so far count.
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
                finally
                {
                    Interlocked.Add(ref mismatches, bad);
                    Interlocked.Add(ref pagesTouched, touched);
                }
            })
            { IsBackground = true, Name = $"usemem-{w}" };
            threads[w].Start();
        }

        JoinWorkers(threads, progress, ref filling, ref done, total);
        long end = Stopwatch.GetTimestamp();
        if (failure is not null) throw new UsememFailedException(failure);

        CounterSnapshot after = tier.Snapshot();
        // W × S × (1 + P) for a whole run; the pages actually touched for an interrupted one.
        return Result(start, end, fillEndTicks, (double)pagesTouched * PageSize.Bytes, mismatches, after.Since(before), faultLatency,
            interrupted: cancel.IsCancellationRequested && pagesTouched < total);
    }

    /// <summary>
    /// Waits for the workers, reporting progress every 100 ms when asked: the fill while any worker is filling
    /// (<paramref name="filling"/> &gt; 0), then the passes, <paramref name="done"/> of <paramref name="total"/> pages.
    /// </summary>
    internal static void JoinWorkers(Thread[] threads, Action<UsememProgress>? progress, ref int filling, ref long done, long total)
    {
        while (!threads.All(t => t.Join(progress is null ? Timeout.Infinite : 100)))
        {
            string phase = Volatile.Read(ref filling) > 0 ? "fill" : "passes";
            progress?.Invoke(new UsememProgress(phase, Volatile.Read(ref done), total));
        }
    }

    /// <summary>
    /// A run's result from its clock readings (<see cref="Stopwatch"/> ticks; <paramref name="fillEndTicks"/> 0 when the
    /// fill never ended), the bytes it touched, and what it counted. Both ways of running the load (regions and
    /// transparent mappings) report through it.
    /// </summary>
    internal static UsememResult Result(long start, long end, long fillEndTicks, double bytes, long mismatches,
        CounterSnapshot counters, LatencyHistogram[] faultLatency, bool interrupted = false)
    {
        double wall = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        double fill = Stopwatch.GetElapsedTime(start, fillEndTicks == 0 ? end : fillEndTicks).TotalSeconds;
        return new UsememResult
        {
            Interrupted = interrupted,
            ThroughputMiBps = bytes / (1 << 20) / wall,
            WallSeconds = wall,
            FillSeconds = fill,
            PassSeconds = wall - fill,
            Mismatches = mismatches,
            Counters = counters,
            FaultLatency = LatencyHistogram.Merge(faultLatency).Summarize(),
        };
    }

    /// <summary>
    /// The codec limit of a finished run (<see cref="Metrics.CodecLimit"/>): its compression and decompression jobs,
    /// priced after the run on up to <paramref name="samplePages"/> of the pages it wrote, against its wall time on
    /// <paramref name="cores"/> cores (default: <see cref="Environment.ProcessorCount"/>). Takes well under a second.
    /// </summary>
    public static CodecLimit MeasureCodecLimit(MemoryTier tier, IPageSource source, UsememOptions options, UsememResult result,
        int samplePages = CodecLimit.DefaultSamplePages, int cores = 0)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplePages, 1);
        long perWorker = options.SizePerWorker / PageSize.Bytes;
        long n = source.PageCount;
        long runPages = perWorker * options.Workers;
        int count;
        Func<int, long> pageOf;
        if (perWorker >= n)
        {
            // Every worker wrote every source page (nearly equally often): spread the sample over the whole source.
            // Striding over the run's pages instead would alias with the source's period and see only a few of them.
            count = (int)Math.Min(samplePages, n);
            pageOf = k => k * n / count;
        }
        else
        {
            // Each worker wrote a window of the source: spread the sample over the pages the run wrote.
            count = (int)Math.Min(samplePages, runPages);
            pageOf = k =>
            {
                long g = k * runPages / count;
                return AccessPattern.FillSourcePage((int)(g / perWorker), g % perWorker, n);
            };
        }
        CodecPrice price = CodecLimit.Price(tier, source, count, pageOf);
        return CodecLimit.Of(result.Counters, price, result.WallSeconds, cores > 0 ? cores : Environment.ProcessorCount);
    }
}

/// <summary>A usemem worker failed; the inner exception says why.</summary>
public sealed class UsememFailedException : Exception
{
    /// <summary>Wraps a worker's failure.</summary>
    public UsememFailedException(Exception inner) : base($"a usemem worker failed: {inner.Message}", inner) { }
}
