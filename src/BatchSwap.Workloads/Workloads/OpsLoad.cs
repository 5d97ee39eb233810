using System.Diagnostics;
using BatchSwap.Access;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Workloads.Workloads;

/// <summary>One worker's operations, in order: a page of its region and whether to write it.</summary>
public interface IOpSequence
{
    /// <summary>The next operation; false when the worker is done.</summary>
    bool Next(out long page, out bool write);
}

/// <summary>What a read/write load (zipf, trace replay) measured.</summary>
public sealed record OpsResult
{
    /// <summary>Whether the run was cancelled before its last operation: the figures are those of the operations done.</summary>
    public bool Interrupted { get; init; }
    /// <summary>Operations done by all workers after the fill.</summary>
    public long Ops { get; init; }
    /// <summary>Of which reads (each verified).</summary>
    public long Reads { get; init; }
    /// <summary>Of which writes (each a new version of the page).</summary>
    public long Writes { get; init; }
    /// <summary>Seconds until the last worker finished filling its region.</summary>
    public double FillSeconds { get; init; }
    /// <summary>Seconds from then until the last operation.</summary>
    public double OpsSeconds { get; init; }
    /// <summary>Wall-clock seconds of the whole run.</summary>
    public double WallSeconds { get; init; }
    /// <summary>Operations per second of the operation phase.</summary>
    public double OpsPerSecond => OpsSeconds > 0 ? Ops / OpsSeconds : 0;
    /// <summary>Pages moved (4 KiB per operation) per second of the operation phase, in MiB/s.</summary>
    public double ThroughputMiBps => OpsPerSecond * PageSize.Bytes / (1 << 20);
    /// <summary>Reads that did not return the latest version written (must be 0).</summary>
    public long Mismatches { get; init; }
    /// <summary>Latency of every operation.</summary>
    public required LatencySummary OpLatency { get; init; }
    /// <summary>Latency of the operations that found their page not resident (fault-in).</summary>
    public required LatencySummary FaultLatency { get; init; }
    /// <summary>Counters over the run (events as deltas, gauges at the end).</summary>
    public required CounterSnapshot Counters { get; init; }
}

/// <summary>
/// The driver shared by the read/write loads: each worker owns a region, fills it with version 0 of every page
/// (usemem's fill), then runs its operation sequence. A read pins the page and checks it holds the latest version the
/// worker wrote; a write stores the next version (see <see cref="VersionedPage"/>). Every operation is timed; those
/// that find the page not resident are also timed as fault-ins.
/// </summary>
public static class OpsLoad
{
    /// <summary>
    /// Runs the load; <paramref name="sequences"/>[w] is worker w's operations over its <paramref name="pagesPerWorker"/>[w]
    /// pages. When <paramref name="cancel"/> is signalled the workers stop within 1024 operations and the result holds
    /// what they did, with <see cref="OpsResult.Interrupted"/> set.
    /// </summary>
    public static OpsResult Run(MemoryTier tier, IPageSource source, long[] pagesPerWorker, int order, IOpSequence[] sequences,
        long totalOps, Action<string, long, long>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(source);
        int workers = sequences.Length;
        if (pagesPerWorker.Length != workers) throw new ArgumentException("one page count per worker");
        long fillTotal = pagesPerWorker.Sum();
        long done = 0, mismatches = 0, reads = 0, writes = 0;
        int filling = workers;
        long fillEndTicks = 0;
        Exception? failure = null;
        var opLatency = new LatencyHistogram[workers];
        var faultLatency = new LatencyHistogram[workers];
        var regions = new Region[workers];
        try
        {
            for (int w = 0; w < workers; w++)
            {
                regions[w] = tier.Allocate(Math.Max(1, pagesPerWorker[w]) * PageSize.Bytes, order);
                opLatency[w] = new LatencyHistogram();
                faultLatency[w] = new LatencyHistogram();
            }
            CounterSnapshot before = tier.Snapshot();
            long start = Stopwatch.GetTimestamp();
            var threads = new Thread[workers];
            for (int w = 0; w < workers; w++)
            {
                int worker = w;
                threads[w] = new Thread(() =>
                {
                    // This worker's operations, writes and wrong reads; added to the totals however the worker ends.
                    long bad = 0, n = 0, nw = 0;
                    try
                    {
                        Region r = regions[worker];
                        long pages = pagesPerWorker[worker];
                        for (long i = 0; i < pages; i++)
                        {
                            r.Write(i, source.GetPage(AccessPattern.FillSourcePage(worker, i, source.PageCount)));
                            if ((i & 1023) == 1023) { Interlocked.Add(ref done, 1024); cancel.ThrowIfCancellationRequested(); }
                        }
                        Interlocked.Add(ref done, pages & 1023);
                        if (Interlocked.Decrement(ref filling) == 0) Volatile.Write(ref fillEndTicks, Stopwatch.GetTimestamp());

                        // The version each page holds now; only this worker touches its pages.
                        var versions = new int[pages];
                        var buffer = new byte[PageSize.Bytes];
                        LatencyHistogram ops = opLatency[worker], faults = faultLatency[worker];
                        IOpSequence seq = sequences[worker];
                        while (seq.Next(out long page, out bool write))
                        {
                            if (write)
                            {
                                int v = ++versions[page];
                                VersionedPage.Build(source, worker, page, v, buffer);
                                bool resident = r.IsResident(page);
                                long t0 = Stopwatch.GetTimestamp();
                                r.Write(page, buffer);
                                long t = Stopwatch.GetTimestamp() - t0;
                                ops.Record(t);
                                if (!resident) faults.Record(t);
                                nw++;
                            }
                            else
                            {
                                bool resident = r.IsResident(page);
                                long t0 = Stopwatch.GetTimestamp();
                                using ReadOnlyPageLease lease = r.PinReadOnly(page);
                                long t = Stopwatch.GetTimestamp() - t0;
                                ops.Record(t);
                                if (!resident) faults.Record(t);
                                if (!VersionedPage.Matches(lease.Span, source, worker, page, versions[page])) bad++;
                            }
                            if ((++n & 1023) == 0) { Interlocked.Add(ref done, 1024); cancel.ThrowIfCancellationRequested(); }
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
                        Interlocked.Add(ref writes, nw);
                        Interlocked.Add(ref reads, n - nw);
                    }
                })
                { IsBackground = true, Name = $"ops-{w}" };
                threads[w].Start();
            }

            while (!threads.All(t => t.Join(progress is null ? Timeout.Infinite : 100)))
                progress?.Invoke(Volatile.Read(ref filling) > 0 ? "fill" : "ops", Volatile.Read(ref done), fillTotal + totalOps);
            long end = Stopwatch.GetTimestamp();
            if (failure is not null) throw new UsememFailedException(failure);

            CounterSnapshot after = tier.Snapshot();
            double wall = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            double fill = Stopwatch.GetElapsedTime(start, fillEndTicks == 0 ? end : fillEndTicks).TotalSeconds;
            return new OpsResult
            {
                Interrupted = cancel.IsCancellationRequested && reads + writes < totalOps,
                Ops = reads + writes,
                Reads = reads,
                Writes = writes,
                FillSeconds = fill,
                OpsSeconds = wall - fill,
                WallSeconds = wall,
                Mismatches = mismatches,
                OpLatency = LatencyHistogram.Merge(opLatency).Summarize(),
                FaultLatency = LatencyHistogram.Merge(faultLatency).Summarize(),
                Counters = after.Since(before),
            };
        }
        finally
        {
            foreach (Region? r in regions) r?.Dispose();
        }
    }
}
