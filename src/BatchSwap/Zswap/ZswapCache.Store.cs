using System.Diagnostics;
using BatchSwap.Compression.Engines;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Pageout;
using BatchSwap.Pool;
using BatchSwap.Stats;
using BatchSwap.Swap;

namespace BatchSwap.Zswap;

/// <summary>zswap's store: the one store path, a flushed plug's folios compressed as one batch (zswap_store).</summary>
internal sealed unsafe partial class ZswapCache
{
    // ================================================================ store

    /// <summary>
    /// Stores the folios of a flushed plug: every page is compressed on the engines; each folio whose pages
    /// all found a place is <see cref="PageoutOutcome.Stored"/>, the others <see cref="PageoutOutcome.Rejected"/>
    /// (with their partial entries undone). The folios are frozen and still mapped; their slots are allocated.
    /// Returns the nanoseconds the call took — compressing and storing (<see cref="Counter.ZswapStoreNs"/>) and the
    /// writeback and compaction that each store runs after it, work every batch pays whatever its size — or -1 when the
    /// batch was rejected without being compressed (zswap off, pool full).
    /// </summary>
    public long StoreBatch(Span<PageoutFolio> folios, int node, MemoryGroup group)
    {
        long t0 = Stopwatch.GetTimestamp();
        bool compressed = StoreBatchCore(folios, node, group);
        long t1 = Stopwatch.GetTimestamp();
        _counters.Add(Counter.ZswapStoreNs, (long)Stopwatch.GetElapsedTime(t0, t1).TotalNanoseconds);
        if (_tunables.ShrinkerEnabled || (_poolFull && _shrinkWorker is null))
        {
            ShrinkToThreshold();
            _counters.Add(Counter.WritebackNs, (long)Stopwatch.GetElapsedTime(t1).TotalNanoseconds);
        }
        else if (_poolFull)
        {
            WakeShrinkWorker();
        }
        MaybeCompact();
        return compressed ? (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds : -1;
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
}
