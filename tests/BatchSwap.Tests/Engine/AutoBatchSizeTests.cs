using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Tunables;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// vm.compress-batchsize = auto in a tier: the default, read back as "auto", overridden by a number, capped by what the
/// engines can batch, shown in the compress_batchsize gauges; data round-trips through zswap either way.
/// </summary>
public sealed class AutoBatchSizeTests
{
    private static void WriteAndCheck(MemoryTier tier, long bytes, int seed)
    {
        using Region r = tier.Allocate(bytes);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed);
            r.Write(i, page);
        }
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }
    }

    [Theory]
    [InlineData("auto", true, null)]
    [InlineData(" AUTO ", true, null)]
    [InlineData("1", true, 1)]
    [InlineData("32", true, 32)]
    [InlineData("0", false, null)]
    [InlineData("33", false, null)]
    [InlineData("-4", false, null)]
    [InlineData("1.5", false, null)]
    [InlineData("automatic", false, null)]
    [InlineData("", false, null)]
    public void ParsesAutoAndNumbersInRange(string text, bool ok, int? size)
    {
        Assert.Equal(ok, TunableSet.TryParseCompressBatchSize(text, out int? got));
        if (ok) Assert.Equal(size, got);
    }

    [Fact]
    public void AutoIsAskedForAndANumberOverridesIt()
    {
        using (var plain = new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Engines = 1 }))
            Assert.Equal("32", plain.Tunables.Get("vm.compress-batchsize")); // the default is the seed's fixed 32
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Engines = 1, CompressBatchSizeAuto = true });
        Assert.True(tier.Tunables.CompressBatchSizeAuto);
        Assert.Equal("auto", tier.Tunables.Get("vm.compress-batchsize"));
        Assert.Equal(TunableSet.DefaultCompressBatchSize, tier.Tunables.CompressBatchSize); // where the choice starts

        tier.Tunables.Set("vm.compress-batchsize", "8");
        Assert.False(tier.Tunables.CompressBatchSizeAuto);
        Assert.Equal("8", tier.Tunables.Get("vm.compress-batchsize"));
        Assert.Equal(0, tier.Snapshot().Gauge("compress_batchsize_auto"));
        Assert.Equal(8, tier.Snapshot().Gauge("compress_batchsize"));

        tier.Tunables.Set("vm.compress-batchsize", "Auto");
        Assert.True(tier.Tunables.CompressBatchSizeAuto);
        Assert.Equal(1, tier.Snapshot().Gauge("compress_batchsize_auto"));

        // Off again: back to the size last set by hand.
        tier.Tunables.CompressBatchSizeAuto = false;
        Assert.Equal(8, tier.Tunables.CompressBatchSize);
    }

    [Theory]
    [InlineData("autox")]
    [InlineData("0")]
    [InlineData("33")]
    public void BadValuesNameAutoAndTheRange(string value)
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Engines = 1, CompressBatchSizeAuto = true });
        TunableException e = Assert.Throws<TunableException>(() => tier.Tunables.Set("vm.compress-batchsize", value));
        Assert.Contains("auto", e.Message);
        Assert.Contains("[1, 32]", e.Message);
        Assert.Equal("auto", tier.Tunables.Get("vm.compress-batchsize"));
    }

    [Fact]
    public void OptionsChooseAManualSizeOrAuto()
    {
        using (var manual = new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Engines = 1, CompressBatchSize = 4 }))
        {
            Assert.False(manual.Tunables.CompressBatchSizeAuto);
            Assert.Equal(4, manual.Tunables.CompressBatchSize);
        }
        using var auto = new MemoryTier(new TierOptions
        {
            MemoryBytes = 8L << 20,
            Engines = 1,
            CompressBatchSize = 4,
            Tunables = new Dictionary<string, string> { ["vm.compress-batchsize"] = "auto" },
        });
        Assert.True(auto.Tunables.CompressBatchSizeAuto);
    }

    [Fact]
    public void AutoRoundTripsDataThroughZswap()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 2, BackgroundReclaim = false, ZswapShrinkWorker = false, CompressBatchSizeAuto = true });
        Assert.True(tier.Tunables.CompressBatchSizeAuto);
        WriteAndCheck(tier, 48L << 20, seed: 5);

        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpout] > 0, "nothing went to zswap");
        Assert.Equal(1, s.Gauge("compress_batchsize_auto"));
        long size = s.Gauge("compress_batchsize");
        Assert.Contains(size, new long[] { 1, 2, 4, 8, 16, 32 });
        Assert.Equal(tier.Reclaimer.AutoBatchSize.Changes, s[Counter.CompressBatchsizeChanges]);
        // The lists were sized by the controller: no batch held more folios than its largest size.
        Assert.True(s[Counter.ReclaimBatchFolios] <= 32 * s[Counter.ReclaimBatches]);
        Assert.False(double.IsNaN(tier.Reclaimer.AutoBatchSize.CostOf((int)size)), "the stores were not measured");
    }

    [Fact]
    public void AutoStaysAtOneWithACompressorThatCannotBatch()
    {
        InlineCompressor? engines = null;
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            CompressBatchSizeAuto = true,
        }, jobs => engines = new InlineCompressor(jobs));

        Assert.True(tier.Tunables.CompressBatchSizeAuto);
        Assert.Equal(1, tier.Tunables.CompressBatchSize);
        Assert.Equal([1], tier.Reclaimer.AutoBatchSize.Sizes);
        WriteAndCheck(tier, 48L << 20, seed: 6);

        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpout] > 0, "nothing went to zswap");
        Assert.Equal(s[Counter.ReclaimBatches], s[Counter.ReclaimBatchFolios]); // every batch held one folio
        Assert.Equal(1, s.Gauge("compress_batchsize"));
        Assert.Equal(1, s.Gauge("compress_batchsize_auto"));
        Assert.Equal(0, s[Counter.CompressBatchsizeChanges]);
        Assert.Equal(1, engines!.LargestCompressRun);
    }
}
