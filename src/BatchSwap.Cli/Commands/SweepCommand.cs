using System.CommandLine;
using System.Globalization;
using BatchSwap.Access;
using BatchSwap.Cli.Output;
using BatchSwap.MemCg;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Commands;

/// <summary>
/// <c>batchswap sweep</c>: usemem at every combination of the listed batch sizes, codecs, folio orders, worker counts
/// and limits, each repeated and reduced to its median, written to a results folder (JSON, CSV, markdown, plots).
/// Batch size 1 is always swept so that each point's gain from batching is a ratio to a run of the same sweep; "auto"
/// may be one of the batch sizes, so that the automatic choice is measured against every fixed size.
/// </summary>
internal static class SweepCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var load = new UsememCommand.LoadOptions();
        var engine = new EngineOptions();
        var batchSizes = new Option<string>("--batch-sizes") { Description = "vm.compress-batchsize values to sweep, 1 to 32 or auto (1 is always added as the baseline)", DefaultValueFactory = _ => "1,2,4,8,16,32" };
        var compressors = new Option<string?>("--compressors") { Description = "codecs to sweep, e.g. lz4,zstd,deflate; default: --compressor" };
        var orders = new Option<string?>("--orders") { Description = "folio orders to sweep, e.g. 0,9; default: --order" };
        var workersList = new Option<string?>("--workers-list") { Description = "worker counts to sweep, e.g. 1,2; default: --workers" };
        var limits = new Option<string?>("--limits") { Description = "limits to sweep, e.g. 128MiB,256MiB; default: --limit" };
        var repeat = new Option<int>("--repeat") { Description = "runs of each point; the median of each figure is reported", DefaultValueFactory = _ => 1 };
        var outDir = new Option<string?>("--out") { Description = "results folder; default: ./sweep-results-<yyyyMMdd-HHmmss>" };
        var noPlots = new Option<bool>("--no-plots") { Description = "skip the PNG plots", DefaultValueFactory = _ => false };

        var cmd = new Command("sweep", "run usemem across lists of batch sizes, codecs, orders, workers and limits; write results.json, results.csv, results.md and plots");
        load.AddTo(cmd);
        engine.AddTo(cmd);
        foreach (Option o in new Option[] { batchSizes, compressors, orders, workersList, limits, repeat, outDir, noPlots }) cmd.Options.Add(o);
        cmd.SetAction((parse, cancel) => Task.FromResult(Execute(parse, cancel)));
        return cmd;

        int Execute(ParseResult parse, CancellationToken cancel)
        {
            try
            {
                UsememOptions baseLoad = load.Read(parse);
                RunSettings baseRun = engine.Read(parse);
                int repeats = parse.GetValue(repeat);
                if (repeats is < 1 or > 100) throw new CliError($"--repeat must be in [1, 100], got {repeats}");
                var axes = new SweepAxes(
                    BatchSizes: ParseBatchSizes(parse.GetValue(batchSizes)!),
                    Compressors: ParseList(parse.GetValue(compressors) ?? baseRun.Compressor, "--compressors").Select(s => s.ToLowerInvariant()).Distinct().ToArray(),
                    Orders: ParseInts(parse.GetValue(orders) ?? baseLoad.Order.ToString(CultureInfo.InvariantCulture), "--orders").Distinct().Order().ToArray(),
                    Workers: ParseInts(parse.GetValue(workersList) ?? baseLoad.Workers.ToString(CultureInfo.InvariantCulture), "--workers-list").Distinct().Order().ToArray(),
                    Limits: ParseList(parse.GetValue(limits) ?? parse.GetValue(engine.Limit)!, "--limits").Select(s => UsememCommand.ParseSize(s, "--limits")).Distinct().Order().ToArray());
                List<SweepPoint> points = axes.Points().ToList();
                // Check every point before running any, so that a typo fails at once.
                foreach (SweepPoint p in points)
                {
                    (baseLoad with { Order = p.Order, Workers = p.Workers }).Validate();
                    (baseRun with { BatchSize = p.BatchSize, Compressor = p.Compressor, LimitBytes = p.LimitBytes }).Validate();
                }
                string dir = parse.GetValue(outDir) ?? $"sweep-results-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";
                Directory.CreateDirectory(dir);

                using IDisposablePageSource source = UsememCommand.OpenSource(parse.GetValue(engine.Pages), parse.GetValue(engine.Seed));
                var results = new List<SweepPointResult>();
                int index = 0;
                foreach (SweepPoint p in points)
                {
                    if (cancel.IsCancellationRequested) break;
                    index++;
                    UsememOptions opts = baseLoad with { Order = p.Order, Workers = p.Workers };
                    RunSettings run = baseRun with { BatchSize = p.BatchSize, Compressor = p.Compressor, LimitBytes = p.LimitBytes };
                    var runs = new List<UsememResult>();
                    string? error = null;
                    for (int r = 0; r < repeats && error is null; r++)
                    {
                        try
                        {
                            using MemoryTier tier = run.CreateTier(opts.SizePerWorker * opts.Workers);
                            UsememResult u = Usemem.Run(tier, source, opts, cancel: cancel);
                            if (u.Interrupted) break; // a part of a run is not comparable with whole ones
                            runs.Add(u);
                            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"sweep [{index}/{points.Count}] {p.Describe()}, run {r + 1}/{repeats}: {u.ThroughputMiBps:F1} MiB/s, fault p99 {u.FaultLatency.P99:F1} us, mismatches {u.Mismatches}"));
                        }
                        catch (UsememFailedException e) when (e.InnerException is MemoryGroupExhaustedException or PageDataLostException)
                        {
                            error = e.InnerException!.Message;
                            stderr.WriteLine($"sweep [{index}/{points.Count}] {p.Describe()}: failed: {error}");
                        }
                    }
                    // A point whose repeats were cut short is left out, so that every median is over --repeat runs.
                    if (cancel.IsCancellationRequested && error is null && runs.Count < repeats) break;
                    results.Add(SweepPointResult.FromRuns(p, runs, error));
                }
                SweepPointResult.SetBaselines(results);

                var report = new SweepReport(baseLoad, baseRun, source.Description, repeats, axes, results);
                report.WriteJson(Path.Combine(dir, "results.json"));
                report.WriteCsv(Path.Combine(dir, "results.csv"));
                string table = report.MarkdownTable();
                File.WriteAllText(Path.Combine(dir, "results.md"), report.Markdown(table));
                IReadOnlyList<string> plots = parse.GetValue(noPlots) ? [] : SweepPlots.Write(dir, axes, results);
                stdout.Write(table);
                stdout.WriteLine($"results in {dir}: results.json, results.csv, results.md{(plots.Count > 0 ? ", " + string.Join(", ", plots.Select(Path.GetFileName)) : "")}");
                if (cancel.IsCancellationRequested)
                {
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batchswap sweep: stopped after {results.Count} of {points.Count} points; the results hold those"));
                    return Program.Interrupted;
                }
                return results.All(r => r.Error is null && r.Mismatches == 0) ? 0 : 1;
            }
            catch (Exception e) when (UsememCommand.IsUsageError(e) || e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"batchswap sweep: {e.Message}");
                return Program.UsageError;
            }
        }
    }

    /// <summary>Splits a comma list; blanks are errors.</summary>
    internal static string[] ParseList(string text, string name)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Any(p => p.Length == 0)) throw new CliError($"{name} takes a comma-separated list with no empty items, got '{text}'");
        return parts;
    }

    /// <summary>Parses --batch-sizes: sizes and "auto", with 1 added; ascending, auto last.</summary>
    internal static int?[] ParseBatchSizes(string text) =>
        ParseList(text, "--batch-sizes").Select(s => EngineOptions.ParseBatchSize(s, "--batch-sizes")).Append(1).Distinct()
            .OrderBy(b => b ?? int.MaxValue).ToArray();

    /// <summary>A batch size as the sweep writes it: the number, or "auto".</summary>
    internal static string BatchLabel(int? batchSize) => batchSize?.ToString(CultureInfo.InvariantCulture) ?? Tunables.TunableSet.AutoValue;

    /// <summary>Parses a comma list of integers.</summary>
    internal static int[] ParseInts(string text, string name) =>
        ParseList(text, name).Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new CliError($"{name}: '{s}' is not a whole number")).ToArray();
}

