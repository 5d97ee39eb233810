using System.Runtime.CompilerServices;

namespace BatchSwap.Workloads.Workloads;

/// <summary>The order in which a usemem pass visits a worker's pages (workloads.md, step 3).</summary>
public enum AccessOrder
{
    /// <summary><c>seq</c>: pages 0, 1, …, n-1.</summary>
    Sequential = 0,

    /// <summary><c>rand</c>: n pages chosen by xorshift64 seeded with <c>88172645463325252 + w</c>.</summary>
    Random = 1,
}

/// <summary>
/// The usemem fill mapping and pass orders, exactly as workloads.md defines them, so that a BatchSwap run and a
/// kernel zswap run touch the same pages with the same contents in the same order.
/// </summary>
public static class AccessPattern
{
    /// <summary>The xorshift64 seed of worker 0; worker <c>w</c> starts from <c>RandomSeedBase + w</c>.</summary>
    public const ulong RandomSeedBase = 88172645463325252UL;

    /// <summary>The stride between workers in the fill mapping <c>(w * 7919 + i) mod N</c>.</summary>
    public const long FillWorkerStride = 7919;

    /// <summary>The xorshift64 seed of worker <paramref name="worker"/>: <c>88172645463325252 + w</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worker"/> is negative.</exception>
    public static ulong RandomSeed(int worker)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        return RandomSeedBase + (ulong)worker;
    }

    /// <summary>One xorshift64 step: <c>x ^= x &lt;&lt; 13; x ^= x &gt;&gt; 7; x ^= x &lt;&lt; 17</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong XorShift64(ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }

    /// <summary>
    /// The page of the source that worker <paramref name="worker"/> writes into page <paramref name="page"/> of its
    /// region during the fill: <c>(w * 7919 + i) mod N</c>, computed without overflow.
    /// </summary>
    /// <param name="worker">Worker index w ≥ 0.</param>
    /// <param name="page">Page index i ≥ 0 within the worker's region.</param>
    /// <param name="sourcePageCount">Pages in the source, N ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FillSourcePage(int worker, long page, long sourcePageCount)
    {
        if (worker < 0 || page < 0 || sourcePageCount <= 0)
        {
            ThrowFillArguments(worker, page, sourcePageCount);
        }

        // Both terms are below N ≤ long.MaxValue, so their sum fits in a ulong.
        ulong workerOffset = (ulong)(worker * FillWorkerStride % sourcePageCount);
        ulong pageOffset = (ulong)(page % sourcePageCount);
        return (long)((workerOffset + pageOffset) % (ulong)sourcePageCount);
    }

    /// <summary>The pages a pass of worker <paramref name="worker"/> visits, in order, over a region of <paramref name="pageCount"/> pages.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worker"/> or <paramref name="pageCount"/> is negative, or the order is unknown.</exception>
    public static PageVisitEnumerator Visit(AccessOrder order, int worker, long pageCount) => order switch
    {
        AccessOrder.Sequential => Sequential(pageCount),
        AccessOrder.Random => Random(worker, pageCount),
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown access order."),
    };

    /// <summary>The <c>seq</c> order: 0, 1, …, <paramref name="pageCount"/>-1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageCount"/> is negative.</exception>
    public static PageVisitEnumerator Sequential(long pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        return new PageVisitEnumerator(random: false, state: 0, pageCount);
    }

    /// <summary>
    /// The <c>rand</c> order of worker <paramref name="worker"/>: <paramref name="pageCount"/> visits; before each,
    /// x advances one xorshift64 step from the seed <c>88172645463325252 + w</c>, and the visit is <c>x mod n</c>.
    /// Pages may repeat and some may not be visited, as in usemem.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worker"/> or <paramref name="pageCount"/> is negative.</exception>
    public static PageVisitEnumerator Random(int worker, long pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        return new PageVisitEnumerator(random: true, RandomSeed(worker), pageCount);
    }

    /// <summary>Parses a CLI access order: <c>seq</c>/<c>sequential</c> or <c>rand</c>/<c>random</c>, case-insensitive.</summary>
    public static bool TryParseOrder(string? text, out AccessOrder order)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "seq":
            case "sequential":
                order = AccessOrder.Sequential;
                return true;
            case "rand":
            case "random":
                order = AccessOrder.Random;
                return true;
            default:
                order = default;
                return false;
        }
    }

    /// <summary>Parses a CLI access order like <see cref="TryParseOrder"/>.</summary>
    /// <exception cref="FormatException">The text is not an access order; the message names the accepted forms.</exception>
    public static AccessOrder ParseOrder(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParseOrder(text, out AccessOrder order))
        {
            throw new FormatException($"'{text}' is not an access order; use seq (pages in order) or rand (xorshift64 order, as usemem).");
        }

        return order;
    }

    /// <summary>The CLI and report name of an order: <c>seq</c> or <c>rand</c>.</summary>
    public static string FormatOrder(AccessOrder order) => order switch
    {
        AccessOrder.Sequential => "seq",
        AccessOrder.Random => "rand",
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown access order."),
    };

    // Kept out of line so FillSourcePage stays small enough to inline.
    private static void ThrowFillArguments(int worker, long page, long sourcePageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(worker);
        ArgumentOutOfRangeException.ThrowIfNegative(page);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sourcePageCount);
    }
}

/// <summary>
/// A pass order as an allocation-free struct enumerator: use it directly in <c>foreach</c>
/// (<c>foreach (long i in AccessPattern.Random(w, n))</c>) or call <see cref="MoveNext"/> and read <see cref="Current"/>.
/// A copy continues independently from the point where it was copied.
/// </summary>
public struct PageVisitEnumerator
{
    // True for rand (xorshift64), false for seq.
    private readonly bool _random;

    // Pages in the region (n); every visit is in [0, n).
    private readonly long _pageCount;

    // rand: the xorshift64 state x; seq: the next page to visit.
    private ulong _state;

    // Visits left to produce.
    private long _remaining;

    // The page of the latest visit.
    private long _current;

    internal PageVisitEnumerator(bool random, ulong state, long pageCount)
    {
        _random = random;
        _pageCount = pageCount;
        _state = state;
        _remaining = pageCount;
        _current = -1;
    }

    /// <summary>Total visits of the pass (n).</summary>
    public readonly long Count => _pageCount;

    /// <summary>The page of the current visit; -1 before the first <see cref="MoveNext"/>.</summary>
    public readonly long Current => _current;

    /// <summary>Advances to the next visit; false when the pass is complete.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoveNext()
    {
        if (_remaining <= 0)
        {
            return false;
        }

        _remaining--;
        if (_random)
        {
            _state = AccessPattern.XorShift64(_state);
            _current = (long)(_state % (ulong)_pageCount);
        }
        else
        {
            _current = (long)_state++;
        }

        return true;
    }

    /// <summary>Returns this enumerator (a copy), so the struct works in <c>foreach</c> without allocating.</summary>
    public readonly PageVisitEnumerator GetEnumerator() => this;
}
