using BatchSwap.Lru;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Pageout;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;
using BatchSwap.Tunables;
using BatchSwap.Zswap;

namespace BatchSwap.Reclaim;

/// <summary>
/// Reclaim: isolate up to SWAP_CLUSTER_MAX folios from the inactive tail, then the shrink loop
/// (<see cref="ShrinkFolioList"/>): referenced folios are activated, pinned ones kept, the rest get swap
/// slots and go through the plug; each flushed batch is one zswap batch store, failures are written to the
/// swap device, and the post-pageout steps run for every folio of the batch, in order.
/// </summary>
internal sealed unsafe class Reclaimer
{
    /// <summary>Folios isolated at once (SWAP_CLUSTER_MAX).</summary>
    public const int SwapClusterMax = 32;

    private readonly PageArena _arena;
    // The folios' owners (their page tables), and the tier's gate (a closing tier finishes its writes at once).
    private readonly AddressSpaces _spaces;
    private readonly TierGate _gate;
    // Swap devices by type.
    private readonly SwapDevice[] _devices;
    private readonly ZswapCache _zswap;
    private readonly PageIo _pageIo;
    private readonly Counters _counters;
    private readonly TunableSet _tunables;
    // Swap devices by descending priority.
    private readonly SwapDevice[] _byPriority;
    // All memory groups, for reclaim when a node runs out of frames.
    private readonly MemoryGroups _groups;

    // Per-thread plug and isolation list (a reclaiming thread owns them while it reclaims).
    [ThreadStatic] private static ReclaimScratch? t_scratch;
    // Rotates the starting device among devices of equal priority, per shrink call.
    private int _deviceRotor;

    public Reclaimer(PageArena arena, AddressSpaces spaces, TierGate gate, SwapDevice[] devices, ZswapCache zswap, PageIo pageIo,
        MemoryGroups groups, Counters counters, TunableSet tunables)
    {
        _arena = arena;
        _spaces = spaces;
        _gate = gate;
        _devices = devices;
        _zswap = zswap;
        _pageIo = pageIo;
        _groups = groups;
        _counters = counters;
        _tunables = tunables;
        _byPriority = devices.OrderByDescending(d => d.Priority).ToArray();
        AutoBatchSize = new BatchSizeController(tunables.CompressBatchSizeLimit, counters, tunables);
    }

    /// <summary>The automatic choice of vm.compress-batchsize (it measures only while the tunable is auto).</summary>
    public BatchSizeController AutoBatchSize { get; }

