using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Tunables;

namespace BatchSwap.Tests.Engine;

/// <summary>vm.compress-batchsize is capped to what the compression engines can batch, and reads back the value in force.</summary>
public sealed class BatchLimitTests
{
    [Fact]
    public void ACompressorThatCannotBatchCapsTheBatchSizeAtOne()
    {
        InlineCompressor? engines = null;
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            CompressBatchSize = 32,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
        }, jobs => engines = new InlineCompressor(jobs));

        Assert.Equal(1, tier.Tunables.CompressBatchSizeLimit);
        Assert.Equal(1, tier.Tunables.CompressBatchSize);
        tier.Tunables.Set("vm.compress-batchsize", "32");
        Assert.Equal("1", tier.Tunables.Get("vm.compress-batchsize"));
        tier.Tunables.CompressBatchSize = 16;
        Assert.Equal(1, tier.Tunables.CompressBatchSize);
        // Out of range is still refused, whatever the engines.
        Assert.Throws<TunableException>(() => tier.Tunables.Set("vm.compress-batchsize", "33"));
        Assert.Equal(1, tier.Tunables.CompressBatchSize);

        using Region r = tier.Allocate(48L << 20);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed: 3);
            r.Write(i, page);
        }
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed: 3);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }

        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpout] > 0, "nothing went to zswap");
        Assert.True(s[Counter.ReclaimBatches] > 0);
        Assert.Equal(s[Counter.ReclaimBatches], s[Counter.ReclaimBatchFolios]); // every batch held one folio
        Assert.Equal(1, s.Gauge("compress_batchsize"));
        Assert.True(engines!.Runs > 0, "the tier did not use the given engines");
        Assert.Equal(1, engines.LargestCompressRun); // order-0 folios, one a batch: one page a run
    }

    [Fact]
    public void TheCpuEnginesBatchUpToTheMaximum()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Engines = 1 });
        Assert.Equal(TunableSet.MaxCompressBatchSize, tier.Tunables.CompressBatchSizeLimit);
        tier.Tunables.Set("vm.compress-batchsize", "32");
        Assert.Equal(32, tier.Tunables.CompressBatchSize);
    }
}