/// <summary>The values each swept parameter takes.</summary>
/// <param name="BatchSizes">vm.compress-batchsize values; null is auto.</param>
internal sealed record SweepAxes(int?[] BatchSizes, string[] Compressors, int[] Orders, int[] Workers, long[] Limits)
{
    /// <summary>Every combination, batch size innermost so that each group's baseline (batch 1) runs first.</summary>
    public IEnumerable<SweepPoint> Points()
    {
        foreach (long l in Limits)
            foreach (int w in Workers)
                foreach (int o in Orders)
                    foreach (string c in Compressors)
                        foreach (int? b in BatchSizes)
                            yield return new SweepPoint(b, c, o, w, l);
    }

    /// <summary>The parameters with more than one value, as (name, the point's value as a label, the labels in order).</summary>
    public IEnumerable<SweepParameter> Swept()
    {
        foreach (SweepParameter p in SweepParameter.All(this))
            if (p.Values.Length > 1) yield return p;
    }
}

/// <summary>One swept parameter: its file-name-friendly name, axis title, values in order, and how to read it from a point.</summary>
internal sealed record SweepParameter(string Name, string Title, string[] Values, Func<SweepPoint, string> Of)
{
    public static IEnumerable<SweepParameter> All(SweepAxes a)
    {
        yield return new("batch_size", "vm.compress-batchsize", a.BatchSizes.Select(SweepCommand.BatchLabel).ToArray(), p => SweepCommand.BatchLabel(p.BatchSize));
        yield return new("compressor", "compressor", a.Compressors, p => p.Compressor);
        yield return new("order", "folio order", a.Orders.Select(Inv).ToArray(), p => Inv(p.Order));
        yield return new("workers", "workers", a.Workers.Select(Inv).ToArray(), p => Inv(p.Workers));
        yield return new("limit", "limit", a.Limits.Select(ByteSize.Format).ToArray(), p => ByteSize.Format(p.LimitBytes));
    }

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One combination of swept parameters.</summary>
/// <param name="BatchSize">vm.compress-batchsize; null is auto.</param>
internal sealed record SweepPoint(int? BatchSize, string Compressor, int Order, int Workers, long LimitBytes)
{
    public string Describe() => $"batch {SweepCommand.BatchLabel(BatchSize)}, {Compressor}, order {Order}, {Workers} workers, limit {ByteSize.Format(LimitBytes)}";

