using System.Diagnostics;
using System.Globalization;
using BatchSwap.Benchmarks.Benchmarks;
using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression.Codecs;

namespace BatchSwap.Benchmarks.Reports;

/// <summary>
/// <c>--targets [rounds]</c>: issue 3's targets (a) and (b) measured as ratios of variants run interleaved — every round
/// runs each variant for a short slice, one after the other — so that a shared machine's load, which drifts over
/// seconds, weighs on all variants alike. Per round it records wall and process CPU time per page; the report gives
/// the median over rounds of each ratio. Runs the same benchmark bodies as BenchmarkDotNet; markdown output.
/// </summary>
internal static class InterleavedTargets
{
    /// <summary>Length of one variant's slice in a round (<c>--targets rounds slice-ms</c>; 25 ms by default).</summary>
    private static TimeSpan s_slice = TimeSpan.FromMilliseconds(25);

    /// <summary>Runs the report over every page set present and every codec.</summary>
    public static void Run(int rounds, TextWriter output, double sliceMs = 25)
    {
        s_slice = TimeSpan.FromMilliseconds(sliceMs);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Interleaved rounds: {rounds}, {s_slice.TotalMilliseconds} ms per variant per round; ratios are medians over rounds of per-round ratios."));
        output.WriteLine();
        output.WriteLine("| Set | Codec | codec 1 thread ns/page (wall / CPU) | CpuEngines(1) b32 (wall / CPU) | CpuEngines(2) b32 (wall / CPU) | (a) engines(1) / (2×single) ≥ 0.9 | (a) engines(2) / (2×single) ≥ 0.9 | one at a time ns/page (wall / CPU) | b32 via engines(1) | b32 via engines(2) | (b) e(1) b32 / one ≤ 0.55 | (b) e(2) b32 / one ≤ 0.55 |");
        output.WriteLine("|---|---|---:|---:|---:|---|---|---:|---:|---:|---|---|");
        foreach (string set in PageSets.Available())
        {
            foreach (string codec in CodecRegistry.Names)
            {
                var thr = new BatchThroughputBenchmarks { Codec = codec, Source = set };
                var one = new BatchLatencyBenchmarks { Codec = codec, Batch = 0, Engines = 1 };
                var b32e1 = new BatchLatencyBenchmarks { Codec = codec, Batch = 32, Engines = 1 };
                var b32e2 = new BatchLatencyBenchmarks { Codec = codec, Batch = 32, Engines = 2 };
                thr.Setup();
                one.Setup();
                b32e1.Setup();
                b32e2.Setup();
                try
                {
                    (Func<long> Body, int Pages)[] variants =
                    [
                        (thr.CodecSingleThread, BatchThroughputBenchmarks.Pages),
                        (thr.Engines1Batch32, BatchThroughputBenchmarks.Pages),
                        (thr.Engines2Batch32, BatchThroughputBenchmarks.Pages),
                        (one.StorePages, BatchLatencyBenchmarks.Pages),
                        (b32e1.StorePages, BatchLatencyBenchmarks.Pages),
                        (b32e2.StorePages, BatchLatencyBenchmarks.Pages),
                    ];
                    var wall = new double[variants.Length][];
                    var cpu = new double[variants.Length][];
                    for (int v = 0; v < variants.Length; v++)
                    {
                        wall[v] = new double[rounds];
                        cpu[v] = new double[rounds];
                        Slice(variants[v].Body, variants[v].Pages, TimeSpan.FromMilliseconds(200)); // warm-up
                    }

                    for (int r = 0; r < rounds; r++)
                    {
                        for (int v = 0; v < variants.Length; v++)
                        {
                            (wall[v][r], cpu[v][r]) = Slice(variants[v].Body, variants[v].Pages, s_slice);
                        }
                    }

                    double a1 = MedianRatio(wall[0], wall[1], 0.5), a2 = MedianRatio(wall[0], wall[2], 0.5);
                    double b1 = MedianRatio(wall[4], wall[3], 1), b2 = MedianRatio(wall[5], wall[3], 1);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {set} | {codec} | {Medians.Of(wall[0]):F0} / {Medians.Of(cpu[0]):F0} | {Medians.Of(wall[1]):F0} / {Medians.Of(cpu[1]):F0} | {Medians.Of(wall[2]):F0} / {Medians.Of(cpu[2]):F0} | {Verdict(a1 >= 0.9, a1)} | {Verdict(a2 >= 0.9, a2)} | {Medians.Of(wall[3]):F0} / {Medians.Of(cpu[3]):F0} | {Medians.Of(wall[4]):F0} / {Medians.Of(cpu[4]):F0} | {Medians.Of(wall[5]):F0} / {Medians.Of(cpu[5]):F0} | {Verdict(b1 <= 0.55, b1)} | {Verdict(b2 <= 0.55, b2)} |"));
                    output.Flush();
                }
                finally
                {
                    thr.Cleanup();
                    one.Cleanup();
                    b32e1.Cleanup();
                    b32e2.Cleanup();
                }
            }
        }
    }

    private static string Verdict(bool pass, double value) => string.Create(CultureInfo.InvariantCulture, $"{(pass ? "PASS" : "FAIL")} ({value:F2})");

    /// <summary>Median over rounds of numerator[r] × scale / denominator[r].</summary>
    private static double MedianRatio(double[] numerator, double[] denominator, double scale) =>
        Medians.Of(numerator.Zip(denominator, (n, d) => n * scale / d).ToArray());

    /// <summary>Runs a body for about <paramref name="length"/>; returns wall and process CPU ns per page.</summary>
    private static (double Wall, double Cpu) Slice(Func<long> body, int pagesPerCall, TimeSpan length)
    {
        long sink = 0, calls = 0;
        TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
        long t0 = Stopwatch.GetTimestamp();
        long end = t0 + (long)(length.TotalSeconds * Stopwatch.Frequency);
        long now;
        do
        {
            sink += body();
            calls++;
            now = Stopwatch.GetTimestamp();
        }
        while (now < end);

        double cpu = (Environment.CpuUsage.TotalTime - cpu0).TotalNanoseconds;
        GC.KeepAlive(sink);
        long pages = calls * pagesPerCall;
        return (Stopwatch.GetElapsedTime(t0, now).TotalNanoseconds / pages, cpu / pages);
    }
}
