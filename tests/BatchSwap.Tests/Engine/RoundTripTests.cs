using BatchSwap.Access;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

public sealed class RoundTripTests
{
    private static MemoryTier NewTier(long memory = 16L << 20, int batch = 32, int engines = 2, int nodes = 1, int devices = 1,
        Dictionary<string, string>? tunables = null) =>
        new(new TierOptions
        {
            MemoryBytes = memory,
            CompressBatchSize = batch,
            Engines = engines,
            Nodes = nodes,
            SwapDevices = Enumerable.Range(0, devices).Select(_ => new SwapDeviceOptions()).ToArray(),
            Tunables = tunables ?? new Dictionary<string, string>(),
        });

    private static void WriteAll(Region r, int seed, bool sequential = true)
    {
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            long p = sequential ? i : (i * 7919) % r.PageCount;
            TestPages.Fill(page, p, seed);
            r.Write(p, page);
        }
    }

    private static int CountMismatches(Region r, int seed, bool sequential = true)
    {
        Span<byte> expect = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        int bad = 0;
        for (long i = 0; i < r.PageCount; i++)
        {
            long p = sequential ? i : (i * 104729) % r.PageCount;
            TestPages.Fill(expect, p, seed);
            r.Read(p, got);
            if (!got.SequenceEqual(expect)) bad++;
        }
        return bad;
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(0, false)]
    [InlineData(2, true)]
    [InlineData(4, false)]
    [InlineData(9, true)]
    public void EveryPageReadsBackAsWritten(int order, bool sequential)
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(64L << 20, order);
        WriteAll(r, seed: 7, sequential);
        Assert.Equal(0, CountMismatches(r, 7, sequential));
        Assert.Equal(0, CountMismatches(r, 7, !sequential));
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpout] > 0);
        Assert.True(s[Counter.Zswpin] > 0);
    }

    [Fact]
    public void RoundTripWithZswapOff()
    {
        using MemoryTier tier = NewTier(tunables: new() { ["zswap.enabled"] = "N" });
        using Region r = tier.Allocate(48L << 20);
        WriteAll(r, 3);
        Assert.Equal(0, CountMismatches(r, 3));
        CounterSnapshot s = tier.Snapshot();
        Assert.Equal(0, s[Counter.Zswpout]);
        Assert.True(s[Counter.Pswpout] > 0);
        Assert.True(s[Counter.Pswpin] > 0);
    }
}
