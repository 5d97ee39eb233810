using System.CommandLine;
using BatchSwap.Faults;
using BatchSwap.Tunables;

namespace BatchSwap.Cli.Commands;

/// <summary>
/// The options every workload command shares to build its tier (--limit, --compressor, --batch-size, --engines,
/// --nodes, --swap-devices, --swap-dir, --swap-io, --set) and its page source (--pages, --seed), with their defaults.
/// </summary>
internal sealed class EngineOptions
{
    public Option<string> Limit { get; } = new("--limit") { Description = "memory limit shared by all workers: resident pages, pool and page tables", DefaultValueFactory = _ => "256MiB" };
    public Option<string?> Pages { get; } = new("--pages") { Description = "page image (.pages or .pages.zst); default: the built-in generator" };
    public Option<int> Seed { get; } = new("--seed") { Description = "seed of the built-in generator", DefaultValueFactory = _ => 1 };
    public Option<string> Compressor { get; } = new("--compressor") { Description = "zswap.compressor", DefaultValueFactory = _ => "lz4" };
    public Option<string> BatchSize { get; } = new("--batch-size") { Description = "vm.compress-batchsize: auto (chosen while running from the measured cost of stores) or 1 to 32", DefaultValueFactory = _ => TunableSet.DefaultCompressBatchSizeAuto ? TunableSet.AutoValue : TunableSet.DefaultCompressBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    public Option<int> Engines { get; } = new("--engines") { Description = "compression engine threads", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<int> Nodes { get; } = new("--nodes") { Description = "NUMA-like nodes", DefaultValueFactory = _ => 1 };
    public Option<int> SwapDevices { get; } = new("--swap-devices") { Description = "swap files (swap types) of equal priority", DefaultValueFactory = _ => 1 };
    public Option<bool> NoKswapd { get; } = new("--no-kswapd") { Description = "no kswapd: workers reclaim in their own threads, as under a Linux memory cgroup limit (zswap's shrink worker still runs); default: kswapd on", DefaultValueFactory = _ => false };
    public Option<string> Inject { get; } = new("--inject") { Description = "faults to inject, KEY=RATE,… (" + "swap-write, swap-read, swap-full, short-write, short-read, compress, pool-alloc, engine-throw, slow-io-us, seed" + "); default: none", DefaultValueFactory = _ => "none" };
    public Option<string?> SwapDir { get; } = new("--swap-dir") { Description = "directory for the temporary swap files (unnamed, private; nothing is left behind); default: the temp directory" };
    public Option<string> SwapIo { get; } = new("--swap-io") { Description = "swap file I/O: direct (O_DIRECT, swapped pages leave RAM) or buffered (through the page cache, which is memory outside the limit)", DefaultValueFactory = _ => "direct" };
    public Option<string[]> SwapDevice { get; } = new("--swap-device") { Description = "a swap device (repeatable; replaces --swap-devices): " + SwapDeviceSpec.Accepted + "; higher prio is used first", AllowMultipleArgumentsPerToken = false };
    public Option<string[]> Set { get; } = new("--set") { Description = "set a tunable, NAME=VALUE (repeatable), e.g. zswap.max_pool_percent=30; default: none", AllowMultipleArgumentsPerToken = false };

    /// <summary>Adds the tier options (and, when <paramref name="withSource"/>, --pages and --seed) to <paramref name="cmd"/>.</summary>
    public void AddTo(Command cmd, bool withSource = true)
    {
        cmd.Options.Add(Limit);
        if (withSource) { cmd.Options.Add(Pages); cmd.Options.Add(Seed); }
        cmd.Options.Add(Compressor);
        cmd.Options.Add(BatchSize);
        cmd.Options.Add(Engines);
        cmd.Options.Add(Nodes);
        cmd.Options.Add(SwapDevices);
        cmd.Options.Add(SwapDevice);
        cmd.Options.Add(SwapDir);
        cmd.Options.Add(SwapIo);
        cmd.Options.Add(Set);
        cmd.Options.Add(NoKswapd);
        cmd.Options.Add(Inject);
    }

    /// <summary>The validated run settings given on the command line.</summary>
    public RunSettings Read(ParseResult parse)
    {
        // One precedence rule: --batch-size and --set vm.compress-batchsize=... say the same thing, so both is an error.
        string[] sets = parse.GetValue(Set) ?? [];
        if (parse.GetResult(BatchSize) is { Implicit: false } && sets.Any(s => s.Split('=', 2)[0].Trim() == "vm.compress-batchsize"))
            throw new CliError("--batch-size and --set vm.compress-batchsize both set the batch size; give one");
        var run = new RunSettings(UsememCommand.ParseSize(parse.GetValue(Limit)!, "--limit"), parse.GetValue(Compressor)!, ParseBatchSize(parse.GetValue(BatchSize)!, "--batch-size"),
            parse.GetValue(Engines), parse.GetValue(Nodes), parse.GetValue(SwapDevices), UsememCommand.ParseSets(parse.GetValue(Set)),
            !parse.GetValue(NoKswapd), ParseFaults(parse.GetValue(Inject)!), parse.GetValue(SwapDir), ParseSwapIo(parse.GetValue(SwapIo)!),
            ParseSwapDevices(parse.GetValue(SwapDevice), parse.GetResult(SwapDevices) is { Implicit: false }));
        run.Validate();
        return run;
    }

    /// <summary>Parses a vm.compress-batchsize value given to option <paramref name="name"/>: null for auto, else 1 to 32.</summary>
    internal static int? ParseBatchSize(string text, string name) =>
        TunableSet.TryParseCompressBatchSize(text, out int? size) ? size
            : throw new CliError($"{name} must be {TunableSet.CompressBatchSizeAccepted}, got '{text}'");

    /// <summary>Parses the --swap-device specs (null when none is given); they may not be mixed with --swap-devices.</summary>
    internal static IReadOnlyList<SwapDeviceSpec>? ParseSwapDevices(string[]? specs, bool countGiven)
    {
        if (specs is null || specs.Length == 0) return null;
        if (countGiven) throw new CliError("give either --swap-devices N (temporary files) or --swap-device SPEC (repeatable), not both");
        if (specs.Length > 32) throw new CliError($"at most 32 --swap-device, got {specs.Length}");
        return specs.Select(SwapDeviceSpec.Parse).ToArray();
    }

    /// <summary>Parses --swap-io: true for direct I/O.</summary>
    internal static bool ParseSwapIo(string text) => text.Trim().ToLowerInvariant() switch
    {
        "direct" => true,
        "buffered" => false,
        _ => throw new CliError($"--swap-io must be direct or buffered, got '{text}'"),
    };

    /// <summary>Parses --inject; a malformed plan is a usage error naming the accepted keys.</summary>
    internal static FaultPlan ParseFaults(string text)
    {
        try
        {
            return FaultPlan.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CliError($"--inject: {e.Message}");
        }
    }
}
