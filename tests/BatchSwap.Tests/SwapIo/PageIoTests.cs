using BatchSwap.Compression.Engines;
using BatchSwap.Faults;
using BatchSwap.Memory;
using BatchSwap.Pageout;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;

namespace BatchSwap.Tests.SwapIo;

/// <summary>The page-I/O layer alone: an arena, a swap device over a memory backend, no tier.</summary>
public sealed unsafe class PageIoTests : IDisposable
{
    private const int Slots = 4 * SwapDevice.ClusterSlots;
    private readonly PageArena _arena = new(8L << 20, 1);
    private readonly Counters _counters = new();
    private readonly CountingBackend _backend = new(new MemorySwapBackend(Slots));
    private readonly SwapDevice _dev;
    private readonly PageIo _io;

    public PageIoTests()
    {
        _dev = new SwapDevice(0, 0, Slots, _backend, _arena);
        _io = new PageIo([_dev], _arena, _counters, () => true);
    }

    public void Dispose()
    {
        _dev.Dispose();
        _arena.Dispose();
    }

    /// <summary>A frame filled with page <paramref name="seed"/>.</summary>
    private int Frame(int seed)
    {
        int f = _arena.Nodes[0].Alloc(0, mayUseReserve: false);
        Assert.True(f >= 0);
        TestPages.Fill(_arena.Page(f), seed, 0);
        return f;
    }

    private int Allocate(int order)
    {
        Assert.True(_dev.TryAllocate(order, 0, out int slot));
        return slot;
    }

    [Fact]
    public void RejectedFoliosAreWrittenInRunsAndReadBackWithTheirChecksums()
    {
        // Three order-0 folios with consecutive slots, one order-2 folio after a gap, one stored folio (not written).
        int s0 = Allocate(0), s1 = Allocate(0), s2 = Allocate(0);
        int big = Allocate(2);
        var folios = new PageoutFolio[]
        {
            new() { Head = Frame(1), SwapType = 0, SlotOffset = s0, Outcome = PageoutOutcome.Rejected },
            new() { Head = Frame(2), SwapType = 0, SlotOffset = s1, Outcome = PageoutOutcome.Rejected },
            new() { Head = Frame(3), SwapType = 0, SlotOffset = s2, Outcome = PageoutOutcome.Stored },
            new() { Head = _arena.Nodes[0].Alloc(2, false), Order = 2, SwapType = 0, SlotOffset = big, Outcome = PageoutOutcome.Rejected },
        };
        for (int p = 0; p < 4; p++) TestPages.Fill(_arena.Page(folios[3].Head + p), 10 + p, 0);

        using var io = new SwapIoBatch();
        Assert.True(_io.SubmitFolioWrites(folios, groupId: 3, writebackEnabled: true, io));
        Assert.Equal(PageoutOutcome.Writeback, folios[0].Outcome);
        Assert.Equal(PageoutOutcome.Stored, folios[2].Outcome);
        io.Wait();
        _io.FinishFolioWrites(folios, 3, io);

        Assert.Equal(2, io.RunCount); // s0..s1, then the large folio (s2 was stored, so the runs do not join)
        Assert.All(new[] { 0, 1, 3 }, i => Assert.Equal(PageoutOutcome.Written, folios[i].Outcome));
        Assert.Equal(6, _counters.Read(Counter.Pswpout));
        ulong info = _dev.Info(s1);
        Assert.Equal(SlotFlags.Used | SlotFlags.OnDisk, SlotInfo.Flags(info));
        Assert.Equal(3, SlotInfo.Group(info));
        Assert.Equal(PageWork.Checksum(_arena.PageAddress(folios[1].Head)), SlotInfo.Checksum(info));

        // Read them back into fresh frames.
        var reqs = new LoadRequest[2];
        int f1 = Frame(99), f2 = Frame(98);
        reqs[0] = new LoadRequest { Type = 0, Slot = s1, Info = _dev.Info(s1), Frame = _arena.PageAddress(f1) };
        reqs[1] = new LoadRequest { Type = 0, Slot = big + 3, Info = _dev.Info(big + 3), Frame = _arena.PageAddress(f2) };
        _io.Read(reqs);
        Assert.Equal(LoadResult.Ok, reqs[0].Result);
        Assert.Equal(LoadResult.Ok, reqs[1].Result);
        Assert.True(_arena.Page(f1).SequenceEqual(_arena.Page(folios[1].Head)));
        Assert.True(_arena.Page(f2).SequenceEqual(_arena.Page(folios[3].Head + 3)));
        Assert.Equal(2, _counters.Read(Counter.Pswpin));
    }

