using System.Diagnostics;
using BatchSwap.Access;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Transparent;
using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Workloads.Workloads;

/// <summary>
/// usemem on transparent mappings (<see cref="MemoryTier.Map"/>): the same load as <see cref="Usemem.Run"/>, with
/// plain memory accesses instead of <see cref="Region"/> calls. Each worker has a mapping of S bytes; the fill copies
/// each source page into the mapping's span, the passes compare spans. The workers' mappings share the resident
/// budget equally (default: half the tier's default group).
/// </summary>
public static class UsememTransparent
{
    /// <summary>
    /// The mappings' default resident budget: half the default group's limit, or less when the pool may take more than
    /// a fifth of memory (<c>zswap.max_pool_percent</c> above 20): three quarters of what the pool leaves. Resident pages
    /// are pinned, so reclaim cannot take them; the rest of the group must hold the pool, the pages on their way
    /// through the LRU and the page tables, or a fault finds the group exhausted.
    /// </summary>
    public static long DefaultResidentBytes(MemoryTier tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        long limit = tier.DefaultGroup.LimitBytes;
        long besidePool = limit / 100 * (100 - tier.Tunables.MaxPoolPercent);
        return Math.Min(limit / 2, besidePool / 4 * 3);
    }

    /// <summary>Runs the load; the figures and counters mean what they mean for <see cref="Usemem.Run"/>.</summary>
    /// <param name="tier">The tier.</param>
    /// <param name="source">The pages written.</param>
    /// <param name="options">The load.</param>
    /// <param name="residentBytes">Resident bytes of all the mappings together; 0 for <see cref="DefaultResidentBytes"/>.</param>
    /// <param name="progress">Receives progress about ten times a second.</param>
    /// <param name="cancel">Stops the run.</param>
    /// <param name="stats">Receives the mappings' handler figures, summed over the workers, before they are disposed.</param>
    public static UsememResult Run(MemoryTier tier, IPageSource source, UsememOptions options, long residentBytes = 0,
        Action<UsememProgress>? progress = null, Action<TransparentStats>? stats = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        if (options.Order != 0) throw new ArgumentException("--transparent pages are order 0 (4 KiB); --order must be 0");
        long pages = options.SizePerWorker / PageSize.Bytes;
        long total = pages * options.Workers * (1 + options.Passes);
        long done = 0, mismatches = 0, fillEndTicks = 0, pagesTouched = 0;
        int filling = options.Workers;
        Exception? failure = null;
        if (residentBytes <= 0) residentBytes = DefaultResidentBytes(tier);
        long perWorker = Math.Max(residentBytes / options.Workers, 1L << 20);

        var maps = new TransparentMapping[options.Workers];
        var faultLatency = new LatencyHistogram[options.Workers];
        for (int w = 0; w < options.Workers; w++) faultLatency[w] = new LatencyHistogram();
        try
        {
            for (int w = 0; w < options.Workers; w++)
                maps[w] = tier.Map(options.SizePerWorker, new TransparentOptions { MaxResidentBytes = perWorker });
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
                        TransparentMapping m = maps[worker];
                        for (long i = 0; i < pages; i++)
                        {
                            source.GetPage(AccessPattern.FillSourcePage(worker, i, source.PageCount)).CopyTo(m.AsSpan<byte>(i << PageSize.Shift, PageSize.Bytes));
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
                                // Only this worker touches its mapping: a fault counted during the compare was this page's fault-in.
                                long f0 = m.MissingFaultCount;
                                long t0 = Stopwatch.GetTimestamp();
                                ReadOnlySpan<byte> page = m.AsSpan<byte>(i << PageSize.Shift, PageSize.Bytes);
                                if (!page.SequenceEqual(source.GetPage(AccessPattern.FillSourcePage(worker, i, source.PageCount)))) bad++;
                                long t1 = Stopwatch.GetTimestamp();
                                if (m.MissingFaultCount != f0) faults.Record(t1 - t0);
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

            Usemem.JoinWorkers(threads, progress, ref filling, ref done, total);
            long end = Stopwatch.GetTimestamp();
            if (failure is not null) throw new UsememFailedException(failure);

            CounterSnapshot after = tier.Snapshot();
            if (stats is not null) stats(Sum(maps));
            // W × S × (1 + P) for a whole run; the pages actually touched for an interrupted one.
            return Usemem.Result(start, end, fillEndTicks, (double)pagesTouched * PageSize.Bytes, mismatches, after.Since(before), faultLatency,
                interrupted: cancel.IsCancellationRequested && pagesTouched < total);
        }
        finally
        {
            foreach (TransparentMapping? m in maps) m?.Dispose();
        }
    }

    /// <summary>The handler figures of several mappings, summed.</summary>
    public static TransparentStats Sum(IEnumerable<TransparentMapping> maps)
    {
        TransparentStats t = default;
        foreach (TransparentMapping m in maps)
        {
            TransparentStats s = m.Stats();
            t = new TransparentStats(t.MissingFaults + s.MissingFaults, t.WpFaults + s.WpFaults, t.ZeroFills + s.ZeroFills,
                t.SwapInFills + s.SwapInFills, t.LruFills + s.LruFills, t.Evictions + s.Evictions, t.Refaults + s.Refaults,
                t.RefaultsHot + s.RefaultsHot, t.SecondChances + s.SecondChances, t.ResidentPages + s.ResidentPages, t.DuplicateFaults + s.DuplicateFaults, t.Readahead + s.Readahead);
        }
        return t;
    }
}
