using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;

namespace BatchSwap.Tunables;

/// <summary>
/// The run-time tunables, under the kernel's sysctl and module-parameter names. Every setter validates
/// and throws <see cref="TunableException"/> with the accepted range; the engine reads the values
/// lock-free on its paths (a change takes effect at the next batch).
/// </summary>
public sealed class TunableSet
{
    /// <summary>Largest reclaim batch (SWAP_CLUSTER_MAX), the upper bound of vm.compress-batchsize.</summary>
    public const int MaxCompressBatchSize = 32;

    /// <summary>The text of an automatic vm.compress-batchsize.</summary>
    public const string AutoValue = "auto";

    /// <summary>Largest vm.page-cluster accepted (readahead of 2^N pages).</summary>
    public const int MaxPageCluster = 7;

    /// <summary>vm.page-cluster before one is set.</summary>
    public const int DefaultPageCluster = 6;

    /// <summary>
    /// The manual vm.compress-batchsize before one is set (the best fixed size measured, see README), and the size the
    /// automatic choice starts from.
    /// </summary>
    public const int DefaultCompressBatchSize = 32;

    /// <summary>
    /// Whether vm.compress-batchsize is automatic unless set. It is not: automatic comes within 5 % of the best fixed
    /// size in 7 of 8 cases (seq and rand, 1 and 2 workers, lz4 and deflate; README), but on the default disk-bound
    /// run it drifts below 32 and gives 0.94× of it, so the seed's 32 stays the default and <c>auto</c> is the user's
    /// choice.
    /// </summary>
    public const bool DefaultCompressBatchSizeAuto = false;

    // Folios per reclaim batch when set by hand, [1, 32].
    private volatile int _compressBatchSize = DefaultCompressBatchSize;
    // vm.compress-batchsize = auto: the controller chooses.
    private volatile bool _compressBatchSizeAuto = DefaultCompressBatchSizeAuto;
    // log2 of swap-in readahead pages, [0, MaxPageCluster]. The kernel's default is 3; here 6 (256 KiB): the window only
    // grows while faults are sequential, and on a disk one 256 KiB read costs about four 4 KiB ones, not sixty-four.
    private volatile int _pageCluster = DefaultPageCluster;
    // zswap on or off.
    private volatile bool _zswapEnabled = true;
    // Codec used for new stores; entries keep the codec they were written with.
    private volatile ICodec _compressor;
    // Pool cap as a percentage of the tier's memory.
    private volatile int _maxPoolPercent = 20;
    // Percentage of the cap under which a full pool accepts stores again.
    private volatile int _acceptThresholdPercent = 90;
    // Write cold entries back to the swap device before the pool reaches its cap.
    private volatile bool _shrinkerEnabled;
    // Verify the checksum of each entry and slot on load.
    private volatile bool _verifyChecksums = true;
    // The size the automatic choice is at.
    private volatile int _autoCompressBatchSize;
    // The largest batch the compression engines take (1 when they cannot batch).
    private readonly int _maxBatchSupported;

    /// <param name="compressor">zswap.compressor at start.</param>
    /// <param name="maxBatchSupported">The most folios the compression engines can batch
    /// (<see cref="Compression.Engines.IBatchCompressor.MaxBatchFolios"/>); vm.compress-batchsize is capped to it,
    /// the automatic choice included.</param>
    internal TunableSet(ICodec compressor, int maxBatchSupported)
    {
        _compressor = compressor;
        _maxBatchSupported = Math.Clamp(maxBatchSupported, 1, MaxCompressBatchSize);
        if (_compressBatchSize > _maxBatchSupported) _compressBatchSize = _maxBatchSupported;
        _autoCompressBatchSize = _maxBatchSupported;
    }

