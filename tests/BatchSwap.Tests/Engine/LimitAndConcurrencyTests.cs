using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

public sealed class LimitAndConcurrencyTests
{
    [Fact]
    public void ResidentPlusPoolNeverExceedsTheLimit()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 24L << 20, Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "60" } });
        MemoryGroup g = tier.CreateGroup("capped", 10L << 20);
        using Region r = tier.Allocate(40L << 20, group: g);
        Span<byte> page = stackalloc byte[4096];
        long maxSeen = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            for (long i = 0; i < r.PageCount; i++)
            {
                TestPages.Fill(page, i, 9);
                if (pass == 0) r.Write(i, page); else r.Read(i, page);
                maxSeen = Math.Max(maxSeen, g.ChargedBytes);
            }
        }
        Assert.True(g.PeakChargedBytes <= g.LimitBytes, $"peak {g.PeakChargedBytes} over limit {g.LimitBytes}");
        Assert.True(maxSeen <= g.LimitBytes);
        Assert.True(g.PeakChargedBytes > g.LimitBytes / 2, "the group was really used up to its limit");
        Assert.True(g.PoolChargedBytes > 0, "the pool is charged to the group");
        Assert.True(tier.Snapshot()[Counter.Zswpout] > 0);
    }

    [Fact]
    public void TwoGroupsKeepTheirOwnLimits()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 32L << 20 });
        MemoryGroup a = tier.CreateGroup("a", 8L << 20), b = tier.CreateGroup("b", 12L << 20);
        using Region ra = tier.Allocate(24L << 20, group: a);
        using Region rb = tier.Allocate(24L << 20, group: b);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < ra.PageCount; i++)
        {
            TestPages.Fill(page, i, 1); ra.Write(i, page);
            TestPages.Fill(page, i, 2); rb.Write(i, page);
        }
        Assert.True(a.PeakChargedBytes <= a.LimitBytes);
        Assert.True(b.PeakChargedBytes <= b.LimitBytes);
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < ra.PageCount; i++)
        {
            TestPages.Fill(page, i, 1); ra.Read(i, got); Assert.True(page.SequenceEqual(got));
            TestPages.Fill(page, i, 2); rb.Read(i, got); Assert.True(page.SequenceEqual(got));
        }
    }

    [Theory]
    [InlineData(4, 1, 1, 0)]
    [InlineData(4, 2, 2, 0)]
    [InlineData(3, 1, 1, 3)]
    public void SeveralWorkersShareOneGroup(int workers, int nodes, int devices, int order)
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 32L << 20,
            Nodes = nodes,
            SwapDevices = Enumerable.Range(0, devices).Select(_ => new SwapDeviceOptions()).ToArray(),
        });
        var regions = Enumerable.Range(0, workers).Select(_ => tier.Allocate(24L << 20, order)).ToArray();
        long bad = 0;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            Region r = regions[w];
            var page = new byte[4096];
            var got = new byte[4096];
            for (long i = 0; i < r.PageCount; i++) { TestPages.Fill(page, i, w + 100); r.Write(i, page); }
            for (int pass = 0; pass < 2; pass++)
            {
                ulong x = 88172645463325252UL + (ulong)w;
                for (long k = 0; k < r.PageCount; k++)
                {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    long i = pass == 0 ? k : (long)(x % (ulong)r.PageCount);
                    TestPages.Fill(page, i, w + 100);
                    r.Read(i, got);
                    if (!page.AsSpan().SequenceEqual(got)) Interlocked.Increment(ref bad);
                }
            }
        });
        Assert.Equal(0, bad);
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpout] > 0);
        Assert.True(tier.DefaultGroup.PeakChargedBytes <= tier.DefaultGroup.LimitBytes);
        foreach (Region r in regions) r.Dispose();
        // Everything freed: no pages resident or charged but nothing, no entries, no slots.
        CounterSnapshot end = tier.Snapshot();
        Assert.Equal(0, end.Gauge("stored_pages"));
        Assert.Equal(0, end.Gauge("swap_used_pages"));
        Assert.Equal(0, end.Gauge("resident_pages"));
        Assert.Equal(0, tier.DefaultGroup.ChargedBytes);
    }

    [Fact]
    public void PinnedPagesAreNeverReclaimed()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20 });
        using Region r = tier.Allocate(48L << 20);
        Span<byte> page = stackalloc byte[4096];
        TestPages.Fill(page, 0, 4);
        r.Write(0, page);
        using (PageLease lease = r.Pin(0))
        {
            for (long i = 1; i < r.PageCount; i++) { TestPages.Fill(page, i, 4); r.Write(i, page); }
            Assert.True(r.IsResident(0));
            TestPages.Fill(page, 0, 4);
            Assert.True(lease.Span.SequenceEqual(page));
        }
        Assert.True(tier.Snapshot()[Counter.Pgsteal] > 0);
    }

    [Fact]
    public void MisuseThrowsClearly()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 8L << 20 });
        Region r = tier.Allocate(1L << 20);
        var buf = new byte[4096];
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Read(256, buf));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Read(0, buf, offset: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Read(-1, buf));
        r.Dispose();
        r.Dispose(); // a second dispose does nothing
        Assert.Throws<ObjectDisposedException>(() => r.Read(0, buf));
        Assert.Throws<ArgumentOutOfRangeException>(() => tier.Allocate(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => tier.Allocate(4096, order: 10));
    }
}
