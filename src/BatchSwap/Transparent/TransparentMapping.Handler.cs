using System.Runtime.InteropServices;
using BatchSwap.Access;
using BatchSwap.Lru;
using BatchSwap.Memory;
using static BatchSwap.Transparent.Userfaultfd;

namespace BatchSwap.Transparent;

/// <summary>
/// The fault handler: one thread per mapping reads userfaultfd events and resolves them; it alone changes the
/// mapping's page state, its FIFO and the frames it holds, so none of them needs a lock.
///
/// Each resident page of the mapping holds one frame of the tier (its "held frame"): the frame of the page in the
/// backing region, pinned and off the LRU, with its memory discarded (MADV_DONTNEED). So the group is charged once
/// for the page, the process's resident set holds it once (in the mapping, not in the arena), and reclaim never
/// sees it. A fill brings the page into that frame by the region's own fault path (swap-in from zswap or the swap
/// device, or a fresh frame for a page never written), copies it into the mapping (UFFDIO_COPY; UFFDIO_ZEROPAGE for
/// a page never written) write-protected unless the fault is a write, then discards the frame's memory. An eviction
/// write-protects the page, copies it back into its frame, discards it from the mapping (MADV_DONTNEED) and gives
/// the frame, unpinned, to the inactive LRU: reclaim then takes it through the plug and the batch store like any
/// region page, or drops it without compressing (pgsteal_clean) when the page was only read since its swap-in.
///
/// GC: the loop allocates nothing (its buffers are native and made up front) and spends its waits in system calls
/// (preemptive mode). See docs/transparent.md for what that does and does not guarantee.
/// </summary>
public sealed unsafe partial class TransparentMapping
{
    /// <summary>Fewest resident pages a mapping may be given (two eviction batches).</summary>
    internal const int MinResidentPages = 2 * EvictBatch;
    /// <summary>Pages evicted together: write-protected, copied and discarded in runs.</summary>
    private const int EvictBatch = 128;
    /// <summary>Most pages one missing fault brings in (the faulting page and its readahead).</summary>
    private const int MaxReadahead = 64;
    /// <summary>Held frames whose memory is discarded together.</summary>
    private const int DiscardBatch = 256;
    /// <summary>Events read at once.</summary>
    private const int MsgBatch = 64;

    // Page state bits (one ulong a page; the low 32 bits are the held frame while resident, else the eviction stamp).
    private const ulong Resident = 1UL << 32;
    // Written since filled: not write-protected.
    private const ulong Dirty = 1UL << 33;
    // Left the mapping at least once: the low bits are its eviction stamp.
    private const ulong Evicted = 1UL << 34;
    // Refaulted soon after its eviction: kept once more when it reaches the FIFO head.
    private const ulong Hot = 1UL << 35;

    // ---------------------------------------------------------------- set at creation
    // The engine, and the region that stores the mapping's pages.
    private readonly Mm _mm;
    private readonly Region _region;
    // The most resident pages.
    private readonly int _capacity;
    // The userfaultfd, and an eventfd that tells the handler to stop.
    private readonly int _uffd = -1;
    private readonly int _wakeFd = -1;
    // The mapping's first byte.
    private readonly byte* _base;
    // The handler thread.
    private readonly Thread? _thread;

    // ---------------------------------------------------------------- handler-owned (native, made up front)
    // Per page: state bits and held frame or eviction stamp.
    private ulong* _state;
    // The FIFO of resident pages (a ring of page numbers, _capacity long).
    private int* _ring;
    private int _ringHead;
    // Resident pages (read by Stats).
    private int _ringCount;
    // Evictions so far, as a clock for refault distances.
    private uint _clock;
    // Event buffer.
    private Msg* _msgs;
    // One page of zeros (the source of a zero fill that is a write).
    private byte* _zeroPage;
    // Victims of one eviction batch.
    private int* _victims;
    // Held frames waiting for their memory to be discarded.
    private int* _discards;
    // The discards as ranges of neighbouring frames, and an eviction's runs of pages, for one vector call each.
    private Iovec* _discardRanges;
    private Iovec* _evictRanges;
    private int _discardCount;
    // Readahead: the last faulting page and the current window.
    private long _lastFault = -1;
    private int _window = 1;

    // ---------------------------------------------------------------- counters (written by the handler, read racily)
    private long _readahead, _missingFaults, _wpFaults, _zeroFills, _swapInFills, _lruFills, _evictions, _refaults, _refaultsHot, _secondChances, _duplicates;

