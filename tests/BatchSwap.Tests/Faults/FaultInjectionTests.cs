using BatchSwap.Access;
using BatchSwap.Faults;
using BatchSwap.MemCg;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Faults;

/// <summary>
/// After every injected fault the engine keeps working, and every page reads back exactly as written — or, only
/// when reads were made to fail, its read fails loudly (and a later read brings it back, since the copy survives).
/// </summary>
public sealed class FaultInjectionTests
{
    [Theory]
    [InlineData("swap-write=0.3", "swap-write", 0)]
    [InlineData("swap-read=0.2", "swap-read", 0)]
    [InlineData("swap-full=0.3", "swap-full", 0)]
    [InlineData("short-write=0.3", "short-write", 0)]
    [InlineData("short-read=0.2", "short-read", 0)]
    [InlineData("slow-io-us=20", "slow-io", 0)]
    [InlineData("compress=0.2", "compress", 0)]
    [InlineData("compress=0.2", "compress", 2)]
    [InlineData("pool-alloc=0.3", "pool-alloc", 0)]
    [InlineData("engine-throw=0.3", "engine-throw", 0)]
    [InlineData("swap-write=0.05,swap-read=0.05,swap-full=0.05,short-write=0.05,short-read=0.05,compress=0.05,pool-alloc=0.05,engine-throw=0.05,slow-io-us=5", "swap-write", 0)]
    public void EveryPageReadsBackAsWrittenOrFailsLoudly(string spec, string kind, int order)
    {
        FaultPlan plan = FaultPlan.Parse(spec);
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 2,
            Faults = plan,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "10" },
        });
        using Region r = tier.Allocate(40L << 20, order);
        long loud = 0;
        loud += WriteAll(r, seed: 3, plan.InjectsReadErrors);
        loud += VerifyAll(r, seed: 3, plan.InjectsReadErrors);
        // The engine keeps working: everything again, with new contents (a write faults a swapped-out page in).
        loud += WriteAll(r, seed: 4, plan.InjectsReadErrors);
        loud += VerifyAll(r, seed: 4, plan.InjectsReadErrors);

        Assert.True(tier.InjectedFaults()[kind] > 0, $"no {kind} fault was injected");
        if (plan.InjectsReadErrors) Assert.True(loud > 0, "read errors were injected but no read failed loudly");
        if (plan.EngineThrowRate > 0)
        {
            Assert.True(tier.EngineExceptionsContained > 0);
            Assert.All(tier.EngineThreads, t => Assert.True(t.IsAlive, $"{t.Name} died"));
        }
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpout] + s[Counter.Pswpout] > 0, "pages left memory");
    }

    [Fact]
    public void AThrowingEngineNeitherDiesNorHangsItsBatch()
    {
        // Every job throws once on its first try: each is contained and re-run, on every engine thread.
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 2,
            Faults = new FaultPlan { EngineThrowRate = 1.0 },
        });
        using Region r = tier.Allocate(32L << 20);
        WriteAll(r, seed: 8);
        VerifyAll(r, seed: 8, readErrors: false);
        Assert.True(tier.EngineExceptionsContained > 1000);
        Assert.All(tier.EngineThreads, t => Assert.True(t.IsAlive));
        // The re-run of a job is not injected, so nothing failed: all pages went where they would have.
        Assert.Equal(0, tier.Snapshot()[Counter.RejectCompressFail]);
        Assert.True(tier.Snapshot()[Counter.Zswpin] > 0);
    }

    [Fact]
    public void ASwapDeviceThatIsAlwaysFullKeepsPagesInMemoryUntilTheGroupIsExhausted()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Faults = new FaultPlan { SwapFullRate = 1.0 } });
        using Region r = tier.Allocate(64L << 20);
        long written = 0;
        Assert.Throws<MemoryGroupExhaustedException>(() =>
        {
            Span<byte> p = stackalloc byte[4096];
            for (long i = 0; i < r.PageCount; i++) { TestPages.Fill(p, i, 6); r.Write(i, p); written++; }
        });
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < written; i++)
        {
            TestPages.Fill(want, i, 6);
            r.Read(i, got);
            Assert.True(want.SequenceEqual(got));
        }
        Assert.True(tier.Snapshot()[Counter.SwapFull] > 0);
        Assert.Equal(0, tier.Snapshot()[Counter.Zswpout] + tier.Snapshot()[Counter.Pswpout]);
    }

    /// <summary>Writes every page; returns writes that failed loudly (a swapped-out page that could not be read in).</summary>
    internal static long WriteAll(Region r, int seed, bool readErrors = false)
    {
        Span<byte> p = stackalloc byte[4096];
        long loud = 0;
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(p, i, seed);
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    r.Write(i, p);
                    break;
                }
                catch (PageDataLostException) when (readErrors && attempt < 50)
                {
                    loud++;
                }
            }
        }
        return loud;
    }

    /// <summary>Reads every page (sequentially, then in a scattered order); returns reads that failed loudly.</summary>
    internal static long VerifyAll(Region r, int seed, bool readErrors)
    {
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        long loud = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            for (long k = 0; k < r.PageCount; k++)
            {
                long i = pass == 0 ? k : k * 7919 % r.PageCount;
                TestPages.Fill(want, i, seed);
                for (int attempt = 0; ; attempt++)
                {
                    try
                    {
                        r.Read(i, got);
                        break;
                    }
                    catch (PageDataLostException e) when (readErrors && attempt < 50)
                    {
                        Assert.Equal(i, e.Page);
                        loud++; // the copy is still on the device: a later read gets it
                    }
                }
                Assert.True(want.SequenceEqual(got), $"page {i} read back wrong");
            }
        }
        return loud;
    }
}
