using BatchSwap.Stats;

namespace BatchSwap.Reclaim;

/// <summary>
/// Chooses vm.compress-batchsize while the tier runs (<c>vm.compress-batchsize = auto</c>): a hill-climb over the
/// sizes 1, 2, 4, 8, 16, 32 (up to what the engines can batch) on the measured cost of a store, per page.
/// </summary>
/// <remarks>
/// <para><b>The signal: wall nanoseconds per page of <see cref="Zswap.ZswapCache.StoreBatch"/></b> (the time already
/// counted as <c>zswap_store_ns</c>, excluding writeback and compaction, which do not depend on the batch size). It is
/// the time the reclaiming thread is held per page reclaimed: for direct reclaim, exactly its PSI stall (the store
/// runs between <c>StallEnter</c> and <c>StallLeave</c>); for kswapd, what bounds how fast it frees frames. It takes
/// in both sides of the trade-off the kernel reviewers asked about. What a batch gains: its jobs run in parallel on
/// the engines that are idle, with the submitter working too, and the store's per-batch work (the LRU lock, the run's
/// set-up) is shared. What it costs: handing jobs off (offers, waking a blocked engine, spinning for the last job an
/// engine is finishing). The engines' idle share is in the signal already: <c>CpuEngines.HelpersFor</c> offers a
/// batch only to engines on idle cores, so when the application's threads keep every core busy a batch runs on the
/// submitter alone and shows no gain over batch 1, and when a hand-off costs more than the parallelism brings, the
/// small sizes measure cheaper and the controller goes down to them, batch 1 included. A separate idle-share input
/// would count the same thing twice.</para>
/// <para><b>Comparisons in the same time.</b> Costs change with the data (same-filled pages cost nearly nothing,
/// incompressible ones more) and with the load, so sizes are never compared across time: of every
/// <see cref="ProbePeriod"/> folio lists, one runs at the next smaller size and one at the next larger (probes), the
/// rest at the current size. Every <see cref="EpochLists"/> lists (an epoch), each of the three sizes' cost over
/// the epoch (nanoseconds over pages, so lists of large folios weigh by their pages) is folded into its EWMA
/// (weight 1/4; a size unmeasured for <see cref="StaleEpochs"/> epochs starts afresh from the new figure). Probes are
/// only the two neighbours, which near the optimum cost little more than the current size: about 2 lists in 8 at a
/// neighbour that is a few percent dearer.</para>
/// <para><b>Hysteresis.</b> The size moves to a neighbour only when that neighbour's average is cheaper than the
/// current one's by more than 1/<see cref="MarginDivisor"/> (about 3 %) in <see cref="EpochsToMove"/> epochs running,
/// and both were measured (at least <see cref="MinPages"/> pages) in each: noise between sizes that cost the same
/// does not make it flap. Climbing from 32 to 1 takes five moves, about 640 lists (well under a second of
/// reclaim).</para>
/// <para><b>Cost and safety.</b> Lock-free, nothing allocated: a list's start is one interlocked increment and a
/// volatile read; a flush's measurement is one interlocked add (nanoseconds and pages packed in one word, so an epoch
/// reads and resets both at once). The decision, once an epoch, runs in the thread that starts the epoch's last list,
/// a few dozen arithmetic operations under a try-flag (never waited on). The size stays in [1, the engines'
/// limit]: a compressor that cannot batch (limit 1) leaves only batch 1, and the controller never moves. It starts at
/// the limit (32 for the CPU engines, the measured best fixed size before it existed), so the worst it can do is
/// what the measurements make it do.</para>
/// </remarks>
internal sealed class BatchSizeController
{
    /// <summary>Folio lists in one probe cycle: one at the smaller neighbour, one at the larger, the rest at the current size.</summary>
    public const int ProbePeriod = 8;
    /// <summary>Folio lists between decisions (a power of two, a multiple of <see cref="ProbePeriod"/>).</summary>
    public const int EpochLists = 64;
    /// <summary>Least pages a size must have been measured on in an epoch to be compared.</summary>
    public const int MinPages = 64;
    /// <summary>A neighbour must be cheaper by more than 1/MarginDivisor of the current cost to count as cheaper.</summary>
    public const int MarginDivisor = 32;
    /// <summary>Epochs running that a neighbour must be cheaper in before the size moves to it.</summary>
    public const int EpochsToMove = 2;
    /// <summary>Epochs after which a size's average is too old to blend with: its next figure replaces it.</summary>
    public const int StaleEpochs = 4;