    [Fact]
    public void AChecksumTheEnginesComputedIsWrittenAsItIs()
    {
        int slot = Allocate(0);
        int frame = Frame(5);
        // What zswap leaves in a rejected page's slot: Summed, with the engine's checksum (here a made-up one, to see it kept).
        _dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked | SlotFlags.Summed, 0, 0, 0, 0xDEADBEEF));
        var folios = new[] { new PageoutFolio { Head = frame, SwapType = 0, SlotOffset = slot, Outcome = PageoutOutcome.Rejected } };
        using var io = new SwapIoBatch();
        Assert.True(_io.SubmitFolioWrites(folios, 0, true, io));
        io.Wait();
        _io.FinishFolioWrites(folios, 0, io);
        Assert.Equal(0xDEADBEEFu, SlotInfo.Checksum(_dev.Info(slot)));

        // So a read of it fails its checksum: the layer checks what it recorded.
        var reqs = new[] { new LoadRequest { Type = 0, Slot = slot, Info = _dev.Info(slot), Frame = _arena.PageAddress(Frame(6)) } };
        _io.Read(reqs);
        Assert.Equal(LoadResult.ChecksumMismatch, reqs[0].Result);
        Assert.Equal(1, _counters.Read(Counter.SwapChecksumFail));
    }

    [Fact]
    public void WithoutWritebackRejectedFoliosAreKeptAndNothingIsSubmitted()
    {
        var folios = new[] { new PageoutFolio { Head = Frame(1), SwapType = 0, SlotOffset = Allocate(0), Outcome = PageoutOutcome.Rejected } };
        using var io = new SwapIoBatch();
        Assert.False(_io.SubmitFolioWrites(folios, 0, writebackEnabled: false, io));
        Assert.Equal(PageoutOutcome.Kept, folios[0].Outcome);
        Assert.Equal(0, _backend.Submits);
    }

    [Fact]
    public void WritePagesFormsRunsAndReportsEachPage()
    {
        int a = Allocate(0), b = Allocate(0), c = Allocate(0);
        Allocate(0); // a gap
        int d = Allocate(0);
        int[] slots = [a, b, c, d];
        nint[] pages = slots.Select(s => (nint)_arena.PageAddress(Frame(s))).ToArray();
        var ok = new bool[4];
        _io.WritePages([0, 0, 0, 0], slots, pages, ok);
        Assert.All(ok, Assert.True);
        Assert.Equal(1, _backend.Submits);
        Assert.Equal(2, _backend.Runs); // a..c, then d
        Assert.Equal(4, _counters.Read(Counter.Pswpout));
        Assert.True(_io.Depth.Max >= 2);
        Assert.Equal(0, _io.Depth.Now);
    }

    [Fact]
    public void FailedWritesKeepTheFolioAndFailedReadsAreErrors()
    {
        var faults = new FaultInjector(new FaultPlan { SwapWriteErrorRate = 1, SwapReadErrorRate = 1 });
        using var dev = new SwapDevice(0, 0, Slots, new FaultInjectingBackend(new MemorySwapBackend(Slots), faults), _arena);
        var io = new PageIo([dev], _arena, _counters, () => true);
        Assert.True(dev.TryAllocate(0, 0, out int slot));
        var folios = new[] { new PageoutFolio { Head = Frame(1), SwapType = 0, SlotOffset = slot, Outcome = PageoutOutcome.Rejected } };
        using var batch = new SwapIoBatch();
        Assert.True(io.SubmitFolioWrites(folios, 0, true, batch));
        batch.Wait();
        io.FinishFolioWrites(folios, 0, batch);
        Assert.Equal(PageoutOutcome.Kept, folios[0].Outcome);
        Assert.Equal(1, _counters.Read(Counter.SwapWriteFail));
        Assert.Equal(0, _counters.Read(Counter.Pswpout));

        dev.SetInfo(slot, PageIo.OnDiskInfo(0, 0));
        var reqs = new[] { new LoadRequest { Type = 0, Slot = slot, Info = dev.Info(slot), Frame = _arena.PageAddress(Frame(2)) } };
        io.Read(reqs);
        Assert.Equal(LoadResult.ReadError, reqs[0].Result);
        Assert.Equal(1, _counters.Read(Counter.SwapReadFail));

        // A slot marked lost is an error without any I/O.
        dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.OnDisk | SlotFlags.Lost, 0, 0, 0, 0));
        reqs[0] = new LoadRequest { Type = 0, Slot = slot, Info = dev.Info(slot), Frame = _arena.PageAddress(Frame(3)) };
        io.Read(reqs);
        Assert.Equal(LoadResult.ReadError, reqs[0].Result);
    }

    /// <summary>Counts what reaches the backend underneath.</summary>
    /// <summary>Writes pages to slots 0..19 of a new device over <paramref name="backend"/>, then reads slots 0, 1, 3, 4, 9 and 19.</summary>
    private LoadRequest[] ReadWithGaps(CountingBackend backend, Counters counters, out int[] frames)
    {
        using var dev = new SwapDevice(0, 0, Slots, backend, _arena);
        var io = new PageIo([dev], _arena, counters, () => true);
        int[] slots = new int[20];
        for (int i = 0; i < slots.Length; i++) Assert.True(dev.TryAllocate(0, 0, out slots[i]));
        Assert.Equal(Enumerable.Range(slots[0], 20), slots);
        nint[] pages = slots.Select(s => (nint)_arena.PageAddress(Frame(100 + s))).ToArray();
        var ok = new bool[20];
        io.WritePages(new int[20], slots, pages, ok);
        Assert.All(ok, Assert.True);
        // The layer above publishes the slots' info words (on disk, with the page's checksum); here by hand.
        for (int i = 0; i < slots.Length; i++)
            dev.SetInfo(slots[i], PageIo.OnDiskInfo(0, PageWork.Checksum((byte*)pages[i])));

        int[] wanted = [0, 1, 3, 4, 9, 19];
        frames = wanted.Select(_ => Frame(7)).ToArray();
        var reqs = new LoadRequest[wanted.Length];
        for (int i = 0; i < wanted.Length; i++)
        {
            int slot = slots[wanted[i]];
            reqs[i] = new LoadRequest { Type = 0, Slot = slot, Info = dev.Info(slot), Frame = _arena.PageAddress(frames[i]) };
        }
        backend.Runs = 0;
        io.Read(reqs);
        for (int i = 0; i < wanted.Length; i++)
        {
            Assert.Equal(LoadResult.Ok, reqs[i].Result);
            var want = new byte[4096];
            TestPages.Fill(want, 100 + slots[wanted[i]], 0);
            Assert.True(want.AsSpan().SequenceEqual(_arena.Page(frames[i])), $"slot {slots[wanted[i]]} read back wrong");
        }
        return reqs;
    }

    [Fact]
    public void AReadJoinsRunsAcrossShortGapsAndKeepsOnlyTheSlotsAskedFor()
    {
        var counters = new Counters();
        var backend = new CountingBackend(new MemorySwapBackend(Slots)) { ReadsAcrossGaps = true };
        ReadWithGaps(backend, counters, out _);
        // 0..9 in one run (gaps of 1 and 4 slots read and dropped), 19 alone: 9 slots past 9 is over MaxGapPages.
        Assert.Equal(2, backend.Runs);
        Assert.Equal(5, counters.Read(Counter.SwapReadGapPages));
        Assert.Equal(6, counters.Read(Counter.Pswpin));
        Assert.True(19 - 9 - 1 > PageIo.MaxGapPages);
    }

    [Fact]
    public void OnASwapFileWithDirectIoAReadJoinsRunsAcrossGaps()
    {
        string dir = Directory.CreateTempSubdirectory("batchswap-gaps-").FullName;
        try
        {
            using var workers = new SwapIoWorkers(2);
            var file = new FileSwapBackend(null, dir, Slots, SwapFileMode.Direct, workers);
            Assert.True(file.ReadsAcrossGaps);
            var counters = new Counters();
            ReadWithGaps(new CountingBackend(file) { ReadsAcrossGaps = true }, counters, out _);
            Assert.Equal(5, counters.Read(Counter.SwapReadGapPages));
            Assert.Equal(6, counters.Read(Counter.Pswpin));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ABackendThatMovesOnlyWhatItIsAskedForGetsNoGapSlots()
    {
        var counters = new Counters();
        var backend = new CountingBackend(new MemorySwapBackend(Slots));
        ReadWithGaps(backend, counters, out _);
        Assert.Equal(4, backend.Runs); // 0-1, 3-4, 9, 19
        Assert.Equal(0, counters.Read(Counter.SwapReadGapPages));
        Assert.Equal(6, counters.Read(Counter.Pswpin));
    }

    private sealed class CountingBackend(ISwapBackend inner) : ISwapBackend
    {
        public int Submits, Runs;
        public bool ReadsAcrossGaps { get; init; }
        public string Description => inner.Description;
        public bool DirectIo => inner.DirectIo;
        public bool Reserve(int firstSlot, int count) => inner.Reserve(firstSlot, count);
        public void Submit(SwapIoBatch batch)
        {
            Submits++;
            Runs += batch.RunCount;
            inner.Submit(batch);
        }
        public long PageCacheBytes() => inner.PageCacheBytes();
        public void Dispose() => inner.Dispose();
    }
}
