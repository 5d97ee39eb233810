using BatchSwap.Compression.Codecs;
using BatchSwap.Faults;
using BatchSwap.Tunables;

namespace BatchSwap.Cli.Commands;

/// <summary>The engine settings a workload command takes from its options, validated, and the tier they build.</summary>
/// <param name="BatchSize">vm.compress-batchsize, or null for automatic.</param>
internal sealed record RunSettings(long LimitBytes, string Compressor, int? BatchSize, int Engines, int Nodes, int SwapDevices,
    IReadOnlyDictionary<string, string> Sets, bool BackgroundReclaim = true, FaultPlan? Faults = null, string? SwapDir = null, bool SwapDirectIo = true,
    IReadOnlyList<SwapDeviceSpec>? Devices = null)
{
    /// <summary>Smallest limit with which reclaim can make progress: a pmd folio, the reserves, and page tables.</summary>
    public const long MinLimitBytes = 8L << 20;

    /// <summary>Checks every setting; throws <see cref="CliError"/> naming the accepted values.</summary>
    public void Validate()
    {
        if (LimitBytes < MinLimitBytes) throw new CliError($"--limit must be at least 8MiB for reclaim to make progress, got {LimitBytes} bytes");
        if (!CodecRegistry.TryGet(Compressor, out _)) throw new CliError($"--compressor: unknown compressor '{Compressor}'; accepted: {string.Join(", ", CodecRegistry.Names)}");
        if (BatchSize is < 1 or > TunableSet.MaxCompressBatchSize) throw new CliError($"--batch-size must be {TunableSet.CompressBatchSizeAccepted}, got {BatchSize}");
        if (Engines is < 0 or > 256) throw new CliError($"--engines must be in [0, 256], got {Engines}");
        if (Nodes is < 1 or > 64) throw new CliError($"--nodes must be in [1, 64], got {Nodes}");
        if (LimitBytes / Nodes < 4L << 20) throw new CliError($"--nodes {Nodes} leaves less than 4MiB per node of a {LimitBytes >> 20}MiB limit");
        if (SwapDevices is < 1 or > 32) throw new CliError($"--swap-devices must be in [1, 32], got {SwapDevices}");
        if (SwapDir is not null)
        {
            if (SwapDir.Trim().Length == 0) throw new CliError("--swap-dir must name a directory");
            if (!Directory.Exists(SwapDir)) throw new CliError($"--swap-dir: directory '{SwapDir}' does not exist");
        }
    }

    /// <summary>Builds the tier, with swap devices large enough for <paramref name="dataBytes"/> of data.</summary>
    public MemoryTier CreateTier(long dataBytes)
    {
        Validate();
        // Each device can hold all the data (plus a cluster per device for alignment), so that one device alone never runs out.
        long capacity = Math.Max(dataBytes + (64L << 20), 64L << 20);
        try
        {
            return new MemoryTier(new TierOptions
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
            });
        }
        catch (TunableException e)
        {
            throw new CliError(e.Message);
        }
        catch (IOException e) when (Devices is { Count: > 0 })
        {
            // A swap device that could not be opened: a file, or a cluster that did not answer as asked.
            throw new CliError($"--swap-device: {e.Message}");
        }
        catch (IOException e)
        {
            // An unwritable swap directory, or one on a filesystem that cannot hold a swap file.
            throw new CliError(SwapDir is null ? e.Message : $"--swap-dir: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliError(SwapDir is null ? e.Message : $"--swap-dir: {e.Message}");
        }
    }
}
