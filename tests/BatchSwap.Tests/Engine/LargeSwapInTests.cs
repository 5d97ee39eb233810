using BatchSwap.Access;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>A large folio whose pages are all out comes back as one folio of its region's order.</summary>
public sealed class LargeSwapInTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void ALargeFolioSwapsBackInWhole(int order)
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1, BackgroundReclaim = false, ZswapShrinkWorker = false });
        using Region r = tier.Allocate(32L << 20, order: order);
        Span<byte> page = stackalloc byte[4096], want = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, 4);
            r.Write(i, page);
        }
        Assert.True(tier.Snapshot()[Counter.ZswpoutOrder0 + order] > 0, "no large folio went out whole");
        for (int pass = 0; pass < 2; pass++)
        {
            for (long i = 0; i < r.PageCount; i++)
            {
                r.Read(i, page);
                TestPages.Fill(want, i, 4);
                Assert.True(page.SequenceEqual(want), $"page {i} differs");
            }
        }
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.SwpinOrder0 + order] > 0, $"no order-{order} folio came back whole");
        // Most of the region's folios came back whole, not page by page.
        Assert.True(s[Counter.SwpinOrder0 + order] << order > s[Counter.SwpinOrder0],
            $"{s[Counter.SwpinOrder0 + order]} order-{order} swap-ins against {s[Counter.SwpinOrder0]} order-0");
    }

    [Fact]
    public void APartlyResidentFolioComesBackPageByPage()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1, BackgroundReclaim = false, ZswapShrinkWorker = false });
        using Region small = tier.Allocate(32L << 20, order: 0);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < small.PageCount; i++)
        {
            TestPages.Fill(page, i, 5);
            small.Write(i, page);
        }
        for (long i = 0; i < small.PageCount; i++) small.Read(i, page);
        Assert.Equal(0, tier.Snapshot()[Counter.SwpinOrder1]); // order-0 regions never swap in large
    }
}
