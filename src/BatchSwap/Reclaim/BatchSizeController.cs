using BatchSwap.Stats;
using BatchSwap.Tunables;

namespace BatchSwap.Reclaim;

/// <summary>
/// Chooses vm.compress-batchsize while the tier runs (<c>vm.compress-batchsize = auto</c>): a hill-climb over the
/// sizes 1, 2, 4, 8, 16, 32 (up to what the engines can batch) on the measured cost of a store, per page.
/// </summary>
/// <remarks>
/// <para><b>The signal: wall nanoseconds per page of <see cref="Zswap.ZswapCache.StoreBatch"/></b>: the store
/// (<c>zswap_store_ns</c>) and the writeback and compaction that follow each store. Those run once a batch whatever its
/// size, so small batches pay them more often per page; leaving them out made small sizes look cheaper than they were
/// (on the default disk-bound run the choice drifted as low as 4, and three interleaved pairs against a fixed 32 gave
/// 0.88×). It is the time the reclaiming thread is held per page reclaimed: for direct reclaim, exactly its PSI stall
/// (the store runs between <c>StallEnter</c> and <c>StallLeave</c>); for kswapd, what bounds how fast it
/// frees frames. It takes in both sides of the trade-off the kernel reviewers asked about. What a batch gains: its
/// jobs run in parallel on the engines that are idle, with the submitter working too, and the store's per-batch work
/// (the LRU lock, the run's set-up) is shared. What it costs: handing jobs off (offers, waking a blocked engine,
/// spinning for the last job an engine is finishing). The engines' idle share is in the signal already:
/// <c>CpuEngines.HelpersFor</c> offers a batch only to engines on idle cores, so when the application's threads keep
/// every core busy a batch runs on the submitter alone and shows no gain over batch 1, and when a hand-off costs more
/// than the parallelism brings, the small sizes measure cheaper and the controller goes down to them, batch 1
/// included. A separate idle-share input would count the same thing twice. Stores the pool refuses without
/// compressing (zswap off, pool full) and a pmd-mappable folio stored alone say nothing about batching; the reclaimer
/// leaves them out.</para>
/// <para><b>Paired comparisons.</b> The cost of a page moves a lot with the data (same-filled pages cost nearly
/// nothing, incompressible ones more) and with the load (a busy machine doubles it), far more than neighbouring sizes
/// differ, so sizes are never compared across time. Of every <see cref="ProbePeriod"/> folio lists, one runs at the
/// next smaller size and one at the next larger (probes), the rest at the current size. Every
/// <see cref="EpochLists"/> lists (an epoch), each probed neighbour's cost over the epoch is divided by the current
/// size's over the same epoch (nanoseconds over pages, so large folios weigh by their pages): what changed for all
/// sizes at once cancels out. The relative difference, clamped to ±1/<see cref="ClampDivisor"/> so that one epoch with
/// a stall in it (or the first calls' JIT) cannot outweigh the rest, is averaged per side with its variance: a plain
/// average over the first epochs, then an EWMA (weight 1/<see cref="EwmaDivisor"/>, about the last 30 epochs).</para>
/// <para><b>Hysteresis.</b> The size moves to a neighbour only when, over at least <see cref="MinEpochs"/> epochs,
/// that neighbour has been cheaper on average by more than 1/<see cref="MarginDivisor"/> (about 3 %) and by more
/// than twice the average's standard error: noise between sizes that cost the same does not make it flap, and a
/// neighbour that is clearly cheaper wins in a few epochs. After a move both sides start afresh. Climbing from 32 to
/// 1 takes five moves of at least <see cref="MinEpochs"/> epochs each, a few thousand lists (about a second of steady
/// reclaim on two cores). Probes near the optimum cost little: two lists in eight at a neighbour a few percent
/// dearer.</para>
/// <para><b>Cost and safety.</b> Lock-free, nothing allocated: a list's start is one interlocked increment and a
/// volatile read; a flush's measurement is one interlocked add (nanoseconds and pages packed in one word, so that an
/// epoch reads and resets both at once). The decision, once an epoch, runs in the thread that starts the epoch's last
/// list, a few dozen arithmetic operations under a try-flag (never waited on). The size stays in [1, the engines'
/// limit]: a compressor that cannot batch (limit 1) leaves only batch 1, and the controller never moves. It starts at
/// the limit (32 for the CPU engines, the best fixed size measured before it existed).</para>
/// </remarks>
internal sealed class BatchSizeController
{
    /// <summary>Folio lists in one probe cycle: one at the smaller neighbour, one at the larger, the rest at the current size.</summary>
    public const int ProbePeriod = 8;
    /// <summary>Folio lists between decisions (a power of two, a multiple of <see cref="ProbePeriod"/>).</summary>
    public const int EpochLists = 64;
    /// <summary>Least pages a size must have been measured on for an epoch's comparison (else its measurements carry over).</summary>
    public const int MinPages = 64;
    /// <summary>A neighbour must be cheaper by more than 1/MarginDivisor of the current cost on average to be moved to.</summary>
    public const int MarginDivisor = 32;
    /// <summary>Least epochs a neighbour must have been compared in before the size moves to it.</summary>
    public const int MinEpochs = 8;
    /// <summary>The EWMA of a side's relative difference takes 1/EwmaDivisor of each new epoch's.</summary>
    public const int EwmaDivisor = 16;
    /// <summary>An epoch's relative difference counts as at most ±1/ClampDivisor (a stall or the first calls' JIT cannot outweigh many epochs).</summary>
    public const int ClampDivisor = 2;

