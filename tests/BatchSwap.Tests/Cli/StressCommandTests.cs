
namespace BatchSwap.Tests.Cli;

/// <summary><c>batchswap stress</c>: a short run prints the report and passes; bad options are one line, exit 2.</summary>
public sealed class StressCommandTests
{
    [Fact]
    public void ShortRunWithFaultsPrintsTheReportAndPasses()
    {
        (int code, string o, string err) = CliHarness.Run("stress", "--seconds", "1", "--threads", "3", "--memory", "16MiB", "--max-region-pages", "256",
            "--inject", "swap-read=0.05,compress=0.05,engine-throw=0.05", "--quiet");
        Assert.True(code == 0, o + err);
        Assert.Contains("| pages lost | 0 |", o);
        Assert.Contains("| mismatches | 0 |", o);
        Assert.Contains("PASS:", o);
        Assert.Equal("", err);
    }

    [Fact]
    public void UsememTakesInjectAndStillReadsEveryPageBack()
    {
        (int code, string o, string err) = CliHarness.Run("usemem", "--workers", "1", "--size", "24MiB", "--limit", "12MiB", "--passes", "2",
            "--inject", "compress=0.2,swap-write=0.1", "--quiet");
        Assert.True(code == 0, o + err);
        Assert.Contains("mismatches 0", o);
    }

    [Fact]
    public void ARunThatNeverSwappedFailsAndSaysWhy()
    {
        // One thread, regions of one page, a 64 MiB tier: nothing ever needs reclaiming.
        (int code, string o, _) = CliHarness.Run("stress", "--seconds", "0.3", "--threads", "1", "--memory", "64MiB", "--max-region-pages", "1", "--quiet");
        Assert.Equal(1, code);
        Assert.DoesNotContain("PASS", o);
        Assert.Contains("FAIL:", o);
        Assert.Contains("never under pressure", o);
        Assert.Contains("| mismatches | 0 |", o);
    }

    [Theory]
    [InlineData("--seconds", "0", "--seconds must be in (0, 86400]")]
    [InlineData("--threads", "0", "--threads must be in [1, 256]")]
    [InlineData("--memory", "1MiB", "--memory must be at least")]
    [InlineData("--inject", "swap-write=x", "swap-write")]
    public void BadOptionsAreOneLineAndExitCode2(string option, string value, string mustMention)
    {
        (int code, _, string err) = CliHarness.Run("stress", option, value, "--quiet");
        Assert.Equal(2, code);
        Assert.Contains(mustMention, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }
}
