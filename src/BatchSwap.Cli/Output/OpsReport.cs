using System.Globalization;
using BatchSwap.Cli.Commands;
using BatchSwap.Stats;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Output;

/// <summary>A read/write load's results (zipf, replay): summary line, text, JSON.</summary>
internal sealed class OpsReport(string workload, string describe, IReadOnlyDictionary<string, object> parameters, RunSettings run, MemoryTier tier, IPageSource source, OpsResult result)
{
    private readonly long _peakRss = ProcessMemory.PeakRssBytes();
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The load's name ("zipf", "replay").</summary>
    public string Workload => workload;

    public string SummaryLine() => string.Create(Inv,
        $"{(result.Interrupted ? "interrupted " : "")}{workload}: {describe}, limit {ByteSize.Format(run.LimitBytes)}, {run.Compressor}, batch {ReportSections.BatchSize(tier)}: " +
        $"{result.OpsPerSecond:F0} ops/s, {result.ThroughputMiBps:F1} MiB/s, {result.WallSeconds:F2} s, mismatches {result.Mismatches}");

    /// <summary>The summary, the key figures, and every counter when <paramref name="counters"/>.</summary>
    public void WriteText(TextWriter w, bool counters = false)
    {
        CounterSnapshot c = result.Counters;
        ReportSections.WriteHeader(w, SummaryLine(), source, tier);
        w.WriteLine(string.Create(Inv, $"  ops         {result.Ops} ({result.Reads} reads, {result.Writes} writes)"));
        w.WriteLine(string.Create(Inv, $"  time        fill {result.FillSeconds:F2} s, ops {result.OpsSeconds:F2} s, wall {result.WallSeconds:F2} s"));
        w.WriteLine(string.Create(Inv, $"  throughput  {result.OpsPerSecond:F0} ops/s, {result.ThroughputMiBps:F1} MiB/s"));
        w.WriteLine($"  latency     {result.OpLatency.Format()}");
        w.WriteLine($"  fault-in    {result.FaultLatency.Format()}");
        ReportSections.WriteTier(w, c, tier, _peakRss, counters);
    }

    public void WriteJson(string path)
    {
        CounterSnapshot c = result.Counters;
        ReportSections.WriteJsonFile(path, c, tier, j =>
        {
            j.WriteString("workload", workload);
            j.WriteBoolean("interrupted", result.Interrupted);
            foreach (KeyValuePair<string, object> kv in parameters)
            {
                switch (kv.Value)
                {
                    case string s: j.WriteString(kv.Key, s); break;
                    case double d: j.WriteNumber(kv.Key, d); break;
                    case int i: j.WriteNumber(kv.Key, i); break;
                    case long l: j.WriteNumber(kv.Key, l); break;
                    default: j.WriteString(kv.Key, Convert.ToString(kv.Value, Inv)); break;
                }
            }
            j.WriteNumber("ops", result.Ops);
            j.WriteNumber("reads", result.Reads);
            j.WriteNumber("writes", result.Writes);
            j.WriteNumber("ops_per_s", Math.Round(result.OpsPerSecond, 1));
            j.WriteNumber("throughput_mibps", Math.Round(result.ThroughputMiBps, 2));
            j.WriteNumber("wall_s", Math.Round(result.WallSeconds, 4));
            j.WriteNumber("fill_s", Math.Round(result.FillSeconds, 4));
            j.WriteNumber("ops_s", Math.Round(result.OpsSeconds, 4));
            j.WriteNumber("mismatches", result.Mismatches);
            LatencyJson.Write(j, "latency_us", result.OpLatency);
            j.WriteNumber("faults_timed", result.FaultLatency.Count);
            LatencyJson.Write(j, "fault_latency_us", result.FaultLatency);
            ReportSections.WriteTierJson(j, c, tier, run, _peakRss);
            j.WriteNumber("limit_bytes", run.LimitBytes);
            j.WriteString("pages", source.Description);
            j.WriteNumber("engines", run.Engines);
            j.WriteNumber("peak_charged_bytes", tier.DefaultGroup.PeakChargedBytes);
        });
    }
}
