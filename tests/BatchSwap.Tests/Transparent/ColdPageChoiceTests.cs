using BatchSwap.Access;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Transparent;
using BatchSwap.Workloads.Workloads;
using Xunit.Abstractions;

namespace BatchSwap.Tests.Transparent;

/// <summary>
/// The mapping's cold-page choice (FIFO with a second chance for pages that refault soon after their eviction, in
/// front of the tier's LRU) against the explicit API's LRU (referenced bits on every access), on the same Zipf load
/// in the same tier: the swap-ins from the store per access (pgmajfault) must stay within a small factor.
/// </summary>
public sealed class ColdPageChoiceTests(ITestOutputHelper output)
{
    private const long DataBytes = 48L << 20;
    private const int Warmup = 40_000, Measured = 100_000;

    /// <summary>The page of the i-th access: Zipf ranks (θ = 0.99) spread over the pages by a multiplicative hash.</summary>
    private static long[] Accesses(long pages)
    {
        var zipf = new ZipfDistribution(pages, 0.99);
        var rng = new Random(11);
        var a = new long[Warmup + Measured];
        for (int i = 0; i < a.Length; i++) a[i] = zipf.Rank(rng.NextDouble()) * 7919 % pages;
        return a;
    }

    [Fact]
    public void ZipfSwapInsOfTheMappingStayNearTheLrus()
    {
        long pages = DataBytes >> PageSize.Shift;
        long[] acc = Accesses(pages);

        double lru, mapping;
        using (MemoryTier tier = TransparentMappingTests.NewTier())
        {
            using Region r = tier.Allocate(DataBytes);
            Span<byte> page = stackalloc byte[8];
            for (long p = 0; p < pages; p++) { BitConverter.TryWriteBytes(page, p); r.Write(p, page); }
            CounterSnapshot before = default!;
            for (int i = 0; i < acc.Length; i++)
            {
                if (i == Warmup) before = tier.Snapshot();
                r.Read(acc[i], page);
                if (BitConverter.ToInt64(page) != acc[i]) Assert.Fail($"page {acc[i]} read back wrong");
                if (i % 10 == 0) r.Write(acc[i], page); // a write in ten
            }
            lru = (double)(tier.Snapshot()[Counter.Pgmajfault] - before[Counter.Pgmajfault]) / Measured;
        }

        TransparentStats s0, s1;
        using (MemoryTier tier = TransparentMappingTests.NewTier())
        {
            using TransparentMapping m = tier.Map(DataBytes);
            Span<long> v = m.AsSpan<long>();
            for (long p = 0; p < pages; p++) v[(int)(p * 512)] = p;
            CounterSnapshot before = default!;
            s0 = default;
            for (int i = 0; i < acc.Length; i++)
            {
                if (i == Warmup) { before = tier.Snapshot(); s0 = m.Stats(); }
                int at = (int)(acc[i] * 512);
                if (v[at] != acc[i]) Assert.Fail($"page {acc[i]} read back wrong");
                if (i % 10 == 0) v[at] = acc[i];
            }
            mapping = (double)(tier.Snapshot()[Counter.Pgmajfault] - before[Counter.Pgmajfault]) / Measured;
            s1 = m.Stats();
        }
        double missing = (double)(s1.MissingFaults - s0.MissingFaults) / Measured;
        double lruFills = (double)(s1.LruFills - s0.LruFills) / Measured;
        output.WriteLine($"Zipf 0.99, {pages} pages in a 16 MiB tier, {Measured} accesses after {Warmup}: swap-ins per access: LRU (explicit) {lru:P2}, mapping {mapping:P2}; mapping faults per access {missing:P2} (of which from frames still on the LRU {lruFills:P2}); second chances {s1.SecondChances - s0.SecondChances}, hot refaults {s1.RefaultsHot - s0.RefaultsHot}");
        Assert.True(lru > 0, "the load does not swap at all");
        Assert.True(mapping < lru * 2 + 0.01, $"mapping {mapping:P2} against LRU {lru:P2}");
    }
}
