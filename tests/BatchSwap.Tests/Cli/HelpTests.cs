
namespace BatchSwap.Tests.Cli;

/// <summary>--help of the root and of every command exits 0 and shows defaults.</summary>
public sealed class HelpTests
{
    [Theory]
    [InlineData("usemem", "[default: 256MiB]")]
    [InlineData("sweep", "[default: 1,2,4,8,16,32]")]
    [InlineData("zipf", "[default: 0.99]")]
    [InlineData("replay", "--trace")]
    [InlineData("capture", "--pid")]
    [InlineData("stat", "--run-usemem")]
    [InlineData("stress", "--inject")]
    public void EveryCommandHasHelpWithDefaults(string command, string mustShow)
    {
        (int code, string o, _) = CliHarness.Run(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains(mustShow, o);
        (code, string root, _) = CliHarness.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains(command, root);
    }
}
