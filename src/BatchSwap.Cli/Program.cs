using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using BatchSwap.Cli.Commands;

namespace BatchSwap.Cli;

/// <summary>The batchswap command line.</summary>
public static partial class Program
{
    /// <summary>Exit code for bad input.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code of a run stopped by Ctrl-C (SIGINT): 128 + 2, as a shell reports it.</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code of a run stopped by SIGTERM: 128 + 15.</summary>
    public const int Terminated = 143;

    /// <summary>
    /// Runs the command line; returns the exit code. The first SIGINT or SIGTERM stops the run cleanly (workers end,
    /// the tier and its files go, what was measured so far is printed) with exit code 130 or 143; a second one ends the
    /// process at once.
    /// </summary>
    public static int Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        int signalled = 0; // the exit code of the first signal, 0 before one
        void OnSignal(PosixSignalContext ctx)
        {
            int exit = ctx.Signal == PosixSignal.SIGTERM ? Terminated : Interrupted;
            if (Interlocked.CompareExchange(ref signalled, exit, 0) != 0) return; // the second: the default action, at once
            ctx.Cancel = true;
            Console.Error.WriteLine($"batchswap: {(ctx.Signal == PosixSignal.SIGINT ? "interrupted" : "terminated")}; stopping the run (again to quit at once)");
            stop.Cancel();
        }
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        int code = Run(args, Console.Out, Console.Error, stop.Token);
        int signal = Volatile.Read(ref signalled);
        return signal != 0 ? signal : code;
    }

    /// <summary>
    /// Runs the command line with the given output streams (used by tests). When <paramref name="cancel"/> is signalled a
    /// running workload stops, prints what it measured and the command returns <see cref="Interrupted"/>.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel = default)
    {
        RootCommand root = CreateRoot(stdout, stderr);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            stderr.WriteLine($"batchswap: {ParseErrorMessage(root, args, parse.Errors[0].Message)} (see --help)");
            return UsageError;
        }
        // No ProcessTerminationTimeout: Main handles the signals, so that a run ends by its own clean path.
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null };
        return parse.InvokeAsync(config, cancel).GetAwaiter().GetResult();
    }

    /// <summary>The root command with every subcommand.</summary>
    internal static RootCommand CreateRoot(TextWriter stdout, TextWriter stderr) =>
        new("batchswap: a compressed memory tier (user-space zswap with reclaim batching) and its workloads")
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

    /// <summary>
    /// A parse error as the user should read it: an unknown command names itself and lists the commands, and a value
    /// that does not parse says what was expected in words rather than as a .NET type name.
    /// </summary>
    internal static string ParseErrorMessage(RootCommand root, string[] args, string message)
    {
        if (args.Length > 0 && !args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]))
            return $"unknown command '{args[0]}'; the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))}";
        Match bad = BadValue().Match(message);
        if (bad.Success) return $"{bad.Groups["option"].Value}: '{bad.Groups["value"].Value}' is not {Describe(bad.Groups["type"].Value)}";
        return TypeName().Replace(message, m => "expected " + Describe(m.Groups["type"].Value));
    }

    private static string Describe(string typeName) => typeName switch
    {
        "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" or "System.Byte" => "a whole number",
        "System.Double" or "System.Single" or "System.Decimal" => "a number",
        "System.Boolean" => "true or false",
        _ => "a value of another kind",
    };

    // "Cannot parse argument 'two' for option '--workers' as expected type 'System.Int32'." (System.CommandLine's wording).
    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[\w.`\[\], ]+)'\.?$")]
    private static partial Regex BadValue();

    // "… as expected type 'System.Int32'" in any other message, with the type captured.
    [GeneratedRegex(@"as expected type '(?<type>[\w.`\[\], ]+)'")]
    private static partial Regex TypeName();
}
