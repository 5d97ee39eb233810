using System.Diagnostics;
using System.Globalization;
using BatchSwap.Workloads.Units;
using Spectre.Console;

namespace BatchSwap.Cli.Output;

/// <summary>
/// One line of live progress on the terminal (phase, pages done, throughput, pool size), redrawn about ten times a
/// second and cleared at the end so that the plain summary follows. Only shown when stdout is the console and a
/// terminal; tests and pipes get nothing.
/// </summary>
internal static class LiveProgress
{
    /// <summary>True when <paramref name="stdout"/> is the process's console output and that is a terminal.</summary>
    public static bool IsTerminal(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";

    /// <summary>
    /// Runs <paramref name="body"/>; when <paramref name="enabled"/>, passes it a reporter to call with
    /// (phase, pages done, pages total) from one thread, and shows the line while it runs. <paramref name="poolBytes"/> is
    /// asked for the pool size at each redraw.
    /// </summary>
    public static T Run<T>(bool enabled, string title, Func<long> poolBytes, Func<Action<string, long, long>?, T> body)
    {
        if (!enabled) return body(null);
        long start = Stopwatch.GetTimestamp();
        T result = default!;
        var text = new Markup(Markup.Escape($"{title}: starting"));
        AnsiConsole.Live(text).AutoClear(true).Overflow(VerticalOverflow.Ellipsis).Start(ctx =>
        {
            result = body((phase, done, total) =>
            {
                double s = Math.Max(1e-3, Stopwatch.GetElapsedTime(start).TotalSeconds);
                double pct = total > 0 ? 100.0 * done / total : 0;
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"[bold]{Markup.Escape(title)}[/] {Markup.Escape(phase),-8} {done,10}/{total} pages ({pct,5:F1}%)  {done * 4096.0 / (1 << 20) / s,8:F1} MiB/s  pool {ByteSize.Format(poolBytes()),10}  {s,6:F1} s");
                ctx.UpdateTarget(new Markup(line));
                ctx.Refresh();
            });
        });
        return result;
    }
}
