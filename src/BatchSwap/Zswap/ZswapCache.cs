using System.Diagnostics;
using BatchSwap.Compression.Engines;
using BatchSwap.Memory;
using BatchSwap.Pool;
using BatchSwap.Pageout;
using BatchSwap.Stats;
using BatchSwap.Swap;
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
    // Groups by id, to uncharge pool objects.
    private readonly MemoryGroup?[] _groups;
    // Injected faults, if any.
    private readonly Faults.FaultInjector? _faults;
    // Every device transfer (swap-in reads, writeback writes).
    private readonly PageIo _pageIo;

    // Batches to rent, so that nothing is allocated per store or load.
    private readonly BatchPool _batches;

    // ---- the entry LRUs, one per memory group (like the kernel's per-memcg list_lru): global slot ids
    // (type << 26 | offset), oldest at the head. Guarded by _lruLock. ----
    private readonly Lock _lruLock = new();
    // Global slot ids (the entry LRU's links, pool objects' owner words): swap type in the top bits, offset below.
    private const int SlotIdShift = SlotIds.Shift;
    private static int SlotId(int type, int slot) => SlotIds.Make(type, slot);
    private static int SlotOf(int id) => SlotIds.Offset(id);
    private SwapDevice DeviceOf(int id) => _devices[SlotIds.Type(id)];
    // List g is group g's entry LRU (writeback takes its head); list RetainedList + g holds group g's retained copies
    // of resident pages, oldest first (dropped first under pool pressure, never written back).
    private const int RetainedList = 256;
    private readonly int[] _lruHead = Enumerable.Repeat(-1, 512).ToArray(), _lruTail = Enumerable.Repeat(-1, 512).ToArray();
    // Next group the pool shrinker writes back from.
    private int _shrinkRotor;

    // ---- pool limit state ----
    // Set when the pool hit its cap; cleared when it falls under the accept threshold (hysteresis).
    private volatile bool _poolFull;

    // ---- gauges ----
    private long _storedPages, _sameFilledPages, _incompressiblePages, _retainedPages;

    public ZswapCache(PageArena arena, ZsPool pool, SwapDevice[] devices, Counters counters, TunableSet tunables,
        IBatchCompressor engines, BatchPool batches, MemoryGroup?[] groups, Faults.FaultInjector? faults, PageIo pageIo)
    {
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

    // ================================================================ store

    /// <summary>
    /// Stores the folios of a flushed plug: every page is compressed on the engines; each folio whose pages
    /// all found a place is <see cref="PageoutOutcome.Stored"/>, the others <see cref="PageoutOutcome.Rejected"/>
    /// (with their partial entries undone). The folios are frozen and still mapped; their slots are allocated.
    /// Returns the nanoseconds spent compressing and storing (<see cref="Counter.ZswapStoreNs"/>; not the writeback or
    /// compaction that may follow), or -1 when the batch was rejected without being compressed (zswap off, pool full).
    /// </summary>
    public long StoreBatch(Span<PageoutFolio> folios, int node, MemoryGroup group)
    {
        long t0 = Stopwatch.GetTimestamp();
        bool compressed = StoreBatchCore(folios, node, group);
        long storeNs = (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds;
        _counters.Add(Counter.ZswapStoreNs, storeNs);
        if (_tunables.ShrinkerEnabled || (_poolFull && _shrinkThread is null))
        {
            t0 = Stopwatch.GetTimestamp();
            ShrinkToThreshold();
            _counters.Add(Counter.WritebackNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        }
        else if (_poolFull)
        {
            WakeShrinkWorker();
        }
        MaybeCompact();
        return compressed ? storeNs : -1;
    }

    /// <summary>The store itself; false when it rejected the batch without compressing it.</summary>
    private bool StoreBatchCore(Span<PageoutFolio> folios, int node, MemoryGroup group)
    {
        if (!_tunables.ZswapEnabled || !AcceptsStores())
        {
            foreach (ref PageoutFolio f in folios) f.Outcome = PageoutOutcome.Rejected;
            return false;
        }

        JobBatch batch = Rent();
        try
        {
            byte codec = _tunables.Compressor.Id;
            bool storeRaw = group.WritebackEnabled;
            Span<short> jobFolio = stackalloc short[batch.Capacity];
            Span<short> jobPage = stackalloc short[batch.Capacity];
            foreach (ref PageoutFolio f in folios) f.Outcome = PageoutOutcome.Pending;

            int fi = 0, page = 0;
            while (fi < folios.Length)
            {
                // Fill one run of jobs: pages of several folios, or a slice of a large folio.
                batch.Clear();
                while (fi < folios.Length && batch.Count < batch.Capacity)
                {
                    ref PageoutFolio f = ref folios[fi];
                    jobFolio[batch.Count] = (short)fi;
                    jobPage[batch.Count] = (short)page;
                    batch.AddCompress(_arena.PageAddress(f.Head + page), codec);
                    if (++page == 1 << f.Order) { fi++; page = 0; }
                }
                RunJobs(batch, Counter.ZswapCompressJobs);
                for (int j = 0; j < batch.Count; j++)
                    CommitPage(ref batch.Jobs[j], ref folios[jobFolio[j]], jobPage[j], node, group, storeRaw, batch);
            }

            // Every page of a folio found a place: the folio is stored, its entries join the group's LRU and their
            // slots are unlocked (until now only this store might change them: compaction must keep off).
            int stored = 0;
            lock (_lruLock)
            {
                foreach (ref PageoutFolio f in folios)
                {
                    if (f.Outcome != PageoutOutcome.Pending) continue;
                    f.Outcome = PageoutOutcome.Stored;
                    stored += 1 << f.Order;
                    AddToLruLocked(group.Id, f.SwapType, f.SlotOffset, 1 << f.Order);
                    SwapDevice dev = _devices[f.SwapType];
                    for (int p = 0; p < 1 << f.Order; p++) dev.UnlockSlot(f.SlotOffset + p);
                    _counters.Add(Counter.ZswpoutOrder0 + f.Order);
                }
            }
            Interlocked.Add(ref _storedPages, stored);
            _counters.Add(Counter.Zswpout, stored);
            return true;
        }
        finally
        {
            Return(batch);
        }
    }

    /// <summary>Puts one compressed page into the pool and its slot, or fails its folio.</summary>
    private void CommitPage(ref PageJob job, ref PageoutFolio folio, int page, int node, MemoryGroup group, bool storeRaw, JobBatch batch)
    {
        SwapDevice dev = _devices[folio.SwapType];
        int slot = folio.SlotOffset + page;
        if (folio.Outcome != PageoutOutcome.Pending)
        {
            // An earlier page failed the folio: it goes to the swap device, with the checksum the engine computed.
            RememberChecksum(dev, slot, in job);
            return;
        }
        ulong handle;
        ulong info;
        switch (job.Result)
        {
            case JobResult.SameFilled:
                handle = job.Pattern;
                info = SlotInfo.Make(SlotFlags.Used | SlotFlags.Zswap | SlotFlags.SameFilled, group.Id, 0, 0, job.Checksum);
                Interlocked.Increment(ref _sameFilledPages);
                break;
            case JobResult.Compressed:
                if (!TryPoolStore(new ReadOnlySpan<byte>(job.Destination, job.Written), node, group, SlotId(folio.SwapType, slot), out handle))
                {
                    FailFolio(ref folio, page);
                    RememberChecksum(dev, slot, in job);
                    return;
                }
                info = SlotInfo.Make(SlotFlags.Used | SlotFlags.Zswap, group.Id, job.Written, job.CodecId, job.Checksum);
                break;
            case JobResult.DidNotFit when storeRaw:
                // Linux 6.18 keeps an incompressible page as-is so that it can be written back in LRU order.
                if (!TryPoolStore(new ReadOnlySpan<byte>(job.Source, PageSize.Bytes), node, group, SlotId(folio.SwapType, slot), out handle))
                {
                    FailFolio(ref folio, page);
                    RememberChecksum(dev, slot, in job);
                    return;
                }
                info = SlotInfo.Make(SlotFlags.Used | SlotFlags.Zswap | SlotFlags.Raw, group.Id, PageSize.Bytes, 0, job.Checksum);
                Interlocked.Increment(ref _incompressiblePages);
                break;
            case JobResult.DidNotFit:
                _counters.Add(Counter.RejectCompressPoor);
                FailFolio(ref folio, page);
                RememberChecksum(dev, slot, in job);
                folio.CompressPoor = true; // a verdict on the data: reclaim remembers it (FolioFlags.Incompressible)
                return;
            default:
                _counters.Add(Counter.RejectCompressFail);
                FailFolio(ref folio, page);
                return;
        }
        dev.Handle(slot) = handle;
        dev.SetInfo(slot, info | (ulong)SlotFlags.Locked); // still the store's: unlocked once the folio is stored
    }

    private bool TryPoolStore(ReadOnlySpan<byte> data, int node, MemoryGroup group, int owner, out ulong handle)
    {
        int charge = ZsPool.ClassSize(data.Length);
        if (!group.TryChargePool(charge))
        {
            _counters.Add(Counter.RejectAllocFail);
            handle = 0;
            return false;
        }
        handle = 0;
        if ((_faults is not null && _faults.PoolAllocFails()) || !_pool.TryStore(data, node, owner, out handle))
        {
            group.UnchargePool(charge);
            _counters.Add(Counter.RejectAllocFail);
            return false;
        }
        return true;
    }

    /// <summary>Undoes the entries already made for pages before <paramref name="failedPage"/> of a folio.</summary>
    private void FailFolio(ref PageoutFolio folio, int failedPage)
    {
        folio.Outcome = PageoutOutcome.Rejected;
        SwapDevice dev = _devices[folio.SwapType];
        for (int p = 0; p < failedPage; p++)
        {
            int slot = folio.SlotOffset + p;
            ulong info = dev.Info(slot);
            DropEntry(dev.Handle(slot), info);
            dev.Handle(slot) = 0;
            // Still reclaim's; the entry's checksum is the page's, for the page-I/O layer's write.
            dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked | SlotFlags.Summed, 0, 0, 0, SlotInfo.Checksum(info)));
        }
    }

    /// <summary>
    /// Keeps the checksum an engine computed for a page of a rejected folio in its (still locked) slot, so that the
    /// page-I/O layer writes the page without hashing it again. Only results that got past the hash are trusted: a
    /// job that failed may not have run at all (an engine fault), and its checksum field is then stale.
    /// </summary>
    private static void RememberChecksum(SwapDevice dev, int slot, in PageJob job)
    {
        if (job.Result is not (JobResult.Compressed or JobResult.SameFilled or JobResult.DidNotFit)) return;
        dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked | SlotFlags.Summed, 0, 0, 0, job.Checksum));
    }

    /// <summary>Whether the pool takes stores now: false from the moment it hits its cap until it falls under the accept threshold.</summary>
    /// <summary>Pool frames a batch store may need (32 pages that do not compress, and their span tails).</summary>
    private const int StoreHeadroomPages = 64;

    private bool AcceptsStores()
    {
        long max = MaxPoolPages;
        // Retained copies of resident pages are room the pool can take back at once, without I/O: a full pool drops
        // them (down to the accept threshold) before it turns a store away.
        if (Volatile.Read(ref _retainedPages) > 0 && _pool.Pages >= max - StoreHeadroomPages) DropRetainedTo(AcceptThresholdPages);
        long pages = _pool.Pages;
        if (_poolFull)
        {
            if (pages > AcceptThresholdPages)
            {
                _counters.Add(Counter.PoolLimitHit);
                return false;
            }
            _poolFull = false;
        }
        if (pages >= max)
        {
            _poolFull = true;
            _counters.Add(Counter.PoolLimitHit);
            return false;
        }
        return true;
    }

    // ================================================================ load and invalidate

    /// <summary>
    /// Loads the pages of locked slots into their frames, as one batch: pages on a swap device are read by the
    /// page-I/O layer (runs of consecutive slots, one submission), compressed pages are decompressed together on the engines
    /// (swap-in readahead's batched decompression). Each request gets its own result; no slot is freed.
    /// </summary>
    public void LoadBatch(Span<LoadRequest> requests)
    {
        bool verify = _tunables.VerifyChecksums;
        // Pages on the swap devices: the page-I/O layer.
        _pageIo.Read(requests);

        // Pages in zswap: fill words and as-is pages here, compressed pages on the engines.
        JobBatch batch = Rent();
        try
        {
            batch.Clear();
            Span<short> jobOf = stackalloc short[requests.Length];
            for (int i = 0; i < requests.Length; i++)
            {
                ref LoadRequest r = ref requests[i];
                jobOf[i] = -1;
                SlotFlags flags = SlotInfo.Flags(r.Info);
                if (r.Result == LoadResult.DeviceCompressed)
                {
                    // Read still compressed from a remote device: decompressed with the rest.
                    if (batch.Count == batch.Capacity) FinishDecompress(batch, requests, jobOf, i);
                    jobOf[i] = (short)batch.Count;
                    QueueDeviceCompressed(batch, ref r, verify);
                    continue;
                }
                if ((flags & SlotFlags.Zswap) == 0) continue;
                ulong handle = _devices[r.Type].Handle(r.Slot);
                if ((flags & SlotFlags.SameFilled) != 0)
                {
                    // The fill word lives in the slot table: check it like any other copy of the page.
                    PageWork.Fill(r.Frame, handle);
                    r.Result = verify && PageWork.Checksum(r.Frame) != SlotInfo.Checksum(r.Info) ? LoadResult.ChecksumMismatch : LoadResult.Ok;
                }
                else if ((flags & SlotFlags.Raw) != 0)
                {
                    _pool.Map(handle, PageSize.Bytes, new Span<byte>(batch.Scratch(batch.Count), PageSize.Bytes)).CopyTo(new Span<byte>(r.Frame, PageSize.Bytes));
                    r.Result = verify && PageWork.Checksum(r.Frame) != SlotInfo.Checksum(r.Info) ? LoadResult.ChecksumMismatch : LoadResult.Ok;
                }
                else
                {
                    if (batch.Count == batch.Capacity) FinishDecompress(batch, requests, jobOf, i);
                    int len = SlotInfo.Length(r.Info);
                    ReadOnlySpan<byte> src = _pool.Map(handle, len, new Span<byte>(batch.Scratch(batch.Count), PageSize.Bytes));
                    fixed (byte* s = src)
                    {
                        // The pointer outlives fixed safely: pool memory and scratch pages are native.
                        jobOf[i] = (short)batch.Count;
                        ref PageJob job = ref batch.AddDecompress(s, len, SlotInfo.CodecId(r.Info), r.Frame);
                        job.Checksum = SlotInfo.Checksum(r.Info);
                        job.Verify = verify;
                    }
                }
            }
            FinishDecompress(batch, requests, jobOf, requests.Length);
        }
        finally
        {
            Return(batch);
        }

        foreach (ref LoadRequest r in requests)
        {
            if ((SlotInfo.Flags(r.Info) & SlotFlags.Zswap) == 0)
            {
                CountDeviceCompressed(in r);
                continue;
            }
            if (r.Result == LoadResult.Ok) _counters.Add(Counter.Zswpin);
            else _counters.Add(Counter.DecompressFail);
        }
    }

    /// <summary>Runs the decompression jobs gathered so far and gives their requests (before <paramref name="upTo"/>) their results.</summary>
    private void FinishDecompress(JobBatch batch, Span<LoadRequest> requests, Span<short> jobOf, int upTo)
    {
        if (batch.Count == 0) return;
        RunJobs(batch, Counter.ZswapDecompressJobs);
        for (int i = 0; i < upTo; i++)
        {
            if (jobOf[i] < 0) continue;
            requests[i].Result = batch.Jobs[jobOf[i]].Result switch
            {
                JobResult.Decompressed => LoadResult.Ok,
                JobResult.ChecksumMismatch => LoadResult.ChecksumMismatch,
                _ => LoadResult.DecompressFailed,
            };
            jobOf[i] = -1;
        }
        batch.Clear();
    }

    /// <summary>Drops a locked slot's zswap entry, if it has one (zswap_invalidate). The slot itself stays allocated.</summary>
    public void Invalidate(SwapDevice dev, int slot, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & SlotFlags.Zswap) == 0) return;
        bool retained = (flags & SlotFlags.Retained) != 0;
        RemoveFromLru(dev.Type, slot, SlotInfo.Group(info) + (retained ? RetainedList : 0));
        if (retained) Interlocked.Decrement(ref _retainedPages);
        Interlocked.Decrement(ref _storedPages);
        DropEntry(dev.Handle(slot), info);
    }

    // ================================================================ retained copies (the clean-page rule)

    /// <summary>
    /// Keeps a loaded slot's copy for the resident page it now backs (the slot is locked by the caller; this publishes
    /// it unlocked): a zswap entry moves to its group's retained list, where pool pressure drops it before anything is
    /// written back; a page on disk just stays there. Reclaiming the page again, unwritten, only remaps it
    /// (<see cref="ReuseRetained"/>); a write drops the copy (<see cref="Invalidate"/>).
    /// </summary>
    public void Retain(SwapDevice dev, int slot, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & SlotFlags.Zswap) != 0)
        {
            int group = SlotInfo.Group(info);
            lock (_lruLock)
            {
                UnlinkLocked(dev, slot, SlotId(dev.Type, slot), group);
                AddToLruLocked(RetainedList + group, dev.Type, slot, 1);
            }
            Interlocked.Increment(ref _retainedPages);
        }
        dev.SetInfo(slot, SlotInfo.WithFlags(info, (flags | SlotFlags.Retained) & ~SlotFlags.Locked));
    }

    /// <summary>
    /// Reclaim of a clean resident page whose copy was retained (the slot is locked by the caller): when the copy is
    /// still there, the slot becomes the page's swap entry again — a zswap entry goes back on its group's LRU — and is
    /// published unlocked; true. False when pool pressure dropped the copy: the slot is left locked and empty
    /// (<c>Used | Locked</c>), for the caller to store the page into as a fresh one.
    /// </summary>
    public bool ReuseRetained(SwapDevice dev, int slot, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & (SlotFlags.Zswap | SlotFlags.OnDisk)) == 0)
        {
            dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked, 0, 0, 0, 0));
            return false;
        }
        if ((flags & SlotFlags.Zswap) != 0)
        {
            int group = SlotInfo.Group(info);
            lock (_lruLock)
            {
                UnlinkLocked(dev, slot, SlotId(dev.Type, slot), RetainedList + group);
                AddToLruLocked(group, dev.Type, slot, 1);
            }
            Interlocked.Decrement(ref _retainedPages);
        }
        dev.SetInfo(slot, SlotInfo.WithFlags(info, flags & ~(SlotFlags.Retained | SlotFlags.Locked)));
        return true;
    }

    /// <summary>
    /// Drops up to <paramref name="max"/> of a group's retained copies, newest first: their pool objects are freed at
    /// once, with no I/O (the pages are resident). Each slot stays with its folio, empty. Returns copies dropped.
    /// </summary>
    private int DropRetained(int groupId, int max)
    {
        Span<int> ids = stackalloc int[32];
        Span<ulong> infos = stackalloc ulong[32];
        int dropped = 0;
        while (dropped < max)
        {
            // Newest first: the pages loaded longest ago are the next that reclaim takes, and their copies save the most.
            int n = TakeOldest(RetainedList + groupId, ids[..Math.Min(ids.Length, max - dropped)], infos, newest: true);
            if (n == 0) break;
            for (int i = 0; i < n; i++)
            {
                SwapDevice dev = DeviceOf(ids[i]);
                int slot = SlotOf(ids[i]);
                DropEntry(dev.Handle(slot), infos[i]);
                dev.Handle(slot) = 0;
                dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Retained, SlotInfo.Group(infos[i]), 0, 0, 0));
            }
            Interlocked.Add(ref _retainedPages, -n);
            Interlocked.Add(ref _storedPages, -n);
            dropped += n;
        }
        if (dropped > 0) _counters.Add(Counter.ZswapRetainedDropped, dropped);
        return dropped;
    }

    /// <summary>Drops retained copies of every group, newest first per group, until the pool is at most <paramref name="targetPages"/>.</summary>
    private void DropRetainedTo(long targetPages)
    {
        if (Volatile.Read(ref _retainedPages) == 0) return;
        for (int g = 0; g < _groups.Length && _groups[g] is not null && _pool.Pages > targetPages; g++)
            while (_pool.Pages > targetPages && DropRetained(g, 32) > 0) { }
    }

    /// <summary>Frees an entry's pool object and its charge (not its LRU place or stored count).</summary>
    private void DropEntry(ulong handle, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & SlotFlags.Zswap) == 0) return;
        if ((flags & SlotFlags.SameFilled) != 0)
        {
            Interlocked.Decrement(ref _sameFilledPages);
            return;
        }
        if ((flags & SlotFlags.Raw) != 0) Interlocked.Decrement(ref _incompressiblePages);
        int len = SlotInfo.Length(info);
        _pool.Free(handle, len);
        _groups[SlotInfo.Group(info)]?.UnchargePool(ZsPool.ClassSize(len));
    }

    // ================================================================ compaction

    /// <summary>
    /// Compacts the pool when its bytes beyond the compressed bytes exceed <see cref="CompactOverheadPercent"/> and
    /// compaction could free at least <see cref="CompactMinPerMille"/>/1024 of it (the zsmalloc shrinker's
    /// zs_compact, run from the reclaim path). Cheap when it has nothing to do.
    /// </summary>
    private void MaybeCompact()
    {
        long pages = _pool.Pages;
        long payload = _pool.PayloadBytes;
        if (pages < 64 || ((pages << PageSize.Shift) - payload) * 100 <= payload * CompactOverheadPercent) return;
        if (_pool.CompactablePages() < Math.Max(8, pages * CompactMinPerMille / 1024)) return;
        Compact();
    }

    /// <summary>Compacts the pool now; returns frames freed.</summary>
    public long Compact()
    {
        long t0 = Stopwatch.GetTimestamp();
        ZsPool.CompactResult r = _pool.Compact(this);
        _counters.Add(Counter.CompactNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        _counters.Add(Counter.ZswapCompactObjects, r.Objects);
        _counters.Add(Counter.PagesCompacted, r.Pages);
        _counters.Add(Counter.ZswapCompactBusy, r.Busy);
        return r.Pages;
    }

    /// <summary>Compaction: takes an entry's slot if it is free and still holds <paramref name="handle"/>.</summary>
    bool IObjectOwners.TryLock(int owner, ulong handle)
    {
        if ((uint)(owner >> SlotIdShift) >= (uint)_devices.Length) return false;
        SwapDevice dev = DeviceOf(owner);
        int slot = SlotOf(owner);
        if (!dev.TryLockSlot(slot, out ulong info)) return false;
        if ((SlotInfo.Flags(info) & (SlotFlags.Zswap | SlotFlags.SameFilled)) != SlotFlags.Zswap || dev.Handle(slot) != handle)
        {
            Debug.Fail("a pool object's owner does not hold it");
            dev.UnlockSlot(slot);
            return false;
        }
        return true;
    }

    /// <summary>Compaction: repoints a locked entry at its moved object and unlocks it.</summary>
    void IObjectOwners.Moved(int owner, ulong handle)
    {
        SwapDevice dev = DeviceOf(owner);
        int slot = SlotOf(owner);
        dev.Handle(slot) = handle;
        dev.UnlockSlot(slot);
    }

    // ================================================================ writeback (the shrinker)

    /// <summary>
    /// Writes the oldest entries back to their swap devices until the pool is under its accept threshold,
    /// a bounded amount per call, decompressing each run of entries as one batch on the engines.
    /// </summary>
    private int ShrinkToThreshold()
    {
        int written = 0;
        long target = AcceptThresholdPages;
        // Copies of resident pages go first: dropping them frees pool memory without any I/O.
        DropRetainedTo(target);
        int groups = 0;
        while (groups < _groups.Length && _groups[groups] is not null) groups++; // groups are made in id order, never removed
        int idle = 0;
        for (int rounds = 0; rounds < 8 && _pool.Pages > target && idle < groups; rounds++)
        {
            int g = (int)((uint)Interlocked.Increment(ref _shrinkRotor) % (uint)groups);
            MemoryGroup? group = _groups[g];
            int n = group is null || !group.WritebackEnabled ? 0 : WritebackBatch(g);
            if (n == 0) { idle++; rounds--; continue; }
            written += n;
            idle = 0;
        }
        return written;
    }

    // ================================================================ the limit-hit shrink worker

    // The worker thread (null: a full pool is shrunk in the storing thread), its wake-up, and its stop flag.
    private Thread? _shrinkThread;
    private readonly SemaphoreSlim _shrinkWake = new(0, 1);
    private volatile bool _shrinkStopping;
    // Marks the worker busy for the engines' idle-core count.
    private Action<int> _shrinkBusy = _ => { };

    /// <summary>
    /// Starts mainline zswap's shrink worker: when a store finds the pool at its cap, stores are rejected (those
    /// folios go to the swap device uncompressed) while this thread writes the oldest entries back until the pool
    /// is under the accept threshold. Without it, the storing thread writes back itself before the next batch.
    /// </summary>
    public void StartShrinkWorker(Action<int> busy)
    {
        _shrinkBusy = busy;
        _shrinkThread = new Thread(ShrinkWorker) { IsBackground = true, Name = "batchswap-zswap-shrink" };
        _shrinkThread.Start();
    }

    /// <summary>The shrink worker's thread, or null when there is none.</summary>
    public Thread? ShrinkWorkerThread => _shrinkThread;

    /// <summary>Stops the shrink worker and waits for it (before the pool and devices go away).</summary>
    public void StopShrinkWorker()
    {
        if (_shrinkThread is null) return;
        _shrinkStopping = true;
        try { _shrinkWake.Release(); } catch (SemaphoreFullException) { }
        _shrinkThread.Join();
    }

    private void WakeShrinkWorker()
    {
        if (_shrinkWake.CurrentCount > 0) return;
        try { _shrinkWake.Release(); } catch (SemaphoreFullException) { }
    }

    private void ShrinkWorker()
    {
        while (true)
        {
            _shrinkWake.Wait();
            if (_shrinkStopping) return;
            _shrinkBusy(+1);
            long t0 = Stopwatch.GetTimestamp();
            try
            {
                while (!_shrinkStopping && _pool.Pages > AcceptThresholdPages && ShrinkToThreshold() > 0) { }
            }
            finally
            {
                _counters.Add(Counter.WritebackNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
                _shrinkBusy(-1);
            }
        }
    }

    /// <summary>
    /// Writes back one batch of a group's oldest entries, for reclaim when the group's own pool objects fill its
    /// limit (the memcg-aware zswap shrinker). Returns entries written back.
    /// </summary>
    public int WritebackForGroup(MemoryGroup group)
    {
        // Copies of resident pages go first: they free the group's pool charge without any I/O.
        int dropped = DropRetained(group.Id, 32);
        if (dropped > 0 || !group.WritebackEnabled) return dropped;
        long t0 = Stopwatch.GetTimestamp();
        int n = WritebackBatch(group.Id);
        _counters.Add(Counter.WritebackNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        return n;
    }

    /// <summary>Writes back one batch of the oldest entries of a group. Returns entries written back.</summary>
    private int WritebackBatch(int groupId)
    {
        JobBatch batch = Rent();
        try
        {
            Span<int> ids = stackalloc int[batch.Capacity];
            Span<ulong> infos = stackalloc ulong[batch.Capacity];
            int n = TakeOldest(groupId, ids, infos);
            if (n == 0) return 0;

            batch.Clear();
            Span<int> jobOf = stackalloc int[n];
            // Bytes each entry sends: a page, or its compressed object where the device stores them as they are.
            Span<int> lengths = stackalloc int[n];
            for (int i = 0; i < n; i++)
            {
                SwapDevice dev = DeviceOf(ids[i]);
                int slot = SlotOf(ids[i]);
                ulong info = infos[i];
                ulong handle = dev.Handle(slot);
                byte* dst = batch.Output(i);
                jobOf[i] = -1;
                lengths[i] = PageSize.Bytes;
                SlotFlags f = SlotInfo.Flags(info);
                if ((f & SlotFlags.SameFilled) != 0) PageWork.Fill(dst, handle);
                else if ((f & SlotFlags.Raw) != 0) _pool.Map(handle, PageSize.Bytes, new Span<byte>(batch.Scratch(i), PageSize.Bytes)).CopyTo(new Span<byte>(dst, PageSize.Bytes));
                else if (dev.Backend.StoresCompressed) lengths[i] = StageCompressed(handle, info, batch, i);
                else
                {
                    int len = SlotInfo.Length(info);
                    ReadOnlySpan<byte> src = _pool.Map(handle, len, new Span<byte>(batch.Scratch(i), PageSize.Bytes));
                    fixed (byte* s = src)
                    {
                        // The span stays valid after fixed: pool memory and scratch are native.
                        jobOf[i] = batch.Count;
                        ref PageJob job = ref batch.AddDecompress(s, len, SlotInfo.CodecId(info), dst);
                        job.Checksum = SlotInfo.Checksum(info);
                        job.Verify = _tunables.VerifyChecksums;
                    }
                }
            }
            RunJobs(batch, Counter.ZswapDecompressJobs);

            // Entries whose pages decompressed go out through the page-I/O layer (runs of consecutive slots); a damaged
            // entry is kept, so that its load fails loudly too.
            Span<int> types = stackalloc int[n], slots = stackalloc int[n], at = stackalloc int[n], sent = stackalloc int[n];
            Span<nint> pages = stackalloc nint[n];
            Span<bool> ok = stackalloc bool[n];
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                if (jobOf[i] >= 0 && batch.Jobs[jobOf[i]].Result != JobResult.Decompressed)
                {
                    _counters.Add(Counter.DecompressFail);
                    _counters.Add(Counter.RejectReclaimFail);
                    KeepEntry(ids[i], infos[i]);
                    continue;
                }
                types[m] = ids[i] >> SlotIdShift;
                slots[m] = SlotOf(ids[i]);
                pages[m] = (nint)batch.Output(i);
                sent[m] = lengths[i];
                at[m++] = i;
            }
            _pageIo.WritePages(types[..m], slots[..m], pages[..m], ok[..m], sent[..m]);
            int written = 0;
            for (int k = 0; k < m; k++)
            {
                int i = at[k];
                if (!ok[k])
                {
                    _counters.Add(Counter.RejectReclaimFail);
                    KeepEntry(ids[i], infos[i]);
                    continue;
                }
                SwapDevice dev = DeviceOf(ids[i]);
                int slot = slots[k];
                ulong info = infos[i];
                DropEntry(dev.Handle(slot), info);
                Interlocked.Decrement(ref _storedPages);
                dev.Handle(slot) = 0;
                dev.SetInfo(slot, WrittenBackInfo(info, sent[k]));
                written++;
            }
            _counters.Add(Counter.Zswpwb, written);
            _counters.Add(Counter.WrittenBackPages, written);
            return written;
        }
        finally
        {
            Return(batch);
        }
    }

    /// <summary>Puts an entry that could not be written back where it was: unlocked, at the LRU tail.</summary>
    private void KeepEntry(int id, ulong info)
    {
        SwapDevice dev = DeviceOf(id);
        int slot = SlotOf(id);
        dev.UnlockSlot(slot);
        AddToLru(SlotInfo.Group(info), dev.Type, slot, 1);
    }

    /// <summary>Takes up to ids.Length of the oldest entries (the newest with <paramref name="newest"/>) off the list, locking each slot. Returns how many.</summary>
    private int TakeOldest(int groupId, Span<int> ids, Span<ulong> infos, bool newest = false)
    {
        int n = 0;
        lock (_lruLock)
        {
            int id = newest ? _lruTail[groupId] : _lruHead[groupId];
            int skipped = 0;
            while (id >= 0 && n < ids.Length && skipped < 64)
            {
                SwapDevice dev = DeviceOf(id);
                int slot = SlotOf(id);
                ulong links = dev.Links(slot);
                int next = newest ? (int)(uint)links : (int)(links >> 32);
                if (!dev.TryLockSlot(slot, out ulong locked))
                {
                    skipped++; // a fault or free holds it; it will leave the LRU itself
                }
                else
                {
                    Debug.Assert((SlotInfo.Flags(locked) & SlotFlags.Zswap) != 0, "only zswap entries are on the entry LRU");
                    UnlinkLocked(dev, slot, id, groupId);
                    ids[n] = id;
                    infos[n] = locked;
                    n++;
                }
                id = next;
            }
        }
        return n;
    }

    // ================================================================ the entry LRU

    private void AddToLru(int groupId, int type, int firstSlot, int count)
    {
        lock (_lruLock) AddToLruLocked(groupId, type, firstSlot, count);
    }

    private void AddToLruLocked(int groupId, int type, int firstSlot, int count)
    {
        SwapDevice dev = _devices[type];
        for (int s = firstSlot; s < firstSlot + count; s++)
        {
            int id = SlotId(type, s);
            int tail = _lruTail[groupId];
            dev.Links(s) = (uint)tail | ((ulong)uint.MaxValue << 32);
            if (tail >= 0) SetNext(tail, id); else _lruHead[groupId] = id;
            _lruTail[groupId] = id;
        }
    }

    private void RemoveFromLru(int type, int slot, int groupId)
    {
        lock (_lruLock) UnlinkLocked(_devices[type], slot, SlotId(type, slot), groupId);
    }

    private void UnlinkLocked(SwapDevice dev, int slot, int id, int groupId)
    {
        ulong links = dev.Links(slot);
        int prev = (int)(uint)links, next = (int)(links >> 32);
        if (prev >= 0) SetNext(prev, next); else if (_lruHead[groupId] == id) _lruHead[groupId] = next; else return; // not on the list
        if (next >= 0) SetPrev(next, prev); else _lruTail[groupId] = prev;
        dev.Links(slot) = ulong.MaxValue;
    }

    private void SetNext(int id, int next)
    {
        ref ulong l = ref DeviceOf(id).Links(SlotOf(id));
        l = (l & 0xFFFFFFFFUL) | ((ulong)(uint)next << 32);
    }

    private void SetPrev(int id, int prev)
    {
        ref ulong l = ref DeviceOf(id).Links(SlotOf(id));
        l = (l & 0xFFFFFFFF00000000UL) | (uint)prev;
    }

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
