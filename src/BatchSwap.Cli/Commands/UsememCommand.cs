using System.CommandLine;
using BatchSwap.Cli.Output;
using BatchSwap.Memory;
using BatchSwap.Tunables;
using BatchSwap.Workloads.Workloads;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Commands;

/// <summary><c>batchswap usemem</c>: the kernel community's usemem load on the engine.</summary>
internal static class UsememCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var workers = new Option<int>("--workers") { Description = "worker threads", DefaultValueFactory = _ => 2 };
        var size = new Option<string>("--size") { Description = "bytes per worker (KiB/MiB/GiB)", DefaultValueFactory = _ => "512MiB" };
        var limit = new Option<string>("--limit") { Description = "memory limit shared by all workers: resident pages, pool and page tables", DefaultValueFactory = _ => "256MiB" };
        var passes = new Option<int>("--passes") { Description = "verification passes after the fill", DefaultValueFactory = _ => 2 };
        var order = new Option<int>("--order") { Description = "folio order of the regions, 0 (4 KiB) to 9 (2 MiB)", DefaultValueFactory = _ => 0 };
        var access = new Option<string>("--access") { Description = "order of the passes: seq or rand", DefaultValueFactory = _ => "seq" };
        var pages = new Option<string?>("--pages") { Description = "page image (.pages or .pages.zst); default: the built-in generator" };
        var seed = new Option<int>("--seed") { Description = "seed of the built-in generator", DefaultValueFactory = _ => 1 };
        var compressor = new Option<string>("--compressor") { Description = "zswap.compressor", DefaultValueFactory = _ => "lz4" };
        var batch = new Option<int>("--batch-size") { Description = "vm.compress-batchsize, 1 to 32", DefaultValueFactory = _ => TunableSet.DefaultCompressBatchSize };
        var engines = new Option<int>("--engines") { Description = "compression engine threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var nodes = new Option<int>("--nodes") { Description = "NUMA-like nodes", DefaultValueFactory = _ => 1 };
        var devices = new Option<int>("--swap-devices") { Description = "swap files (swap types) of equal priority", DefaultValueFactory = _ => 1 };
        var sysctl = new Option<string[]>("--set") { Description = "set a tunable, NAME=VALUE (repeatable), e.g. zswap.max_pool_percent=30", AllowMultipleArgumentsPerToken = false };
        var json = new Option<string?>("--json") { Description = "write the results as one JSON object to FILE" };
        var quiet = new Option<bool>("--quiet") { Description = "print only the summary line" };
        var noKswapd = new Option<bool>("--no-kswapd") { Description = "no background reclaim: workers reclaim in their own threads only" };

        var cmd = new Command("usemem", "run the usemem load (docs/workloads.md) and report throughput and counters")
        {
            workers, size, limit, passes, order, access, pages, seed, compressor, batch, engines, nodes, devices, sysctl, json, quiet, noKswapd,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var opts = new UsememOptions
                {
                    Workers = parse.GetValue(workers),
                    SizePerWorker = ParseSize(parse.GetValue(size)!, "--size"),
                    Passes = parse.GetValue(passes),
                    Order = parse.GetValue(order),
                    Access = AccessPattern.TryParseOrder(parse.GetValue(access), out AccessOrder ao) ? ao
                        : throw new CliError($"--access must be seq or rand, got '{parse.GetValue(access)}'"),
                };
                opts.Validate();
                long limitBytes = ParseSize(parse.GetValue(limit)!, "--limit");
                var run = new RunSettings(limitBytes, parse.GetValue(compressor)!, parse.GetValue(batch), parse.GetValue(engines),
                    parse.GetValue(nodes), parse.GetValue(devices), ParseSets(parse.GetValue(sysctl)), !parse.GetValue(noKswapd));
                run.Validate();
                using IDisposablePageSource source = OpenSource(parse.GetValue(pages), parse.GetValue(seed));
                using MemoryTier tier = run.CreateTier(opts.SizePerWorker * opts.Workers);
                UsememResult result;
                try { result = Usemem.Run(tier, source, opts); }
                catch (UsememFailedException) when (Environment.GetEnvironmentVariable("BATCHSWAP_DEBUG") is not null)
                {
                    stderr.Write(tier.Snapshot().ToVmstat());
                    throw;
                }
                var report = new UsememReport(opts, run, tier, source, result);
                if (Environment.GetEnvironmentVariable("BATCHSWAP_DEBUG") is not null) stderr.WriteLine($"sleeps {BatchSwap.Memory.Mm.DebugSleeps} gc0 {GC.CollectionCount(0)} gc2 {GC.CollectionCount(2)} alloc {GC.GetTotalAllocatedBytes() >> 20} MiB pause {GC.GetTotalPauseDuration()}");
                if (parse.GetValue(quiet)) stdout.WriteLine(report.SummaryLine());
                else report.WriteText(stdout);
                string? jsonPath = parse.GetValue(json);
                if (jsonPath is not null) report.WriteJson(jsonPath);
                return result.Mismatches == 0 ? 0 : 1;
            }
            catch (Exception e) when (e is CliError or ArgumentException or PageSourceException or FormatException)
            {
                stderr.WriteLine($"batchswap usemem: {e.Message}");
                return Program.UsageError;
            }
            catch (UsememFailedException e) when (e.InnerException is MemoryGroupExhaustedException or PageDataLostException)
            {
                stderr.WriteLine($"batchswap usemem: {e.InnerException!.Message}");
                return 1;
            }
        });
        return cmd;
    }

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
