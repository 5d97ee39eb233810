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
        $"usemem: {options.Workers} x {ByteSize.Format(options.SizePerWorker)}, limit {ByteSize.Format(run.LimitBytes)}, {options.Passes} passes, {AccessPattern.FormatOrder(options.Access)}, order {options.Order}, {run.Compressor}, batch {tier.Tunables.CompressBatchSize}: " +
        $"{result.ThroughputMiBps:F1} MiB/s, {result.WallSeconds:F2} s, mismatches {result.Mismatches}");

    /// <summary>The summary, the key figures and every counter.</summary>
    public void WriteText(TextWriter w)
    {
        CounterSnapshot c = result.Counters;
        w.WriteLine(SummaryLine());
        w.WriteLine(string.Create(Inv, $"  pages       {source.Description}"));
        w.WriteLine(string.Create(Inv, $"  engines     {tier.EnginesDescription}, batch size {tier.Tunables.CompressBatchSize}"));
        w.WriteLine(string.Create(Inv, $"  time        fill {result.FillSeconds:F2} s, passes {result.PassSeconds:F2} s, wall {result.WallSeconds:F2} s"));
        w.WriteLine(string.Create(Inv, $"  throughput  {result.ThroughputMiBps:F1} MiB/s"));
        w.WriteLine($"  fault-in    {result.FaultLatency.Format()}");
        long stored = c.Gauge("stored_pages"), pool = c.Gauge("pool_total_size");
        w.WriteLine(string.Create(Inv, $"  zswap       zswpout {c[Counter.Zswpout]}, zswpin {c[Counter.Zswpin]}, zswpwb {c[Counter.Zswpwb]}, stored {stored} pages in {ByteSize.Format(pool)} (ratio {Ratio(stored, pool):F2})"));
        w.WriteLine(string.Create(Inv, $"  swap        pswpout {c[Counter.Pswpout]}, pswpin {c[Counter.Pswpin]}"));
        w.WriteLine(string.Create(Inv, $"  memory      peak RSS {ByteSize.Format(_peakRss)}, peak charged {ByteSize.Format(tier.DefaultGroup.PeakChargedBytes)} of {ByteSize.Format(tier.DefaultGroup.LimitBytes)}"));
        w.WriteLine("counters:");
        foreach (KeyValuePair<string, long> kv in c.All())
            w.WriteLine(string.Create(Inv, $"  {kv.Key,-30} {kv.Value,16}"));
    }

    private static double Ratio(long pages, long poolBytes) => poolBytes == 0 ? 0 : (double)pages * 4096 / poolBytes;

    /// <summary>Writes one JSON object with the results and every counter.</summary>
    public void WriteJson(string path)
    {
        using FileStream f = File.Create(path);
        using var j = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
        CounterSnapshot c = result.Counters;
        j.WriteStartObject();
        j.WriteString("workload", "usemem");
        j.WriteNumber("throughput_mibps", Math.Round(result.ThroughputMiBps, 2));
        j.WriteNumber("wall_s", Math.Round(result.WallSeconds, 4));
        j.WriteNumber("fill_s", Math.Round(result.FillSeconds, 4));
        j.WriteNumber("pass_s", Math.Round(result.PassSeconds, 4));
        j.WriteNumber("mismatches", result.Mismatches);
        j.WriteNumber("faults_timed", result.FaultLatency.Count);
        LatencyJson.Write(j, "fault_latency_us", result.FaultLatency);
        j.WriteNumber("zswpout", c[Counter.Zswpout]);
        j.WriteNumber("zswpin", c[Counter.Zswpin]);
        j.WriteNumber("pswpout", c[Counter.Pswpout]);
        j.WriteNumber("pswpin", c[Counter.Pswpin]);
        j.WriteNumber("zswpwb", c[Counter.Zswpwb]);
        j.WriteNumber("stored_pages", c.Gauge("stored_pages"));
        j.WriteNumber("pool_total_size", c.Gauge("pool_total_size"));
        j.WriteNumber("peak_rss_bytes", _peakRss);
        j.WriteNumber("batch_size", tier.Tunables.CompressBatchSize);
        j.WriteString("compressor", run.Compressor);
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
        j.WriteStartObject("counters");
        foreach (KeyValuePair<string, long> kv in c.All()) j.WriteNumber(kv.Key, kv.Value);
        j.WriteEndObject();
        j.WriteStartObject("tunables");
        foreach (KeyValuePair<string, string> kv in tier.Tunables.All()) j.WriteString(kv.Key, kv.Value);
        j.WriteEndObject();
        j.WriteEndObject();
    }
}
