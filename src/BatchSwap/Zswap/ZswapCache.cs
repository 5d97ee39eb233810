using BatchSwap.Compression.Engines;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Pool;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Threading;
using BatchSwap.Tunables;

namespace BatchSwap.Zswap;

/// <summary>
/// The compressed swap cache. Entries live in the swap slot tables (handle, info word, LRU links: 24 bytes a
/// page); their bytes live in the <see cref="ZsPool"/>, each object ending in its slot's id (4 bytes) so that pool
/// compaction can move it (<see cref="IObjectOwners"/>: the slot is taken with TryLockSlot, its handle repointed). One store path: <see cref="StoreBatch"/> takes the
/// folios of a flushed plug (a single folio is a batch of one), compresses every page on the engines and
/// gives each folio its own outcome. Loads are exclusive: a loaded entry is freed at once.
/// Locking: <see cref="_lruLock"/> guards the entry LRU (through the slots' link words). A slot's handle and
/// info belong to whoever holds the slot: reclaim before the folio is unmapped, else the holder of its Locked bit.
/// </summary>
internal sealed unsafe partial class ZswapCache : IObjectOwners
{
    /// <summary>Pool overhead (bytes beyond the compressed bytes, in percent of them) above which stores compact the pool.</summary>
    public const int CompactOverheadPercent = 5;
    /// <summary>Least pool frames compaction must be able to free, in 1/1024ths of the pool, for stores to start it.</summary>
    public const int CompactMinPerMille = 8;

    // ---- set-up ----
    private readonly PageArena _arena;
    private readonly ZsPool _pool;
    private readonly SwapDevice[] _devices;
    private readonly Counters _counters;
    private readonly TunableSet _tunables;
    private readonly IBatchCompressor _engines;
    // The memory groups, to uncharge pool objects and write back per group.
    private readonly MemoryGroups _groups;
    // Threads busy with the tier's work (the shrink worker counts itself).
    private readonly BusyThreads _busy;
    // Injected faults, if any.
    private readonly Faults.FaultInjector? _faults;
    // Every device transfer (swap-in reads, writeback writes).
    private readonly PageIo _pageIo;

    // Batches to rent, so that nothing is allocated per store or load.
    private readonly BatchPool _batches;


    // ---- pool limit state ----
    // Set when the pool hit its cap; cleared when it falls under the accept threshold (hysteresis).
    private volatile bool _poolFull;

    // ---- gauges ----
    private long _storedPages, _sameFilledPages, _incompressiblePages, _retainedPages;

    public ZswapCache(PageArena arena, ZsPool pool, SwapDevice[] devices, Counters counters, TunableSet tunables,
        IBatchCompressor engines, BatchPool batches, MemoryGroups groups, Faults.FaultInjector? faults, PageIo pageIo, BusyThreads busy)
    {
        _busy = busy;
        _pageIo = pageIo;
        _batches = batches;
        _faults = faults;
        _arena = arena;
        _pool = pool;
        _devices = devices;
        _counters = counters;
        _tunables = tunables;
        _engines = engines;
        _groups = groups;
    }

    /// <summary>Pages in zswap (stored_pages).</summary>
    public long StoredPages => Volatile.Read(ref _storedPages);
    /// <summary>Same-filled pages in zswap (same_filled_pages).</summary>
    public long SameFilledPages => Volatile.Read(ref _sameFilledPages);
    /// <summary>Pages stored as-is (stored_incompressible_pages).</summary>
    public long IncompressiblePages => Volatile.Read(ref _incompressiblePages);
    /// <summary>Entries that are also resident: copies kept for pages that came back and were only read (zswap_retained_pages).</summary>
    public long RetainedPages => Volatile.Read(ref _retainedPages);
    /// <summary>The pool.</summary>
    public ZsPool Pool => _pool;
    /// <summary>The engines.</summary>
    public IBatchCompressor Engines => _engines;

    /// <summary>The pool cap in frames.</summary>
    public long MaxPoolPages => (long)_arena.FrameCount * _tunables.MaxPoolPercent / 100;
    /// <summary>The pool size, in frames, under which a full pool takes stores again.</summary>
    private long AcceptThresholdPages => MaxPoolPages * _tunables.AcceptThresholdPercent / 100;

    // ================================================================ batches

    /// <summary>
    /// Runs a batch on the engines and counts its jobs under <paramref name="jobs"/>: one add per run, so that reports
    /// can price exactly the codec work the run did: zswpout misses the rejected stores the engines compressed, and
    /// zswpin and zswpwb count same-filled and as-is entries, which are restored without the codec.
    /// </summary>
    private void RunJobs(JobBatch batch, Counter jobs)
    {
        if (batch.Count == 0) return;
        _counters.Add(jobs, batch.Count);
        _engines.Run(batch);
    }

    private JobBatch Rent() => _batches.Rent();

    private void Return(JobBatch batch) => _batches.Return(batch);
}
