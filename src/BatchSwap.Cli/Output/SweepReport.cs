using System.Globalization;
using System.Text;
using System.Text.Json;
using BatchSwap.Cli.Commands;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Output;

/// <summary>A sweep's results as JSON, CSV and a markdown table.</summary>
internal sealed class SweepReport(UsememOptions load, RunSettings run, string pages, int repeats, SweepAxes axes, IReadOnlyList<SweepPointResult> results)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The CSV header; one row per point follows.</summary>
    /// <remarks>batch_size is a number or "auto"; batch_size_final is the size in force at the end (the automatic choice then).</remarks>
    public const string CsvHeader = "batch_size,compressor,order,workers,limit_bytes,repeats,throughput_mibps,vs_batch1,compression_ratio,zswpout,zswpwb,pswpout,pswpin,fault_p50_us,fault_p99_us,fault_p99_9_us,faults_timed,mismatches,wall_s,batch_size_final,batch_size_changes,error";

    public void WriteCsv(string path)
    {
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (SweepPointResult r in results)
        {
            SweepPoint p = r.Point;
            sb.Append(string.Create(Inv,
                $"{SweepCommand.BatchLabel(p.BatchSize)},{p.Compressor},{p.Order},{p.Workers},{p.LimitBytes},{r.Throughputs.Length},{F(r.ThroughputMiBps, 2)},{F(r.VsBatch1, 3)},{F(r.CompressionRatio, 3)},{r.Zswpout},{r.Zswpwb},{r.Pswpout},{r.Pswpin},{F(r.FaultP50Us, 2)},{F(r.FaultP99Us, 2)},{F(r.FaultP999Us, 2)},{r.FaultsTimed},{r.Mismatches},{F(r.WallSeconds, 3)},{F(r.FinalBatchSize, 1)},{F(r.BatchSizeChanges, 1)},"));
            if (r.Error is not null) sb.Append('"').Append(r.Error.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            sb.Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }

    public void WriteJson(string path)
    {
        using FileStream f = File.Create(path);
        using var j = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
        j.WriteStartObject();
        j.WriteString("workload", "usemem");
        j.WriteNumber("size_per_worker_bytes", load.SizePerWorker);
        j.WriteNumber("passes", load.Passes);
        j.WriteString("access", AccessPattern.FormatOrder(load.Access));
        j.WriteString("pages", pages);
        j.WriteNumber("engines", run.Engines);
        j.WriteNumber("nodes", run.Nodes);
        j.WriteNumber("swap_devices", run.SwapDevices);
        j.WriteNumber("repeat", repeats);
        j.WriteStartObject("tunables_set");
        foreach (KeyValuePair<string, string> kv in run.Sets) j.WriteString(kv.Key, kv.Value);
        j.WriteEndObject();
        j.WriteStartObject("swept");
        foreach (SweepParameter p in SweepParameter.All(axes))
        {
            j.WriteStartArray(p.Name);
            foreach (string v in p.Values) j.WriteStringValue(v);
            j.WriteEndArray();
        }
        j.WriteEndObject();
        j.WriteStartArray("points");
        foreach (SweepPointResult r in results)
        {
            j.WriteStartObject();
            if (r.Point.BatchSize is int b) j.WriteNumber("batch_size", b);
            else j.WriteString("batch_size", SweepCommand.BatchLabel(null));
            Num(j, "batch_size_final", r.FinalBatchSize, 1);
            Num(j, "batch_size_changes", r.BatchSizeChanges, 1);
            j.WriteString("compressor", r.Point.Compressor);
            j.WriteNumber("order", r.Point.Order);
            j.WriteNumber("workers", r.Point.Workers);
            j.WriteNumber("limit_bytes", r.Point.LimitBytes);
            Num(j, "throughput_mibps", r.ThroughputMiBps, 2);
            j.WriteStartArray("throughputs_mibps");
            foreach (double t in r.Throughputs) j.WriteNumberValue(Math.Round(t, 2));
            j.WriteEndArray();
            Num(j, "vs_batch1", r.VsBatch1, 3);
            Num(j, "compression_ratio", r.CompressionRatio, 3);
            j.WriteNumber("zswpout", r.Zswpout);
            j.WriteNumber("zswpwb", r.Zswpwb);
            j.WriteNumber("pswpout", r.Pswpout);
            j.WriteNumber("pswpin", r.Pswpin);
            j.WriteStartObject("fault_latency_us");
            j.WriteNumber("count", r.FaultsTimed);
            Num(j, "p50", r.FaultP50Us, 2);
            Num(j, "p99", r.FaultP99Us, 2);
            Num(j, "p99_9", r.FaultP999Us, 2);
            j.WriteEndObject();
            j.WriteNumber("mismatches", r.Mismatches);
            Num(j, "wall_s", r.WallSeconds, 3);
            if (r.Error is not null) j.WriteString("error", r.Error);
            j.WriteEndObject();
        }
        j.WriteEndArray();
        j.WriteEndObject();
    }

    /// <summary>
    /// The markdown table, one row per point; "× batch 1" is the throughput over the same sweep's batch-1 point. An
    /// automatic point's batch reads "auto → N", N the size in force at the end of its run.
    /// </summary>
    public string MarkdownTable()
    {
        var sb = new StringBuilder();
        sb.Append("| batch | codec | order | workers | limit | MiB/s | × batch 1 | comp. ratio | zswpout | zswpwb | fault p50 µs | fault p99 µs | mismatches |\n");
        sb.Append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (SweepPointResult r in results)
        {
            SweepPoint p = r.Point;
            string tp = r.Error is null ? F(r.ThroughputMiBps, 1) : "failed";
            sb.Append(string.Create(Inv,
                $"| {BatchCell(r)} | {p.Compressor} | {p.Order} | {p.Workers} | {ByteSize.Format(p.LimitBytes)} | {tp} | {F(r.VsBatch1, 2)} | {F(r.CompressionRatio, 2)} | {r.Zswpout} | {r.Zswpwb} | {F(r.FaultP50Us, 1)} | {F(r.FaultP99Us, 1)} | {r.Mismatches} |\n"));
        }
        return sb.ToString();
    }

    /// <summary>The whole results.md: what was run, then the table.</summary>
    public string Markdown(string table) =>
        string.Create(Inv, $"# batchswap sweep\n\nusemem, {ByteSize.Format(load.SizePerWorker)} per worker, {load.Passes} passes, {AccessPattern.FormatOrder(load.Access)}, pages: {pages}, engines {run.Engines}; each point is the median of {repeats} run(s).\n\n") + table;

    private static string BatchCell(SweepPointResult r) =>
        r.Point.BatchSize is null && !double.IsNaN(r.FinalBatchSize) ? $"auto → {F(r.FinalBatchSize, 1)}" : SweepCommand.BatchLabel(r.Point.BatchSize);

    private static string F(double v, int digits) => double.IsNaN(v) ? "" : Math.Round(v, digits).ToString(Inv);

    private static void Num(Utf8JsonWriter j, string name, double v, int digits)
    {
        if (double.IsNaN(v) || double.IsInfinity(v)) j.WriteNull(name);
        else j.WriteNumber(name, Math.Round(v, digits));
    }
}
