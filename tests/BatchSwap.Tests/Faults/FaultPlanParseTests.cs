using BatchSwap.Faults;

namespace BatchSwap.Tests.Faults;

/// <summary>The text form of a fault plan (<c>--inject</c>): every key, and clear errors for anything else.</summary>
public sealed class FaultPlanParseTests
{
    [Fact]
    public void ParsesEveryKey()
    {
        FaultPlan p = FaultPlan.Parse("swap-write=0.01, swap-read=0.02,swap-full=0.03,short-write=0.04,short-read=0.05,compress=0.06,pool-alloc=0.07,engine-throw=0.08,slow-io-us=50,compress-marker=0xBADC0DE5BADC0DE5,seed=9");
        Assert.Equal(0.01, p.SwapWriteErrorRate);
        Assert.Equal(0.02, p.SwapReadErrorRate);
        Assert.Equal(0.03, p.SwapFullRate);
        Assert.Equal(0.04, p.ShortWriteRate);
        Assert.Equal(0.05, p.ShortReadRate);
        Assert.Equal(0.06, p.CompressFailRate);
        Assert.Equal(0.07, p.PoolAllocFailRate);
        Assert.Equal(0.08, p.EngineThrowRate);
        Assert.Equal(50, p.SlowIoMicros);
        Assert.Equal(0xBADC0DE5BADC0DE5UL, p.CompressFailMarker);
        Assert.Equal(9, p.Seed);
        Assert.True(p.IsActive);
        Assert.True(p.InjectsReadErrors);
        Assert.Equal(p, FaultPlan.Parse(p.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("none")]
    public void EmptyIsNone(string text)
    {
        Assert.Same(FaultPlan.None, FaultPlan.Parse(text));
        Assert.Equal("none", FaultPlan.None.ToString());
    }

    [Theory]
    [InlineData("swap-write=1.5", "swap-write must be a probability in [0, 1]")]
    [InlineData("swap-write=-0.1", "[0, 1]")]
    [InlineData("compress=abc", "compress must be a probability in [0, 1], got 'abc'")]
    [InlineData("compress=NaN", "[0, 1]")]
    [InlineData("slow-io-us=-1", "slow-io-us must be an integer number of microseconds in [0, 1000000]")]
    [InlineData("slow-io-us=2000000", "[0, 1000000]")]
    [InlineData("slow-io-us=1.5", "[0, 1000000]")]
    [InlineData("disk-on-fire=1", "unknown fault 'disk-on-fire'; accepted: swap-write=RATE")]
    [InlineData("swap-write", "is not key=value; accepted:")]
    [InlineData("swap-write=", "is not key=value")]
    [InlineData("=0.1", "is not key=value")]
    [InlineData("swap-write=0.1,,compress=0.1", "is not key=value")]
    [InlineData("swap-write=0.1,swap-write=0.2", "given twice")]
    [InlineData("compress-marker=xyz", "compress-marker must be a 64-bit hexadecimal value")]
    [InlineData("compress-marker=0x11112222333344445", "64-bit")]
    [InlineData("seed=x", "seed must be an integer")]
    public void RefusesBadTextNamingWhatIsAccepted(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => FaultPlan.Parse(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKeyListsEveryAcceptedKey()
    {
        var e = Assert.Throws<FormatException>(() => FaultPlan.Parse("x=1"));
        foreach (string key in new[] { "swap-write", "swap-read", "swap-full", "short-write", "short-read", "compress", "pool-alloc", "engine-throw", "slow-io-us", "compress-marker", "seed" })
            Assert.Contains(key + "=", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATierRefusesAnOutOfRangePlan()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Faults = new FaultPlan { SlowIoMicros = -5 } }));
        Assert.Contains("[0, 1000000]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Faults = new FaultPlan { EngineThrowRate = 2 } }));
        Assert.Contains("EngineThrowRate must be in [0, 1]", e.Message, StringComparison.Ordinal);
    }
}