    /// <summary>Every tunable's name, in display order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "vm.compress-batchsize", "vm.page-cluster", "zswap.enabled", "zswap.compressor",
        "zswap.max_pool_percent", "zswap.accept_threshold_percent", "zswap.shrinker_enabled",
        "zswap.verify_checksums", "zswap.exclusive_loads",
    ];

    /// <summary>
    /// vm.compress-batchsize: folios per reclaim batch, the size in force. Setting it is the manual override (and turns
    /// <see cref="CompressBatchSizeAuto"/> off): any value in [1, 32] is accepted (others throw), and the value in force
    /// is capped to what the compression engines can batch (<see cref="CompressBatchSizeLimit"/>: 1 for engines that
    /// cannot batch), as the kernel caps the batch to the compressor's: reading it back gives the value in force, not
    /// the one set. When automatic, reading it gives the size the controller has chosen now.
    /// </summary>
    public int CompressBatchSize
    {
        get => _compressBatchSizeAuto ? _autoCompressBatchSize : _compressBatchSize;
        set
        {
            if (value < 1 || value > MaxCompressBatchSize)
                throw new TunableException($"vm.compress-batchsize must be auto or in [1, {MaxCompressBatchSize}], got {value}");
            _compressBatchSize = Math.Min(value, _maxBatchSupported);
            _compressBatchSizeAuto = false;
        }
    }

    /// <summary>
    /// vm.compress-batchsize = auto: the batch size is chosen while running, from the measured cost of stores
    /// (reclaim's batch-size controller), within [1, <see cref="CompressBatchSizeLimit"/>]. Turning it off goes back
    /// to the last size set by hand (<see cref="DefaultCompressBatchSize"/>, capped, if none was).
    /// </summary>
    public bool CompressBatchSizeAuto
    {
        get => _compressBatchSizeAuto;
        set => _compressBatchSizeAuto = value;
    }

    /// <summary>
    /// The size the automatic choice has made (reclaim's batch-size controller publishes it here), in force while
    /// <see cref="CompressBatchSizeAuto"/> is on.
    /// </summary>
    internal int AutoCompressBatchSize
    {
        get => _autoCompressBatchSize;
        set => _autoCompressBatchSize = Math.Clamp(value, 1, _maxBatchSupported);
    }

    /// <summary>
    /// Parses a vm.compress-batchsize value: "auto" (any case) gives null, an integer in [1, 32] gives itself. False for
    /// anything else. The one place that says what the tunable accepts; the command line uses it too.
    /// </summary>
    public static bool TryParseCompressBatchSize(string text, out int? size)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        size = null;
        if (t.Equals(AutoValue, StringComparison.OrdinalIgnoreCase)) return true;
        if (!int.TryParse(t, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v)
            || v < 1 || v > MaxCompressBatchSize) return false;
        size = v;
        return true;
    }

    /// <summary>What vm.compress-batchsize accepts, for error messages.</summary>
    public static string CompressBatchSizeAccepted => $"auto or an integer in [1, {MaxCompressBatchSize}]";

    /// <summary>The largest vm.compress-batchsize these compression engines can use (1 when they cannot batch).</summary>
    public int CompressBatchSizeLimit => _maxBatchSupported;

    /// <summary>vm.page-cluster: swap-in readahead brings up to 2^N pages, N in [0, 7] (default 6).</summary>
    public int PageCluster
    {
        get => _pageCluster;
        set => _pageCluster = RequireRange("vm.page-cluster", value, 0, MaxPageCluster);
    }

    /// <summary>zswap.enabled: store reclaimed pages compressed in memory.</summary>
    public bool ZswapEnabled { get => _zswapEnabled; set => _zswapEnabled = value; }

    /// <summary>zswap.compressor: the codec new stores use. Entries keep the codec they were written with.</summary>
    public ICodec Compressor
    {
        get => _compressor;
        set => _compressor = value ?? throw new TunableException("zswap.compressor must not be null");
    }

    /// <summary>zswap.max_pool_percent: the pool cap, as a percentage of the tier's memory, in [1, 100].</summary>
    public int MaxPoolPercent
    {
        get => _maxPoolPercent;
        set => _maxPoolPercent = RequireRange("zswap.max_pool_percent", value, 1, 100);
    }

    /// <summary>zswap.accept_threshold_percent: a full pool accepts again below this percentage of its cap, in [0, 100].</summary>
    public int AcceptThresholdPercent
    {
        get => _acceptThresholdPercent;
        set => _acceptThresholdPercent = RequireRange("zswap.accept_threshold_percent", value, 0, 100);
    }

    /// <summary>zswap.shrinker_enabled: write cold entries back before the pool reaches its cap.</summary>
    public bool ShrinkerEnabled { get => _shrinkerEnabled; set => _shrinkerEnabled = value; }

    /// <summary>
    /// zswap.exclusive_loads (Linux 6.5's parameter; mainline has since made every load exclusive): Y frees a page's
    /// zswap entry or swap slot as soon as it is loaded. N (the default here) keeps the copy while the page is only
    /// read, so that reclaiming it again frees the frame without compressing or writing (pgsteal_clean); a write
    /// drops the copy, and pool pressure drops retained copies before it writes anything back.
    /// </summary>
    public bool ExclusiveLoads { get => _exclusiveLoads; set => _exclusiveLoads = value; }
    private volatile bool _exclusiveLoads;

    /// <summary>zswap.verify_checksums: check each entry's and slot's checksum on load.</summary>
    public bool VerifyChecksums { get => _verifyChecksums; set => _verifyChecksums = value; }

    /// <summary>Reads a tunable by its kernel name, as text.</summary>
    public string Get(string name) => Normalize(name) switch
    {
        "vm.compress-batchsize" => CompressBatchSizeAuto ? AutoValue : CompressBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "vm.page-cluster" => PageCluster.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "zswap.enabled" => YesNo(ZswapEnabled),
        "zswap.compressor" => Compressor.Name,
        "zswap.max_pool_percent" => MaxPoolPercent.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "zswap.accept_threshold_percent" => AcceptThresholdPercent.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "zswap.shrinker_enabled" => YesNo(ShrinkerEnabled),
        "zswap.verify_checksums" => YesNo(VerifyChecksums),
        "zswap.exclusive_loads" => YesNo(ExclusiveLoads),
        _ => throw Unknown(name),
    };

    /// <summary>Sets a tunable by its kernel name from text, validating it.</summary>
    public void Set(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (Normalize(name))
        {
            case "vm.compress-batchsize":
                if (!TryParseCompressBatchSize(value, out int? size))
                    throw new TunableException($"vm.compress-batchsize must be {CompressBatchSizeAccepted}, got '{value}'");
                if (size is int n) CompressBatchSize = n;
                else CompressBatchSizeAuto = true;
                break;
            case "vm.page-cluster": PageCluster = ParseInt("vm.page-cluster", value, $"[0, {MaxPageCluster}]"); break;
            case "zswap.enabled": ZswapEnabled = ParseBool("zswap.enabled", value); break;
            case "zswap.compressor":
                if (!CodecRegistry.TryGet(value.Trim(), out ICodec? codec))
                    throw new TunableException($"zswap.compressor: unknown compressor '{value}'; accepted: {string.Join(", ", CodecRegistry.Names)}");
                Compressor = codec;
                break;
            case "zswap.max_pool_percent": MaxPoolPercent = ParseInt("zswap.max_pool_percent", value, "[1, 100]"); break;
            case "zswap.accept_threshold_percent": AcceptThresholdPercent = ParseInt("zswap.accept_threshold_percent", value, "[0, 100]"); break;
            case "zswap.shrinker_enabled": ShrinkerEnabled = ParseBool("zswap.shrinker_enabled", value); break;
            case "zswap.verify_checksums": VerifyChecksums = ParseBool("zswap.verify_checksums", value); break;
            case "zswap.exclusive_loads": ExclusiveLoads = ParseBool("zswap.exclusive_loads", value); break;
            default: throw Unknown(name);
        }
    }

    /// <summary>All tunables as name/value pairs.</summary>
    public IEnumerable<KeyValuePair<string, string>> All()
    {
        foreach (string n in Names) yield return new(n, Get(n));
    }

    private static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim().ToLowerInvariant();
        // sysctl accepts both vm/compress-batchsize and vm.compress-batchsize; zswap parameters may be given as zswap/x.
        return n.Replace('/', '.');
    }

    private static TunableException Unknown(string name) =>
        new($"unknown tunable '{name}'; accepted: {string.Join(", ", Names)}");

    private static int RequireRange(string name, int value, int min, int max) =>
        value < min || value > max ? throw new TunableException($"{name} must be in [{min}, {max}], got {value}") : value;

    private static int ParseInt(string name, string text, string range) =>
        int.TryParse(text.Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v)
            ? v
            : throw new TunableException($"{name} must be an integer in {range}, got '{text}'");

    private static bool ParseBool(string name, string text) => text.Trim().ToLowerInvariant() switch
    {
        "y" or "yes" or "1" or "true" or "on" => true,
        "n" or "no" or "0" or "false" or "off" => false,
        _ => throw new TunableException($"{name} must be Y or N (also 1/0, true/false), got '{text}'"),
    };

    private static string YesNo(bool b) => b ? "Y" : "N";
}
