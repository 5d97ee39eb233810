using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Workloads;

/// <summary>The zipf load: skewed ranks, a scatter that is a bijection, versioned writes that reads verify.</summary>
public sealed class ZipfTests
{
    [Fact]
    public void SkewedRanksFavourTheHead()
    {
        var d = new ZipfDistribution(1000, 0.99);
        var counts = new int[1000];
        ulong x = 12345;
        for (int i = 0; i < 200_000; i++)
        {
            x = AccessPattern.XorShift64(x);
            counts[d.Rank((x >> 11) * (1.0 / (1UL << 53)))]++;
        }
        Assert.Equal(counts.Max(), counts[0]);
        Assert.True(counts[..10].Sum() > counts[500..].Sum(), "the 10 hottest ranks should outweigh the 500 coldest");
        Assert.True(counts[999] + counts[998] + counts[997] > 0, "the tail is still reached");
    }

    [Fact]
    public void ZeroSkewIsUniform()
    {
        var d = new ZipfDistribution(100, 0);
        var counts = new int[100];
        for (int i = 0; i < 100_000; i++) counts[d.Rank((i + 0.5) / 100_000)]++;
        Assert.All(counts, c => Assert.InRange(c, 900, 1100));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void ScatterIsABijection(long n)
    {
        long a = ZipfDistribution.ScatterMultiplier(n);
        var seen = new HashSet<long>();
        for (long r = 0; r < n; r++) Assert.True(seen.Add(ZipfDistribution.Scatter(r, n, a)));
    }

    [Fact]
    public void StaleVersionsDoNotMatch()
    {
        using IDisposablePageSource source = PageSourceFactory.Open(null, 1, 16);
        var page = new byte[4096];
        VersionedPage.Build(source, 1, 5, 0, page);
        Assert.True(page.AsSpan().SequenceEqual(source.GetPage(AccessPattern.FillSourcePage(1, 5, 16))));
        VersionedPage.Build(source, 1, 5, 3, page);
        Assert.True(VersionedPage.Matches(page, source, 1, 5, 3));
        Assert.False(VersionedPage.Matches(page, source, 1, 5, 2));
        Assert.False(VersionedPage.Matches(page, source, 1, 5, 0));
        Assert.False(VersionedPage.Matches(page, source, 0, 5, 3));
    }

    [Fact]
    public void ReadsSeeTheLatestWriteOverALimit()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 12L << 20, Compressor = "lz4", Engines = 1 });
        using IDisposablePageSource source = PageSourceFactory.Open(null, 1, 256);
        OpsResult r = Zipf.Run(tier, source, new ZipfOptions { Workers = 2, SizePerWorker = 12L << 20, OpsPerWorker = 20_000, Skew = 0.9, ReadRatio = 0.5 });
        Assert.Equal(0, r.Mismatches);
        Assert.Equal(40_000, r.Ops);
        Assert.Equal(r.Ops, r.Reads + r.Writes);
        Assert.InRange(r.Writes, 15_000, 25_000);
        Assert.Equal(r.Ops, r.OpLatency.Count);
        Assert.True(r.Counters[BatchSwap.Stats.Counter.Zswpout] > 0);
    }

    [Theory]
    [InlineData(1.0, 0.9)]
    [InlineData(-0.1, 0.9)]
    [InlineData(0.5, 1.5)]
    public void BadSkewOrRatioIsRefused(double skew, double reads) =>
        Assert.Throws<ArgumentException>(() => new ZipfOptions { Skew = skew, ReadRatio = reads }.Validate());
}
