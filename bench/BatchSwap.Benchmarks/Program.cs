using BatchSwap.Benchmarks.Config;
using BatchSwap.Benchmarks.Data;
using BatchSwap.Benchmarks.Reports;
using BenchmarkDotNet.Running;

namespace BatchSwap.Benchmarks;

/// <summary>
/// Entry point. Every argument goes to BenchmarkDotNet (<c>--filter '*'</c>, <c>--list flat</c>, ...) except:
/// <list type="bullet">
/// <item><description><c>--quick</c>: the short job (3 warm-ups, 7 iterations of 150 ms, one launch): minutes, not hours.</description></item>
/// <item><description><c>--cpu-report [seconds]</c>: no BenchmarkDotNet; prints wall and CPU time per page and the exact
/// bytes allocated per page for the codec and engine paths (markdown), then exits.</description></item>
/// <item><description><c>--targets [rounds [slice-ms]]</c>: no BenchmarkDotNet; issue 3's targets (a) and (b) as medians of ratios of
/// variants run interleaved in short slices (robust to a shared machine's drifting load), then exits.</description></item>
/// <item><description><c>--dispatch [rounds [slice-ms]]</c>: no BenchmarkDotNet; the engines' own cost per run (zero-page jobs,
/// no codec) against the same jobs inline, with and without a gap between runs, interleaved; then exits.</description></item>
/// <item><description><c>--jitter [seconds]</c>: no BenchmarkDotNet; the latency tail this machine alone gives a short operation
/// (lz4 page decompresses timed one by one, warm cache), the floor under a fault-in latency tail; then exits.</description></item>
/// <item><description><c>--scaling [seconds [rounds]]</c>: no BenchmarkDotNet; each codec compressed by one free-running thread,
/// then by one per core at once: the hardware's own ceiling for target (a); then exits.</description></item>
/// <item><description><c>--codec-backends [rounds]</c>: no BenchmarkDotNet; the implementations behind zstd (native, managed)
/// and deflate (system zlib) per page, interleaved; then exits.</description></item>
/// </list>
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        // Child processes that BenchmarkDotNet starts must find the same page images as the host.
        if (PageSets.ImageDirectory is not null) Environment.SetEnvironmentVariable(PageSets.DirectoryVariable, PageSets.ImageDirectory);

        int report = Array.IndexOf(args, "--cpu-report");
        if (report >= 0)
        {
            CpuTimeReport.Run(PositiveDouble(args, report + 1, 1.0), Console.Out);
            return 0;
        }

        int targets = Array.IndexOf(args, "--targets");
        if (targets >= 0)
        {
            InterleavedTargets.Run(PositiveInt(args, targets + 1, 40), Console.Out, PositiveDouble(args, targets + 2, 25));
            return 0;
        }

        int dispatch = Array.IndexOf(args, "--dispatch");
        if (dispatch >= 0)
        {
            DispatchReport.Run(PositiveInt(args, dispatch + 1, 20), Console.Out, PositiveDouble(args, dispatch + 2, 25));
            return 0;
        }

        int jitter = Array.IndexOf(args, "--jitter");
        if (jitter >= 0)
        {
            JitterReport.Run(PositiveDouble(args, jitter + 1, 3.0), Console.Out);
            return 0;
        }

        int scaling = Array.IndexOf(args, "--scaling");
        if (scaling >= 0)
        {
            ScalingReport.Run(PositiveDouble(args, scaling + 1, 0.5), PositiveInt(args, scaling + 2, 5), Console.Out);
            return 0;
        }

        int backends = Array.IndexOf(args, "--codec-backends");
        if (backends >= 0)
        {
            CodecBackendReport.Run(PositiveInt(args, backends + 1, 7), Console.Out);
            return 0;
        }

        bool quick = args.Contains("--quick");
        string[] rest = args.Where(a => a != "--quick").ToArray();
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, BenchConfig.Create(quick));
        return 0;
    }

    /// <summary>The positive whole number at <paramref name="index"/> of the arguments, or <paramref name="fallback"/>.</summary>
    private static int PositiveInt(string[] args, int index, int fallback) =>
        index < args.Length && int.TryParse(args[index], out int v) && v > 0 ? v : fallback;

    /// <summary>The positive number at <paramref name="index"/> of the arguments (invariant culture), or <paramref name="fallback"/>.</summary>
    private static double PositiveDouble(string[] args, int index, double fallback) =>
        index < args.Length && double.TryParse(args[index], System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 ? v : fallback;
}
