using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Workloads;

/// <summary>usemem times the passes' accesses to pages that were swapped out, and reports ordered percentiles.</summary>
public sealed class FaultLatencyTests
{
    [Fact]
    public void PassesOverALimitTimeFaults()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 12L << 20, Compressor = "lz4", Engines = 1 });
        using IDisposablePageSource source = PageSourceFactory.Open(null, 1, 256);
        UsememResult r = Usemem.Run(tier, source, new UsememOptions { Workers = 2, SizePerWorker = 12L << 20, Passes = 1 });
        Assert.Equal(0, r.Mismatches);
        LatencySummary f = r.FaultLatency;
        Assert.True(f.Count > 0, "no fault was timed");
        Assert.True(f.Count <= 2 * (12L << 20) / 4096);
        Assert.True(f.P50 <= f.P90 && f.P90 <= f.P99 && f.P99 <= f.P999 && f.P999 <= f.Max);
    }

    [Fact]
    public void MergeAddsWorkersAndEmptyIsZero()
    {
        Assert.Equal(0, new LatencyHistogram().Summarize().Count);
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        for (int i = 1; i <= 100; i++) a.Record(i * 1000);
        b.Record(1_000_000);
        LatencySummary s = LatencyHistogram.Merge([a, b]).Summarize();
        Assert.Equal(101, s.Count);
        Assert.True(s.Max >= s.P99 && s.P99 >= s.P50 && s.P50 > 0);
    }
}
