using System.CommandLine;
using BatchSwap.Cli.Commands;

namespace BatchSwap.Cli;

/// <summary>The batchswap command line.</summary>
public static class Program
{
    /// <summary>Exit code for bad input.</summary>
    public const int UsageError = 2;

    /// <summary>Runs the command line; returns the exit code.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with the given output streams (used by tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("batchswap: a compressed memory tier (user-space zswap with reclaim batching) and its workloads")
        {
            UsememCommand.Create(stdout, stderr),
            SweepCommand.Create(stdout, stderr),
            OpsCommands.CreateZipf(stdout, stderr),
            OpsCommands.CreateReplay(stdout, stderr),
            CaptureCommand.Create(stdout, stderr),
            PagesCommand.Create(stdout, stderr),
            StatCommand.Create(stdout, stderr),
            StressCommand.Create(stdout, stderr),
        };
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            stderr.WriteLine($"batchswap: {parse.Errors[0].Message} (see --help)");
            return UsageError;
        }
        return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }
}