    // Where the probes fall in a cycle of ProbePeriod lists (apart, so that the two sides interleave).
    private const int ProbeSmallerPhase = 3, ProbeLargerPhase = 7;
    // A window word: nanoseconds above PagesBits, pages below.
    private const int PagesBits = 24;
    private const long PagesMask = (1L << PagesBits) - 1;
    // Caps on one observation, so that a window word cannot overflow (one list holds at most 32 pmd folios, 2^14 pages).
    private const long MaxObservedNs = 1L << 32;
    private const int MaxObservedPages = 1 << 16;
    // Longs between windows, so that each sits on its own cache lines (the reclaiming threads add to them).
    private const int WindowStride = 16;
    // Cost unit: 1/16 ns per page.
    private const int CostShift = 4;

    // The candidate sizes, ascending: the powers of two under the limit, then the limit.
    private readonly int[] _sizes;
    // Candidate index of each size 0..32, -1 for a size that is not a candidate (a manual value).
    private readonly sbyte[] _indexOf = new sbyte[Tunables.TunableSet.MaxCompressBatchSize + 1];
    // Index of the largest candidate.
    private readonly int _top;
    // This epoch's measurements per candidate (at i * WindowStride): ns << PagesBits | pages. Added to lock-free.
    private readonly long[] _windows;
    // Smoothed cost per candidate (1/16 ns per page), and the epoch it was last measured in (-1: never).
    private readonly long[] _cost;
    private readonly long[] _measuredIn;
    // Counted on each change of the size, when given.
    private readonly Counters? _counters;

    // The current choice (candidate index).
    private volatile int _current;
    // Folio lists started (drives probes and epochs).
    private long _lists;
    // 1 while a thread decides.
    private int _deciding;
    // The neighbour found cheaper in the last epochs, and in how many epochs running.
    private int _streakIndex = -1, _streak;
    // Times the size changed.
    private long _changes;

    /// <param name="limit">The largest size the engines can batch (<see cref="Compression.Engines.IBatchCompressor.MaxBatchFolios"/>), clamped to [1, 32].</param>
    /// <param name="counters">Where to count changes of the size (<see cref="Counter.CompressBatchsizeChanges"/>), if anywhere.</param>
    public BatchSizeController(int limit, Counters? counters = null)
    {
        limit = Math.Clamp(limit, 1, Tunables.TunableSet.MaxCompressBatchSize);
        _counters = counters;
        var sizes = new List<int>();
        for (int s = 1; s < limit; s <<= 1) sizes.Add(s);
        sizes.Add(limit);
        _sizes = sizes.ToArray();
        _top = _sizes.Length - 1;
        Array.Fill(_indexOf, (sbyte)-1);
        for (int i = 0; i < _sizes.Length; i++) _indexOf[_sizes[i]] = (sbyte)i;
        _windows = new long[_sizes.Length * WindowStride];
        _cost = new long[_sizes.Length];
        _measuredIn = new long[_sizes.Length];
        Array.Fill(_measuredIn, -1);
        _current = _top;
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
        if ((list & (EpochLists - 1)) == 0) TryDecide(list / EpochLists);
        int cur = _current;
        int phase = (int)(list & (ProbePeriod - 1));
        if (phase == ProbeSmallerPhase && cur > 0) return _sizes[cur - 1];
        if (phase == ProbeLargerPhase && cur < _top) return _sizes[cur + 1];
        return _sizes[cur];
    }

