using BatchSwap.Access;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;
using BatchSwap.Faults;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Pool;
using BatchSwap.Reclaim;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;
using BatchSwap.Telemetry;
using BatchSwap.Threading;
using BatchSwap.Transparent;
using BatchSwap.Tunables;
using BatchSwap.Zswap;

namespace BatchSwap;

/// <summary>
/// A compressed memory tier: data larger than its memory budget lives in regions of pages; cold pages are
/// compressed into an in-memory pool (zswap) in batches on parallel engines, or written to a swap file, and
/// come back transparently when touched. The tier's memory use (frames, pool, page tables, slot tables) stays
/// within <see cref="TierOptions.MemoryBytes"/>.
/// </summary>
/// <example>
/// <code>
/// using var tier = new MemoryTier(new TierOptions { MemoryBytes = 256L &lt;&lt; 20 });
/// using Region r = tier.Allocate(1L &lt;&lt; 30);          // 1 GiB of pages in 256 MiB of memory
/// r.Write(12345, data);                                 // data: up to 4096 bytes
/// r.Read(12345, buffer);
/// Console.Write(tier.Snapshot().ToVmstat());
/// </code>
/// </example>
public sealed class MemoryTier : IDisposable
{
    private readonly PageArena _arena;
    private readonly SwapDevice[] _devices;
    private readonly SwapIoWorkers _ioWorkers;
    private readonly PageIo _pageIo;
    private readonly Counters _counters = new();
    private readonly ZsPool _pool;
    private readonly IBatchCompressor _engines;
    private readonly ZswapCache _zswap;
    private readonly BatchPool _batches;
    private readonly Reclaimer _reclaimer;
    private readonly Kswapd[] _kswapds = [];
    private readonly Mm _mm;
    // The tier's gate, its address spaces and its memory groups.
    private readonly TierGate _gate = new();
    private readonly AddressSpaces _spaces = new();
    private readonly MemoryGroups _groups;
    // Threads busy with the tier's work now (the engines leave cores to them).
    private readonly BusyThreads _busy = new();
    // Set once disposed.
    private int _disposed;
    // Injected faults, if any are planned.
    private readonly FaultInjector? _faults;
    // The log lines worth writing (TierOptions.LoggerFactory), or none.
    private readonly TierLog _log;
    // The tier's meter and its instruments (System.Diagnostics.Metrics).
    private readonly TierMetrics? _metrics;
    // Numbers tiers for their default names.
    private static int s_tiers;
    // Transparent mappings still open (disposed first when the tier is); guarded by itself.
    private readonly HashSet<TransparentMapping> _mappings = [];

    /// <summary>Most jobs (pages) one batch holds, whatever the engines could take: stores and loads keep a few words per job on the stack.</summary>
    private const int MaxJobsPerBatch = 512;
    /// <summary>Budget for one codec context (LZ4 and deflate state; zstd at low levels).</summary>
    private const long CodecContextBytes = 256 << 10;

    /// <summary>Creates a tier. Throws <see cref="ArgumentException"/> (or <see cref="TunableException"/>) for invalid options.</summary>
    public MemoryTier(TierOptions options) : this(options, null)
    {
    }

