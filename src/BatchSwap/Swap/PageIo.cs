using BatchSwap.Compression.Engines;
using BatchSwap.Memory;
using BatchSwap.Pageout;
using BatchSwap.Stats;
using BatchSwap.Swap.Backends;
using BatchSwap.Telemetry;

namespace BatchSwap.Swap;

/// <summary>
/// The page-I/O layer (mm/page_io.c): every transfer between memory and a swap backend goes through here — the
/// fallback writes of folios zswap rejected, zswap writeback, and swap-in reads with their readahead. It forms the runs
/// of consecutive slots (one former for all three), submits each device's runs as one batch, publishes the slots' info
/// words, counts pswpout/pswpin and the failures, and records or checks the pages' checksums: a rejected folio's
/// checksums are the ones the engines computed while trying to compress it, where they did.
/// Nothing here knows reclaim, zswap or memory groups beyond a group id: the layers above call down.
/// </summary>
internal sealed unsafe class PageIo
{
    /// <summary>Most pages merged into one run (one vectored call moves up to 128 pages, 512 KiB: two readahead windows).</summary>
    public const int MaxRunPages = 128;

    /// <summary>
    /// Most slots a read takes across between two wanted ones, where the backend allows it
    /// (<see cref="ISwapBackend.ReadsAcrossGaps"/>). A readahead window's slots lie in order with holes (pages held in
    /// zswap or resident); on this kind of disk one more request costs about 60 µs and 4 KiB more in one costs about
    /// 4 µs, so a short hole is cheaper read than split.
    /// </summary>
    public const int MaxGapPages = 8;