    private void AllocateHandlerState()
    {
        _state = (ulong*)NativeMemory.AllocZeroed((nuint)PageCount, sizeof(ulong));
        _ring = (int*)NativeMemory.Alloc((nuint)_capacity, sizeof(int));
        _msgs = (Msg*)NativeMemory.AllocZeroed(MsgBatch, (nuint)sizeof(Msg));
        _zeroPage = (byte*)NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);
        new Span<byte>(_zeroPage, PageSize.Bytes).Clear();
        _victims = (int*)NativeMemory.Alloc(EvictBatch, sizeof(int));
        _discards = (int*)NativeMemory.Alloc(DiscardBatch, sizeof(int));
        _discardRanges = (Iovec*)NativeMemory.Alloc(DiscardBatch, (nuint)sizeof(Iovec));
        _evictRanges = (Iovec*)NativeMemory.Alloc(EvictBatch, (nuint)sizeof(Iovec));
        PrepareDiscards();
    }

    // ================================================================ the loop

    private void HandlerLoop()
    {
        PollFd* fds = stackalloc PollFd[2];
        while (true)
        {
            fds[0] = new PollFd { Fd = _uffd, Events = PollIn };
            fds[1] = new PollFd { Fd = _wakeFd, Events = PollIn };
            if (Poll(fds, 2, -1) < 0)
            {
                if (Errno == EIntr) continue;
                Fatal("poll on the userfaultfd", Errno, -1);
            }
            if (fds[1].Revents != 0) return;
            nint got = Read(_uffd, _msgs, (nuint)(MsgBatch * sizeof(Msg)));
            if (got < 0)
            {
                int e = Errno;
                if (e is EAgain or EIntr) continue;
                Fatal("read of the userfaultfd", e, -1);
            }
            int n = (int)(got / sizeof(Msg));
            HandleBatch(n);
        }
    }

    /// <summary>
    /// Handles the <paramref name="n"/> events read. The frames they filled are discarded later, with others (see
    /// <see cref="Discard"/>): a discard is a TLB flush of every CPU, and under random access a batch is one event.
    /// </summary>
    private void HandleBatch(int n)
    {
        for (int i = 0; i < n; i++)
        {
            if (_msgs[i].Event != EventPagefault) continue;
            long page = (long)(_msgs[i].Address - (ulong)_base) >> PageSize.Shift;
            try
            {
                HandleFault(page, (_msgs[i].Flags & PagefaultFlagWrite) != 0);
            }
            catch (Exception e)
            {
                // The faulting thread cannot be given an exception, and a page that cannot be had cannot be
                // made up: like SIGBUS for a page the kernel cannot read, the process ends.
                Environment.FailFast($"batchswap transparent mapping: page {page} could not be brought in: {e.Message}", e);
            }
        }
    }

    /// <summary>One page-fault event: a missing page, a first write to a write-protected page, or a duplicate.</summary>
    private void HandleFault(long page, bool write)
    {
        ulong s = _state[page];
        if ((s & Resident) != 0)
        {
            if (write && (s & Dirty) == 0)
            {
                // First write since a read fill: the page's copy in the store no longer holds.
                Interlocked.Increment(ref _wpFaults);
                _mm.NoteWrite((int)(uint)s);
                _state[page] = s | Dirty;
                WriteProtect(page, 1, protect: false); // un-protecting wakes the writer
            }
            else
            {
                Interlocked.Increment(ref _duplicates);
                Wake(page);
            }
            return;
        }
        Interlocked.Increment(ref _missingFaults);
        int window = NextWindow(page);
        if (_ringCount >= _capacity) EvictOldest();
        // A page never written comes in writable when the fault is a write or part of a forward walk (a fill loop
        // whose first touch of a page may be a read); a lone read gets the zero page, write-protected.
        Fill(page, write || window > 1, write, s);
        // Readahead: faults that walk forward bring the next pages too, before they are touched (one wake-up of the
        // handler for several pages); a stored page comes in read-only.
        long end = Math.Min(page + window, PageCount);
        for (long q = page + 1; q < end; q++)
        {
            ulong sq = _state[q];
            if ((sq & Resident) != 0) break;
            if (_ringCount >= _capacity) EvictOldest();
            Fill(q, zeroWritable: true, write: false, sq);
            Interlocked.Increment(ref _readahead);
        }
    }

    /// <summary>
    /// The readahead window for a fault at <paramref name="page"/> (the region's swap-in rule): it doubles, up to
    /// <see cref="MaxReadahead"/>, while faults land just past the last one, and halves when they jump around.
    /// </summary>
    private int NextWindow(long page)
    {
        long last = _lastFault;
        int w = _window;
        bool sequential = last >= 0 && page > last && page - last <= Math.Max(2 * w, 2);
        w = sequential ? Math.Min(MaxReadahead, Math.Max(2, w * 2)) : Math.Max(1, w / 2);
        _window = w;
        _lastFault = page;
        return w;
    }

    // ================================================================ fill

    /// <summary>
    /// Brings a page into the mapping through its held frame: writable and dirty for a <paramref name="write"/> (and a
    /// never-written page when <paramref name="zeroWritable"/>), else write-protected and clean.
    /// </summary>
    private void Fill(long page, bool zeroWritable, bool write, ulong s)
    {
        if ((s & Evicted) != 0)
        {
            Interlocked.Increment(ref _refaults);
            // Refault distance (workingset.c): evictions since this page's. Within the resident size, the page would
            // have stayed had it been given its second chance: give it one now.
            if (_clock - (uint)s <= (uint)_capacity)
            {
                Interlocked.Increment(ref _refaultsHot);
                s |= Hot;
            }
        }
        if (!_region.Space.TryEnterUse()) Fatal("the tier is closing", 0, page);
        try
        {
            ulong* pte = _region.Space.PteAddress(page);
            ulong e = Volatile.Read(ref *pte);
            int head;
            if (e == 0)
            {
                head = HoldNewFrame(page);
                Interlocked.Increment(ref _zeroFills);
                write |= zeroWritable;
                if (write) Copy(page, _zeroPage, wp: false);
                else ZeroPage(page);
            }
            else
            {
                if (Pte.IsPresent(e)) Interlocked.Increment(ref _lruFills); else Interlocked.Increment(ref _swapInFills);
                head = _mm.PinPage(_region, page, out byte* src);
                TakeOffLru(head);
                Copy(page, src, wp: !write);
            }
            if (write) _mm.NoteWrite(head);
            // The page now lives in the mapping: the frame keeps the charge, not the memory.
            Discard(head);
            _state[page] = Resident | (write ? Dirty : 0) | (s & Hot) | (uint)head;
            PushRing((int)page);
        }
        finally
        {
            _region.Space.ExitUse();
        }
    }

    /// <summary>
    /// Queues a held frame's memory to be discarded (MADV_DONTNEED). The queue goes in one vector call (a range for each
    /// run of neighbouring frames) when it is full and before an eviction copies into held frames, not before the
    /// handler waits: at most <see cref="DiscardBatch"/> pages of a mapping are in memory twice meanwhile.
    /// </summary>
    private void Discard(int head)
    {
        _discards[_discardCount++] = head;
        if (_discardCount == DiscardBatch) FlushDiscards();
    }

    private void FlushDiscards()
    {
        int n = _discardCount;
        if (n == 0) return;
        new Span<int>(_discards, n).Sort();
        if (DiscardRanges(_discardRanges, ToRanges(_discards, n, _mm.Arena.Base, _discardRanges)) != 0) Fatal("MADV_DONTNEED of held frames", Errno, -1);
        _discardCount = 0;
    }

    /// <summary>
    /// Writes into <paramref name="ranges"/> one range for each run of consecutive pages in the sorted
    /// <paramref name="pages"/>[0..<paramref name="n"/>) of the memory at <paramref name="memory"/>; returns how many.
    /// </summary>
    private static int ToRanges(int* pages, int n, byte* memory, Iovec* ranges)
    {
        int runs = 0;
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && pages[j] == pages[j - 1] + 1) j++;
            ranges[runs++] = new Iovec { Base = (nint)(memory + ((long)pages[i] << PageSize.Shift)), Length = (nuint)(j - i) << PageSize.Shift };
            i = j;
        }
        return runs;
    }

    /// <summary>A frame for a page never written: charged (reclaiming if the group is at its limit), pinned, off the LRU; its memory is not cleared (it is discarded).</summary>
    private int HoldNewFrame(long page)
    {
        int order = 0;
        int head = _mm.AllocFolio(_region.Group, _region.Space.Node, ref order);
        ref PageFrame f = ref _mm.Arena.Frame(head);
        f.Kind = FrameKind.Folio;
        f.Head = head;
        f.Order = 0;
        f.Owner = _region.Space.Id;
        f.Index = (int)page;
        f.Referenced = 0;
        f.Flags = FolioFlags.None;
        f.Prev = f.Next = -1;
        f.Link = -1;
        Volatile.Write(ref f.Pin, 1);
        Volatile.Write(ref *_region.Space.PteAddress(page), Pte.MakePresent(head));
        return head;
    }

    /// <summary>Takes a pinned frame off its LRU: it is held by the mapping. One that reclaim has isolated now goes back pinned, and is found on the LRU when the page is evicted.</summary>
    private void TakeOffLru(int head)
    {
        MemoryNode node = _mm.Arena.NodeOf(head);
        LruVec lru = _region.Group.Lruvecs[node.Id];
        lock (node.Lock)
        {
            ref PageFrame f = ref _mm.Arena.Frame(head);
            if ((f.Flags & FolioFlags.Lru) != 0) lru.Remove(head);
            f.Flags &= ~(FolioFlags.Referenced | FolioFlags.Readahead);
        }
    }

    // ================================================================ eviction

    /// <summary>
    /// Evicts up to a batch of the oldest pages (FIFO; a hot page is moved to the tail once instead). Runs of
    /// neighbouring pages are all discarded with one vector call, after the dirty ones are write-protected.
    /// </summary>
    private void EvictOldest()
    {
        FlushDiscards(); // the copies below go into held frames: none may be discarded after
        int n = 0;
        int budget = _ringCount; // every page is looked at once at most
        while (n < EvictBatch && _ringCount > 0 && budget-- > 0)
        {
            int p = PopRing();
            ulong s = _state[p];
            if ((s & Hot) != 0)
            {
                _state[p] = s & ~Hot;
                PushRing(p);
                Interlocked.Increment(ref _secondChances);
                continue;
            }
            _victims[n++] = p;
        }
        if (n == 0 && _ringCount > 0) _victims[n++] = PopRing(); // all hot: take the oldest anyway
        if (n == 0) return;
        new Span<int>(_victims, n).Sort();

        // A clean page is write-protected already; the dirty ones are protected now, one call a run of neighbouring
        // dirty pages: writers wait from here (their write-protect fault is read after this batch, when the page is
        // gone), so no write is lost between the copy and the discard.
        for (int i = 0; i < n;)
        {
            if ((_state[_victims[i]] & Dirty) == 0) { i++; continue; }
            int j = i + 1;
            while (j < n && _victims[j] == _victims[j - 1] + 1 && (_state[_victims[j]] & Dirty) != 0) j++;
            WriteProtect(_victims[i], j - i, protect: true);
            i = j;
        }
        for (int k = 0; k < n; k++)
        {
            long page = _victims[k];
            Memcpy(_mm.Arena.PageAddress((int)(uint)_state[page]), _base + (page << PageSize.Shift), PageSize.Bytes);
        }
        if (DiscardRanges(_evictRanges, ToRanges(_victims, n, _base, _evictRanges)) != 0) Fatal("MADV_DONTNEED of evicted pages", Errno, _victims[0]);
        for (int k = 0; k < n; k++)
        {
            long page = _victims[k];
            GiveToLru((int)(uint)_state[page]);
            _state[page] = Evicted | _clock++;
        }
        Interlocked.Add(ref _evictions, n);
    }

    /// <summary>Unpins a held frame (its page copied back) and puts it at the inactive head, not referenced: reclaim takes it from there.</summary>
    private void GiveToLru(int head)
    {
        MemoryNode node = _mm.Arena.NodeOf(head);
        LruVec lru = _region.Group.Lruvecs[node.Id];
        ref PageFrame f = ref _mm.Arena.Frame(head);
        f.Referenced = 0;
        // Unpinned under the node's lock: reclaim cannot isolate the frame between the unpin and the move, nor free it
        // before it is put on the list (which would list a free frame).
        lock (node.Lock)
        {
            if ((f.Flags & FolioFlags.Isolated) == 0)
            {
                if ((f.Flags & FolioFlags.Lru) != 0) lru.Remove(head);
                f.Flags &= ~FolioFlags.Referenced;
                lru.AddHead(head, active: false);
            }
            // else reclaim has it (isolated while held): it frees it or puts it back once it sees the pin gone
            _mm.Unpin(head);
        }
    }

    private void PushRing(int page)
    {
        _ring[(_ringHead + _ringCount) % _capacity] = page;
        Volatile.Write(ref _ringCount, _ringCount + 1);
    }

    private int PopRing()
    {
        int p = _ring[_ringHead];
        _ringHead = (_ringHead + 1) % _capacity;
        Volatile.Write(ref _ringCount, _ringCount - 1);
        return p;
    }

    // ================================================================ userfaultfd operations (retried on EAGAIN)

    private void Copy(long page, byte* src, bool wp)
    {
        var a = new CopyArgs { Dst = (ulong)(_base + (page << PageSize.Shift)), Src = (ulong)src, Len = PageSize.Bytes, Mode = wp ? CopyModeWp : 0 };
        while (Ioctl(_uffd, UffdioCopy, &a) != 0)
        {
            int e = Errno;
            if (e == EAgain) { a.Copy = 0; continue; }
            if (e == EExist) { Wake(page); return; } // cannot happen: only this thread maps pages
            Fatal("UFFDIO_COPY", e, page);
        }
    }

    /// <summary>Maps the zero page, write-protected (a later write is seen), then wakes the faulting threads.</summary>
    private void ZeroPage(long page)
    {
        var z = new ZeropageArgs { Range = new UffdRange { Start = (ulong)(_base + (page << PageSize.Shift)), Len = PageSize.Bytes }, Mode = ZeropageModeDontWake };
        while (Ioctl(_uffd, UffdioZeropage, &z) != 0)
        {
            int e = Errno;
            if (e == EAgain) { z.Zeropage = 0; continue; }
            if (e == EExist) break;
            Fatal("UFFDIO_ZEROPAGE", e, page);
        }
        WriteProtect(page, 1, protect: true);
        Wake(page);
    }

    private void WriteProtect(long page, int count, bool protect)
    {
        var w = new WriteprotectArgs
        {
            Range = new UffdRange { Start = (ulong)(_base + (page << PageSize.Shift)), Len = (ulong)count << PageSize.Shift },
            Mode = protect ? WriteprotectModeWp : 0,
        };
        while (Ioctl(_uffd, UffdioWriteprotect, &w) != 0)
        {
            int e = Errno;
            if (e == EAgain) continue;
            Fatal("UFFDIO_WRITEPROTECT", e, page);
        }
    }

    private void Wake(long page)
    {
        var r = new UffdRange { Start = (ulong)(_base + (page << PageSize.Shift)), Len = PageSize.Bytes };
        if (Ioctl(_uffd, UffdioWake, &r) != 0) Fatal("UFFDIO_WAKE", Errno, page);
    }

    private static void Fatal(string what, int errno, long page) =>
        Environment.FailFast($"batchswap transparent mapping: {what} failed (errno {errno}) at page {page}");

    // ================================================================ teardown

    /// <summary>Tells the handler to stop and waits for it.</summary>
    private void StopHandler()
    {
        if (_thread is null) return;
        ulong one = 1;
        Write(_wakeFd, &one, sizeof(ulong));
        _thread.Join();
    }

    /// <summary>Unpins every held frame, so that freeing the region frees them (their pages are discarded with the mapping).</summary>
    private void ReleaseResident()
    {
        if (_state is null) return;
        while (_ringCount > 0)
        {
            int p = PopRing();
            _mm.Unpin((int)(uint)_state[p]);
        }
    }

    /// <summary>Unmaps the memory and closes and frees what the constructor made (each part only if it was made).</summary>
    private void ReleaseNative()
    {
        if (_base is not null) Munmap((nint)_base, (nuint)Length);
        if (_uffd >= 0) Close(_uffd);
        if (_wakeFd >= 0) Close(_wakeFd);
        NativeMemory.Free(_state); _state = null;
        NativeMemory.Free(_ring); _ring = null;
        NativeMemory.Free(_msgs); _msgs = null;
        NativeMemory.AlignedFree(_zeroPage); _zeroPage = null;
        NativeMemory.Free(_victims); _victims = null;
        NativeMemory.Free(_discards); _discards = null;
        NativeMemory.Free(_discardRanges); _discardRanges = null;
        NativeMemory.Free(_evictRanges); _evictRanges = null;
    }
}
