using BatchSwap.MemCg;
using BatchSwap.Pageout;
using BatchSwap.Stats;
using BatchSwap.Tests.Infrastructure;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// zswap.max_pool_percent and zswap.accept_threshold_percent form a hysteresis pair: once the pool hits its cap,
/// stores are turned away (pool_limit_hit) until the pool is back under the threshold, not merely under the cap.
/// </summary>
public sealed class AcceptThresholdTests
{
    // Half random, half zeros: about 2 KiB compressed, so the pool grows steadily with each page.
    private static void HalfRandom(Span<byte> page, long index)
    {
        new Random((int)index).NextBytes(page[..2048]);
        page[2048..].Clear();
    }

    [Theory]
    [InlineData(50)]
    [InlineData(100)]
    public void AFullPoolTakesStoresAgainOnlyUnderTheAcceptThreshold(int acceptPercent)
    {
        using var parts = new TierParts();
        parts.Tunables.MaxPoolPercent = 5;
        parts.Tunables.AcceptThresholdPercent = acceptPercent;
        MemoryGroup group = parts.Groups.Create("g", 8L << 20);
        group.WritebackEnabled = false; // the storing thread cannot shrink the pool: only the test frees entries
        long cap = parts.Zswap.MaxPoolPages, threshold = cap * acceptPercent / 100;
        var stored = new Queue<PageoutFolio>();
        long index = 0;

        PageoutOutcome StoreOne()
        {
            PageoutFolio[] one = parts.FoliosToStore(1, (page, _) => HalfRandom(page, index++));
            parts.Zswap.StoreBatch(one, 0, group);
            if (one[0].Outcome == PageoutOutcome.Stored) stored.Enqueue(one[0]);
            else
            {
                // Rejected: what reclaim would do next (write it, or keep it) is not this test's; give its slot back.
                parts.Devices[0].Free(one[0].SlotOffset, 1);
            }
            parts.Arena.Nodes[0].Free(one[0].Head, 0);
            return one[0].Outcome;
        }

        void DropUntil(long pages)
        {
            while (parts.Pool.Pages > pages)
            {
                Assert.True(stored.Count > 0, "the pool did not shrink with its entries");
                parts.Drop(stored.Dequeue());
            }
        }

        // Fill to the cap: the first store that finds the pool there is turned away.
        while (StoreOne() == PageoutOutcome.Stored) Assert.True(index < 4 * cap, "the pool never reached its cap");
        Assert.True(parts.Pool.Pages >= cap, $"a store was rejected at {parts.Pool.Pages} of {cap} pool pages");
        Assert.Equal(1, parts[Counter.PoolLimitHit]);
        long zswpout = parts[Counter.Zswpout];

        if (acceptPercent < 100)
        {
            // Under the cap but over the threshold: still turned away, without compressing anything.
            DropUntil(cap - 1);
            Assert.True(parts.Pool.Pages > threshold);
            long jobs = parts[Counter.ZswapCompressJobs];
            Assert.Equal(PageoutOutcome.Rejected, StoreOne());
            Assert.Equal(2, parts[Counter.PoolLimitHit]);
            Assert.Equal(jobs, parts[Counter.ZswapCompressJobs]);
            Assert.Equal(zswpout, parts[Counter.Zswpout]);
        }

        // At the threshold (and under the cap): taken again, and the stores after it too, until the cap.
        DropUntil(Math.Min(threshold, cap - 1));
        long hits = parts[Counter.PoolLimitHit];
        for (int i = 0; i < 4; i++) Assert.Equal(PageoutOutcome.Stored, StoreOne());
        Assert.Equal(hits, parts[Counter.PoolLimitHit]);
        Assert.Equal(zswpout + 4, parts[Counter.Zswpout]);

        // And full again, turned away again.
        while (StoreOne() == PageoutOutcome.Stored) Assert.True(index < 8 * cap, "the pool never reached its cap again");
        Assert.Equal(hits + 1, parts[Counter.PoolLimitHit]);
    }
}
