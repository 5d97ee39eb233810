using BatchSwap.Access;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// A full pool (mainline's limit hit): stores are rejected and go to the swap device uncompressed while the shrink
/// worker writes the oldest entries back: in the background (mainline), or in the storing thread without the worker.
/// </summary>
public sealed class ShrinkWorkerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AFullPoolIsShrunkAndNothingIsLost(bool background)
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 24L << 20,
            BackgroundReclaim = background,
            ZswapShrinkWorker = background,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "5", ["zswap.shrinker_enabled"] = "N" },
        });
        using Region r = tier.Allocate(64L << 20);
        var page = new byte[4096];
        for (long p = 0; p < r.PageCount; p++)
        {
            TestPages.Fill(page, p, 31);
            r.Write(p, page);
        }

        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.PoolLimitHit] > 0, "the pool never reached its cap");
        Assert.True(s[Counter.Pswpout] > s[Counter.WrittenBackPages], "rejected folios went to the swap device");
        for (int i = 0; i < 500 && tier.Snapshot()[Counter.WrittenBackPages] == 0; i++) Thread.Sleep(10);
        Assert.True(tier.Snapshot()[Counter.WrittenBackPages] > 0, "nothing was written back");

        var want = new byte[4096];
        for (long p = 0; p < r.PageCount; p++)
        {
            TestPages.Fill(want, p, 31);
            r.Read(p, page);
            Assert.True(want.AsSpan().SequenceEqual(page), $"page {p} read back wrong");
        }
    }
}
