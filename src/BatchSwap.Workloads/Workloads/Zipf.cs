using BatchSwap.Memory;

namespace BatchSwap.Workloads.Workloads;

/// <summary>The parameters of a hot/cold zipf run.</summary>
public sealed record ZipfOptions
{
    /// <summary>Worker threads, each with its own region.</summary>
    public int Workers { get; init; } = 2;
    /// <summary>Bytes per worker, a whole number of pages.</summary>
    public long SizePerWorker { get; init; } = 512L << 20;
    /// <summary>Folio order of each worker's region.</summary>
    public int Order { get; init; }
    /// <summary>Operations per worker after the fill.</summary>
    public long OpsPerWorker { get; init; } = 1_000_000;
    /// <summary>Zipf exponent θ in [0, 1): 0 is uniform, 0.99 (YCSB's default) very skewed.</summary>
    public double Skew { get; init; } = 0.99;
    /// <summary>Fraction of operations that are reads, in [0, 1].</summary>
    public double ReadRatio { get; init; } = 0.9;
    /// <summary>Seed of the operation streams (worker w uses xorshift64 from <c>88172645463325252 + w</c> mixed with it).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> with one clear sentence for a bad value.</summary>
    public void Validate()
    {
        if (Workers is < 1 or > 1024) throw new ArgumentException($"--workers must be in [1, 1024], got {Workers}");
        if (SizePerWorker < 4096) throw new ArgumentException($"--size must be at least 4KiB, got {SizePerWorker} bytes");
        if (SizePerWorker % 4096 != 0) throw new ArgumentException($"--size must be a whole number of 4 KiB pages, got {SizePerWorker} bytes");
        if (Order is < 0 or > PageSize.MaxOrder) throw new ArgumentException($"--order must be in [0, {PageSize.MaxOrder}], got {Order}");
        if (OpsPerWorker is < 0 or > 1L << 40) throw new ArgumentException($"--ops must be in [0, 2^40], got {OpsPerWorker}");
        if (!(Skew >= 0 && Skew < 1)) throw new ArgumentException($"--skew must be in [0, 1) (0 uniform, 0.99 YCSB's hot set), got {Skew}");
        if (!(ReadRatio >= 0 && ReadRatio <= 1)) throw new ArgumentException($"--read-ratio must be in [0, 1], got {ReadRatio}");
    }
}

/// <summary>
/// Zipf-distributed ranks in [0, n) by Gray et al.'s method ("Quickly generating billion-record synthetic databases",
/// as in YCSB's ZipfianGenerator): rank 0 is the most popular, rank k has weight 1/(k+1)^θ. Setup is O(n) (ζ(n, θ));
/// each draw is O(1) and allocation-free.
/// </summary>
public sealed class ZipfDistribution
{
    // Number of ranks.
    private readonly long _n;
    // The exponent θ.
    private readonly double _theta;
    // 1 / (1 - θ).
    private readonly double _alpha;
    // ζ(n, θ) = Σ 1/k^θ for k = 1..n.
    private readonly double _zetaN;
    // Gray's η = (1 - (2/n)^(1-θ)) / (1 - ζ(2, θ) / ζ(n, θ)).
    private readonly double _eta;
    // 1 + 0.5^θ: the cumulative weight of ranks 0 and 1, over ζ(n, θ) gives the second threshold.
    private readonly double _twoThreshold;

    /// <summary>A distribution over <paramref name="n"/> ranks with exponent <paramref name="theta"/> in [0, 1).</summary>
    public ZipfDistribution(long n, double theta)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (!(theta >= 0 && theta < 1)) throw new ArgumentOutOfRangeException(nameof(theta), theta, "θ must be in [0, 1)");
        _n = n;
        _theta = theta;
        _alpha = 1 / (1 - theta);
        double zeta = 0;
        for (long k = 1; k <= n; k++) zeta += 1 / Math.Pow(k, theta);
        _zetaN = zeta;
        double zeta2 = 1 + Math.Pow(0.5, theta);
        _eta = n <= 2 ? 0 : (1 - Math.Pow(2.0 / n, 1 - theta)) / (1 - zeta2 / zeta);
        _twoThreshold = zeta2;
    }

    /// <summary>Ranks.</summary>
    public long Count => _n;

    /// <summary>The rank for a uniform <paramref name="u"/> in [0, 1).</summary>
    public long Rank(double u)
    {
        double uz = u * _zetaN;
        if (uz < 1) return 0;
        if (uz < _twoThreshold || _n <= 2) return Math.Min(1, _n - 1);
        long r = (long)(_n * Math.Pow(_eta * u - _eta + 1, _alpha));
        return Math.Clamp(r, 0, _n - 1);
    }

    /// <summary>
    /// A bijection of [0, n) that spreads the hot ranks over the region (rank × a mod n, with a odd and coprime to n),
    /// so that the hot set is not one run of neighbouring pages and folios.
    /// </summary>
    public static long Scatter(long rank, long n, long multiplier) => (long)((UInt128)(ulong)rank * (ulong)multiplier % (ulong)n);

    /// <summary>A multiplier for <see cref="Scatter"/> coprime to <paramref name="n"/>.</summary>
    public static long ScatterMultiplier(long n)
    {
        long a = (long)(0x9E3779B97F4A7C15UL % (ulong)Math.Max(n, 1)) | 1;
        while (Gcd(a, n) != 1) a += 2;
        return a % Math.Max(n, 1) == 0 ? 1 : a;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}

/// <summary>The hot/cold load: each worker does <see cref="ZipfOptions.OpsPerWorker"/> reads and writes of zipf-chosen pages.</summary>
public static class Zipf
{
    /// <summary>Runs the load on <paramref name="tier"/> (see <see cref="OpsLoad"/>).</summary>
    public static OpsResult Run(MemoryTier tier, PageSources.IPageSource source, ZipfOptions options,
        Action<string, long, long>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        long pages = options.SizePerWorker / PageSize.Bytes;
        var dist = new ZipfDistribution(pages, options.Skew);
        long mult = ZipfDistribution.ScatterMultiplier(pages);
        var seqs = new IOpSequence[options.Workers];
        for (int w = 0; w < options.Workers; w++)
            seqs[w] = new Sequence(dist, mult, options.ReadRatio, options.OpsPerWorker,
                AccessPattern.RandomSeed(w) ^ ((ulong)(uint)options.Seed * 0x9E3779B97F4A7C15UL));
        return OpsLoad.Run(tier, source, Enumerable.Repeat(pages, options.Workers).ToArray(), options.Order, seqs,
            options.OpsPerWorker * options.Workers, progress, cancel);
    }

    // One worker's stream: xorshift64 draws, one for the kind of operation and one for the page.
    private sealed class Sequence(ZipfDistribution dist, long multiplier, double readRatio, long ops, ulong seed) : IOpSequence
    {
        private ulong _x = seed == 0 ? 1 : seed;
        private long _left = ops;

        public bool Next(out long page, out bool write)
        {
            if (_left-- <= 0) { page = 0; write = false; return false; }
            write = Uniform() >= readRatio;
            page = ZipfDistribution.Scatter(dist.Rank(Uniform()), dist.Count, multiplier);
            return true;
        }

        private double Uniform()
        {
            _x = AccessPattern.XorShift64(_x);
            return (_x >> 11) * (1.0 / (1UL << 53));
        }
    }
}
