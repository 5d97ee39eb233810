using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BatchSwap.Benchmarks.Benchmarks;
using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression.Codecs;

namespace BatchSwap.Benchmarks.Reports;

/// <summary>
/// <c>--cpu-report</c>: runs the throughput and codec benchmark bodies directly (no BenchmarkDotNet) for a fixed time
/// each and prints, per mode, wall time and process CPU time per page, the cores kept busy (CPU / wall), and the exact
/// managed bytes allocated per page (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, precise, all threads) — a check of
/// the memory diagnoser's rounded "0 B" that cannot hide a few bytes per invocation. Output is markdown.
/// </summary>
internal static class CpuTimeReport
{
    /// <summary>Runs the report; <paramref name="seconds"/> is the measured time per mode.</summary>
    public static void Run(double seconds, TextWriter output)
    {
        output.WriteLine(MachineDescription());
        output.WriteLine();
        output.WriteLine("| Set | Codec | Mode | wall ns/page | MB/s | CPU ns/page | cores busy | alloc B/page (total B / pages) |");
        output.WriteLine("|---|---|---|---:|---:|---:|---:|---|");
        foreach (string set in PageSets.Available())
        {
            foreach (string codec in CodecRegistry.Names)
            {
                var codecBench = new CodecBenchmarks { Codec = codec, Source = set };
                var throughput = new BatchThroughputBenchmarks { Codec = codec, Source = set };
                codecBench.Setup();
                throughput.Setup();
                try
                {
                    (string Mode, int Pages, Func<long> Body)[] modes =
                    [
                        ("codec compress, 1 thread", CodecBenchmarks.Pages, codecBench.Compress),
                        ("codec decompress, 1 thread", CodecBenchmarks.Pages, () => codecBench.Decompress()),
                        ("codec compress, all cores (Parallel.For)", BatchThroughputBenchmarks.Pages, throughput.CodecAllCores),
                        ("PageWork compress, 1 thread", BatchThroughputBenchmarks.Pages, throughput.PageWorkSingleThread),
                        ("CpuEngines(1) compress, batch 32", BatchThroughputBenchmarks.Pages, throughput.Engines1Batch32),
                        ("CpuEngines(2) compress, batch 32", BatchThroughputBenchmarks.Pages, throughput.Engines2Batch32),
                        ("CpuEngines(1) decompress, batch 32", BatchThroughputBenchmarks.Pages, () => throughput.Engines1DecompressBatch32()),
                    ];
                    foreach ((string mode, int pages, Func<long> body) in modes)
                    {
                        Measurement m = Measure(body, pages, seconds);
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"| {set} | {codec} | {mode} | {m.WallNsPerPage:F0} | {4096 / m.WallNsPerPage * 1000:F0} | {m.CpuNsPerPage:F0} | {m.CpuNsPerPage / m.WallNsPerPage:F2} | {(double)m.AllocatedBytes / m.Pages:F3} ({m.AllocatedBytes} / {m.Pages}) |"));
                        output.Flush();
                    }
                }
                finally
                {
                    codecBench.Cleanup();
                    throughput.Cleanup();
                }
            }
        }
    }

    /// <summary>One mode's totals.</summary>
    private readonly record struct Measurement(long Pages, double WallNsPerPage, double CpuNsPerPage, long AllocatedBytes);

    /// <summary>Warms a body up (JIT tiers, engine contexts), then runs it for <paramref name="seconds"/>.</summary>
    private static Measurement Measure(Func<long> body, int pagesPerCall, double seconds)
    {
        long sink = 0;
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Max(0.3, seconds / 2)) sink += body();

        long calls = 0;
        long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
        long t0 = Stopwatch.GetTimestamp();
        long deadline = t0 + (long)(seconds * Stopwatch.Frequency);
        long now;
        do
        {
            for (int i = 0; i < 8; i++) sink += body();
            calls += 8;
            now = Stopwatch.GetTimestamp();
        }
        while (now < deadline);

        TimeSpan cpu = Environment.CpuUsage.TotalTime - cpu0;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        GC.KeepAlive(sink);
        long pages = calls * pagesPerCall;
        double wallNs = Stopwatch.GetElapsedTime(t0, now).TotalNanoseconds;
        return new Measurement(pages, wallNs / pages, cpu.TotalNanoseconds / pages, allocated);
    }

    /// <summary>Processor count, CPU model, kernel, runtime and codec back-ends, as markdown bullets.</summary>
    public static string MachineDescription()
    {
        string model = "unknown";
        try
        {
            model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? model;
        }
        catch (IOException)
        {
        }

        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription;
        var zstd = (ZstdCodec)CodecRegistry.Get("zstd");
        var snappy = (SnappyCodec)CodecRegistry.Get("snappy");
        var deflate = (DeflateCodec)CodecRegistry.Get("deflate");
        return string.Join(Environment.NewLine,
            $"- processors (Environment.ProcessorCount): {Environment.ProcessorCount}",
            $"- CPU: {model}",
            $"- kernel: {kernel} ({RuntimeInformation.OSArchitecture})",
            $"- runtime: {RuntimeInformation.FrameworkDescription}",
            $"- codecs: lz4 = K4os L00_FAST; zstd = level {zstd.Level}, {zstd.Backend}; snappy = {snappy.Backend}; deflate = level {deflate.Level}, {deflate.Backend}",
            $"- page sets: {string.Join("; ", PageSets.Available().Select(s => $"{s} = {PageSets.Describe(s)}"))}");
    }
}