    // Where the slots read across a gap land: one page for every reader, whose contents nobody looks at.
    private static readonly nint s_gapPage = (nint)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);

    private readonly SwapDevice[] _devices;
    private readonly PageArena _arena;
    private readonly Counters _counters;
    private readonly Func<bool> _verify;

    /// <summary>Where failed runs are logged (rate-limited; failure branches only).</summary>
    internal TierLog Log { get; init; } = TierLog.None;

    // Batches for submit-and-wait uses, one per device a single call touches; made once per thread.
    [ThreadStatic] private static SwapIoBatch?[]? t_batches;

    /// <summary>Runs submitted to the backends and not complete (the queue depth), now and at its highest.</summary>
    public readonly SwapIoDepth Depth = new();

    /// <param name="devices">The swap devices, by type.</param>
    /// <param name="arena">The arena (folio frames' addresses).</param>
    /// <param name="counters">Where pswpout, pswpin and the failures are counted.</param>
    /// <param name="verifyChecksums">Whether reads check the pages' checksums now (zswap.verify_checksums).</param>
    public PageIo(SwapDevice[] devices, PageArena arena, Counters counters, Func<bool> verifyChecksums)
    {
        _devices = devices;
        _arena = arena;
        _counters = counters;
        _verify = verifyChecksums;
    }

    /// <summary>The info word of a slot whose page is on its device, with its checksum.</summary>
    public static ulong OnDiskInfo(int groupId, uint checksum) => SlotInfo.Make(SlotFlags.Used | SlotFlags.OnDisk, groupId, 0, 0, checksum);

    /// <summary>
    /// The info word of a slot whose page is on a device that stores compressed objects, still compressed: its length
    /// (below a page) and codec, and the page's checksum. Swap-in reads the object and zswap decompresses it.
    /// </summary>
    public static ulong OnDeviceCompressedInfo(int groupId, int length, byte codecId, uint checksum)
    {
        System.Diagnostics.Debug.Assert(length is > 0 and < PageSize.Bytes);
        return SlotInfo.Make(SlotFlags.Used | SlotFlags.OnDisk, groupId, length, codecId, checksum);
    }

    /// <summary>Whether a slot on a device holds its page compressed (<see cref="OnDeviceCompressedInfo"/>): its length is set.</summary>
    public static bool IsCompressedOnDevice(ulong info) =>
        (SlotInfo.Flags(info) & (SlotFlags.OnDisk | SlotFlags.Zswap)) == SlotFlags.OnDisk && SlotInfo.Length(info) != 0;

    // ================================================================ reclaim's writes (swap_writepage)

    /// <summary>
    /// Submits the writes of the folios zswap rejected (all folios of a flushed plug share one swap device): their
    /// pages in runs of consecutive slots, one batch. Each such folio becomes <see cref="PageoutOutcome.Writeback"/>
    /// — or <see cref="PageoutOutcome.Kept"/> when the group does not allow writeback. Returns whether anything was
    /// submitted; if so, call <see cref="FinishFolioWrites"/> once <paramref name="io"/> is complete.
    /// </summary>
    public bool SubmitFolioWrites(Span<PageoutFolio> folios, int groupId, bool writebackEnabled, SwapIoBatch io)
    {
        bool open = false;
        if (AddFolioWrites(folios, groupId, writebackEnabled, io, ref open) == 0) return false;
        SubmitWrites(io);
        return true;
    }

    /// <summary>
    /// Adds the pages of the folios zswap rejected to a write not yet submitted (the block plug: reclaim gathers the
    /// writes of several flushes into one, as the kernel's blk_plug around shrink_folio_list merges their bios). The
    /// first call on a batch opens it (<paramref name="open"/> false: it is reset for the folios' device). Each such
    /// folio becomes <see cref="PageoutOutcome.Writeback"/>, or <see cref="PageoutOutcome.Kept"/> when the group does
    /// not allow writeback. Returns the folios added; submit with <see cref="SubmitWrites"/>.
    /// </summary>
    public int AddFolioWrites(Span<PageoutFolio> folios, int groupId, bool writebackEnabled, SwapIoBatch io, ref bool open)
    {
        if (!writebackEnabled)
        {
            KeepRejected(folios);
            return 0;
        }
        int added = 0;
        for (int i = 0; i < folios.Length; i++)
        {
            ref PageoutFolio f = ref folios[i];
            if (f.Outcome != PageoutOutcome.Rejected) continue;
            if (!open)
            {
                io.Reset(SwapIoKind.Write, f.SwapType);
                open = true;
            }
            System.Diagnostics.Debug.Assert(f.SwapType == io.DeviceType, "a write spans swap devices");
            SwapDevice dev = _devices[f.SwapType];
            for (int p = 0; p < 1 << f.Order; p++)
            {
                byte* page = _arena.PageAddress(f.Head + p);
                int slot = f.SlotOffset + p;
                ulong info = dev.Info(slot);
                uint sum = (SlotInfo.Flags(info) & SlotFlags.Summed) != 0 ? SlotInfo.Checksum(info) : PageWork.Checksum(page);
                dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked | SlotFlags.Summed, groupId, 0, 0, sum));
                Append(io, slot, (nint)page);
            }
            f.Outcome = PageoutOutcome.Writeback;
            added++;
        }
        return added;
    }

    /// <summary>Keeps the folios zswap rejected in memory (<see cref="PageoutOutcome.Kept"/>): their group may not write back.</summary>
    public static void KeepRejected(Span<PageoutFolio> folios)
    {
        foreach (ref PageoutFolio f in folios) if (f.Outcome == PageoutOutcome.Rejected) f.Outcome = PageoutOutcome.Kept;
    }

    /// <summary>Submits a write gathered by <see cref="AddFolioWrites"/>; call <see cref="FinishFolioWrites"/> once it is complete.</summary>
    public void SubmitWrites(SwapIoBatch io) => Submit(io);

    /// <summary>
    /// Ends the writes of <see cref="SubmitFolioWrites"/>, or of <see cref="AddFolioWrites"/> and
    /// <see cref="SubmitWrites"/> (the batch is complete): each folio under writeback whose pages all reached the device
    /// becomes <see cref="PageoutOutcome.Written"/>, its slots' info published as on disk; the others
    /// <see cref="PageoutOutcome.Kept"/> (their slots are still locked and must be freed).
    /// </summary>
    public void FinishFolioWrites(Span<PageoutFolio> folios, int groupId, SwapIoBatch io)
    {
        System.Diagnostics.Debug.Assert(io.IsComplete);
        var runs = new RunCursor(io);
        long written = 0, failed = 0;
        foreach (ref PageoutFolio f in folios)
        {
            if (f.Outcome != PageoutOutcome.Writeback) continue;
            SwapDevice dev = _devices[f.SwapType];
            bool ok = true;
            int pages = 1 << f.Order;
            // Pages were added in folio order, so the runs cover them in the same order.
            for (int p = 0; p < pages; p++) ok &= runs.NextPageOk();
            if (!ok)
            {
                f.Outcome = PageoutOutcome.Kept;
                failed += pages;
                continue;
            }
            for (int p = 0; p < pages; p++)
            {
                int slot = f.SlotOffset + p;
                dev.SetInfo(slot, OnDiskInfo(groupId, SlotInfo.Checksum(dev.Info(slot))));
            }
            f.Outcome = PageoutOutcome.Written;
            written += pages;
        }
        if (written > 0) _counters.Add(Counter.Pswpout, written);
        if (failed > 0) { _counters.Add(Counter.SwapWriteFail, failed); Log.SwapWriteFailed(failed); }
    }

    // ================================================================ zswap writeback

    /// <summary>
    /// Writes pages that lie anywhere in memory (4 KiB aligned) to slots <paramref name="slots"/> of devices
    /// <paramref name="types"/>, and waits: runs of consecutive slots, one batch per device, all submitted before any
    /// is waited for. Gives each page's result; counts pswpout. The caller publishes the slots it keeps
    /// (<see cref="OnDiskInfo"/>, or <see cref="OnDeviceCompressedInfo"/>) once it has dropped what they held before.
    /// <paramref name="lengths"/>, when given, are the bytes of each page: shorter than a page for a compressed object
    /// sent to a device that stores them as they are.
    /// </summary>
    public void WritePages(ReadOnlySpan<int> types, ReadOnlySpan<int> slots, ReadOnlySpan<nint> pages, Span<bool> ok, ReadOnlySpan<int> lengths = default)
    {
        long good = TransferAndWait(SwapIoKind.Write, types, slots, pages, ok, lengths);
        if (good > 0) _counters.Add(Counter.Pswpout, good);
        if (good < pages.Length) { _counters.Add(Counter.SwapWriteFail, pages.Length - good); Log.SwapWriteFailed(pages.Length - good); }
    }

    // ================================================================ swap-in

    /// <summary>
    /// Reads the requests whose pages are on a swap device (not in zswap) into their frames, and waits: runs of
    /// consecutive slots, one batch per device. A slot marked lost, a failed read or a checksum mismatch is that
    /// request's result; the others are <see cref="LoadResult.Ok"/> and counted in pswpin — or, for a slot that holds
    /// its page compressed (<see cref="IsCompressedOnDevice"/>), <see cref="LoadResult.DeviceCompressed"/> with the
    /// object in the frame, for zswap to decompress and check. Zswap requests are left as they are.
    /// </summary>
    public void Read(Span<LoadRequest> requests)
    {
        // At most a readahead window, or the pages of one large folio (512).
        int max = requests.Length;
        Span<int> index = stackalloc int[max], types = stackalloc int[max], slots = stackalloc int[max];
        Span<nint> pages = stackalloc nint[max];
        Span<bool> ok = stackalloc bool[max];
        Span<int> lengths = stackalloc int[max];
        int n = 0;
        for (int i = 0; i < requests.Length; i++)
        {
            ref LoadRequest r = ref requests[i];
            SlotFlags flags = SlotInfo.Flags(r.Info);
            if ((flags & SlotFlags.Zswap) != 0) continue;
            if ((flags & SlotFlags.Lost) != 0) { r.Result = LoadResult.ReadError; continue; }
            index[n] = i; types[n] = r.Type; slots[n] = r.Slot; pages[n] = (nint)r.Frame;
            lengths[n] = IsCompressedOnDevice(r.Info) ? SlotInfo.Length(r.Info) : PageSize.Bytes;
            n++;
        }
        if (n == 0) return;
        TransferAndWait(SwapIoKind.Read, types[..n], slots[..n], pages[..n], ok[..n], lengths[..n]);
        bool verify = _verify();
        long read = 0, failed = 0;
        for (int k = 0; k < n; k++)
        {
            ref LoadRequest q = ref requests[index[k]];
            if (!ok[k])
            {
                q.Result = LoadResult.ReadError;
                failed++;
            }
            else if (lengths[k] < PageSize.Bytes)
            {
                q.Result = LoadResult.DeviceCompressed; // checked once zswap has decompressed it
                read++;
            }
            else if (verify && PageWork.Checksum(q.Frame) != SlotInfo.Checksum(q.Info))
            {
                _counters.Add(Counter.SwapChecksumFail);
                q.Result = LoadResult.ChecksumMismatch;
            }
            else
            {
                q.Result = LoadResult.Ok;
                read++;
            }
        }
        if (read > 0) _counters.Add(Counter.Pswpin, read);
        if (failed > 0) { _counters.Add(Counter.SwapReadFail, failed); Log.SwapReadFailed(failed); }
    }

    // ================================================================ the one run former and submitter

    /// <summary>
    /// Adds a page for <paramref name="slot"/>: to the last run when it follows it (or, with <paramref name="gapOk"/>,
    /// when it lies at most <see cref="MaxGapPages"/> slots past its end: the slots between are read into
    /// <see cref="s_gapPage"/>), else as a new run. Returns the gap slots added.
    /// </summary>
    private static int Append(SwapIoBatch io, int slot, nint page, int length = PageSize.Bytes, bool gapOk = false)
    {
        int n = io.RunCount;
        if (n > 0)
        {
            ref SwapIoRun last = ref io.Runs[n - 1];
            int gap = slot - (last.Slot + last.PageCount);
            if (gap == 0 && last.PageCount < MaxRunPages)
            {
                io.AddPage(page, length);
                return 0;
            }
            if (gapOk && gap > 0 && gap <= MaxGapPages && last.PageCount + gap < MaxRunPages && length == PageSize.Bytes)
            {
                for (int g = 0; g < gap; g++) io.AddPage(s_gapPage);
                io.AddPage(page, length);
                return gap;
            }
        }
        io.BeginRun(slot, tag: io.PageCount);
        io.AddPage(page, length);
        return 0;
    }

    private void Submit(SwapIoBatch io)
    {
        io.Start(Depth);
        _devices[io.DeviceType].Backend.Submit(io);
    }

    /// <summary>Moves pages in runs, one batch per device, waits for all, and gives each page's result. Returns pages moved.</summary>
    private long TransferAndWait(SwapIoKind kind, ReadOnlySpan<int> types, ReadOnlySpan<int> slots, ReadOnlySpan<nint> pages, Span<bool> ok, ReadOnlySpan<int> lengths = default)
    {
        SwapIoBatch?[] batches = t_batches ??= new SwapIoBatch?[_devices.Length];
        if (batches.Length < _devices.Length) t_batches = batches = new SwapIoBatch?[_devices.Length];
        // Devices in the order they first appear; usually one.
        Span<int> order = stackalloc int[Math.Min(_devices.Length, pages.Length)];
        int devicesUsed = 0;
        for (int i = 0; i < pages.Length; i++)
        {
            int t = types[i];
            if (order[..devicesUsed].IndexOf(t) >= 0) continue;
            order[devicesUsed++] = t;
        }
        for (int d = 0; d < devicesUsed; d++)
        {
            int t = order[d];
            SwapIoBatch io = batches[t] ??= new SwapIoBatch();
            io.Reset(kind, t);
            bool gapOk = kind == SwapIoKind.Read && _devices[t].Backend.ReadsAcrossGaps;
            int gaps = 0;
            for (int i = 0; i < pages.Length; i++)
                if (types[i] == t) gaps += Append(io, slots[i], pages[i], lengths.IsEmpty ? PageSize.Bytes : lengths[i], gapOk);
            if (gaps > 0) _counters.Add(Counter.SwapReadGapPages, gaps);
            System.Diagnostics.Debug.Assert(_devices[t].Backend.StoresCompressed || !ShortLengths(io), "a compressed object sent to a device that moves whole pages");
            Submit(io);
        }
        long moved = 0;
        for (int d = 0; d < devicesUsed; d++)
        {
            int t = order[d];
            SwapIoBatch io = batches[t]!;
            io.Wait();
            var runs = new RunCursor(io);
            for (int i = 0; i < pages.Length; i++)
            {
                if (types[i] != t) continue;
                ok[i] = runs.NextPageOk();
                if (ok[i]) moved++;
            }
        }
        return moved;
    }

    private static bool ShortLengths(SwapIoBatch io)
    {
        for (int i = 0; i < io.PageCount; i++) if (io.Lengths[i] != PageSize.Bytes) return true;
        return false;
    }

    /// <summary>Walks a completed batch's pages in the order they were added, giving each page's run result (gap slots skipped).</summary>
    private struct RunCursor(SwapIoBatch io)
    {
        private int _run = -1, _left, _page;

        /// <summary>Whether the next page moved: its run moved every byte and the backend did not fail the page alone.</summary>
        public bool NextPageOk()
        {
            while (true)
            {
                while (_left == 0) _left = io.Runs[++_run].PageCount;
                _left--;
                int page = _page++;
                if (io.Pages[page] != s_gapPage) return io.PageOk(_run, page);
            }
        }
    }
}
