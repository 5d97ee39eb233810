using System.CommandLine;
using System.Globalization;
using BatchSwap.Access;
using BatchSwap.Cli.Output;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Commands;

/// <summary><c>batchswap zipf</c> and <c>batchswap replay</c>: read/write loads with verified versions and latency histograms.</summary>
internal static class OpsCommands
{
    public static Command CreateZipf(TextWriter stdout, TextWriter stderr)
    {
        var workers = new Option<int>("--workers") { Description = "worker threads, each with its own region", DefaultValueFactory = _ => 2 };
        var size = new Option<string>("--size") { Description = "bytes per worker (KiB/MiB/GiB)", DefaultValueFactory = _ => "512MiB" };
        var order = new Option<int>("--order") { Description = "folio order of the regions, 0 (4 KiB) to 9 (2 MiB)", DefaultValueFactory = _ => 0 };
        var ops = new Option<long>("--ops") { Description = "operations per worker after the fill", DefaultValueFactory = _ => 1_000_000 };
        var skew = new Option<double>("--skew") { Description = "zipf exponent θ in [0, 1): 0 uniform, 0.99 a small hot set", DefaultValueFactory = _ => 0.99 };
        var readRatio = new Option<double>("--read-ratio") { Description = "fraction of operations that are reads (the rest write a new version)", DefaultValueFactory = _ => 0.9 };
        var opSeed = new Option<int>("--op-seed") { Description = "seed of the operation streams", DefaultValueFactory = _ => 1 };
        var engine = new EngineOptions();
        var json = new Option<string?>("--json") { Description = "write the results as one JSON object to FILE; default: none" };
        var quiet = new Option<bool>("--quiet") { Description = "print only the summary line, no live progress", DefaultValueFactory = _ => false };
        var counters = UsememCommand.CountersOption();
        var cmd = new Command("zipf", "hot/cold load: reads and writes of zipf-chosen pages, each read verified against the latest version written");
        foreach (Option o in new Option[] { workers, size, order, ops, skew, readRatio, opSeed }) cmd.Options.Add(o);
        engine.AddTo(cmd);
        cmd.Options.Add(json);
        cmd.Options.Add(quiet);
        cmd.Options.Add(counters);
        cmd.SetAction((parse, cancel) => Task.FromResult(Guard("zipf", stderr, () =>
        {
            var opts = new ZipfOptions
            {
                Workers = parse.GetValue(workers),
                SizePerWorker = UsememCommand.ParseSize(parse.GetValue(size)!, "--size"),
                Order = parse.GetValue(order),
                OpsPerWorker = parse.GetValue(ops),
                Skew = parse.GetValue(skew),
                ReadRatio = parse.GetValue(readRatio),
                Seed = parse.GetValue(opSeed),
            };
            opts.Validate();
            RunSettings run = engine.Read(parse);
            string? jsonPath = parse.GetValue(json);
            if (jsonPath is not null) OutputFile.CheckWritable(jsonPath, "--json");
            using IDisposablePageSource source = UsememCommand.OpenSource(parse.GetValue(engine.Pages), parse.GetValue(engine.Seed));
            using MemoryTier tier = run.CreateTier(opts.SizePerWorker * opts.Workers);
            bool live = !parse.GetValue(quiet) && LiveProgress.IsTerminal(stdout);
            OpsResult result = LiveProgress.Run(live, "zipf", () => tier.Snapshot().Gauge("pool_total_size"), report => Zipf.Run(tier, source, opts, report, cancel));
            var parameters = new Dictionary<string, object>
            {
                ["workers"] = opts.Workers,
                ["size_per_worker_bytes"] = opts.SizePerWorker,
                ["order"] = opts.Order,
                ["ops_per_worker"] = opts.OpsPerWorker,
                ["skew"] = opts.Skew,
                ["read_ratio"] = opts.ReadRatio,
                ["op_seed"] = opts.Seed,
            };
            string describe = string.Create(CultureInfo.InvariantCulture,
                $"{opts.Workers} x {ByteSize.Format(opts.SizePerWorker)}, {opts.OpsPerWorker} ops each, skew {opts.Skew}, reads {opts.ReadRatio}, order {opts.Order}");
            return Finish(new OpsReport("zipf", describe, parameters, run, tier, source, result), result, parse.GetValue(quiet), parse.GetValue(counters), jsonPath, stdout, stderr);
        })));
        return cmd;
    }

