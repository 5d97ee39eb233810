using System.CommandLine;
using BatchSwap.Access;
using BatchSwap.Cli.Output;
using BatchSwap.MemCg;
using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Commands;

/// <summary><c>batchswap usemem</c>: the kernel community's usemem load on the engine.</summary>
internal static class UsememCommand
{
    /// <summary>The usemem load's own options (--workers, --size, --passes, --order, --access).</summary>
    internal sealed class LoadOptions
    {
        public Option<int> Workers { get; } = new("--workers") { Description = "worker threads", DefaultValueFactory = _ => 2 };
        public Option<string> Size { get; } = new("--size") { Description = "bytes per worker (KiB/MiB/GiB)", DefaultValueFactory = _ => "512MiB" };
        public Option<int> Passes { get; } = new("--passes") { Description = "verification passes after the fill", DefaultValueFactory = _ => 2 };
        public Option<int> Order { get; } = new("--order") { Description = "folio order of the regions, 0 (4 KiB) to 9 (2 MiB)", DefaultValueFactory = _ => 0 };
        public Option<string> Access { get; } = new("--access") { Description = "order of the passes: seq or rand", DefaultValueFactory = _ => "seq" };

        public void AddTo(Command cmd)
        {
            cmd.Options.Add(Workers);
            cmd.Options.Add(Size);
            cmd.Options.Add(Passes);
            cmd.Options.Add(Order);
            cmd.Options.Add(Access);
        }

        /// <summary>The validated usemem options given on the command line.</summary>
        public UsememOptions Read(ParseResult parse)
        {
            var opts = new UsememOptions
            {
                Workers = parse.GetValue(Workers),
                SizePerWorker = ParseSize(parse.GetValue(Size)!, "--size"),
                Passes = parse.GetValue(Passes),
                Order = parse.GetValue(Order),
                Access = AccessPattern.TryParseOrder(parse.GetValue(Access), out AccessOrder ao) ? ao
                    : throw new CliError($"--access must be seq or rand, got '{parse.GetValue(Access)}'"),
            };
            opts.Validate();
            return opts;
        }
    }

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var load = new LoadOptions();
        var engine = new EngineOptions();
        var json = new Option<string?>("--json") { Description = "write the results as one JSON object to FILE; default: none" };
        var transparent = new Option<bool>("--transparent") { Description = "run the load on transparent mappings (plain memory paged through userfaultfd, docs/transparent.md) instead of region calls", DefaultValueFactory = _ => false };
        var quiet = new Option<bool>("--quiet") { Description = "print only the summary line, no live progress", DefaultValueFactory = _ => false };
        var counters = CountersOption();

        var cmd = new Command("usemem", "run the usemem load (docs/workloads.md) and report throughput, fault-in latency and counters");
        load.AddTo(cmd);
        engine.AddTo(cmd);
        cmd.Options.Add(json);
        cmd.Options.Add(quiet);
        cmd.Options.Add(counters);
        cmd.Options.Add(transparent);
        cmd.SetAction((parse, cancel) => Task.FromResult(Execute(parse, cancel)));
        return cmd;

        int Execute(ParseResult parse, CancellationToken cancel)
        {
            try
            {
                UsememOptions opts = load.Read(parse);
                RunSettings run = engine.Read(parse);
                string? jsonPath = parse.GetValue(json);
                if (jsonPath is not null) OutputFile.CheckWritable(jsonPath, "--json");
                using IDisposablePageSource source = OpenSource(parse.GetValue(engine.Pages), parse.GetValue(engine.Seed));
                bool isTransparent = parse.GetValue(transparent);
                using MemoryTier tier = run.CreateTier(opts.SizePerWorker * opts.Workers, hugePages: !isTransparent);
                UsememResult result;
                BatchSwap.Transparent.TransparentStats? mapStats = null;
                bool live = !parse.GetValue(quiet) && LiveProgress.IsTerminal(stdout);
                try
                {
                    result = LiveProgress.Run(live, "usemem", () => tier.Snapshot().Gauge("pool_total_size"), report =>
                        isTransparent
                            ? UsememTransparent.Run(tier, source, opts, 0, report is null ? null : p => report(p.Phase, p.PagesDone, p.PagesTotal), s => mapStats = s, cancel)
                            : Usemem.Run(tier, source, opts, report is null ? null : p => report(p.Phase, p.PagesDone, p.PagesTotal), cancel));
                }
                catch (UsememFailedException) when (Environment.GetEnvironmentVariable("BATCHSWAP_DEBUG") is not null)
                {
                    stderr.Write(tier.Snapshot().ToVmstat());
                    throw;
                }
                // Priced after the run, so that its wall time does not include the pricing.
                CodecLimit codec = Usemem.MeasureCodecLimit(tier, source, opts, result);
                var report = new UsememReport(opts, run, tier, source, result, codec, mapStats);
                if (parse.GetValue(quiet)) stdout.WriteLine(report.SummaryLine());
                else report.WriteText(stdout, parse.GetValue(counters));
                if (jsonPath is not null) report.WriteJson(jsonPath);
                if (result.Interrupted) return Interrupted(stderr, "usemem");
                return result.Mismatches == 0 ? 0 : 1;
            }
            catch (Exception e) when (IsUsageError(e) || e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"batchswap usemem: {e.Message}");
                return Program.UsageError;
            }
            catch (UsememFailedException e) when (e.InnerException is MemoryGroupExhaustedException or PageDataLostException)
            {
                stderr.WriteLine($"batchswap usemem: {e.InnerException!.Message}");
                return 1;
            }
        }
    }

    /// <summary>--counters: every counter after the summary (JSON always has them all).</summary>
    internal static Option<bool> CountersOption() =>
        new("--counters") { Description = "also print every counter and gauge after the summary (--json always has them all)", DefaultValueFactory = _ => false };

    /// <summary>Says on stderr that the run was stopped and what the output holds; returns <see cref="Program.Interrupted"/>.</summary>
    internal static int Interrupted(TextWriter stderr, string command)
    {
        stderr.WriteLine($"batchswap {command}: stopped before the end; the figures above are for what ran until then");
        return Program.Interrupted;
    }

    /// <summary>Exceptions that mean bad input: one line, exit code 2.</summary>
    internal static bool IsUsageError(Exception e) => e is CliError or ArgumentException or PageSourceException or FormatException
        or BatchSwap.Transparent.UserfaultfdUnavailableException;

    internal static long ParseSize(string text, string name)
    {
        if (!ByteSize.TryParse(text, out long bytes, out string? error)) throw new CliError($"{name}: {error}");
        if (bytes <= 0) throw new CliError($"{name} must be more than 0, got '{text}'");
        return bytes;
    }

    internal static IReadOnlyDictionary<string, string> ParseSets(string[]? sets)
    {
        var d = new Dictionary<string, string>();
        foreach (string s in sets ?? [])
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) throw new CliError($"--set takes NAME=VALUE, got '{s}'");
            d[s[..eq].Trim()] = s[(eq + 1)..].Trim();
        }
        return d;
    }

    internal static IDisposablePageSource OpenSource(string? path, int seed) =>
        PageSourceFactory.Open(path, seed);
}