    /// <summary>
    /// Direct reclaim for an allocation of <paramref name="group"/>: from the group's own lists, the
    /// preferred node first; when the group has nothing left, from the other groups (the node is short).
    /// Returns pages reclaimed.
    /// </summary>
    public int ReclaimForAllocation(MemoryGroup group, int preferredNode, int target, out long scanned)
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return ReclaimForAllocationCore(group, preferredNode, target, out scanned);
        }
        finally
        {
            _counters.Add(Counter.ReclaimNs, (long)System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        }
    }

    private int ReclaimForAllocationCore(MemoryGroup group, int preferredNode, int target, out long scanned)
    {
        int got = ReclaimGroup(group, preferredNode, target, out scanned);
        if (got > 0) return got;
        foreach (MemoryGroup g in _groups.All)
        {
            if (g == group) continue;
            got += ReclaimGroup(g, preferredNode, target, out long s);
            scanned += s;
            if (got >= target) break;
        }
        return got;
    }

    /// <summary>Rounds of isolate-and-shrink over the group's nodes until <paramref name="target"/> pages are reclaimed or the lists have been scanned once.</summary>
    private int ReclaimGroup(MemoryGroup group, int preferredNode, int target, out long scanned)
    {
        int nodes = group.Lruvecs.Length;
        int got = 0;
        scanned = 0;
        long budget = group.LruPages + SwapClusterMax;
        while (got < target && scanned < budget)
        {
            long before = scanned;
            for (int i = 0; i < nodes && got < target; i++)
                got += ShrinkLruvec(group.Lruvecs[(preferredNode + i) % nodes], direct: true, ref scanned);
            if (scanned == before) break; // nothing left to scan
        }
        // The group's own pool objects fill its limit: write its oldest entries back (the memcg-aware shrinker).
        if (got < target && group.PoolChargedBytes > group.LimitBytes / 8)
        {
            // Progress in pages is what the writeback freed of the group's charge; at least one page when anything went.
            long before = group.PoolChargedBytes;
            if (_zswap.WritebackForGroup(group) > 0) got += (int)Math.Max(1, (before - group.PoolChargedBytes) / PageSize.Bytes);
        }
        return got;
    }

    /// <summary>One round of reclaim on one LRU: isolate, shrink, put back. Returns pages reclaimed; adds pages scanned.</summary>
    /// <remarks>
    /// Writes of rejected folios are in flight while the list goes on. Direct reclaim waits for them before it returns
    /// (the allocation needs the frames now); kswapd leaves them in flight into its next round and finishes them in
    /// <see cref="FinishWriteback"/> before it sleeps.
    /// </remarks>
    public int ShrinkLruvec(LruVec lruvec, bool direct, ref long scanned)
    {
        ReclaimScratch s = t_scratch ??= new ReclaimScratch();
        int reclaimed = s.Writeback.Count > 0 ? Reap(s.Writeback, wait: false) : 0;
        int n = Isolate(lruvec, s.Isolated, direct, ref scanned);
        if (n > 0)
        {
            GroupBySpace(s.Isolated.AsSpan(0, n));
            reclaimed += ShrinkFolioList(lruvec, s.Isolated.AsSpan(0, n), s, direct);
        }
        if (direct || _gate.IsClosed) reclaimed += Reap(s.Writeback, wait: true);
        return reclaimed;
    }

    /// <summary>
    /// Orders an isolated list by address space, keeping LRU order within each (a stable insertion sort: the list is
    /// at most <see cref="SwapClusterMax"/> folios). Each space allocates its slots on its own stream, so its folios
    /// then take consecutive slots and a flush writes each space's pages as one run, where folios of regions filled at
    /// the same time would otherwise alternate and break every run.
    /// </summary>
    private void GroupBySpace(Span<int> folios)
    {
        for (int i = 1; i < folios.Length; i++)
        {
            int head = folios[i];
            int owner = _arena.Frame(head).Owner;
            int j = i - 1;
            while (j >= 0 && _arena.Frame(folios[j]).Owner > owner)
            {
                folios[j + 1] = folios[j];
                j--;
            }
            folios[j + 1] = head;
        }
    }

    /// <summary>Waits for this thread's writes in flight and finishes their folios (kswapd, before it sleeps). Returns pages reclaimed.</summary>
    public int FinishWriteback() => t_scratch is { } s ? Reap(s.Writeback, wait: true) : 0;

    /// <summary>Takes up to 32 folios from the inactive tail (after balancing the lists), holding a use of each one's region.</summary>
    private int Isolate(LruVec lruvec, int[] isolated, bool direct, ref long scannedTotal)
    {
        int n = 0;
        long scanned = 0;
        lock (lruvec.Node.Lock)
        {
            int deactivated = lruvec.Balance(SwapClusterMax);
            if (deactivated > 0) _counters.Add(Counter.Pgdeactivate, deactivated);
            int t = lruvec.Tail(active: false);
            while (t >= 0 && n < isolated.Length)
            {
                int older = lruvec.Older(t);
                ref PageFrame f = ref _arena.Frame(t);
                AddressSpace? region = _spaces.ById(f.Owner);
                if (region is not null && region.TryEnterUse())
                {
                    if ((f.Flags & FolioFlags.Readahead) != 0)
                    {
                        // First scan of a readahead page: used since it came in, or not.
                        _counters.Add(f.Referenced != 0 ? Counter.SwapRaHit : Counter.SwapRaMiss);
                        f.Flags &= ~FolioFlags.Readahead;
                    }
                    lruvec.Remove(t);
                    f.Flags |= FolioFlags.Isolated;
                    isolated[n++] = t;
                    scanned += 1 << f.Order;
                }
                t = older;
            }
        }
        _counters.Add(Counter.Pgscan, scanned);
        _counters.Add(direct ? Counter.PgscanDirect : Counter.PgscanKswapd, scanned);
        scannedTotal += scanned;
        return n;
    }

    /// <summary>
    /// The shrink loop (shrink_folio_list). Reads top to bottom: decide each folio's fate; folios to page out
    /// go into the plug, which says when it must be flushed; each flush stores a batch and finishes it.
    /// </summary>
    private int ShrinkFolioList(LruVec lruvec, ReadOnlySpan<int> folios, ReclaimScratch scratch, bool direct)
    {
        ReclaimPlug plug = scratch.Plug;
        MemoryGroup group = _groups.ById(lruvec.GroupId)!;
        int node = lruvec.Node.Id;
        int reclaimed = 0;
        int firstDevice = Interlocked.Increment(ref _deviceRotor);
        // vm.compress-batchsize = auto: the controller gives this list its size (the current choice or a probe) and
        // measures its flushes; a manual size is taken as it is.
        if (_tunables.CompressBatchSizeAuto) plug.Begin(AutoBatchSize.ForList(), measured: true);
        else plug.Begin(_tunables.CompressBatchSize);

        foreach (int head in folios)
        {
            ref PageFrame f = ref _arena.Frame(head);

            // Accessed since the last scan (folio_check_references): the first time it stays on the inactive
            // list, marked; accessed again by the next scan, it is activated. (Until the folio is frozen, a writer may
            // clear a flag under the node lock at any time: flags change only under it, in PutBack.)
            if (f.Referenced != 0)
            {
                f.Referenced = 0;
                bool again = (f.Flags & FolioFlags.Referenced) != 0;
                PutBack(lruvec, head, activate: again, set: FolioFlags.Referenced);
                continue;
            }
            // Someone holds a pin: it is in use, keep it.
            if (!_arena.TryFreeze(head))
            {
                PutBack(lruvec, head, activate: true, clear: FolioFlags.Referenced);
                continue;
            }
            // Frozen: nobody can pin it, so its flags are this thread's until it unfreezes it.
            f.Flags &= ~FolioFlags.Referenced;
            // It did not compress last time, its group may not write back, and it has not been written since: it
            // would only be compressed and rejected again. Keep it, off the inactive list, without compressing it.
            if ((f.Flags & FolioFlags.Incompressible) != 0)
            {
                if (!group.WritebackEnabled)
                {
                    _counters.Add(Counter.RejectCompressPoorSkipped, 1 << f.Order);
                    _arena.Unfreeze(head);
                    PutBack(lruvec, head, activate: true);
                    continue;
                }
                f.Flags &= ~FolioFlags.Incompressible; // writeback is allowed again: zswap can keep it as-is
            }
            // Came back from swap and only read since: its copy is still there, so it just goes (pgsteal_clean); if pool
            // pressure dropped the copy, its slot is left for the store below.
            int type = -1, offset = -1;
            if (f.Link >= 0)
            {
                if (ReclaimClean(lruvec, head, direct, out type, out offset)) { reclaimed++; continue; }
            }
            // Give it swap slots; none free: keep it.
            if (offset < 0 && !TryAllocateSwap(f.Order, node, firstDevice, f.Owner, out type, out offset))
            {
                _counters.Add(Counter.SwapFull);
                _arena.Unfreeze(head);
                PutBack(lruvec, head, activate: true);
                continue;
            }

            var entry = new PageoutFolio { Head = head, Order = f.Order, SwapType = type, SlotOffset = offset };
            if (plug.MustFlushBefore(entry, node, out FlushReason before))
                reclaimed += Flush(scratch, lruvec, before, direct);
            if (plug.Add(entry, node, out FlushReason after))
                reclaimed += Flush(scratch, lruvec, after, direct);
        }

        if (plug.Count > 0) reclaimed += Flush(scratch, lruvec, FlushReason.EndOfList, direct);
        SubmitOpenWrite(scratch);
        return reclaimed;
    }

    /// <summary>
    /// Flushes the plug: one zswap batch store; the folios zswap rejected are submitted to their swap device (when the
    /// group allows writeback) and stay frozen under writeback; the post-pageout steps run now for every other folio,
    /// in order, and for those under writeback when their write completes. Returns pages reclaimed now.
    /// </summary>
    private int Flush(ReclaimScratch scratch, LruVec lruvec, FlushReason reason, bool direct)
    {
        ReclaimPlug plug = scratch.Plug;
        MemoryGroup group = _groups.ById(lruvec.GroupId)!;
        Span<PageoutFolio> batch = plug.Folios;
        _counters.Add(Counter.PlugFlushFull + (int)reason);
        _counters.Add(Counter.ReclaimBatches);
        _counters.Add(Counter.ReclaimBatchFolios, batch.Length);

        // Writes finished since the last flush free their folios first.
        int reclaimed = scratch.Writeback.Count > 0 ? Reap(scratch.Writeback, wait: false) : 0;

        long storeNs;
        group.StallEnter();
        try
        {
            storeNs = _zswap.StoreBatch(batch, plug.Node, group);
        }
        finally
        {
            group.StallLeave();
        }
        if (plug.Measured) MeasureStore(plug, batch, reason, storeNs);

        reclaimed += PlugWrites(scratch, batch, lruvec, group, direct);
        RememberIncompressible(batch, group);

        reclaimed += FinishBatch(lruvec, batch, direct);
        plug.Clear();
        return reclaimed;
    }

    /// <summary>
    /// Gives the automatic batch size the cost of a store of its list: nanoseconds over pages. Left out: a store the
    /// pool refused without compressing (zswap off, pool full: nothing to say about batching), and a pmd-mappable folio
    /// flushed alone (it is one batch of 512 pages whatever the size).
    /// </summary>
    private void MeasureStore(ReclaimPlug plug, Span<PageoutFolio> batch, FlushReason reason, long storeNs)
    {
        if (storeNs < 0 || (reason == FlushReason.PmdMappable && batch.Length == 1 && batch[0].Order >= PageSize.PmdOrder)) return;
        int pages = 0;
        foreach (ref PageoutFolio f in batch) pages += 1 << f.Order;
        AutoBatchSize.Observe(plug.BatchSize, pages, storeNs);
    }

    /// <summary>
    /// The block plug: the folios zswap rejected join this thread's open write, which gathers the rejects of several
    /// flushes of one list (as the kernel's blk_plug around shrink_folio_list merges their bios), so that a small batch
    /// size does not also mean small writes. The write is submitted when it holds <see cref="SwapClusterMax"/> folios,
    /// before a batch of another device, and when the list ends (<see cref="SubmitOpenWrite"/>). A group that may not
    /// write back keeps them. Returns pages reclaimed by finishing older writes to make room.
    /// </summary>
    private int PlugWrites(ReclaimScratch s, Span<PageoutFolio> batch, LruVec lruvec, MemoryGroup group, bool direct)
    {
        int rejected = 0;
        foreach (ref PageoutFolio f in batch) if (f.Outcome == PageoutOutcome.Rejected) rejected++;
        if (rejected == 0) return 0;
        if (!group.WritebackEnabled)
        {
            PageIo.KeepRejected(batch);
            return 0;
        }
        int reclaimed = 0;
        PendingWrite write = s.Writeback.Next();
        if (s.WriteOpen && (write.Count + rejected > write.Folios.Length || write.Io.DeviceType != batch[0].SwapType))
        {
            SubmitOpenWrite(s);
            write = s.Writeback.Next();
        }
        if (!s.WriteOpen)
        {
            // Every in-flight slot of this thread is taken: wait for the oldest, then use its slot.
            if (s.Writeback.Count == s.Writeback.Capacity) reclaimed += Reap(s.Writeback, wait: true, oldestOnly: true);
            write = s.Writeback.Next();
            write.Count = 0;
            write.Lruvec = lruvec;
            write.Direct = direct;
        }
        _pageIo.AddFolioWrites(batch, group.Id, writebackEnabled: true, write.Io, ref s.WriteOpen);
        foreach (ref PageoutFolio f in batch)
            if (f.Outcome == PageoutOutcome.Writeback) write.Folios[write.Count++] = f;
        if (write.Count >= SwapClusterMax) SubmitOpenWrite(s);
        return reclaimed;
    }

    /// <summary>Submits this thread's open write (<see cref="PlugWrites"/>), if any, and queues it in flight.</summary>
    private void SubmitOpenWrite(ReclaimScratch s)
    {
        if (!s.WriteOpen) return;
        _pageIo.SubmitWrites(s.Writeback.Next().Io);
        s.Writeback.Commit();
        s.WriteOpen = false;
    }

    /// <summary>
    /// Marks the folios that stay in memory because a page did not compress and their group may not write back
    /// (<see cref="FolioFlags.Incompressible"/>), so that later scans skip them instead of compressing the same data
    /// again, until they are written. Other reasons to keep a folio (a full pool, a failed write) pass; they are
    /// tried again.
    /// </summary>
    private void RememberIncompressible(Span<PageoutFolio> batch, MemoryGroup group)
    {
        if (group.WritebackEnabled) return;
        foreach (ref PageoutFolio folio in batch)
        {
            // Still frozen and isolated: its flags are this thread's.
            if (folio.Outcome == PageoutOutcome.Kept && folio.CompressPoor) _arena.Frame(folio.Head).Flags |= FolioFlags.Incompressible;
        }
    }

    /// <summary>
    /// The post-pageout steps for the folios of a batch that are done (not under writeback), in order; then their
    /// frames go back in one go. Returns pages reclaimed.
    /// </summary>
    private int FinishBatch(LruVec lruvec, Span<PageoutFolio> batch, bool direct)
    {
        MemoryGroup group = _groups.ById(lruvec.GroupId)!;
        int reclaimed = 0;
        foreach (ref PageoutFolio folio in batch)
            if (folio.Outcome != PageoutOutcome.Writeback) reclaimed += FinishPageout(lruvec, folio);
        if (reclaimed > 0)
        {
            lruvec.Node.FreeFolios(batch);
            group.Uncharge((long)reclaimed * PageSize.Bytes);
            _counters.Add(Counter.Pgsteal, reclaimed);
            _counters.Add(direct ? Counter.PgstealDirect : Counter.PgstealKswapd, reclaimed);
        }
        return reclaimed;
    }

    /// <summary>
    /// Finishes this thread's writes that have completed (all of them, waiting, when <paramref name="wait"/>; only the
    /// oldest with <paramref name="oldestOnly"/>), oldest first: each folio is written or kept, then its post-pageout
    /// steps run. Returns pages reclaimed.
    /// </summary>
    private int Reap(WritebackQueue queue, bool wait, bool oldestOnly = false)
    {
        int reclaimed = 0;
        while (queue.Count > 0)
        {
            PendingWrite w = queue.Oldest;
            if (!w.Io.IsComplete)
            {
                if (!wait) break;
                w.Io.Wait();
            }
            Span<PageoutFolio> folios = w.Folios.AsSpan(0, w.Count);
            _pageIo.FinishFolioWrites(folios, w.Lruvec.GroupId, w.Io);
            reclaimed += FinishBatch(w.Lruvec, folios, w.Direct);
            queue.PopOldest();
            if (oldestOnly) break;
        }
        return reclaimed;
    }

    /// <summary>
    /// The post-pageout steps of one folio: a folio that went out is unmapped (its PTEs become swap entries) and
    /// counts as reclaimed (the caller frees and uncharges its frames); one that could not go is unfrozen and
    /// activated, its slots freed. Returns the pages reclaimed.
    /// </summary>
    private int FinishPageout(LruVec lruvec, in PageoutFolio folio)
    {
        ref PageFrame f = ref _arena.Frame(folio.Head);
        AddressSpace region = _spaces.ById(f.Owner)!;
        int pages = 1 << folio.Order;
        _counters.Add(Counter.NrVmscanWrite, pages);

        if (folio.Outcome == PageoutOutcome.Kept)
        {
            _devices[folio.SwapType].Free(folio.SlotOffset, pages);
            _arena.Unfreeze(folio.Head);
            PutBack(lruvec, folio.Head, activate: true);
            return 0;
        }

        for (int i = 0; i < pages; i++)
            Volatile.Write(ref *region.PteAddress(f.Index + i), Pte.MakeSwap(folio.SwapType, folio.SlotOffset + i));
        f.Flags = FolioFlags.None;
        region.ExitUse();
        return pages;
    }

    /// <summary>
    /// Reclaims a frozen order-0 folio whose page is still retained on swap: the slot becomes its swap entry again and
    /// the frame is freed, with nothing compressed or written. False when the copy was dropped under pool pressure:
    /// gives its slot (locked, empty) for the page to be stored into.
    /// </summary>
    private bool ReclaimClean(LruVec lruvec, int head, bool direct, out int type, out int offset)
    {
        ref PageFrame f = ref _arena.Frame(head);
        int id = Interlocked.Exchange(ref f.Link, -1); // frozen: no writer can race, but the link is taken the one way
        type = SlotIds.Type(id);
        offset = SlotIds.Offset(id);
        SwapDevice dev = _devices[type];
        bool locked = dev.LockSlot(offset, out ulong info);
        System.Diagnostics.Debug.Assert(locked, "a retained slot is always in use");
        if (!_zswap.ReuseRetained(dev, offset, info)) return false;

        AddressSpace region = _spaces.ById(f.Owner)!;
        Volatile.Write(ref *region.PteAddress(f.Index), Pte.MakeSwap(type, offset));
        f.Flags = FolioFlags.None;
        region.ExitUse();
        lruvec.Node.Free(head, 0);
        _groups.ById(lruvec.GroupId)!.Uncharge(PageSize.Bytes);
        _counters.Add(Counter.Pgsteal);
        _counters.Add(Counter.PgstealClean);
        _counters.Add(direct ? Counter.PgstealDirect : Counter.PgstealKswapd);
        return true;
    }

    /// <summary>
    /// Returns an isolated folio to its LRU and ends the region use that isolation took; sets and clears the given
    /// flags on the way, under the node lock (the folio may be pinned: a writer may be clearing a flag too).
    /// </summary>
    private void PutBack(LruVec lruvec, int head, bool activate, FolioFlags set = FolioFlags.None, FolioFlags clear = FolioFlags.None)
    {
        ref PageFrame f = ref _arena.Frame(head);
        AddressSpace region = _spaces.ById(f.Owner)!;
        lock (lruvec.Node.Lock)
        {
            f.Flags = (f.Flags & ~(FolioFlags.Isolated | clear)) | set;
            lruvec.AddHead(head, activate);
        }
        if (activate) _counters.Add(Counter.Pgactivate, 1 << f.Order);
        region.ExitUse();
    }

    /// <summary>
    /// Slots on the highest-priority device that has them; equal priorities take turns per shrink call. Each address
    /// space allocates on its own stream (<see cref="SwapDevice.Streams"/>), so its folios lie in slot order.
    /// </summary>
    private bool TryAllocateSwap(int order, int node, int rotor, int space, out int type, out int offset)
    {
        SwapDevice[] devs = _byPriority;
        for (int i = 0; i < devs.Length; i++)
        {
            // Among the devices that share the top remaining priority, start at the rotor.
            int j = i;
            int samePriority = 1;
            while (j + samePriority < devs.Length && devs[j + samePriority].Priority == devs[i].Priority) samePriority++;
            for (int k = 0; k < samePriority; k++)
            {
                SwapDevice d = devs[i + (rotor + k) % samePriority];
                if (d.TryAllocate(order, node, out offset, stream: space)) { type = d.Type; return true; }
            }
            i += samePriority - 1;
        }
        type = offset = -1;
        return false;
    }

    /// <summary>A reclaiming thread's reusable state.</summary>
    private sealed class ReclaimScratch
    {
        /// <summary>Isolated folio heads.</summary>
        public readonly int[] Isolated = new int[SwapClusterMax];
        /// <summary>The plug.</summary>
        public readonly ReclaimPlug Plug = new();
        /// <summary>This thread's folio writes in flight.</summary>
        public readonly WritebackQueue Writeback = new(MaxWritesInFlight);
        /// <summary>Whether <see cref="WritebackQueue.Next"/> is a write being gathered, not yet submitted (<see cref="PlugWrites"/>).</summary>
        public bool WriteOpen;
    }

    /// <summary>Writes one reclaiming thread keeps in flight at once.</summary>
    private const int MaxWritesInFlight = 4;

    /// <summary>The folios of one write (the rejects of one or more flushes of a list) under writeback, and their write.</summary>
    private sealed class PendingWrite
    {
        /// <summary>The folios under writeback.</summary>
        public readonly PageoutFolio[] Folios = new PageoutFolio[SwapClusterMax];
        /// <summary>Folios in <see cref="Folios"/>.</summary>
        public int Count;
        /// <summary>The write.</summary>
        public readonly SwapIoBatch Io = new();
        /// <summary>The LRU the folios were isolated from.</summary>
        public LruVec Lruvec = null!;
        /// <summary>Whether direct reclaim submitted it (for pgsteal_direct / pgsteal_kswapd).</summary>
        public bool Direct;
    }

    /// <summary>A reclaiming thread's writes in flight, oldest first: a ring of reusable <see cref="PendingWrite"/>s.</summary>
    private sealed class WritebackQueue
    {
        private readonly PendingWrite[] _ring;
        private int _head;

        public WritebackQueue(int capacity)
        {
            _ring = new PendingWrite[capacity];
            for (int i = 0; i < capacity; i++) _ring[i] = new PendingWrite();
        }

        /// <summary>Writes in flight.</summary>
        public int Count { get; private set; }
        /// <summary>Most writes in flight.</summary>
        public int Capacity => _ring.Length;
        /// <summary>The oldest write in flight.</summary>
        public PendingWrite Oldest => _ring[_head];
        /// <summary>The free entry the next <see cref="Commit"/> takes (the queue must not be full).</summary>
        public PendingWrite Next() => _ring[(_head + Count) % _ring.Length];

        /// <summary>Queues the entry <see cref="Next"/> gives, filled and submitted, as in flight.</summary>
        public void Commit() => Count++;

        /// <summary>Drops the oldest write (finished).</summary>
        public void PopOldest()
        {
            _head = (_head + 1) % _ring.Length;
            Count--;
        }
    }
}
