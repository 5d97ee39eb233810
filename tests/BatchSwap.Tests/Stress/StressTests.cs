using BatchSwap.Faults;
using BatchSwap.Stats;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Stress;

/// <summary>The concurrency stress, bounded in time: 8 threads, one group, tunables and codec changing, faults on.</summary>
public sealed class StressTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("swap-write=0.02,swap-read=0.02,swap-full=0.02,short-write=0.02,short-read=0.02,compress=0.02,pool-alloc=0.02,engine-throw=0.02,slow-io-us=5")]
    public async Task NothingIsLostUnderConcurrencyAndFaults(string inject)
    {
        var options = new StressOptions { Seconds = 5, Threads = 8, MemoryBytes = 32L << 20, MaxRegionPages = 512, Faults = FaultPlan.Parse(inject) };
        Task<StressReport> run = Task.Run(() => BatchSwap.Workloads.Workloads.Stress.Run(options));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(3))) == run, "the stress run hung");
        StressReport report = await run;
        Assert.True(report.Passed, report.ToMarkdown());
        Assert.Equal(0, report.Mismatches);
        Assert.Equal(0, report.PagesLost);
        Assert.True(report.Operations.Values.Sum() > 1000, report.ToMarkdown());
        Assert.True(report.PagesVerified > 0);
        Assert.True(report.TunableChanges > 10);
        // The group was under pressure: pages went to zswap and to the swap file, and came back.
        Assert.True(report.Counters[Counter.Zswpout] > 0, report.ToMarkdown());
        Assert.True(report.Counters[Counter.Zswpin] + report.Counters[Counter.Pswpin] > 0, report.ToMarkdown());
        if (options.Faults.IsActive) Assert.True(report.FaultsInjected.Values.Sum() > 0, report.ToMarkdown());
        Assert.Contains("| pages lost | 0 |", report.ToMarkdown(), StringComparison.Ordinal);
    }
}
