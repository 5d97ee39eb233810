using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// Where reclaim puts a region's pages on the swap device: regions filled at the same time alternate on the LRU, yet
/// each region's folios take consecutive slots (an allocation stream per address space), so a sequential swap-in reads
/// them back in long runs.
/// </summary>
public sealed class SlotLayoutTests
{
    [Fact]
    public void TwoRegionsWrittenInTurnEachLieInSlotOrder()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
        });
        using Region a = tier.Allocate(24L << 20);
        using Region b = tier.Allocate(24L << 20);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < a.PageCount; i++)
        {
            TestPages.Fill(page, i, 1);
            a.Write(i, page);
            TestPages.Fill(page, i, 2);
            b.Write(i, page);
        }

        foreach (Region r in new[] { a, b })
        {
            int pairs = 0, inOrder = 0;
            for (long i = 1; i < r.PageCount; i++)
            {
                if (!StoredEntries.TryGetSlot(tier, r, i - 1, out var d0, out int s0, out _)) continue;
                if (!StoredEntries.TryGetSlot(tier, r, i, out var d1, out int s1, out _)) continue;
                pairs++;
                if (d0 == d1 && s1 == s0 + 1) inOrder++;
            }
            Assert.True(pairs > 1000, $"only {pairs} neighbouring pages both swapped out");
            // Without a stream per space the regions would alternate every isolated list (32 folios), or slot by slot.
            Assert.True(inOrder > pairs * 98 / 100, $"{inOrder} of {pairs} neighbouring pages lie in consecutive slots");
        }

        // Read back in order: readahead windows come off the swap file in long runs, and every page is what was written.
        Span<byte> want = stackalloc byte[4096];
        foreach ((Region r, int seed) in new[] { (a, 1), (b, 2) })
        {
            for (long i = 0; i < r.PageCount; i++)
            {
                TestPages.Fill(want, i, seed);
                r.Read(i, page);
                Assert.True(want.SequenceEqual(page), $"page {i} of region {seed} read back wrong");
            }
        }
        Assert.True(tier.Snapshot()[Counter.SwapRa] > 0, "no readahead");
    }
}