    public static Command CreateReplay(TextWriter stdout, TextWriter stderr)
    {
        var trace = new Option<string>("--trace") { Description = "trace file: lines 'worker,page,r|w' (or whitespace-separated), # comments", Required = true };
        var order = new Option<int>("--order") { Description = "folio order of the regions, 0 (4 KiB) to 9 (2 MiB)", DefaultValueFactory = _ => 0 };
        var engine = new EngineOptions();
        var json = new Option<string?>("--json") { Description = "write the results as one JSON object to FILE; default: none" };
        var quiet = new Option<bool>("--quiet") { Description = "print only the summary line, no live progress", DefaultValueFactory = _ => false };
        var counters = UsememCommand.CountersOption();
        var cmd = new Command("replay", "replay a page access trace: each worker fills the pages it names, then runs its lines in order, reads verified");
        cmd.Options.Add(trace);
        cmd.Options.Add(order);
        engine.AddTo(cmd);
        cmd.Options.Add(json);
        cmd.Options.Add(quiet);
        cmd.Options.Add(counters);
        cmd.SetAction((parse, cancel) => Task.FromResult(Guard("replay", stderr, () =>
        {
            int ord = parse.GetValue(order);
            if (ord is < 0 or > PageSize.MaxOrder) throw new CliError($"--order must be in [0, {PageSize.MaxOrder}], got {ord}");
            RunSettings run = engine.Read(parse);
            string path = parse.GetValue(trace)!;
            if (!File.Exists(path)) throw new CliError($"--trace: no such file '{path}'");
            string? jsonPath = parse.GetValue(json);
            if (jsonPath is not null) OutputFile.CheckWritable(jsonPath, "--json");
            Trace t = Trace.Load(path);
            using IDisposablePageSource source = UsememCommand.OpenSource(parse.GetValue(engine.Pages), parse.GetValue(engine.Seed));
            using MemoryTier tier = run.CreateTier(t.PagesPerWorker.Sum() * PageSize.Bytes);
            bool live = !parse.GetValue(quiet) && LiveProgress.IsTerminal(stdout);
            OpsResult result = LiveProgress.Run(live, "replay", () => tier.Snapshot().Gauge("pool_total_size"), report => t.Replay(tier, source, ord, report, cancel));
            var parameters = new Dictionary<string, object>
            {
                ["trace"] = Path.GetFileName(path),
                ["workers"] = t.Workers,
                ["trace_pages"] = t.PagesPerWorker.Sum(),
                ["order"] = ord,
            };
            string describe = string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(path)}, {t.Workers} workers, {t.Ops} ops over {ByteSize.Format(t.PagesPerWorker.Sum() * PageSize.Bytes)}, order {ord}");
            return Finish(new OpsReport("replay", describe, parameters, run, tier, source, result), result, parse.GetValue(quiet), parse.GetValue(counters), jsonPath, stdout, stderr);
        })));
        return cmd;
    }

    private static int Finish(OpsReport report, OpsResult result, bool quiet, bool counters, string? json, TextWriter stdout, TextWriter stderr)
    {
        if (quiet) stdout.WriteLine(report.SummaryLine());
        else report.WriteText(stdout, counters);
        if (json is not null) report.WriteJson(json);
        if (result.Interrupted) return UsememCommand.Interrupted(stderr, report.Workload);
        return result.Mismatches == 0 ? 0 : 1;
    }

    /// <summary>Runs a command body: bad input is one line and exit code 2; an exhausted limit or lost data one line and 1.</summary>
    internal static int Guard(string command, TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (UsememCommand.IsUsageError(e) || e is TraceFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"batchswap {command}: {e.Message}");
            return Program.UsageError;
        }
        catch (UsememFailedException e) when (e.InnerException is MemoryGroupExhaustedException or PageDataLostException)
        {
            stderr.WriteLine($"batchswap {command}: {e.InnerException!.Message}");
            return 1;
        }
    }
}
