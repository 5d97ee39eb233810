using System.Buffers;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Pageout;
using BatchSwap.Pool;
using BatchSwap.Reclaim;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;
using BatchSwap.Tests.Engine;
using BatchSwap.Threading;
using BatchSwap.Tunables;
using BatchSwap.Zswap;

namespace BatchSwap.Tests.Infrastructure;

/// <summary>
/// The layers under the access layer, built by hand through their constructors, without a <see cref="MemoryTier"/>:
/// an arena of one node, swap devices over memory, a pool, the <see cref="InlineCompressor"/> (every job in the
/// calling thread, one at a time), the page-I/O layer, zswap and reclaim. No background thread runs: what a test
/// calls is all that happens. Helpers make folios and address spaces the way the access layer does.
/// </summary>
internal sealed unsafe class TierParts : IDisposable
{
    /// <summary>Jobs per batch (what the tier uses).</summary>
    public const int JobsPerBatch = 32;

    public readonly PageArena Arena;
    public readonly Counters Counters = new();
    public readonly SwapDevice[] Devices;
    public readonly ZsPool Pool;
    public readonly InlineCompressor Engines = new(JobsPerBatch);
    public readonly BatchPool Batches = new(2, JobsPerBatch);
    public readonly MemoryGroups Groups;
    public readonly AddressSpaces Spaces = new();
    public readonly TierGate Gate = new();
    public readonly BusyThreads Busy = new();
    public readonly TunableSet Tunables;
    public readonly PageIo PageIo;
    public readonly ZswapCache Zswap;
    public readonly Reclaimer Reclaimer;

    /// <param name="memoryBytes">The arena's size.</param>
    /// <param name="devices">Swap devices of one cluster (512 slots) each, all of priority 0.</param>
    /// <param name="deviceSlots">Slots of each device (whole clusters).</param>
    public TierParts(long memoryBytes = 16L << 20, int devices = 1, int deviceSlots = 4 * SwapDevice.ClusterSlots)
    {
        Arena = new PageArena(memoryBytes, 1);
        Devices = new SwapDevice[devices];
        for (int i = 0; i < devices; i++) Devices[i] = new SwapDevice(i, 0, deviceSlots, new MemorySwapBackend(deviceSlots), Arena);
        Pool = new ZsPool(Arena);
        Groups = new MemoryGroups(Arena);
        // The engines cannot batch, but stores are called here with whole batches: the tunable's limit is reclaim's.
        Tunables = new TunableSet(CodecRegistry.Get("lz4"), TunableSet.MaxCompressBatchSize);
        TunableSet tunables = Tunables;
        PageIo = new PageIo(Devices, Arena, Counters, () => tunables.VerifyChecksums);
        Zswap = new ZswapCache(Arena, Pool, Devices, Counters, Tunables, Engines, Batches, Groups, null, PageIo, Busy);
        Reclaimer = new Reclaimer(Arena, Spaces, Gate, Devices, Zswap, PageIo, Groups, Counters, Tunables);
    }

    /// <summary>A counter's total now.</summary>
    public long this[Counter counter] => Counters.Read(counter);

    /// <summary>A frame, unowned, filled with <see cref="TestPages.Fill"/>(seed, index) (not charged to any group).</summary>
    public int FilledFrame(long index, int seed)
    {
        int f = Arena.Nodes[0].Alloc(0, mayUseReserve: true);
        Assert.True(f >= 0, "the arena ran out of frames");
        TestPages.Fill(Arena.Page(f), index, seed);
        return f;
    }

    /// <summary>
    /// Order-0 folios as reclaim hands them to zswap: frozen frames filled by <paramref name="fill"/>(page, index), each
    /// with a locked slot on <paramref name="swapType"/>.
    /// </summary>
    public PageoutFolio[] FoliosToStore(int count, SpanAction<byte, long> fill, int swapType = 0)
    {
        var folios = new PageoutFolio[count];
        for (int i = 0; i < count; i++)
        {
            int f = Arena.Nodes[0].Alloc(0, mayUseReserve: true);
            Assert.True(f >= 0, "the arena ran out of frames");
            fill(Arena.Page(f), i);
            Assert.True(Devices[swapType].TryAllocate(0, 0, out int slot), "the swap device is full");
            folios[i] = new PageoutFolio { Head = f, Order = 0, SwapType = swapType, SlotOffset = slot };
        }
        return folios;
    }

    /// <summary>Loads stored folios' pages (their slots locked) into new frames; returns the frames and sets each result.</summary>
    public int[] Load(ReadOnlySpan<PageoutFolio> folios, out LoadResult[] results)
    {
        var frames = new int[folios.Length];
        var reqs = new LoadRequest[folios.Length];
        for (int i = 0; i < folios.Length; i++)
        {
            frames[i] = Arena.Nodes[0].Alloc(0, mayUseReserve: true);
            SwapDevice dev = Devices[folios[i].SwapType];
            Assert.True(dev.LockSlot(folios[i].SlotOffset, out ulong info));
            reqs[i] = new LoadRequest { Type = dev.Type, Slot = folios[i].SlotOffset, Info = info, Frame = Arena.PageAddress(frames[i]) };
        }
        Zswap.LoadBatch(reqs);
        results = new LoadResult[folios.Length];
        for (int i = 0; i < folios.Length; i++)
        {
            results[i] = reqs[i].Result;
            Devices[reqs[i].Type].UnlockSlot(reqs[i].Slot);
        }
        return frames;
    }

    /// <summary>Drops a stored folio's entry and frees its slot (what a fault or region teardown does).</summary>
    public void Drop(in PageoutFolio folio)
    {
        SwapDevice dev = Devices[folio.SwapType];
        Assert.True(dev.LockSlot(folio.SlotOffset, out ulong info));
        Zswap.Invalidate(dev, folio.SlotOffset, info);
        dev.Free(folio.SlotOffset, 1);
    }

    /// <summary>
    /// An address space of <paramref name="pages"/> pages whose every page is a resident order-0 folio charged to
    /// <paramref name="group"/> and on its inactive list, filled by <see cref="TestPages.Fill"/>(seed, page): what the
    /// access layer leaves after first-touch writes.
    /// </summary>
    public AddressSpace Populate(MemoryGroup group, int pages, int seed)
    {
        var table = new int[(pages + 511) >> 9];
        for (int i = 0; i < table.Length; i++) table[i] = Arena.AllocMeta(0, mayUseReserve: false);
        AddressSpace space = Spaces.Add(Arena, pages, 0, 0, table);
        for (int p = 0; p < pages; p++)
        {
            Assert.True(group.TryCharge(PageSize.Bytes, forReclaim: false), "the group is at its limit");
            int head = FilledFrame(p, seed);
            ref PageFrame f = ref Arena.Frame(head);
            f.Kind = FrameKind.Folio;
            f.Head = head;
            f.Order = 0;
            f.Owner = space.Id;
            f.Index = p;
            f.Referenced = 0;
            f.Flags = FolioFlags.None;
            f.Link = -1;
            Volatile.Write(ref f.Pin, 0);
            Volatile.Write(ref *space.PteAddress(p), Pte.MakePresent(head));
            lock (Arena.Nodes[0].Lock) group.Lruvecs[0].AddHead(head, active: false);
        }
        return space;
    }

    public void Dispose()
    {
        Engines.Dispose();
        Batches.Dispose();
        foreach (SwapDevice d in Devices) d.Dispose();
        Arena.Dispose();
    }
}