    /// <summary>
    /// Creates a tier whose compression engines come from <paramref name="compressors"/> (given the CPU engines' run
    /// size as a suggestion), or the CPU engines when null. For tests and other engines: the batches hold the jobs the
    /// engines say one run takes (<see cref="IBatchCompressor.MaxJobs"/>), and vm.compress-batchsize is capped to what
    /// they can batch.
    /// </summary>
    internal MemoryTier(TierOptions options, Func<int, IBatchCompressor>? compressors)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Name = options.Name ?? $"tier{Interlocked.Increment(ref s_tiers)}";
        _log = options.LoggerFactory is null ? TierLog.None : new TierLog(options.LoggerFactory, Name);
        FaultInjector? faults = options.Faults.IsActive ? new FaultInjector(options.Faults) : null;
        _faults = faults;
        // The engines first: how many jobs a run takes is theirs, and the batches are sized to it.
        BusyThreads busy = _busy;
        _engines = compressors is null
            ? new CpuEngines(options.Engines, faults, CpuEngines.DefaultMaxJobs, () => busy.Count)
            : compressors(CpuEngines.DefaultMaxJobs);
        try
        {
            int jobs = Math.Clamp(_engines.MaxJobs, 1, MaxJobsPerBatch);
            // The budget covers the engines' buffers too: batches and codec contexts are made now and never grow.
            int batchCount = Math.Max(4, 2 * Environment.ProcessorCount);
            long engineBytes = batchCount * BatchPool.BytesPerBatch(jobs) + (options.Engines + batchCount) * CodecContextBytes;
            if (options.MemoryBytes - engineBytes < 4L << 20)
                throw new ArgumentOutOfRangeException(nameof(options), options.MemoryBytes, $"MemoryBytes leaves less than 4 MiB after the engines' {engineBytes >> 20} MiB of buffers");
            _arena = new PageArena(options.MemoryBytes - engineBytes, options.Nodes, options.PopulateMemory, options.HugePages);
            _batches = new BatchPool(batchCount, jobs);
            _groups = new MemoryGroups(_arena, _log);
            _ioWorkers = new SwapIoWorkers(options.SwapIoThreads);
            IReadOnlyList<SwapDeviceOptions> devs = options.SwapDevices.Count > 0 ? options.SwapDevices : [new SwapDeviceOptions()];
            _devices = new SwapDevice[devs.Count];
            string dir = options.SwapDirectory ?? Path.GetTempPath();
            SwapFileMode mode = options.SimulateDirectIoRefusal ? SwapFileMode.DirectRefusedForTest
                : options.SwapDirectIo ? SwapFileMode.Direct : SwapFileMode.Buffered;
            for (int i = 0; i < devs.Count; i++)
            {
                long cap = devs[i].CapacityBytes > 0 ? devs[i].CapacityBytes : Math.Min(Math.Max(options.MemoryBytes * 16, 1L << 30), 256L << 30);
                int slots = SwapDevice.SlotsFor(cap);
                ISwapBackend backend = options.SwapBackendFactory?.Invoke(i, slots)
                    ?? (devs[i].Redis is { } redis ? Swap.Backends.Redis.RedisSwapBackend.Connect(redis, i, slots, _counters)
                        : new FileSwapBackend(devs[i].Path, dir, slots, mode, _ioWorkers));
                if (backend is FileSwapBackend { FallbackReason: string refused }) _log.DirectIoFallback(i, devs[i].Path ?? $"a temporary file in {dir}", refused);
                if (faults is not null) backend = new FaultInjectingBackend(backend, faults);
                _devices[i] = new SwapDevice(i, devs[i].Priority, slots, backend, _arena);
            }
            _pool = new ZsPool(_arena);
            // The batch limit is the engines': a compressor that cannot batch caps vm.compress-batchsize at 1.
            Tunables = new TunableSet(CodecRegistry.Get(options.Compressor), _engines.MaxBatchFolios);
            Tunables.CompressBatchSizeAuto = options.CompressBatchSizeAuto;
            if (options.CompressBatchSize is int b) Tunables.CompressBatchSize = b;
            foreach (KeyValuePair<string, string> kv in options.Tunables) Tunables.Set(kv.Key, kv.Value);
            // Bottom up: the page-I/O layer, zswap, reclaim and its background threads, then the access layer on top.
            TunableSet tunables = Tunables;
            _pageIo = new PageIo(_devices, _arena, _counters, () => tunables.VerifyChecksums) { Log = _log };
            _zswap = new ZswapCache(_arena, _pool, _devices, _counters, Tunables, _engines, _batches, _groups, faults, _pageIo, _busy);
            _reclaimer = new Reclaimer(_arena, _spaces, _gate, _devices, _zswap, _pageIo, _groups, _counters, Tunables);
            if (options.ZswapShrinkWorker) _zswap.StartShrinkWorker();
            if (options.BackgroundReclaim) _kswapds = _arena.Nodes.Select(n => new Kswapd(n, _reclaimer, _groups, _busy)).ToArray();
            _mm = new Mm(_arena, _spaces, _gate, _devices, _zswap, _reclaimer, _kswapds, _counters, _busy, Tunables);
            DefaultGroup = CreateGroup("root", (long)_arena.FrameCount * PageSize.Bytes);
            _metrics = new TierMetrics(Name, SnapshotCore().Gauges.Select(g => g.Key), TrySnapshot, _groups);
        }
        catch
        {
            DisposeParts();
            throw;
        }
    }

    /// <summary>The options the tier was built with.</summary>
    public TierOptions Options { get; }

    /// <summary>
    /// The tier's name: <see cref="TierOptions.Name"/>, or "tier1", "tier2", ... in creation order. Its metrics carry it
    /// as the tag <see cref="BatchSwapTelemetry.TierTag"/>, and its log lines name it.
    /// </summary>
    public string Name { get; }

    /// <summary>The tunables, readable and settable at run time.</summary>
    public TunableSet Tunables { get; }

    /// <summary>The group whose limit is the whole tier, used when none is given.</summary>
    public MemoryGroup DefaultGroup { get; }

    /// <summary>Bytes of page frames (the tier's memory less the frame table).</summary>
    public long FrameBytes => _arena.PageBytes;

    /// <summary>The compression engines, described ("cpu x2").</summary>
    public string EnginesDescription => _engines.Name;

    /// <summary>Creates a memory group with its own limit (at most the tier's frames).</summary>
    public MemoryGroup CreateGroup(string name, long limitBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ThrowIfDisposed();
        long max = _arena.PageBytes;
        if (name.Length > 64) throw new ArgumentOutOfRangeException(nameof(name), name.Length, "a group name has at most 64 characters");
        if (limitBytes < 1L << 20 || limitBytes > max)
            throw new ArgumentOutOfRangeException(nameof(limitBytes), limitBytes, $"a group limit must be in [1 MiB, {max >> 20} MiB]");
        return _groups.Create(name, limitBytes);
    }

    /// <summary>
    /// Allocates a region of <paramref name="bytes"/> (rounded up to whole pages) in folios of
    /// <paramref name="order"/> (0–9), charged to <paramref name="group"/> (default: <see cref="DefaultGroup"/>).
    /// Pages are allocated on first touch and read as zeros until written.
    /// </summary>
    public Region Allocate(long bytes, int order = 0, MemoryGroup? group = null, int node = -1)
    {
        ThrowIfDisposed();
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "a region needs at least one byte");
        if (bytes > 1L << 43) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "a region holds at most 8 TiB");
        if ((uint)order > PageSize.MaxOrder) throw new ArgumentOutOfRangeException(nameof(order), order, $"order must be in [0, {PageSize.MaxOrder}]");
        if (node < -1 || node >= _arena.Nodes.Length) throw new ArgumentOutOfRangeException(nameof(node), node, $"node must be -1 (any) or in [0, {_arena.Nodes.Length - 1}]");
        group ??= DefaultGroup;
        if (!_groups.Contains(group))
            throw new ArgumentException($"memory group '{group.Name}' belongs to another tier", nameof(group));
        long pages = (bytes + PageSize.Bytes - 1) >> PageSize.Shift;
        if (pages > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "a region holds at most 2^31 pages");
        EnterOp();
        try
        {
            return _mm.CreateRegion(group, pages, order, node);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Maps <paramref name="bytes"/> (rounded up to whole pages) of ordinary virtual memory paged by this tier: plain
    /// loads and stores through <see cref="TransparentMapping.Pointer"/> or its spans, with missing pages filled through
    /// userfaultfd and cold ones reclaimed through the tier's store path (docs/transparent.md). Linux only. Throws
    /// <see cref="UserfaultfdUnavailableException"/>, naming the cause, when userfaultfd is not permitted.
    /// </summary>
    public TransparentMapping Map(long bytes, TransparentOptions? options = null)
    {
        options ??= new TransparentOptions();
        if (options.MaxResidentBytes < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxResidentBytes, "MaxResidentBytes must be 0 (default) or more");
        MemoryGroup group = options.Group ?? DefaultGroup;
        long resident = options.MaxResidentBytes > 0 ? options.MaxResidentBytes : group.LimitBytes / 4;
        if (resident > group.LimitBytes - group.HeadroomBytes - (4L << 20))
            throw new ArgumentOutOfRangeException(nameof(options), resident, $"MaxResidentBytes must leave at least 4 MiB of group '{group.Name}' ({group.LimitBytes >> 20} MiB) for reclaim");
        Region region = Allocate(bytes, 0, group);
        try
        {
            var m = new TransparentMapping(ForgetMapping, _mm, region, region.Length, resident >> PageSize.Shift, options.Access);
            lock (_mappings) _mappings.Add(m);
            return m;
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>A disposed mapping leaves the tier's list.</summary>
    internal void ForgetMapping(TransparentMapping m)
    {
        lock (_mappings) _mappings.Remove(m);
    }

    /// <summary>The counters and gauges now.</summary>
    public CounterSnapshot Snapshot()
    {
        EnterOp();
        try
        {
            return SnapshotCore();
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Faults injected so far by <see cref="TierOptions.Faults"/>, by their <see cref="FaultPlan.Parse"/> key
    /// ("swap-write", "short-read", "slow-io" counts delayed I/Os, ...); empty when none is planned.
    /// </summary>
    public IReadOnlyDictionary<string, long> InjectedFaults()
    {
        var d = new Dictionary<string, long>();
        if (_faults is null) return d;
        for (int k = 0; k < FaultInjector.KindNames.Length; k++) d[FaultInjector.KindNames[k]] = _faults.Struck((FaultKind)k);
        return d;
    }

    /// <summary>Exceptions the compression engines contained while running jobs (injected engine-throws included).</summary>
    public long EngineExceptionsContained => (_engines as CpuEngines)?.ContainedExceptions ?? 0;

    /// <summary>
    /// Prices the engines' work on <paramref name="pages"/> (whole 4 KiB pages back to back), single-threaded, with the
    /// tier's compressor (<c>zswap.compressor</c>) and checksum setting: what one compression job and one decompression
    /// job cost per page, checksum and same-filled check included, as the engines run them. Up to
    /// <paramref name="repetitions"/> timed passes, fewer when a slow codec would take much over a quarter of a second;
    /// the median of each. Touches nothing of the tier's state; call it after a run, not during one.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="pages"/> is empty or not a whole number of pages.</exception>
    public CodecPrice PriceCodec(ReadOnlySpan<byte> pages, int repetitions = 3) =>
        CodecPricer.Price(Tunables.Compressor, Tunables.VerifyChecksums, pages, repetitions, TimeSpan.FromMilliseconds(250));

    /// <summary>The arena (tests check what of it is resident).</summary>
    internal PageArena Arena => _arena;

    /// <summary>The memory manager (tests reach stored entries through it).</summary>
    internal Mm Mm => _mm;

    /// <summary>zswap (tests).</summary>
    internal ZswapCache Zswap => _zswap;

    /// <summary>Reclaim (tests).</summary>
    internal Reclaimer Reclaimer => _reclaimer;

    /// <summary>The background reclaimers, one per node (tests).</summary>
    internal IReadOnlyList<Kswapd> Kswapds => _kswapds;

    /// <summary>The swap devices (tests check their files).</summary>
    internal IReadOnlyList<SwapDevice> Devices => _devices;

    /// <summary>The engine threads (tests check they end).</summary>
    internal IReadOnlyList<Thread> EngineThreads => (_engines as CpuEngines)?.Threads ?? [];

    /// <summary>The swap I/O threads (tests check they end).</summary>
    internal IReadOnlyList<Thread> SwapIoThreads => _ioWorkers?.Threads ?? [];

    /// <summary>The page-I/O layer (tests).</summary>
    internal PageIo PageIo => _pageIo;

    /// <summary>Whether every swap device moves its pages without the page cache (direct I/O, or not a file).</summary>
    public bool SwapDirectIo => _devices.All(d => d.Backend.DirectIo);

    /// <summary>The swap devices' backends, described ("file, direct I/O"), by swap type.</summary>
    public IReadOnlyList<string> SwapDescriptions => _devices.Select(d => d.Backend.Description).ToArray();

    /// <summary>Bytes of the swap files' pages in the page cache now (memory outside the budget; 0 with direct I/O).</summary>
    public long SwapPageCacheBytes
    {
        get { long n = 0; foreach (SwapDevice d in _devices) n += d.Backend.PageCacheBytes(); return n; }
    }

    /// <summary>The zswap shrink worker's thread, or null when a full pool is shrunk by the storing thread (for tests).</summary>
    internal Thread? ShrinkWorkerThread => _zswap.ShrinkWorkerThread;

    /// <summary>A snapshot for the metrics' callbacks, or null once the tier is closing.</summary>
    private CounterSnapshot? TrySnapshot()
    {
        if (!_gate.TryEnter()) return null;
        try
        {
            return SnapshotCore();
        }
        finally
        {
            _gate.Exit();
        }
    }

    private CounterSnapshot SnapshotCore()
    {
        var events = new long[CounterNames.Count];
        _counters.ReadAll(events);
        // Stall time lives in the groups (an open stall counts up to now); read there, full never exceeds some.
        _groups.StallTime(out events[(int)Counter.PsiSomeNs], out events[(int)Counter.PsiFullNs]);
        long swapUsed = 0, slotTableFrames = 0;
        foreach (SwapDevice d in _devices) { swapUsed += d.UsedSlots; slotTableFrames += d.MetaFrames; }
        long resident = 0, charged = 0;
        foreach (MemoryGroup g in _groups.All) { resident += g.LruPages; charged += g.ChargedBytes; }
        var usage = _pool.Usage();
        var gauges = new List<KeyValuePair<string, long>>
        {
            new("stored_pages", _zswap.StoredPages),
            new("pool_total_size", _pool.TotalBytes),
            new("pool_compressed_bytes", _pool.PayloadBytes),
            new("pool_object_bytes", usage.UsedObjectBytes),
            new("pool_free_object_bytes", usage.FreeObjectBytes),
            new("pool_span_tail_bytes", usage.TailBytes),
            new("pool_limit_bytes", _zswap.MaxPoolPages * PageSize.Bytes),
            new("same_filled_pages", _zswap.SameFilledPages),
            new("stored_incompressible_pages", _zswap.IncompressiblePages),
            new("zswap_retained_pages", _zswap.RetainedPages),
            new("resident_pages", resident),
            new("charged_bytes", charged),
            new("free_pages", _arena.FreePages),
            new("total_pages", _arena.FrameCount),
            new("swap_used_pages", swapUsed),
            new("slot_table_pages", slotTableFrames),
            new("compress_batchsize", Tunables.CompressBatchSize),
            new("compress_batchsize_auto", Tunables.CompressBatchSizeAuto ? 1 : 0),
            new("swap_direct_io", SwapDirectIo ? 1 : 0),
            new("swap_io_in_flight", _pageIo.Depth.Now),
            new("swap_io_depth_max", _pageIo.Depth.Max),
        };
        return new CounterSnapshot(events, gauges);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private void EnterOp()
    {
        if (!_gate.TryEnter()) throw new ObjectDisposedException(nameof(MemoryTier), "the memory tier has been disposed");
    }

    /// <summary>
    /// Closes the tier: accesses and operations already running (with the reclaim and I/O they do) finish, new ones
    /// throw <see cref="ObjectDisposedException"/>; then the engines stop, temporary swap files are deleted and all
    /// memory is freed. Safe to call while other threads use the tier; waits for open <see cref="PageLease"/>s. A
    /// second call does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        TransparentMapping[] open;
        lock (_mappings) open = [.. _mappings];
        foreach (TransparentMapping m in open) m.Dispose();
        _mm.Close();
        DisposeParts();
    }

    private void DisposeParts()
    {
        _metrics?.Dispose();
        if (_kswapds is not null) foreach (Kswapd k in _kswapds) k.Dispose();
        _zswap?.StopShrinkWorker();
        _engines?.Dispose();
        _batches?.Dispose();
        _ioWorkers?.Dispose(); // finishes any queued run before the files close
        if (_devices is not null) foreach (SwapDevice? d in _devices) d?.Dispose();
        _arena?.Dispose();
    }
}
