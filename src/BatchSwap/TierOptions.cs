using BatchSwap.Compression.Codecs;
using BatchSwap.Swap.Backends.Redis;
using BatchSwap.Tunables;
using Microsoft.Extensions.Logging;

namespace BatchSwap;

/// <summary>A swap device (a swap type): a file and its priority.</summary>
/// <param name="Path">
/// The file, or null for a temporary file in <see cref="TierOptions.SwapDirectory"/> that has no name (O_TMPFILE), so
/// nothing else can open it and nothing is left behind even after kill -9. A named file is created mode 0600 (made
/// 0600 if it exists), truncated, and removed on dispose if the tier created it.
/// </param>
/// <param name="CapacityBytes">Largest size of the file; 0 picks 16 times the tier's memory.</param>
/// <param name="Priority">Higher priorities are used first; equal priorities take turns.</param>
public sealed record SwapDeviceOptions(string? Path = null, long CapacityBytes = 0, int Priority = 0)
{
    /// <summary>Keep this device's pages in a Redis Cluster (far memory) instead of a file; <see cref="Path"/> must then be null.</summary>
    public RedisSwapOptions? Redis { get; init; }
}

/// <summary>
/// How to build a <see cref="MemoryTier"/>. Validated when the tier is created; every error names the accepted values.
/// </summary>
public sealed record TierOptions
{
    /// <summary>Memory the tier may use, page frames and their frame table together (the limit). At least 4 MiB.</summary>
    public long MemoryBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Make the whole arena (the page frames and their frame table, nearly all of <see cref="MemoryBytes"/>) resident
    /// when the tier is created, rather than page by page on first use. The process's resident set size (RSS) then
    /// includes the whole budget from the start, whatever is stored: that is the point, the arena is the budget, and
    /// it spares every first use of a frame a page fault (on Linux the kernel maps the zero page on a first read and
    /// copies it on the first write, and concurrent first touches contend for the page-table lock). On Linux this is
    /// madvise(MADV_POPULATE_WRITE), or one write a page on kernels before 5.14. False keeps on-demand faulting:
    /// RSS grows with the frames the tier has used so far (it never shrinks: frames freed inside the tier stay
    /// resident). Default: true.
    /// </summary>
    public bool PopulateMemory { get; init; } = true;

    /// <summary>
    /// Ask for transparent huge pages on the arena (madvise(MADV_HUGEPAGE) on Linux; nothing elsewhere): the arena is
    /// 2 MiB-aligned, so the kernel can back it with 2 MiB pages, which means far fewer faults and TLB misses. It
    /// takes effect when /sys/kernel/mm/transparent_hugepage/enabled is "always" or "madvise". RSS is the same
    /// either way (the arena's size). Default: true.
    /// </summary>
    public bool HugePages { get; init; } = true;

    /// <summary>NUMA-like nodes the memory is split into, 1 to 64.</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>Swap devices; empty means one temporary file.</summary>
    public IReadOnlyList<SwapDeviceOptions> SwapDevices { get; init; } = [];

    /// <summary>Where temporary swap files go (null: the system's temp directory). It must exist and be writable.</summary>
    public string? SwapDirectory { get; init; }

    /// <summary>
    /// Swap files use direct I/O (O_DIRECT, the default): a page swapped out leaves RAM, as with the kernel's swap.
    /// A filesystem that refuses it gets buffered I/O, which the tier reports (<c>swap_direct_io</c> 0). False asks for
    /// buffered I/O: faster re-reads of recently swapped pages, but their copies in the page cache are memory outside
    /// <see cref="MemoryBytes"/>.
    /// </summary>
    public bool SwapDirectIo { get; init; } = true;

    /// <summary>I/O threads that move swap-file runs (writes in flight while reclaim goes on), 1 to 64.</summary>
    public int SwapIoThreads { get; init; } = 4;

    /// <summary>Tests: builds the backend of swap type i with the given slot count instead of a file.</summary>
    internal Func<int, int, Swap.Backends.ISwapBackend>? SwapBackendFactory { get; init; }

    /// <summary>Tests: act as if the filesystem refused O_DIRECT.</summary>
    internal bool SimulateDirectIoRefusal { get; init; }

    /// <summary>Compression engine threads, 0 to 256; the reclaiming thread works too. Default: one per core.</summary>
    public int Engines { get; init; } = Environment.ProcessorCount;

    /// <summary>Run a background reclaimer per node (kswapd), so that workers rarely reclaim in their own thread.</summary>
    public bool BackgroundReclaim { get; init; } = true;

    /// <summary>
    /// Run zswap's shrink worker (mainline's shrink_worker, independent of kswapd): when the pool reaches
    /// <c>zswap.max_pool_percent</c>, stores are rejected and those folios go to the swap device uncompressed while a
    /// background thread writes the oldest entries back to the accept threshold. When false, the storing thread
    /// writes back itself before its next batch (deterministic, for tests).
    /// </summary>
    public bool ZswapShrinkWorker { get; init; } = true;

    /// <summary>zswap.compressor at start.</summary>
    public string Compressor { get; init; } = "lz4";

    /// <summary>
    /// vm.compress-batchsize at start, 1 to 32 (capped to what the compression engines can batch), or null for the
    /// default (<see cref="TunableSet.DefaultCompressBatchSize"/>). <see cref="Tunables"/> may also set it, to a number or "auto".
    /// </summary>
    public int? CompressBatchSize { get; init; }

