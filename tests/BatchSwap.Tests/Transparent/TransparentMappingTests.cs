using BatchSwap.Stats;
using BatchSwap.Transparent;

namespace BatchSwap.Tests.Transparent;

/// <summary>
/// Transparent mappings: plain memory paged by the tier through userfaultfd. Unmodified code (Span.Sort) runs on
/// more memory than the tier has, pages come back as written, and the tier's store path takes the cold ones.
/// </summary>
public sealed class TransparentMappingTests
{
    internal static MemoryTier NewTier(long memory = 16L << 20, string maxPoolPercent = "20") => new(new TierOptions
    {
        MemoryBytes = memory,
        Engines = 1,
        HugePages = false, // khugepaged would fill the arena frames the mapping discards
        Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = maxPoolPercent },
    });

    /// <summary>Reads one byte of every page (a sum, so that the loads stay).</summary>
    internal static long TouchPages(ReadOnlySpan<byte> b)
    {
        long sum = 0;
        for (int i = 0; i < b.Length; i += 4096) sum += Volatile.Read(in b[i]);
        return sum;
    }

    [Fact]
    public void SortingMoreIntsThanTheTierHoldsGivesTheSortedResult()
    {
        using MemoryTier tier = NewTier(16L << 20);
        using TransparentMapping m = tier.Map(64L << 20);
        Span<int> a = m.AsSpan<int>();
        var rng = new Random(7);
        long sum = 0;
        for (int i = 0; i < a.Length; i++) { a[i] = rng.Next(); sum += a[i]; }

        a.Sort();

        long after = 0;
        bool sorted = true;
        for (int i = 0; i < a.Length; i++)
        {
            after += a[i];
            if (i > 0 && a[i - 1] > a[i]) sorted = false;
        }
        Assert.True(sorted, "the mapping is not sorted");
        Assert.Equal(sum, after);
        CounterSnapshot c = tier.Snapshot();
        Assert.True(c[Counter.Zswpout] > 0, "nothing went to zswap");
        TransparentStats s = m.Stats();
        Assert.True(s.Evictions > 0 && s.SwapInFills > 0 && s.WpFaults > 0, s.ToString());
        Assert.True(s.ResidentPages <= m.MaxResidentPages);
    }

    [Fact]
    public void AWriteAfterAZeroFillIsKept()
    {
        using MemoryTier tier = NewTier();
        using TransparentMapping m = tier.Map(64L << 20);
        Span<long> a = m.AsSpan<long>();
        int perPage = 4096 / sizeof(long);
        // Read every page first (zero fills, write-protected), then write a few of them, then push everything out.
        long zeros = 0;
        for (int i = 0; i < a.Length; i += perPage) zeros += a[i];
        Assert.Equal(0, zeros);
        for (int i = 0; i < a.Length; i += 97 * perPage) a[i + 3] = i + 1;
        Span<byte> other = m.AsSpan<byte>(0, (int)m.Length);
        for (int pass = 0; pass < 2; pass++) TouchPages(other);
        for (int i = 0; i < a.Length; i += perPage)
            Assert.Equal(i % (97 * perPage) == 0 ? i + 1 : 0, a[i + 3]);
        Assert.True(m.Stats().ZeroFills > 0 && m.Stats().WpFaults > 0, m.Stats().ToString());
    }

    [Fact]
    public void PagesOnlyReadSinceTheyCameBackAreDroppedWithoutCompressing()
    {
        using MemoryTier tier = NewTier(maxPoolPercent: "60");
        using TransparentMapping m = tier.Map(32L << 20);
        Span<byte> b = m.AsSpan<byte>();
        for (long p = 0; p < m.PageCount; p++) TestPages.Fill(b.Slice((int)(p * 4096), 4096), p, seed: 3);
        for (int pass = 0; pass < 3; pass++) TouchPages(b);
        CounterSnapshot before = tier.Snapshot();
        TouchPages(b);
        CounterSnapshot after = tier.Snapshot();
        long clean = after[Counter.PgstealClean] - before[Counter.PgstealClean];
        long stores = after[Counter.Zswpout] + after[Counter.Pswpout] - before[Counter.Zswpout] - before[Counter.Pswpout];
        Assert.True(clean > 0, "no clean steal: " + m.Stats() + "\n" + after.Since(before).ToVmstat());
        Assert.True(stores < clean / 4, $"{stores} pages stored again, {clean} dropped clean");
        Span<byte> want = stackalloc byte[4096];
        for (long p = 0; p < m.PageCount; p++)
        {
            TestPages.Fill(want, p, seed: 3);
            Assert.True(want.SequenceEqual(b.Slice((int)(p * 4096), 4096)), $"page {p}");
        }
    }
}
