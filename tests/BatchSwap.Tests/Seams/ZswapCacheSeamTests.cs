using BatchSwap.MemCg;
using BatchSwap.Pageout;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Tests.Infrastructure;

namespace BatchSwap.Tests.Seams;

/// <summary><see cref="Zswap.ZswapCache"/> alone, built by hand (<see cref="TierParts"/>): a batch store and a batch load.</summary>
public sealed class ZswapCacheSeamTests
{
    private const int Seed = 7;

    [Fact]
    public void ABatchOfFramesRoundTripsThroughStoreAndLoad()
    {
        using var parts = new TierParts();
        MemoryGroup group = parts.Groups.Create("g", 8L << 20);
        // 40 pages: more than one engine run (32 jobs), eight of each TestPages kind (zero, same-filled, text, pointers, random).
        PageoutFolio[] folios = parts.FoliosToStore(40, (page, i) => TestPages.Fill(page, i, Seed));

        long storeNs = parts.Zswap.StoreBatch(folios, 0, group);

        Assert.True(storeNs >= 0, "the batch was rejected without being compressed");
        Assert.All(folios, f => Assert.Equal(PageoutOutcome.Stored, f.Outcome));
        Assert.Equal(40, parts[Counter.Zswpout]);
        Assert.Equal(40, parts[Counter.ZswapCompressJobs]);
        Assert.Equal(40, parts.Zswap.StoredPages);
        Assert.Equal(16, parts.Zswap.SameFilledPages);   // the zero and same-filled kinds
        Assert.Equal(8, parts.Zswap.IncompressiblePages); // the random kind, kept as-is (the group may write back)
        Assert.True(group.PoolChargedBytes > 0);
        // The inline compressor ran the batch in two runs, one job at a time in this thread.
        Assert.Equal(2, parts.Engines.Runs);
        Assert.Equal(32, parts.Engines.LargestCompressRun);

        // The stored frames are scribbled over: what comes back must come from zswap.
        foreach (PageoutFolio f in folios) parts.Arena.Page(f.Head).Fill(0xEE);
        int[] frames = parts.Load(folios, out LoadResult[] results);

        Span<byte> want = stackalloc byte[4096];
        for (int i = 0; i < folios.Length; i++)
        {
            Assert.Equal(LoadResult.Ok, results[i]);
            TestPages.Fill(want, i, Seed);
            Assert.True(want.SequenceEqual(parts.Arena.Page(frames[i])), $"page {i} came back wrong");
        }
        Assert.Equal(40, parts[Counter.Zswpin]);
        Assert.Equal(16, parts[Counter.ZswapDecompressJobs]); // only the text and pointer pages went through the codec
        Assert.Equal(0, parts[Counter.DecompressFail]);

        // Loads leave the entries; dropping them empties zswap and returns the group's pool charge.
        Assert.Equal(40, parts.Zswap.StoredPages);
        foreach (PageoutFolio f in folios) parts.Drop(f);
        Assert.Equal(0, parts.Zswap.StoredPages);
        Assert.Equal(0, parts.Zswap.SameFilledPages);
        Assert.Equal(0, parts.Zswap.IncompressiblePages);
        Assert.Equal(0, group.PoolChargedBytes);
        Assert.Equal(0, parts.Devices[0].UsedSlots);
    }
}