    /// <summary>
    /// vm.compress-batchsize = auto at start: the size is chosen while running from the measured cost of stores
    /// (<c>BatchSizeController</c>). Off by default (<see cref="TunableSet.DefaultCompressBatchSizeAuto"/>); ignored
    /// when <see cref="CompressBatchSize"/> is given.
    /// </summary>
    public bool CompressBatchSizeAuto { get; init; } = TunableSet.DefaultCompressBatchSizeAuto;

    /// <summary>Faults to inject (tests and --inject); none by default.</summary>
    public Faults.FaultPlan Faults { get; init; } = BatchSwap.Faults.FaultPlan.None;

    /// <summary>Other tunables to set at start, by kernel name (for example "zswap.max_pool_percent" = "30").</summary>
    public IReadOnlyDictionary<string, string> Tunables { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The tier's name in its metrics (tag <c>batchswap.tier</c>) and log lines; null for "tier1", "tier2", ... At most
    /// 64 characters.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Where the tier writes its few log lines (category <c>BatchSwap</c>): a swap file that could not have direct I/O
    /// (warning), swap-device reads or writes that failed (error, at most one line a second each), a memory group out
    /// of memory (error). None on a hot path. Null (the default) writes nothing.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal void Validate()
    {
        if (MemoryBytes < 4L << 20)
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), MemoryBytes, "MemoryBytes must be at least 4 MiB");
        if (MemoryBytes > 1L << 44)
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), MemoryBytes, "MemoryBytes must be at most 16 TiB");
        if (Nodes is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(Nodes), Nodes, "Nodes must be in [1, 64]");
        if (MemoryBytes / Nodes < 4L << 20)
            throw new ArgumentOutOfRangeException(nameof(Nodes), Nodes, $"each node needs at least 4 MiB; {MemoryBytes >> 20} MiB allows at most {MemoryBytes / (4L << 20)} nodes");
        if (Engines is < 0 or > 256)
            throw new ArgumentOutOfRangeException(nameof(Engines), Engines, "Engines must be in [0, 256]");
        if (Name is not null && (string.IsNullOrWhiteSpace(Name) || Name.Length > 64))
            throw new ArgumentException("Name must be null (automatic) or 1 to 64 characters, not blank", nameof(Name));
        if (Compressor is null || !CodecRegistry.TryGet(Compressor, out _))
            throw new TunableException($"unknown compressor '{Compressor}'; accepted: {string.Join(", ", CodecRegistry.Names)}");
        if (CompressBatchSize is < 1 or > TunableSet.MaxCompressBatchSize)
            throw new TunableException($"vm.compress-batchsize must be null (automatic) or in [1, {TunableSet.MaxCompressBatchSize}], got {CompressBatchSize}");
        ArgumentNullException.ThrowIfNull(Faults);
        Faults.Validate();
        if (SwapDevices is null) throw new ArgumentNullException(nameof(SwapDevices), "SwapDevices must be a list (empty for one temporary file)");
        if (Tunables is null) throw new ArgumentNullException(nameof(Tunables), "Tunables must be a dictionary (empty for the defaults)");
        if (SwapDevices.Count > 32)
            throw new ArgumentOutOfRangeException(nameof(SwapDevices), SwapDevices.Count, "at most 32 swap devices");
        if (SwapIoThreads is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(SwapIoThreads), SwapIoThreads, "SwapIoThreads must be in [1, 64]");
        if (SwapDirectory is not null)
        {
            if (string.IsNullOrWhiteSpace(SwapDirectory))
                throw new ArgumentException("SwapDirectory must be a directory, or null for the temp directory", nameof(SwapDirectory));
            if (!Directory.Exists(SwapDirectory))
                throw new DirectoryNotFoundException($"swap directory '{SwapDirectory}' does not exist");
        }
        var paths = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < SwapDevices.Count; i++)
        {
            SwapDeviceOptions? d = SwapDevices[i];
            if (d is null) throw new ArgumentNullException(nameof(SwapDevices), "a swap device entry is null");
            if (d.Redis is not null)
            {
                if (d.Path is not null)
                    throw new ArgumentException($"SwapDevices[{i}] has both a Path and Redis options; a swap device is a file or a Redis cluster", nameof(SwapDevices));
                d.Redis.Validate($"SwapDevices[{i}]");
            }
            if (d.CapacityBytes != 0 && d.CapacityBytes < 2L << 20)
                throw new ArgumentOutOfRangeException(nameof(SwapDevices), d.CapacityBytes, "a swap device's CapacityBytes must be 0 (automatic) or at least 2 MiB (one cluster)");
            if (d.Priority is < -1 or > 32767)
                throw new ArgumentOutOfRangeException(nameof(SwapDevices), d.Priority, "a swap device's Priority must be in [-1, 32767] (as swapon's)");
            if (d.Path is not null)
            {
                if (string.IsNullOrWhiteSpace(d.Path))
                    throw new ArgumentException("a swap device's Path must be a file name, or null for a temporary file", nameof(SwapDevices));
                if (!paths.Add(System.IO.Path.GetFullPath(d.Path)))
                    throw new ArgumentException($"swap file '{d.Path}' is given twice; each swap device needs its own file", nameof(SwapDevices));
            }
        }
    }
}
