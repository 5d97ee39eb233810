using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Reclaim;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Threading;
using BatchSwap.Tunables;
using BatchSwap.Zswap;

namespace BatchSwap.Access;

/// <summary>
/// The memory manager: page access through the page tables, faults (first touch and swap-in), folio
/// allocation with direct reclaim, and region set-up and teardown.
///
/// Access protocol: a reader loads the PTE, pins the folio head (a compare-and-swap that fails while reclaim
/// has it frozen), then loads the PTE again; if it changed, it unpins and starts over. Reclaim freezes a folio
/// (pin count 0 → frozen) before it stores it, rewrites the PTEs to swap entries, and only then frees the
/// frames. So a pinned page is never reclaimed, and a reader never sees a frame that left its region.
/// </summary>
/// <remarks>
/// <para><b>Lock order</b> (as mm/rmap.c and mm/zswap.c write theirs). A lock may be waited for only while holding
/// locks above it in this list; "try" marks where a lower lock is held and a higher one is only tried (never
/// waited for), which is what keeps the order acyclic.</para>
/// <code>
/// AddressSpace.PopulateLock              first touch; held across the folio allocation, so across direct reclaim
///   folio frozen (PageFrame.Pin)        reclaim's hold on a folio: across compression, zswap store and disk write
///     slot Locked bit (SlotFlags)       swap-in (across decompression and the device read), writeback (across
///                                       decompression and the write), invalidate, teardown
///       ZswapCache._lruLock             entry LRUs; tries slot bits (TakeOldest) but never waits for one
///       ZsPool SizeClass.Lock           one class at a time; compaction tries slot bits (IObjectOwners.TryLock)
///       SwapDevice._lock                slot allocation; takes a node lock for a slot-table frame, and calls
///                                       ISwapBackend.Reserve (fallocate) under it
///         MemoryNode.Lock               free lists and the node's LRU lists (LruVec); takes nothing else
/// AddressSpaces._lock, MemoryGroups._lock, MemoryGroup._psiLock, SwapIoWorkers._lock: leaves, held with no other lock.
/// </code>
/// <para>Nothing is held across an engine run but the frozen folios and slot bits of the pages in it; the page-I/O
/// layer's writes in flight hold only their folios (frozen) and slots. Methods named <c>*Locked</c> assert that
/// their lock is held.</para>
/// </remarks>
internal sealed unsafe class Mm
{
    /// <summary>The arena.</summary>
    public readonly PageArena Arena;
    /// <summary>The swap devices, by type.</summary>
    public readonly SwapDevice[] Devices;
    /// <summary>The tunables.</summary>
    public readonly TunableSet Tunables;

    // What the access layer sits on: zswap and the swap devices for swap-in, reclaim for allocations, the background
    // reclaimers to wake, one per node (none when background reclaim is off).
    private readonly ZswapCache _zswap;
    private readonly Reclaimer _reclaimer;
    private readonly Kswapd[] _kswapds;
    // The address spaces by id, and the tier's gate.
    private readonly AddressSpaces _spaces;
    private readonly TierGate _gate;
    // The counters, and the threads busy with the tier's work.
    private readonly Counters _counters;
    private readonly BusyThreads _busy;
    // Rotates first-touch node choice for regions with no preference.
    private int _nodeRotor;

    public Mm(PageArena arena, AddressSpaces spaces, TierGate gate, SwapDevice[] devices, ZswapCache zswap, Reclaimer reclaimer,
        Kswapd[] kswapds, Counters counters, BusyThreads busy, TunableSet tunables)
    {
        Arena = arena;
        _spaces = spaces;
        _gate = gate;
        Devices = devices;
        _zswap = zswap;
        _reclaimer = reclaimer;
        _kswapds = kswapds;
        _counters = counters;
        _busy = busy;
        Tunables = tunables;
    }

    // ================================================================ the tier gate

    /// <summary>Whether the tier is closing or closed.</summary>
    public bool IsClosed => _gate.IsClosed;

    /// <summary>
    /// Closes the tier: no new operation or page access may start, and this waits until every one in flight has
    /// ended (including reclaim and I/O they run, and open page leases). After it returns no thread touches the
    /// arena, the pool or the slot tables, so they may be freed.
    /// </summary>
    public void Close()
    {
        _gate.Close();
        // No region can be made or freed now; close every live one to accesses and wait for its uses.
        _spaces.CloseAll();
    }

    // ================================================================ access

