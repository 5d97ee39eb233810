using BatchSwap.Access;
using BatchSwap.Faults;
using BatchSwap.MemCg;
using BatchSwap.Stats;
using Microsoft.Extensions.Logging;

namespace BatchSwap.Tests.Telemetry;

/// <summary>The tier's few log lines (TierOptions.LoggerFactory): what is logged, at which level, under which event.</summary>
public sealed class LoggingTests : IDisposable
{
    // A directory for the swap files.
    private readonly string _dir = Directory.CreateTempSubdirectory("bs-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ADirectIoFallbackIsAWarning()
    {
        var log = new CapturingLoggerFactory();
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            SwapDirectory = _dir,
            SimulateDirectIoRefusal = true,
            LoggerFactory = log,
            Name = "logged",
        });
        Assert.False(tier.SwapDirectIo);
        CapturingLoggerFactory.Line line = Assert.Single(log.Lines);
        Assert.Equal("BatchSwap", line.Category);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal(1, line.Event.Id);
        Assert.Equal("DirectIoFallback", line.Event.Name);
        Assert.Equal($"tier logged: swap device 0 (a temporary file in {_dir}) uses buffered I/O: O_DIRECT refused for a test; " +
                     "swapped pages can stay in the page cache, outside the tier's memory budget", line.Message);
    }

    [Fact]
    public void ATierThatGetsWhatItAskedForLogsNothing()
    {
        var log = new CapturingLoggerFactory();
        using (var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, SwapDirectory = _dir, SwapDirectIo = false, LoggerFactory = log }))
        using (Region r = tier.Allocate(32L << 20))
        {
            FaultInjectionTestsWriteAll(r);
        }

        Assert.Empty(log.Lines);
    }

    [Fact]
    public void FailedSwapWritesAreLoggedAsErrorsAtMostOnceASecond()
    {
        var log = new CapturingLoggerFactory();
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            SwapDirectory = _dir,
            LoggerFactory = log,
            BackgroundReclaim = false,
            Faults = new FaultPlan { SwapWriteErrorRate = 1.0 },
            Tunables = new Dictionary<string, string> { ["zswap.enabled"] = "0" },
        });
        using Region r = tier.Allocate(64L << 20);
        try
        {
            FaultInjectionTestsWriteAll(r);
        }
        catch (MemoryGroupExhaustedException)
        {
            // Every write fails, so the group may run out; the exhaustion has its own line.
        }

        long failed = tier.Snapshot()[Counter.SwapWriteFail];
        Assert.True(failed > 0);
        CapturingLoggerFactory.Line[] writes = log.Lines.Where(l => l.Event.Id == 2).ToArray();
        Assert.NotEmpty(writes);
        Assert.All(writes, l => Assert.Equal(LogLevel.Error, l.Level));
        Assert.Matches(@"^tier tier\d+: \d+ pages failed to write to a swap device \(swap_write_fail\)", writes[0].Message);
        Assert.True(writes.Length < failed, $"{writes.Length} lines for {failed} failed pages: not rate-limited");
    }

    [Fact]
    public void AnExhaustedGroupIsAnError()
    {
        var log = new CapturingLoggerFactory();
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            SwapDirectory = _dir,
            LoggerFactory = log,
            Faults = new FaultPlan { SwapFullRate = 1.0 },
        });
        MemoryGroup g = tier.CreateGroup("small", 4L << 20);
        using Region r = tier.Allocate(64L << 20, group: g);
        Assert.Throws<MemoryGroupExhaustedException>(() => FaultInjectionTestsWriteAll(r));
        CapturingLoggerFactory.Line line = Assert.Single(log.Lines, l => l.Event.Id == 4);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.StartsWith($"tier {tier.Name}: memory group 'small' is at its limit of 4 MiB", line.Message);
    }

    private static void FaultInjectionTestsWriteAll(Region r)
    {
        Span<byte> p = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(p, i, 3);
            r.Write(i, p);
        }
    }
}