    // Where the probes fall in a cycle of ProbePeriod lists (apart, so that the two sides interleave).
    private const int ProbeSmallerPhase = 3, ProbeLargerPhase = 7;
    // A window word: nanoseconds above PagesBits, pages below.
    private const int PagesBits = 24;
    private const long PagesMask = (1L << PagesBits) - 1;
    // Caps on one observation, so that a window word cannot overflow (one list holds at most 32 pmd folios, 2^14 pages).
    private const long MaxObservedNs = 1L << 32;
    private const int MaxObservedPages = 1 << 16;
    // Pages a window may gather while it waits for a comparison (then all are dropped): far under 2^PagesBits, and
    // under 2^(64 - PagesBits) ns at a few ms a page.
    private const long MaxWaitingPages = 1 << 18;
    // Longs between windows, so that each sits on its own cache lines (the reclaiming threads add to them).
    private const int WindowStride = 16;
    // The EWMA's weight, and the most samples its average is worth (for the standard error): (2 - a) / a.
    private const double Alpha = 1.0 / EwmaDivisor;
    private const double MaxEffectiveSamples = (2 - Alpha) / Alpha;

    // The candidate sizes, ascending: the powers of two under the limit, then the limit.
    private readonly int[] _sizes;
    // Candidate index of each size 0..32, -1 for a size that is not a candidate (a manual value).
    private readonly sbyte[] _indexOf = new sbyte[TunableSet.MaxCompressBatchSize + 1];
    // Index of the largest candidate.
    private readonly int _top;
    // The measurements not yet compared, per candidate (at i * WindowStride): ns << PagesBits | pages. Added to lock-free.
    private readonly long[] _windows;
    // Each candidate's cost in its last comparison, ns per page (diagnostics); NaN until measured.
    private readonly double[] _lastCost;
    // Counted on each change of the size, when given.
    private readonly Counters? _counters;

    // The current choice (candidate index).
    private volatile int _current;
    // Where the size in force is published.
    private readonly TunableSet? _publish;
    // Folio lists started (drives probes and epochs).
    private long _lists;
    // 1 while a thread decides; the fields below are that thread's.
    private int _deciding;
    // The smaller and the larger neighbour's relative difference to the current size.
    private SideStats _smaller, _larger;
    // Times the size changed.
    private long _changes;

    /// <param name="limit">The largest size the engines can batch (<see cref="Compression.Engines.IBatchCompressor.MaxBatchFolios"/>), clamped to [1, 32].</param>
    /// <param name="counters">Where to count changes of the size (<see cref="Counter.CompressBatchsizeChanges"/>), if anywhere.</param>
    /// <param name="publish">Where the size in force is published (<see cref="TunableSet.AutoCompressBatchSize"/>), if anywhere.</param>
    public BatchSizeController(int limit, Counters? counters = null, TunableSet? publish = null)
    {
        _publish = publish;
        limit = Math.Clamp(limit, 1, TunableSet.MaxCompressBatchSize);
        _counters = counters;
        var sizes = new List<int>();
        for (int s = 1; s < limit; s <<= 1) sizes.Add(s);
        sizes.Add(limit);
        _sizes = sizes.ToArray();
        _top = _sizes.Length - 1;
        Array.Fill(_indexOf, (sbyte)-1);
        for (int i = 0; i < _sizes.Length; i++) _indexOf[_sizes[i]] = (sbyte)i;
        _windows = new long[_sizes.Length * WindowStride];
        _lastCost = new double[_sizes.Length];
        Array.Fill(_lastCost, double.NaN);
        _current = _top;
        publish?.AutoCompressBatchSize = _sizes[_top];
    }

    /// <summary>The size in force now (what lists that are not probes use).</summary>
    public int Current => _sizes[_current];

    /// <summary>Times the size changed so far.</summary>
    public long Changes => Volatile.Read(ref _changes);

    /// <summary>The sizes the controller chooses among, ascending.</summary>
    public IReadOnlyList<int> Sizes => _sizes;

    /// <summary>
    /// The batch size for a folio list a reclaiming thread begins now: the current size, or a neighbour when this list
    /// is a probe. The list's flushes must be reported to <see cref="Observe"/> with this size. Once an epoch, decides
    /// (in this thread) whether to move.
    /// </summary>
    public int ForList()
    {
        if (_top == 0) return _sizes[0];
        long list = Interlocked.Increment(ref _lists);
        if ((list & (EpochLists - 1)) == 0) TryDecide();
        int cur = _current;
        int phase = (int)(list & (ProbePeriod - 1));
        if (phase == ProbeSmallerPhase && cur > 0) return _sizes[cur - 1];
        if (phase == ProbeLargerPhase && cur < _top) return _sizes[cur + 1];
        return _sizes[cur];
    }