    /// <summary>
    /// Reports one flush of a list begun with <see cref="ForList"/>: <paramref name="pages"/> pages compressed and
    /// stored in <paramref name="nanoseconds"/> at batch size <paramref name="batchSize"/>. Sizes that are not
    /// candidates are ignored.
    /// </summary>
    public void Observe(int batchSize, int pages, long nanoseconds)
    {
        if (pages <= 0 || nanoseconds < 0 || (uint)batchSize >= (uint)_indexOf.Length) return;
        int i = _indexOf[batchSize];
        if (i < 0 || _top == 0) return;
        long word = (Math.Min(nanoseconds, MaxObservedNs) << PagesBits) | (long)Math.Min(pages, MaxObservedPages);
        Interlocked.Add(ref _windows[i * WindowStride], word);
    }

    /// <summary>The smoothed cost of <paramref name="batchSize"/> in ns per page, or NaN if it was never measured (tests, diagnostics).</summary>
    public double CostOf(int batchSize)
    {
        int i = (uint)batchSize < (uint)_indexOf.Length ? _indexOf[batchSize] : -1;
        return i < 0 || Volatile.Read(ref _measuredIn[i]) < 0 ? double.NaN : (double)Volatile.Read(ref _cost[i]) / (1 << CostShift);
    }

    private void TryDecide(long epoch)
    {
        if (Interlocked.CompareExchange(ref _deciding, 1, 0) != 0) return;
        try
        {
            Decide(epoch);
        }
        finally
        {
            Volatile.Write(ref _deciding, 0);
        }
    }

    /// <summary>Folds the epoch's measurements of the current size and its neighbours into their averages, then moves if a neighbour has been cheaper long enough.</summary>
    private void Decide(long epoch)
    {
        int cur = _current;
        int lo = Math.Max(0, cur - 1), hi = Math.Min(_top, cur + 1);
        for (int i = lo; i <= hi; i++) Fold(i, epoch);
        if (_measuredIn[cur] != epoch) return; // too little reclaim this epoch to say anything: keep the streak

        int best = -1;
        long bestCost = _cost[cur] - _cost[cur] / MarginDivisor;
        for (int i = lo; i <= hi; i++)
        {
            if (i == cur || _measuredIn[i] != epoch) continue;
            if (_cost[i] < bestCost) { best = i; bestCost = _cost[i]; }
        }
        if (best < 0) { _streak = 0; _streakIndex = -1; return; }
        if (best == _streakIndex) _streak++;
        else { _streakIndex = best; _streak = 1; }
        if (_streak < EpochsToMove) return;

        _streak = 0;
        _streakIndex = -1;
        // Measurements of other sizes from lists still in flight would belong to the old neighbourhood: drop them.
        for (int i = 0; i <= _top; i++) if (i < best - 1 || i > best + 1) Interlocked.Exchange(ref _windows[i * WindowStride], 0);
        _current = best;
        Interlocked.Increment(ref _changes);
        _counters?.Add(Counter.CompressBatchsizeChanges);
    }

    /// <summary>Takes candidate <paramref name="i"/>'s window into its average when it holds enough pages; else leaves it to grow.</summary>
    private void Fold(int i, long epoch)
    {
        ref long window = ref _windows[i * WindowStride];
        long word = Interlocked.Exchange(ref window, 0);
        long pages = word & PagesMask;
        if (pages < MinPages)
        {
            if (word != 0) Interlocked.Add(ref window, word);
            return;
        }
        long cost = ((word >>> PagesBits) << CostShift) / pages;
        long last = _measuredIn[i];
        long avg = last >= 0 && epoch - last <= StaleEpochs ? _cost[i] + (cost - _cost[i]) / 4 : cost;
        Volatile.Write(ref _cost[i], avg);
        Volatile.Write(ref _measuredIn[i], epoch);
    }
}
