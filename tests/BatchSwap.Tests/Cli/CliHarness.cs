using BatchSwap.Cli;

namespace BatchSwap.Tests.Cli;

/// <summary>Runs the batchswap CLI in-process and captures what it prints.</summary>
internal static class CliHarness
{
    /// <summary>Runs <c>batchswap <paramref name="args"/></c>; returns the exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