    /// <summary>
    /// Reports one flush of a list begun with <see cref="ForList"/>: <paramref name="pages"/> pages compressed and
    /// stored in <paramref name="nanoseconds"/> at batch size <paramref name="batchSize"/>. Sizes that are not
    /// candidates, and negative times (a store refused without compressing), are ignored.
    /// </summary>
    public void Observe(int batchSize, int pages, long nanoseconds)
    {
        if (pages <= 0 || nanoseconds < 0 || _top == 0 || (uint)batchSize >= (uint)_indexOf.Length) return;
        int i = _indexOf[batchSize];
        if (i < 0) return;
        long word = (Math.Min(nanoseconds, MaxObservedNs) << PagesBits) | (long)Math.Min(pages, MaxObservedPages);
        Interlocked.Add(ref _windows[i * WindowStride], word);
    }

    /// <summary>The cost of <paramref name="batchSize"/> in its last comparison, ns per page, or NaN if it was never compared (tests, diagnostics).</summary>
    public double CostOf(int batchSize)
    {
        int i = (uint)batchSize < (uint)_indexOf.Length ? _indexOf[batchSize] : -1;
        return i < 0 ? double.NaN : Volatile.Read(ref _lastCost[i]);
    }

    private void TryDecide()
    {
        if (Interlocked.CompareExchange(ref _deciding, 1, 0) != 0) return;
        try
        {
            Decide();
        }
        finally
        {
            Volatile.Write(ref _deciding, 0);
        }
    }

    /// <summary>
    /// Compares each neighbour measured enough since its last comparison with the current size over the same time,
    /// adds the relative difference to that side's average, and moves to a side whose average says it is cheaper.
    /// </summary>
    private void Decide()
    {
        int cur = _current;
        bool smaller = cur > 0 && WindowPages(cur - 1) >= MinPages;
        bool larger = cur < _top && WindowPages(cur + 1) >= MinPages;
        if ((!smaller && !larger) || WindowPages(cur) < MinPages)
        {
            // Nothing to compare with: the current size's measurements wait for its neighbours'. Should those never
            // come (every probe's store refused), the wait is bounded, so that a window word cannot overflow.
            if (WindowPages(cur) > MaxWaitingPages)
                for (int i = 0; i <= _top; i++) Interlocked.Exchange(ref _windows[i * WindowStride], 0);
            return;
        }

        double curCost = TakeCost(cur);
        if (!(curCost > 0)) return;
        if (smaller) _smaller.Add(TakeCost(cur - 1) / curCost - 1);
        if (larger) _larger.Add(TakeCost(cur + 1) / curCost - 1);

        int to = -1;
        if (_smaller.SaysCheaper && (!_larger.SaysCheaper || _smaller.Mean <= _larger.Mean)) to = cur - 1;
        else if (_larger.SaysCheaper) to = cur + 1;
        if (to < 0) return;

        // A new neighbourhood: its comparisons start afresh, and measurements of sizes outside it (from lists still in
        // flight) are dropped.
        _smaller = default;
        _larger = default;
        for (int i = 0; i <= _top; i++) if (i < to - 1 || i > to + 1) Interlocked.Exchange(ref _windows[i * WindowStride], 0);
        _current = to;
        _publish?.AutoCompressBatchSize = _sizes[to];
        Interlocked.Increment(ref _changes);
        _counters?.Add(Counter.CompressBatchsizeChanges);
    }

    private long WindowPages(int i) => Volatile.Read(ref _windows[i * WindowStride]) & PagesMask;

    /// <summary>Empties candidate <paramref name="i"/>'s window; returns its cost, ns per page.</summary>
    private double TakeCost(int i)
    {
        long word = Interlocked.Exchange(ref _windows[i * WindowStride], 0);
        double cost = (double)(word >>> PagesBits) / Math.Max(1, word & PagesMask);
        Volatile.Write(ref _lastCost[i], cost);
        return cost;
    }

    /// <summary>One side's comparisons: the average of (neighbour's cost / current cost - 1), its variance, and how many went in.</summary>
    private struct SideStats
    {
        public double Mean;
        public double Variance;
        public int Count;

        public void Add(double x)
        {
            x = Math.Clamp(x, -1.0 / ClampDivisor, 1.0 / ClampDivisor);
            // The plain mean and variance of the first samples, then exponentially weighted (West's incremental form):
            // the first epoch alone, the one with the first calls in it, does not set the average.
            double w = Math.Max(Alpha, 1.0 / ++Count);
            double d = x - Mean;
            Mean += w * d;
            Variance = (1 - w) * (Variance + w * d * d);
        }

        /// <summary>Compared long enough, cheaper than the margin, and cheaper by more than twice the average's standard error.</summary>
        public readonly bool SaysCheaper =>
            Count >= MinEpochs && Mean < -1.0 / MarginDivisor && Mean + 2 * Math.Sqrt(Variance / Math.Min(Count, MaxEffectiveSamples)) < 0;
    }
}