    /// <summary>Pins the folio holding a page, faulting it in if needed. Returns the pinned head; gives the page's address.</summary>
    public int PinPage(Region region, long page, out byte* address)
    {
        ulong* pte = region.Space.PteAddress(page);
        var spin = new SpinWait();
        long since = 0;
        while (true)
        {
            ulong e = Volatile.Read(ref *pte);
            if (Pte.IsPresent(e))
            {
                int frame = Pte.Frame(e);
                ref PageFrame f = ref Arena.Frame(frame);
                int head = f.Head;
                if (Arena.TryPin(head))
                {
                    if (Volatile.Read(ref *pte) == e)
                    {
                        Arena.Frame(head).Referenced = 1;
                        address = Arena.PageAddress(frame);
                        return head;
                    }
                    Unpin(head);
                }
                else
                {
                    SpinOn(ref spin, ref since, head, "a page access"); // reclaim is moving the folio out; its PTE changes soon
                }
                continue;
            }
            Fault(region, page, e);
        }
    }

    /// <summary>
    /// Tells reclaim that a pinned folio's data is being written: any verdict that it does not compress
    /// (<see cref="FolioFlags.Incompressible"/>) no longer holds. Callers hold a pin on <paramref name="head"/>, so
    /// reclaim cannot freeze the folio meanwhile; the bit is rarely set, so the common case is one read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NoteWrite(int head)
    {
        ref PageFrame f = ref Arena.Frame(head);
        if ((f.Flags & FolioFlags.Incompressible) != 0) ClearIncompressible(head);
        if (Volatile.Read(ref f.Link) >= 0) DropRetainedCopy(head); // the copy on swap no longer matches the page
    }

    /// <summary>
    /// Drops the retained copy of a resident page (its zswap entry or disk slot) and frees the slot. Whoever takes the
    /// frame's link first owns the copy, so two writers, or a writer and teardown, never free it twice.
    /// </summary>
    private void DropRetainedCopy(int head)
    {
        int id = Interlocked.Exchange(ref Arena.Frame(head).Link, -1);
        if (id < 0) return;
        SwapDevice dev = Devices[SlotIds.Type(id)];
        int slot = SlotIds.Offset(id);
        bool locked = dev.LockSlot(slot, out ulong info);
        Debug.Assert(locked, "a retained slot is always in use");
        if (!locked) return;
        _zswap.Invalidate(dev, slot, info);
        dev.Free(slot, 1);
        _counters.Add(Counter.SwapRetainedInvalidated);
    }

    private void ClearIncompressible(int head)
    {
        // Under the node lock: flags of an unfrozen folio change only under it (LRU moves, reclaim's PutBack).
        lock (Arena.NodeOf(head).Lock) Arena.Frame(head).Flags &= ~FolioFlags.Incompressible;
    }

    /// <summary>Drops a pin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unpin(int head) => Arena.Unpin(head);

    /// <summary>
    /// One wait for a folio that someone else has pinned or frozen. Such waits last microseconds (a reclaimer's store,
    /// a reader's entry recheck) or a write's time; a frame still held after <see cref="StuckSeconds"/> is a lost pin or
    /// freeze, a bug: the process ends naming the frame, rather than hang.
    /// </summary>
    private void SpinOn(ref SpinWait spin, ref long since, int frame, string what)
    {
        spin.SpinOnce();
        if (spin.Count < 64) return;
        long now = Stopwatch.GetTimestamp();
        if (since == 0) since = now;
        else if (now - since > StuckSeconds * Stopwatch.Frequency)
            Environment.FailFast($"batchswap: {what} waited {StuckSeconds} s for a folio nobody releases ({Arena.Describe(frame)})");
    }

    /// <summary>How long a wait for a pinned or frozen folio may last before it is reported as a bug.</summary>
    private const int StuckSeconds = 30;

    // ================================================================ faults

