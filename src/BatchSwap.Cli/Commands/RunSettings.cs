using BatchSwap.Faults;
using BatchSwap.Tunables;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Commands;

/// <summary>The engine settings a workload command takes from its options, validated, and the tier they build.</summary>
/// <param name="BatchSize">vm.compress-batchsize, or null for automatic.</param>
internal sealed record RunSettings(long LimitBytes, string Compressor, int? BatchSize, int Engines, int Nodes, int SwapDevices,
    IReadOnlyDictionary<string, string> Sets, bool BackgroundReclaim = true, FaultPlan? Faults = null, string? SwapDir = null, bool SwapDirectIo = true,
    IReadOnlyList<SwapDeviceSpec>? Devices = null)
{
    /// <summary>Smallest limit with which reclaim can make progress: a pmd folio, the reserves, and page tables.</summary>
    public const long MinLimitBytes = 8L << 20;

    /// <summary>
    /// Checks every setting before anything runs; throws <see cref="CliError"/> naming the option and the accepted
    /// values. The ranges are the library's (<see cref="TierOptions"/> and <see cref="TunableSet"/> validate, in one
    /// place); this adds only what is the command line's own: the machine's memory and the workloads' least limit.
    /// </summary>
    public void Validate()
    {
        if (LimitBytes < MinLimitBytes) throw new CliError($"--limit must be at least 8MiB for reclaim to make progress, got {LimitBytes} bytes");
        CheckMachineMemory(LimitBytes, "--limit");
        // The command line counts swap files; the library's empty list would mean one temporary file.
        if (SwapDevices < 1) throw new CliError($"--swap-devices must be at least 1, got {SwapDevices}");
        try
        {
            Options(64L << 20).Validate();
        }
        catch (Exception e) when (e is ArgumentException or TunableException or IOException)
        {
            throw ToCliError(e);
        }
    }

    /// <summary>The tier's options, with swap devices large enough for <paramref name="dataBytes"/> of data.</summary>
    private TierOptions Options(long dataBytes)
    {
        // Each device can hold all the data (plus a cluster per device for alignment), so that one device alone never runs out.
        long capacity = Math.Max(dataBytes + (64L << 20), 64L << 20);
        return new TierOptions
        {
            MemoryBytes = LimitBytes,
            Nodes = Nodes,
            Engines = Engines,
            Compressor = Compressor,
            CompressBatchSize = BatchSize,
            CompressBatchSizeAuto = BatchSize is null,
            SwapDevices = Devices is { Count: > 0 } given
                ? given.Select(d => d.ToOptions(capacity)).ToArray()
                : Enumerable.Range(0, SwapDevices).Select(_ => new SwapDeviceOptions(CapacityBytes: capacity)).ToArray(),
            Tunables = Sets,
            BackgroundReclaim = BackgroundReclaim,
            Faults = Faults ?? FaultPlan.None,
            SwapDirectory = SwapDir,
            SwapDirectIo = SwapDirectIo,
        };
    }

    /// <summary>
    /// Builds the tier, with swap devices large enough for <paramref name="dataBytes"/> of data; without huge pages for
    /// the arena when <paramref name="hugePages"/> is false (transparent mappings discard arena frames 4 KiB at a time).
    /// </summary>
    public MemoryTier CreateTier(long dataBytes, bool hugePages = true)
    {
        Validate();
        try
        {
            return new MemoryTier(Options(dataBytes) with { HugePages = hugePages });
        }
        catch (IOException e) when (Devices is { Count: > 0 })
        {
            // A swap device that could not be opened: a file, or a cluster that did not answer as asked.
            throw new CliError($"--swap-device: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or TunableException or IOException or UnauthorizedAccessException)
        {
            // An unwritable swap directory, or one on a filesystem that cannot hold a swap file, among others.
            throw ToCliError(e);
        }
        catch (OutOfMemoryException e) when (e is not MemCg.MemoryGroupExhaustedException)
        {
            // Below the machine's memory, but more than the process may have now (other processes, overcommit rules).
            throw new CliError($"--limit {ByteSize.Format(LimitBytes)}: the tier's memory could not be reserved ({ByteSize.Format(Output.ProcessMemory.MachineBytes())} on this machine); give a smaller --limit");
        }
    }

    /// <summary>
    /// The library's exception as the command line's one-line error: the option that the failing setting came from,
    /// then the library's own words (without .NET's "(Parameter ...)" and "Actual value was" suffixes).
    /// </summary>
    internal static CliError ToCliError(Exception e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        cut = message.IndexOf('\n');
        if (cut >= 0) message = message[..cut];
        string? option = (e as ArgumentException)?.ParamName switch
        {
            nameof(TierOptions.MemoryBytes) => "--limit",
            nameof(TierOptions.Nodes) => "--nodes",
            nameof(TierOptions.Engines) => "--engines",
            nameof(TierOptions.SwapDevices) => "--swap-devices",
            nameof(TierOptions.SwapDirectory) => "--swap-dir",
            _ => null,
        };
        if (option is null && e is IOException or UnauthorizedAccessException) option = "--swap-dir";
        if (option is null && e is TunableException && message.StartsWith("unknown compressor", StringComparison.Ordinal)) option = "--compressor";
        return new CliError(option is null ? message : $"{option}: {message}");
    }

    /// <summary>Throws <see cref="CliError"/> when <paramref name="bytes"/> (given to <paramref name="option"/>) is more than the machine's memory.</summary>
    public static void CheckMachineMemory(long bytes, string option)
    {
        long machine = Output.ProcessMemory.MachineBytes();
        if (machine > 0 && bytes > machine)
            throw new CliError($"{option} {ByteSize.Format(bytes)} is more than this machine's memory ({ByteSize.Format(machine)}); the tier's memory must fit in RAM");
    }
}
