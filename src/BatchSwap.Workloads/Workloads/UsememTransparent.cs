using System.Diagnostics;
using BatchSwap.Access;
using BatchSwap.Memory;
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
        if (residentBytes <= 0) residentBytes = DefaultResidentBytes(tier);
        long perWorker = Math.Max(residentBytes / options.Workers, 1L << 20);

        var maps = new TransparentMapping[options.Workers];
        try
        {
            for (int w = 0; w < options.Workers; w++)
                maps[w] = tier.Map(options.SizePerWorker, new TransparentOptions { MaxResidentBytes = perWorker });
            UsememResult result = Usemem.RunWorkers(tier, source, options, new MappingPages(maps), progress, cancel);
            stats?.Invoke(Sum(maps));
            return result;
        }
        finally
        {
            foreach (TransparentMapping? m in maps) m?.Dispose();
        }
    }

    /// <summary>The mappings of a run, one a worker, through plain memory: the fill copies into the span, the passes compare spans.</summary>
    private readonly struct MappingPages(TransparentMapping[] maps) : IUsememPages
    {
        public void Fill(int worker, long page, ReadOnlySpan<byte> data) =>
            data.CopyTo(maps[worker].AsSpan<byte>(page << PageSize.Shift, PageSize.Bytes));

        public bool Check(int worker, long page, ReadOnlySpan<byte> expected, LatencyHistogram faults)
        {
            // Only this worker touches its mapping: a fault counted during the compare was this page's fault-in.
            TransparentMapping m = maps[worker];
            long f0 = m.MissingFaultCount;
            long t0 = Stopwatch.GetTimestamp();
            bool same = m.AsSpan<byte>(page << PageSize.Shift, PageSize.Bytes).SequenceEqual(expected);
            long t1 = Stopwatch.GetTimestamp();
            if (m.MissingFaultCount != f0) faults.Record(t1 - t0);
            return same;
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