    private void Fault(Region region, long page, ulong entry)
    {
        _counters.Add(Counter.Pgfault);
        MemoryGroup group = region.Group;
        group.EnterActive();
        _busy.Add(1);
        try
        {
            if (entry == 0) Populate(region, page);
            else
            {
                long t0 = Stopwatch.GetTimestamp();
                SwapIn(region, page, entry);
                _counters.Add(Counter.SwapInNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
            }
        }
        finally
        {
            _busy.Add(-1);
            group.LeaveActive();
        }
    }

    /// <summary>First touch: a zeroed folio of the region's order (or order 0 if that cannot be had).</summary>
    private void Populate(Region region, long page)
    {
        lock (region.Space.PopulateLock)
        {
            if (Volatile.Read(ref *region.Space.PteAddress(page)) != 0) return;
            int order = region.Order;
            long start = page & ~((1L << order) - 1);
            if (order > 0 && (start + (1L << order) > region.PageCount || !RangeIsEmpty(region, start, 1 << order)))
            {
                order = 0;
                start = page;
            }
            int head = AllocFolio(region.Group, region.Space.Node, ref order);
            if (order == 0) start = page;
            int pages = 1 << order;
            new Span<byte>(Arena.PageAddress(head), pages * PageSize.Bytes).Clear();
            InitFolio(head, order, region, start);
            for (int i = 0; i < pages; i++) Volatile.Write(ref *region.Space.PteAddress(start + i), Pte.MakePresent(head + i));
            AddToLru(region.Group, head, active: false);
        }
    }

    private bool RangeIsEmpty(Region region, long start, int pages)
    {
        for (int i = 0; i < pages; i++)
            if (Volatile.Read(ref *region.Space.PteAddress(start + i)) != 0) return false;
        return true;
    }

    /// <summary>Most pages one swap-in brings (2^MaxPageCluster).</summary>
    private const int MaxReadahead = 1 << TunableSet.MaxPageCluster;

    /// <summary>
    /// Swap-in: the faulting page and, when the region's accesses look sequential, its swapped-out neighbours in an
    /// aligned window of up to 2^vm.page-cluster pages (VMA readahead) come in together, each into a new order-0
    /// folio: disk slots in one submission of runs, zswap entries decompressed as one batch. Each page keeps its slot
    /// and copy until it is written (<c>zswap.exclusive_loads=N</c>, the default), or frees them once it is mapped (Y).
    /// </summary>
    private void SwapIn(Region region, long page, ulong entry)
    {
        int window = NextReadaheadWindow(region, page);
        // A whole large folio comes back when it is no bigger than a readahead window, or when faults look sequential:
        // under random faults a 2 MiB folio would bring 511 pages nobody asked for, and evict as many.
        if (region.Order > 0 && (region.Order <= Tunables.PageCluster || window > 1) && SwapInLarge(region, page, entry)) return;
        Span<LoadRequest> reqs = stackalloc LoadRequest[MaxReadahead];
        Span<long> pages = stackalloc long[MaxReadahead];
        Span<int> heads = stackalloc int[MaxReadahead];
        MemoryGroup group = region.Group;

        // The faulting page first: it may reclaim, and it waits for its slot.
        int order0 = 0;
        int head = AllocFolio(group, region.Space.Node, ref order0);
        SwapDevice dev = Devices[Pte.SwapType(entry)];
        int slot = Pte.SwapOffset(entry);
        bool own = dev.LockSlot(slot, out ulong info);
        if (!own || Volatile.Read(ref *region.Space.PteAddress(page)) != entry)
        {
            // Someone else brought it in first (the slot may even be free or reused by now).
            if (own) dev.UnlockSlot(slot);
            FreeNewFolio(group, head, 0);
            return;
        }
        int n = 0;
        bool neighbours = true;
        long start = page & ~((long)window - 1);
        long end = Math.Min(start + window, region.PageCount);
        for (long q = start; q < end; q++)
        {
            if (q == page)
            {
                pages[n] = page; heads[n] = head;
                reqs[n++] = new LoadRequest { Type = dev.Type, Slot = slot, Info = info, Frame = Arena.PageAddress(head) };
                continue;
            }
            // Neighbours: only what can be had without waiting or reclaiming. (The loop goes on to the faulting
            // page even when memory for neighbours runs out: its slot is locked and must be loaded.)
            if (!neighbours) continue;
            ulong e = Volatile.Read(ref *region.Space.PteAddress(q));
            if (!Pte.IsSwap(e)) continue;
            SwapDevice d = Devices[Pte.SwapType(e)];
            int s = Pte.SwapOffset(e);
            int f = TryAllocFolioNoReclaim(group, region.Space.Node);
            if (f < 0) { neighbours = false; continue; }
            if (!d.TryLockSlot(s, out ulong locked))
            {
                FreeNewFolio(group, f, 0);
                continue;
            }
            if (Volatile.Read(ref *region.Space.PteAddress(q)) != e)
            {
                d.UnlockSlot(s);
                FreeNewFolio(group, f, 0);
                continue;
            }
            pages[n] = q; heads[n] = f;
            reqs[n++] = new LoadRequest { Type = d.Type, Slot = s, Info = locked, Frame = Arena.PageAddress(f) };
        }

        _zswap.LoadBatch(reqs[..n]);

        LoadResult faulting = LoadResult.Ok;
        bool retain = !Tunables.ExclusiveLoads;
        for (int i = 0; i < n; i++)
        {
            ref LoadRequest r = ref reqs[i];
            SwapDevice d = Devices[r.Type];
            if (r.Result != LoadResult.Ok)
            {
                // Not loaded: the page stays swapped out, its slot unlocked; only the faulting page's failure is raised.
                d.UnlockSlot(r.Slot);
                FreeNewFolio(group, heads[i], 0);
                if (pages[i] == page) faulting = r.Result;
                continue;
            }
            InitFolio(heads[i], 0, region, pages[i]);
            if (pages[i] != page) Arena.Frame(heads[i]).Flags = FolioFlags.Readahead;
            if (retain)
            {
                // The copy stays until the page is written; the slot is published unlocked.
                Arena.Frame(heads[i]).Link = SlotIds.Make(r.Type, r.Slot);
                _zswap.Retain(d, r.Slot, r.Info);
            }
            Volatile.Write(ref *region.Space.PteAddress(pages[i]), Pte.MakePresent(heads[i]));
            AddToLru(group, heads[i], active: false);
            if (!retain)
            {
                _zswap.Invalidate(d, r.Slot, r.Info);
                d.Free(r.Slot, 1);
            }
        }
        _counters.Add(Counter.Pgmajfault);
        _counters.Add(Counter.SwpinOrder0, n - (faulting != LoadResult.Ok ? 1 : 0));
        if (n > 1) _counters.Add(Counter.SwapRa, n - 1);
        if (faulting != LoadResult.Ok) throw new PageDataLostException(region, page, faulting);
    }

    /// <summary>
    /// Swap-in of a whole large folio: when the region's folios are large (and no bigger than a readahead window, or the
    /// faults look sequential) and every page of the aligned folio around <paramref name="page"/> is swapped out, they come back as one folio of the region's order (its pages loaded as
    /// one batch), instead of 2^order order-0 folios that reclaim and the LRU would then handle one by one. Gives up
    /// (false, nothing changed) when a page of the range is resident or busy, when the folio cannot be had without
    /// falling back to order 0, or when any page fails to load: the order-0 path then takes the fault.
    /// Large folios load exclusively: their copies are freed once mapped.
    /// </summary>
    private bool SwapInLarge(Region region, long page, ulong entry)
    {
        int order = region.Order;
        int count = 1 << order;
        long start = page & ~((long)count - 1);
        if (start + count > region.PageCount) return false;
        for (long q = start; q < start + count; q++)
            if (!Pte.IsSwap(Volatile.Read(ref *region.Space.PteAddress(q)))) return false;

        MemoryGroup group = region.Group;
        int got = order;
        int head = AllocFolio(group, region.Space.Node, ref got);
        if (got != order)
        {
            FreeNewFolio(group, head, got);
            return false;
        }
        LoadRequest[] reqs = t_largeRequests ??= new LoadRequest[1 << PageSize.MaxOrder];
        int n = 0;
        bool ok = true;
        for (; n < count; n++)
        {
            long q = start + n;
            ulong e = Volatile.Read(ref *region.Space.PteAddress(q));
            if (!Pte.IsSwap(e)) { ok = false; break; } // came in meanwhile
            SwapDevice d = Devices[Pte.SwapType(e)];
            int s = Pte.SwapOffset(e);
            // The faulting page waits for its slot like the order-0 path; the others are taken only if free now.
            bool locked = q == page && e == entry ? d.LockSlot(s, out ulong info) : d.TryLockSlot(s, out info);
            if (!locked || Volatile.Read(ref *region.Space.PteAddress(q)) != e)
            {
                if (locked) d.UnlockSlot(s);
                ok = false;
                break;
            }
            reqs[n] = new LoadRequest { Type = d.Type, Slot = s, Info = info, Frame = Arena.PageAddress(head + n) };
        }
        if (ok)
        {
            _zswap.LoadBatch(reqs.AsSpan(0, n));
            for (int i = 0; i < n; i++) ok &= reqs[i].Result == LoadResult.Ok;
        }
        if (!ok)
        {
            for (int i = 0; i < n; i++) Devices[reqs[i].Type].UnlockSlot(reqs[i].Slot);
            FreeNewFolio(group, head, order);
            return false;
        }

        InitFolio(head, order, region, start);
        for (int i = 0; i < count; i++) Volatile.Write(ref *region.Space.PteAddress(start + i), Pte.MakePresent(head + i));
        AddToLru(group, head, active: false);
        for (int i = 0; i < count; i++)
        {
            SwapDevice d = Devices[reqs[i].Type];
            _zswap.Invalidate(d, reqs[i].Slot, reqs[i].Info);
            d.Free(reqs[i].Slot, 1);
        }
        _counters.Add(Counter.Pgmajfault);
        _counters.Add(Counter.SwpinOrder0 + order);
        return true;
    }

    // Requests of a large folio's swap-in (512 of them: too many for the stack), one array per faulting thread.
    [ThreadStatic] private static LoadRequest[]? t_largeRequests;

    /// <summary>
    /// The readahead window for a fault at <paramref name="page"/>: it doubles (up to 2^vm.page-cluster) while faults
    /// land just past the last one, and halves down to a single page when they jump around (random access).
    /// </summary>
    private int NextReadaheadWindow(Region region, long page)
    {
        int max = 1 << Tunables.PageCluster;
        long last = region.Space.LastFaultPage;
        int w = region.Space.ReadaheadWindow;
        bool sequential = last >= 0 && page > last && page - last <= Math.Max(2 * w, 2);
        w = sequential ? Math.Min(max, Math.Max(2, w * 2)) : Math.Max(1, w / 2);
        if (w > max) w = max;
        region.Space.ReadaheadWindow = w;
        region.Space.LastFaultPage = page;
        return w;
    }

    /// <summary>An order-0 folio without reclaim, for readahead; -1 when memory is short.</summary>
    private int TryAllocFolioNoReclaim(MemoryGroup group, int node)
    {
        if (!group.TryCharge(PageSize.Bytes, forReclaim: false)) return -1;
        int f = AllocFrames(group, node, 0);
        if (f < 0) group.Uncharge(PageSize.Bytes);
        return f;
    }

    private void InitFolio(int head, int order, Region region, long firstPage)
    {
        for (int i = 1; i < 1 << order; i++)
        {
            ref PageFrame t = ref Arena.Frame(head + i);
            t.Kind = FrameKind.Folio;
            t.Head = head;
            t.Pin = PageFrame.Frozen;
        }
        ref PageFrame f = ref Arena.Frame(head);
        f.Kind = FrameKind.Folio;
        f.Head = head;
        f.Order = (byte)order;
        f.Owner = region.Space.Id;
        f.Index = (int)firstPage;
        f.Referenced = 0;
        f.Flags = FolioFlags.None;
        f.Prev = f.Next = -1;
        f.Link = -1;
        Volatile.Write(ref f.Pin, 0);
    }

    private void AddToLru(MemoryGroup group, int head, bool active)
    {
        MemoryNode node = Arena.NodeOf(head);
        lock (node.Lock) group.Lruvecs[node.Id].AddHead(head, active);
    }

    private void FreeNewFolio(MemoryGroup group, int head, int order)
    {
        Arena.NodeOf(head).Free(head, order);
        group.Uncharge((long)PageSize.Bytes << order);
    }

    // ================================================================ allocation with direct reclaim

    /// <summary>
    /// Allocates a folio of <paramref name="order"/> pages charged to <paramref name="group"/>, reclaiming in the
    /// calling thread when the group is at its limit or memory is short. A large folio that cannot be had falls
    /// back to order 0 (counted as thp_fault_fallback); <paramref name="order"/> says what was given.
    /// </summary>
    public int AllocFolio(MemoryGroup group, int preferredNode, ref int order)
    {
        int stalls = 0;
        bool reclaimedForLarge = false;
        while (true)
        {
            long bytes = (long)PageSize.Bytes << order;
            if (group.TryCharge(bytes, forReclaim: false))
            {
                int frame = AllocFrames(group, preferredNode, order);
                if (frame >= 0) return frame;
                group.Uncharge(bytes);
                if (order > 0 && reclaimedForLarge)
                {
                    _counters.Add(Counter.ThpFallback);
                    order = 0;
                    continue;
                }
                reclaimedForLarge = order > 0;
            }
            // Over the limit or out of frames: reclaim in this thread.
            _counters.Add(Counter.Allocstall);
            int got = _reclaimer.ReclaimForAllocation(group, preferredNode, Math.Max(32, 1 << order), out long scanned);
            if (got > 0) { stalls = 0; continue; }
            // Nothing reclaimed though the lists were scanned: others may be freeing (their reclaim in flight),
            // so wait a little; give up (OOM) only after many such rounds.
            if (++stalls > 100 || (scanned == 0 && stalls > 50))
                throw group.Exhausted(order);
            if (stalls > 10) Thread.Sleep(1); else Thread.Yield();
        }
    }

    private int AllocFrames(MemoryGroup group, int preferredNode, int order)
    {
        MemoryNode[] nodes = Arena.Nodes;
        for (int i = 0; i < nodes.Length; i++)
        {
            int n = (preferredNode + i) % nodes.Length;
            int f = nodes[n].Alloc(order, mayUseReserve: false);
            if (_kswapds.Length > 0) _kswapds[n].WakeIfLow(group);
            if (f >= 0) return f;
        }
        return -1;
    }

    // ================================================================ regions

    /// <summary>Creates a region: an id and a page table charged to the group.</summary>
    public Region CreateRegion(MemoryGroup group, long pages, int order, int node)
    {
        int tableFrames = (int)((pages + 511) >> 9);
        var table = new int[tableFrames];
        int made = 0;
        try
        {
            for (; made < tableFrames; made++)
            {
                int order0 = 0;
                int f = AllocFolio(group, node < 0 ? 0 : node, ref order0);
                ref PageFrame pf = ref Arena.Frame(f);
                pf.Kind = FrameKind.Meta;
                pf.Head = f;
                pf.Pin = PageFrame.Frozen;
                new Span<byte>(Arena.PageAddress(f), PageSize.Bytes).Clear();
                table[made] = f;
            }
        }
        catch
        {
            for (int i = 0; i < made; i++) FreeNewFolio(group, table[i], 0);
            throw;
        }

        if (node < 0) node = (int)((uint)Interlocked.Increment(ref _nodeRotor) % (uint)Arena.Nodes.Length);
        return new Region(this, group, _spaces.Add(Arena, pages, order, node, table));
    }

    /// <summary>Frees everything a region holds. Waits for uses (accesses, reclaim of its folios) to end.</summary>
    public void FreeRegion(Region region)
    {
        if (!_gate.TryEnter()) return; // the tier is closing: it frees everything itself
        try
        {
            FreeRegionCore(region);
        }
        finally
        {
            _gate.Exit();
        }
    }

    private void FreeRegionCore(Region region)
    {
        if (!region.Space.BeginDispose()) return;
        MemoryGroup group = region.Group;
        for (long p = 0; p < region.PageCount; p++)
        {
            ulong* pte = region.Space.PteAddress(p);
            ulong e = *pte;
            *pte = 0;
            if (Pte.IsPresent(e))
            {
                // The first page of a folio maps its head (folios are aligned in the region). The whole folio goes
                // here, and its other pages' entries are cleared without reading them: once the frames are free,
                // another thread may reuse them as heads of its own folios.
                int frame = Pte.Frame(e);
                ref PageFrame f = ref Arena.Frame(frame);
                Debug.Assert(f.Head == frame && f.Owner == region.Space.Id && f.Index == p);
                int order = f.Order;
                for (int i = 1; i < 1 << order; i++) *region.Space.PteAddress(p + i) = 0;
                p += (1 << order) - 1;
                MemoryNode node = Arena.NodeOf(frame);
                lock (node.Lock)
                {
                    if ((f.Flags & FolioFlags.Lru) != 0) group.Lruvecs[node.Id].Remove(frame);
                }
                Debug.Assert((f.Flags & FolioFlags.Isolated) == 0);
                // No use of the region is left, but a reader of another region that saw this frame in a stale
                // entry may hold a pin for a moment (it drops it when its entry recheck fails): wait it out.
                var spin = new SpinWait();
                long since = 0;
                while (!Arena.TryFreeze(frame)) SpinOn(ref spin, ref since, frame, "freeing a region");
                if (f.Link >= 0) DropRetainedCopy(frame);
                node.Free(frame, order);
                group.Uncharge((long)PageSize.Bytes << order);
            }
            else if (Pte.IsSwap(e))
            {
                SwapDevice dev = Devices[Pte.SwapType(e)];
                int slot = Pte.SwapOffset(e);
                if (!dev.LockSlot(slot, out ulong info)) continue; // cannot happen: nothing else uses a dying region's slots
                _zswap.Invalidate(dev, slot, info);
                dev.Free(slot, 1);
            }
        }
        foreach (int f in region.Space.PteFrames) FreeNewFolio(group, f, 0);
        _spaces.Remove(region.Space);
    }
}
