using BatchSwap.Lru;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Swap;
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

    private readonly Mm _mm;
    private readonly PageArena _arena;
    private readonly ZswapCache _zswap;
    private readonly Counters _counters;
    private readonly TunableSet _tunables;
    // Swap devices by descending priority.
    private readonly SwapDevice[] _byPriority;
    // All memory groups, for reclaim when a node runs out of frames.
    private readonly Func<IReadOnlyList<MemoryGroup>> _groups;

    // Per-thread plug and isolation list (a reclaiming thread owns them while it reclaims).
    [ThreadStatic] private static ReclaimScratch? t_scratch;
    // Rotates the starting device among devices of equal priority, per shrink call.
    private int _deviceRotor;

    public Reclaimer(Mm mm, ZswapCache zswap, Counters counters, TunableSet tunables, Func<IReadOnlyList<MemoryGroup>> groups)
    {
        _mm = mm;
        _arena = mm.Arena;
        _zswap = zswap;
        _counters = counters;
        _tunables = tunables;
        _groups = groups;
        _byPriority = mm.Devices.OrderByDescending(d => d.Priority).ToArray();
    }

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
        foreach (MemoryGroup g in _groups())
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
    public int ShrinkLruvec(LruVec lruvec, bool direct, ref long scanned)
    {
        ReclaimScratch s = t_scratch ??= new ReclaimScratch();
        int n = Isolate(lruvec, s.Isolated, direct, ref scanned);
        if (n == 0) return 0;
        return ShrinkFolioList(lruvec, s.Isolated.AsSpan(0, n), s.Plug, direct);
    }

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
                Region? region = _mm.RegionById(f.Owner);
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
    private int ShrinkFolioList(LruVec lruvec, ReadOnlySpan<int> folios, ReclaimPlug plug, bool direct)
    {
        MemoryGroup group = lruvec.Group;
        int node = lruvec.Node.Id;
        int reclaimed = 0;
        int firstDevice = Interlocked.Increment(ref _deviceRotor);
        plug.Begin(_tunables.CompressBatchSize);

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
            if (!_mm.TryFreeze(head))
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
                    _mm.Unfreeze(head);
                    PutBack(lruvec, head, activate: true);
                    continue;
                }
                f.Flags &= ~FolioFlags.Incompressible; // writeback is allowed again: zswap can keep it as-is
            }
            // Give it swap slots; none free: keep it.
            if (!TryAllocateSwap(f.Order, node, firstDevice, out int type, out int offset))
            {
                _counters.Add(Counter.SwapFull);
                _mm.Unfreeze(head);
                PutBack(lruvec, head, activate: true);
                continue;
            }

            var entry = new PlugFolio { Head = head, Order = f.Order, SwapType = type, SlotOffset = offset };
            if (plug.MustFlushBefore(entry, node, out FlushReason before))
                reclaimed += Flush(plug, lruvec, before, direct);
            if (plug.Add(entry, node, out FlushReason after))
                reclaimed += Flush(plug, lruvec, after, direct);
        }

        if (plug.Count > 0) reclaimed += Flush(plug, lruvec, FlushReason.EndOfList, direct);
        return reclaimed;
    }

    /// <summary>
    /// Flushes the plug: one zswap batch store; folios zswap rejected go to their swap device (when the group
    /// allows writeback); then the post-pageout steps for every folio, in order. Returns pages reclaimed.
    /// </summary>
    private int Flush(ReclaimPlug plug, LruVec lruvec, FlushReason reason, bool direct)
    {
        MemoryGroup group = lruvec.Group;
        Span<PlugFolio> batch = plug.Folios;
        _counters.Add(Counter.PlugFlushFull + (int)reason);
        _counters.Add(Counter.ReclaimBatches);
        _counters.Add(Counter.ReclaimBatchFolios, batch.Length);

        group.StallEnter();
        try
        {
            _zswap.StoreBatch(batch, plug.Node, group);
            WriteRejected(batch, group);
        }
        finally
        {
            group.StallLeave();
        }
        RememberIncompressible(batch, group);

        // The post-pageout steps, folio by folio in order; then the batch's frames go back in one go.
        int reclaimed = 0;
        foreach (ref PlugFolio folio in batch) reclaimed += FinishPageout(lruvec, folio);
        if (reclaimed > 0)
        {
            lruvec.Node.FreeFolios(batch, except: PageoutOutcome.Kept);
            group.Uncharge((long)reclaimed * PageSize.Bytes);
            _counters.Add(Counter.Pgsteal, reclaimed);
            _counters.Add(direct ? Counter.PgstealDirect : Counter.PgstealKswapd, reclaimed);
        }
        plug.Clear();
        return reclaimed;
    }

    /// <summary>
    /// Marks the folios that stay in memory because a page did not compress and their group may not write back
    /// (<see cref="FolioFlags.Incompressible"/>), so that later scans skip them instead of compressing the same data
    /// again, until they are written. Other reasons to keep a folio (a full pool, a failed write) pass; they are
    /// tried again.
    /// </summary>
    private void RememberIncompressible(Span<PlugFolio> batch, MemoryGroup group)
    {
        if (group.WritebackEnabled) return;
        foreach (ref PlugFolio folio in batch)
        {
            // Still frozen and isolated: its flags are this thread's.
            if (folio.Outcome == PageoutOutcome.Kept && folio.CompressPoor) _arena.Frame(folio.Head).Flags |= FolioFlags.Incompressible;
        }
    }

    /// <summary>Most pages in one vectored write of rejected folios.</summary>
    private const int MaxWritePages = 64;

    /// <summary>
    /// Writes the folios zswap rejected to their swap device (swap_writepage's fallback): folios whose slots follow
    /// one another go out in one vectored write. Each becomes Written, or Kept when the group forbids writeback or
    /// the write fails.
    /// </summary>
    private void WriteRejected(Span<PlugFolio> batch, MemoryGroup group)
    {
        Span<nint> pages = stackalloc nint[MaxWritePages];
        int i = 0;
        while (i < batch.Length)
        {
            if (batch[i].Outcome != PageoutOutcome.Rejected) { i++; continue; }
            if (!group.WritebackEnabled) { batch[i++].Outcome = PageoutOutcome.Kept; continue; }

            // A run of rejected folios with consecutive slots.
            int end = i + 1;
            int count = 1 << batch[i].Order;
            while (end < batch.Length && batch[end].Outcome == PageoutOutcome.Rejected
                   && batch[end].SlotOffset == batch[end - 1].SlotOffset + (1 << batch[end - 1].Order)
                   && count + (1 << batch[end].Order) <= MaxWritePages)
            {
                count += 1 << batch[end].Order;
                end++;
            }

            bool ok;
            SwapDevice dev = _mm.Devices[batch[i].SwapType];
            if (end == i + 1)
            {
                // One folio: its frames are contiguous.
                ok = dev.Write(batch[i].SlotOffset, new ReadOnlySpan<byte>(_arena.PageAddress(batch[i].Head), count * PageSize.Bytes));
            }
            else
            {
                int n = 0;
                for (int k = i; k < end; k++)
                    for (int p = 0; p < 1 << batch[k].Order; p++) pages[n++] = (nint)_arena.PageAddress(batch[k].Head + p);
                ok = dev.WritePages(batch[i].SlotOffset, pages[..n]);
            }

            for (int k = i; k < end; k++)
            {
                ref PlugFolio f = ref batch[k];
                if (!ok) { f.Outcome = PageoutOutcome.Kept; continue; }
                for (int p = 0; p < 1 << f.Order; p++)
                {
                    uint sum = Compression.Engines.PageWork.Checksum(_arena.PageAddress(f.Head + p));
                    dev.SetInfo(f.SlotOffset + p, SlotInfo.Make(SlotFlags.Used | SlotFlags.OnDisk, group.Id, 0, 0, sum));
                }
                f.Outcome = PageoutOutcome.Written;
            }
            if (ok) _counters.Add(Counter.Pswpout, count);
            i = end;
        }
    }

    /// <summary>
    /// The post-pageout steps of one folio: a folio that went out is unmapped (its PTEs become swap entries) and
    /// counts as reclaimed (the caller frees and uncharges its frames); one that could not go is unfrozen and
    /// activated, its slots freed. Returns the pages reclaimed.
    /// </summary>
    private int FinishPageout(LruVec lruvec, in PlugFolio folio)
    {
        ref PageFrame f = ref _arena.Frame(folio.Head);
        Region region = _mm.RegionById(f.Owner)!;
        int pages = 1 << folio.Order;
        _counters.Add(Counter.NrVmscanWrite, pages);

        if (folio.Outcome == PageoutOutcome.Kept)
        {
            _mm.Devices[folio.SwapType].Free(folio.SlotOffset, pages);
            _mm.Unfreeze(folio.Head);
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
    /// Returns an isolated folio to its LRU and ends the region use that isolation took; sets and clears the given
    /// flags on the way, under the node lock (the folio may be pinned: a writer may be clearing a flag too).
    /// </summary>
    private void PutBack(LruVec lruvec, int head, bool activate, FolioFlags set = FolioFlags.None, FolioFlags clear = FolioFlags.None)
    {
        ref PageFrame f = ref _arena.Frame(head);
        Region region = _mm.RegionById(f.Owner)!;
        lock (lruvec.Node.Lock)
        {
            f.Flags = (f.Flags & ~(FolioFlags.Isolated | clear)) | set;
            lruvec.AddHead(head, activate);
        }
        if (activate) _counters.Add(Counter.Pgactivate, 1 << f.Order);
        region.ExitUse();
    }

    /// <summary>Slots on the highest-priority device that has them; equal priorities take turns per shrink call.</summary>
    private bool TryAllocateSwap(int order, int node, int rotor, out int type, out int offset)
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
                if (d.TryAllocate(order, node, out offset)) { type = d.Type; return true; }
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
    }
}
