using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Pageout;
using BatchSwap.Reclaim;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Tests.Infrastructure;

namespace BatchSwap.Tests.Seams;

/// <summary><see cref="Reclaimer"/> alone, built by hand (<see cref="TierParts"/>): one pass over an LRU.</summary>
public sealed unsafe class ReclaimerSeamTests
{
    private const int Seed = 9;

    /// <summary>The pages of <paramref name="space"/> whose entries are swap entries, as the folios reclaim gave them.</summary>
    private static List<(long Page, PageoutFolio Folio)> SwappedOut(AddressSpace space)
    {
        var list = new List<(long, PageoutFolio)>();
        for (long p = 0; p < space.PageCount; p++)
        {
            ulong e = Volatile.Read(ref *space.PteAddress(p));
            if (Pte.IsSwap(e)) list.Add((p, new PageoutFolio { SwapType = Pte.SwapType(e), SlotOffset = Pte.SwapOffset(e) }));
        }
        return list;
    }

    /// <summary>Loads swapped-out pages through zswap (and the page-I/O layer) and checks their contents.</summary>
    private static void AssertReadBack(TierParts parts, List<(long Page, PageoutFolio Folio)> swapped)
    {
        PageoutFolio[] folios = swapped.Select(s => s.Folio).ToArray();
        int[] frames = parts.Load(folios, out LoadResult[] results);
        Span<byte> want = stackalloc byte[4096];
        for (int i = 0; i < folios.Length; i++)
        {
            Assert.Equal(LoadResult.Ok, results[i]);
            TestPages.Fill(want, swapped[i].Page, Seed);
            Assert.True(want.SequenceEqual(parts.Arena.Page(frames[i])), $"page {swapped[i].Page} came back wrong");
        }
    }

    [Fact]
    public void APassOverTheInactiveListStoresItsTailInBatches()
    {
        using var parts = new TierParts();
        parts.Tunables.CompressBatchSize = 8;
        MemoryGroup group = parts.Groups.Create("g", 8L << 20);
        AddressSpace space = parts.Populate(group, 64, Seed);
        long freeBefore = parts.Arena.FreePages;

        long scanned = 0;
        int reclaimed = parts.Reclaimer.ShrinkLruvec(group.Lruvecs[0], direct: true, ref scanned);

        // One isolation (SWAP_CLUSTER_MAX folios from the tail, none referenced), four full plugs of eight.
        Assert.Equal(Reclaimer.SwapClusterMax, reclaimed);
        Assert.Equal(Reclaimer.SwapClusterMax, scanned);
        Assert.Equal(4, parts[Counter.ReclaimBatches]);
        Assert.Equal(4, parts[Counter.PlugFlushFull]);
        Assert.Equal(32, parts[Counter.ReclaimBatchFolios]);
        Assert.Equal(32, parts[Counter.Zswpout]);
        Assert.Equal(32, parts[Counter.PgstealDirect]);
        Assert.Equal(0, parts[Counter.Pswpout]); // everything fitted in zswap
        Assert.Equal(32, group.LruPages);
        Assert.Equal(32L * 4096, group.ChargedBytes - group.PoolChargedBytes);
        Assert.Equal(freeBefore + 32 - parts.Pool.Pages - parts.Devices[0].MetaFrames, parts.Arena.FreePages); // frames back, less pool and slot tables

        // The oldest pages (the tail: first populated) went, their entries are swap entries that load back intact.
        List<(long Page, PageoutFolio Folio)> swapped = SwappedOut(space);
        Assert.Equal(Enumerable.Range(0, 32).Select(p => (long)p), swapped.Select(s => s.Page));
        AssertReadBack(parts, swapped);
    }

    [Fact]
    public void AtBatchSizeOneTheRejectsOfAListGoToTheDeviceAsOneWrite()
    {
        using var parts = new TierParts();
        parts.Tunables.ZswapEnabled = false; // every folio is for the swap device
        parts.Tunables.CompressBatchSize = 1;
        MemoryGroup group = parts.Groups.Create("g", 8L << 20);
        AddressSpace space = parts.Populate(group, 64, Seed);

        long scanned = 0;
        Assert.Equal(32, parts.Reclaimer.ShrinkLruvec(group.Lruvecs[0], direct: true, ref scanned));
        Assert.Equal(32, parts[Counter.ReclaimBatches]); // 32 flushes of one folio each
        Assert.Equal(32, parts[Counter.Pswpout]);
        // The block plug gathered the 32 rejects of the list into one write of one run (32 consecutive slots).
        Assert.Equal(1, ((Swap.Backends.MemorySwapBackend)parts.Devices[0].Backend).Transfers);
        AssertReadBack(parts, SwappedOut(space));
    }

    [Fact]
    public void AGroupThatMayNotWriteBackKeepsWhatZswapRejectsWhileAnotherWritesItOut()
    {
        using var parts = new TierParts();
        parts.Tunables.ZswapEnabled = false; // zswap rejects everything: each folio is for the swap device or memory
        MemoryGroup kept = parts.Groups.Create("no-writeback", 4L << 20);
        kept.WritebackEnabled = false;
        MemoryGroup written = parts.Groups.Create("writeback", 4L << 20);
        AddressSpace keptSpace = parts.Populate(kept, 64, Seed);
        AddressSpace writtenSpace = parts.Populate(written, 64, Seed);

        long scanned = 0;
        Assert.Equal(0, parts.Reclaimer.ShrinkLruvec(kept.Lruvecs[0], direct: true, ref scanned));
        Assert.Equal(32, scanned);
        Assert.Equal(0, parts[Counter.Pswpout]);
        Assert.Equal(0, parts.Devices[0].UsedSlots); // the kept folios' slots were given back
        Assert.Empty(SwappedOut(keptSpace));
        Assert.Equal(64, kept.LruPages);
        Assert.Equal(32, kept.Lruvecs[0].ActivePages); // kept, activated
        Assert.Equal(64L * 4096, kept.ChargedBytes);

        scanned = 0;
        Assert.Equal(32, parts.Reclaimer.ShrinkLruvec(written.Lruvecs[0], direct: true, ref scanned));
        Assert.Equal(32, parts[Counter.Pswpout]);
        Assert.Equal(32, parts.Devices[0].UsedSlots);
        List<(long Page, PageoutFolio Folio)> swapped = SwappedOut(writtenSpace);
        Assert.Equal(32, swapped.Count);
        Assert.Equal(32, written.LruPages);
        AssertReadBack(parts, swapped);
        Assert.Equal(32, parts[Counter.Pswpin]);

        // Still nothing of the first group on the device, and every page of it in memory as written.
        Assert.Empty(SwappedOut(keptSpace));
        Span<byte> want = stackalloc byte[4096];
        for (long p = 0; p < keptSpace.PageCount; p++)
        {
            TestPages.Fill(want, p, Seed);
            int frame = Pte.Frame(Volatile.Read(ref *keptSpace.PteAddress(p)));
            Assert.True(want.SequenceEqual(parts.Arena.Page(frame)), $"kept page {p} changed");
        }
    }
}
