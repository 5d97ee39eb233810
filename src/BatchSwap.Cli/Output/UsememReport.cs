using System.Globalization;
using System.Text.Json;
using BatchSwap.Cli.Commands;
using BatchSwap.Stats;
using BatchSwap.Workloads.Workloads;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Output;

/// <summary>A usemem run's results as a usemem-style summary, a counter table, and JSON.</summary>
internal sealed class UsememReport(UsememOptions options, RunSettings run, MemoryTier tier, IPageSource source, UsememResult result)
{
    private readonly long _peakRss = ProcessMemory.PeakRssBytes();
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The one-line summary.</summary>
    public string SummaryLine() => string.Create(Inv,
        $"usemem: {options.Workers} x {ByteSize.Format(options.SizePerWorker)}, limit {ByteSize.Format(run.LimitBytes)}, {options.Passes} passes, {AccessPattern.FormatOrder(options.Access)}, order {options.Order}, {run.Compressor}, batch {ReportSections.BatchSize(tier)}: " +
        $"{result.ThroughputMiBps:F1} MiB/s, {result.WallSeconds:F2} s, mismatches {result.Mismatches}");

    /// <summary>The summary, the key figures and every counter.</summary>
    public void WriteText(TextWriter w)
    {
        CounterSnapshot c = result.Counters;
        ReportSections.WriteHeader(w, SummaryLine(), source, tier);
        w.WriteLine(string.Create(Inv, $"  time        fill {result.FillSeconds:F2} s, passes {result.PassSeconds:F2} s, wall {result.WallSeconds:F2} s"));
        w.WriteLine(string.Create(Inv, $"  throughput  {result.ThroughputMiBps:F1} MiB/s"));
        w.WriteLine($"  fault-in    {result.FaultLatency.Format()}");
        ReportSections.WriteTier(w, c, tier, _peakRss);
    }

    /// <summary>Writes one JSON object with the results and every counter.</summary>
    public void WriteJson(string path)
    {
        CounterSnapshot c = result.Counters;
        ReportSections.WriteJsonFile(path, c, tier, j =>
        {
            j.WriteString("workload", "usemem");
            j.WriteNumber("throughput_mibps", Math.Round(result.ThroughputMiBps, 2));
            j.WriteNumber("wall_s", Math.Round(result.WallSeconds, 4));
            j.WriteNumber("fill_s", Math.Round(result.FillSeconds, 4));
            j.WriteNumber("pass_s", Math.Round(result.PassSeconds, 4));
            j.WriteNumber("mismatches", result.Mismatches);
            j.WriteNumber("faults_timed", result.FaultLatency.Count);
            LatencyJson.Write(j, "fault_latency_us", result.FaultLatency);
            ReportSections.WriteTierJson(j, c, tier, run, _peakRss);
            j.WriteNumber("workers", options.Workers);
            j.WriteNumber("size_per_worker_bytes", options.SizePerWorker);
            j.WriteNumber("limit_bytes", run.LimitBytes);
            j.WriteNumber("passes", options.Passes);
            j.WriteNumber("order", options.Order);
            j.WriteString("access", AccessPattern.FormatOrder(options.Access));
            j.WriteString("pages", source.Description);
            j.WriteNumber("engines", run.Engines);
            j.WriteNumber("nodes", run.Nodes);
            j.WriteNumber("swap_devices", run.SwapDevices);
            j.WriteNumber("peak_charged_bytes", tier.DefaultGroup.PeakChargedBytes);
        });
    }
}
