using BatchSwap.Stats;
using ExternalSort;

namespace BatchSwap.Tests.Samples;

/// <summary>The external-sort sample sorts more keys than its tier holds, and the tier really swapped to do it.</summary>
public sealed class ExternalSortTests
{
    [Fact]
    public void ItSortsADataSetSeveralTimesTheBudget()
    {
        var log = new StringWriter();
        // 6 Mi keys = 48 MiB, twice (input and output), in a 24 MiB tier; runs of 512 Ki keys (4 MiB).
        SortReport r = Sorter.Run(new SortOptions(6L << 20, 24L << 20, RunKeys: 512 << 10), log);
        Assert.True(r.Sorted, log.ToString());
        Assert.Equal(12, r.Runs);
        Assert.True(2 * r.Keys * 8 > 3 * r.FrameBytes, $"the data is only {2 * r.Keys * 8} bytes for {r.FrameBytes} bytes of frames");
        Assert.True(r.Counters[Counter.Zswpout] + r.Counters[Counter.Pswpout] > 0);
        Assert.True(r.Counters[Counter.Zswpin] + r.Counters[Counter.Pswpin] > 0);
        Assert.Contains("output is sorted", log.ToString());
    }
}
