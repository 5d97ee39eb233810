using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>Background reclaim: kswapd keeps nodes over their watermarks and groups under their background marks.</summary>
public sealed class KswapdTests
{
    private static MemoryTier NewTier(bool kswapd, long memory = 64L << 20) =>
        new(new TierOptions { MemoryBytes = memory, Engines = 1, BackgroundReclaim = kswapd });

    /// <summary>Writes page after page until the group is over its background mark, staying under the point where a writer must reclaim itself.</summary>
    private static long FillPastBackgroundMark(MemoryGroup group, Region r)
    {
        var page = new byte[4096];
        long p = 0;
        while (group.ChargedBytes <= group.BackgroundLowBytes + 8 * 4096)
        {
            page[0] = (byte)p;
            page[100] = (byte)(p >> 8);
            r.Write(p++, page);
        }
        Assert.True(group.ChargedBytes < group.LimitBytes - group.HeadroomBytes, "the fill went as far as direct reclaim");
        return p;
    }

    private static bool WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++) Thread.Sleep(10);
        return condition();
    }

    [Fact]
    public void AGroupOverItsBackgroundMarkIsReclaimedInTheBackground()
    {
        using MemoryTier tier = NewTier(kswapd: true);
        MemoryGroup group = tier.CreateGroup("g", 16L << 20);
        using Region r = tier.Allocate(32L << 20, group: group);
        long written = FillPastBackgroundMark(group, r);

        Assert.True(WaitFor(() => group.ChargedBytes <= group.BackgroundHighBytes), $"charged {group.ChargedBytes}, mark {group.BackgroundHighBytes}\n{tier.Snapshot().ToVmstat()}");
        CounterSnapshot c = tier.Snapshot();
        Assert.True(c[Counter.PgstealKswapd] > 0);
        Assert.Equal(0, c[Counter.Allocstall]);
        Assert.Equal(0, c[Counter.PgstealDirect]);
        var page = new byte[4096];
        for (long p = 0; p < written; p++)
        {
            r.Read(p, page);
            Assert.Equal((byte)p, page[0]);
            Assert.Equal((byte)(p >> 8), page[100]);
        }
    }

    [Fact]
    public void WithoutKswapdTheGroupStaysOverItsMark()
    {
        using MemoryTier tier = NewTier(kswapd: false);
        MemoryGroup group = tier.CreateGroup("g", 16L << 20);
        using Region r = tier.Allocate(32L << 20, group: group);
        FillPastBackgroundMark(group, r);
        Thread.Sleep(200);
        Assert.True(group.ChargedBytes > group.BackgroundLowBytes);
        Assert.Equal(0, tier.Snapshot()[Counter.PgstealKswapd]);
    }

    [Fact]
    public void ANodeUnderItsLowWatermarkIsReclaimedInTheBackground()
    {
        using MemoryTier tier = NewTier(kswapd: true, memory: 32L << 20);
        using Region r = tier.Allocate(64L << 20);
        var page = new byte[4096];
        for (long p = 0; p < r.PageCount; p++)
        {
            page[0] = (byte)p;
            r.Write(p, page);
        }
        CounterSnapshot c = tier.Snapshot();
        Assert.True(c[Counter.PgscanKswapd] > 0);
        Assert.True(c[Counter.PgstealKswapd] > 0);
        for (long p = 0; p < r.PageCount; p += 7)
        {
            r.Read(p, page);
            Assert.Equal((byte)p, page[0]);
        }
    }
}