    /// <summary>The same point at batch size 1.</summary>
    public SweepPoint Baseline => this with { BatchSize = 1 };
}

/// <summary>A point's figures: the median over its runs of each one.</summary>
/// <param name="FinalBatchSize">The batch size in force at the end of the run (the automatic choice then, for auto).</param>
/// <param name="BatchSizeChanges">Times the automatic choice moved during the run (0 for a fixed size).</param>
internal sealed record SweepPointResult(SweepPoint Point, double[] Throughputs, double ThroughputMiBps, double CompressionRatio,
    long Zswpout, long Zswpwb, long Pswpout, long Pswpin, double FaultP50Us, double FaultP99Us, double FaultP999Us, long FaultsTimed,
    long Mismatches, double WallSeconds, double FinalBatchSize, double BatchSizeChanges, string? Error)
{
    /// <summary>Throughput over the same sweep's batch-size-1 point with the other parameters equal (NaN when that is missing).</summary>
    public double VsBatch1 { get; set; } = double.NaN;

    public static SweepPointResult FromRuns(SweepPoint p, List<UsememResult> runs, string? error)
    {
        if (runs.Count == 0) return new(p, [], double.NaN, double.NaN, 0, 0, 0, 0, double.NaN, double.NaN, double.NaN, 0, 0, double.NaN, double.NaN, double.NaN, error);
        return new(p,
            runs.Select(r => r.ThroughputMiBps).ToArray(),
            Median(runs.Select(r => r.ThroughputMiBps)),
            Median(runs.Select(r => Ratio(r.Counters.Gauge("stored_pages"), r.Counters.Gauge("pool_total_size")))),
            (long)Median(runs.Select(r => (double)r.Counters[Stats.Counter.Zswpout])),
            (long)Median(runs.Select(r => (double)r.Counters[Stats.Counter.Zswpwb])),
            (long)Median(runs.Select(r => (double)r.Counters[Stats.Counter.Pswpout])),
            (long)Median(runs.Select(r => (double)r.Counters[Stats.Counter.Pswpin])),
            Median(runs.Select(r => r.FaultLatency.P50)),
            Median(runs.Select(r => r.FaultLatency.P99)),
            Median(runs.Select(r => r.FaultLatency.P999)),
            (long)Median(runs.Select(r => (double)r.FaultLatency.Count)),
            runs.Sum(r => r.Mismatches),
            Median(runs.Select(r => r.WallSeconds)),
            Median(runs.Select(r => (double)r.Counters.Gauge("compress_batchsize"))),
            Median(runs.Select(r => (double)r.Counters[Stats.Counter.CompressBatchsizeChanges])),
            error);
    }

    /// <summary>Sets <see cref="VsBatch1"/> of every result from the batch-1 result of its group.</summary>
    public static void SetBaselines(List<SweepPointResult> results)
    {
        var byPoint = results.ToDictionary(r => r.Point);
        foreach (SweepPointResult r in results)
            if (byPoint.TryGetValue(r.Point.Baseline, out SweepPointResult? b) && b.ThroughputMiBps > 0)
                r.VsBatch1 = r.ThroughputMiBps / b.ThroughputMiBps;
    }

    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] v = values.Order().ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static double Ratio(long pages, long poolBytes) => poolBytes == 0 ? 0 : (double)pages * 4096 / poolBytes;
}
