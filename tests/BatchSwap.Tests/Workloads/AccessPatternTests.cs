using System.Numerics;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Workloads;

public sealed class AccessPatternTests
{
    // Reference: the formula of workloads.md written out independently (x ^= x << 13; x ^= x >> 7; x ^= x << 17; i = x mod n).
    private static List<long> ReferenceRandom(int worker, long n)
    {
        ulong x = 88172645463325252UL + (ulong)worker;
        var visits = new List<long>();
        for (long k = 0; k < n; k++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            visits.Add((long)(x % (ulong)n));
        }

        return visits;
    }

    private static List<long> Collect(PageVisitEnumerator order)
    {
        var visits = new List<long>();
        foreach (long page in order)
        {
            visits.Add(page);
        }

        return visits;
    }

    [Fact]
    public void RandomFirstValuesForWorkerZeroMatchMarsaglia()
    {
        // 8748534153485358512 is the well-known first output of xorshift64 (13, 7, 17) from 88172645463325252.
        Assert.Equal(8748534153485358512UL, AccessPattern.XorShift64(88172645463325252UL));
        Assert.Equal(3040900993826735515UL, AccessPattern.XorShift64(8748534153485358512UL));
        Assert.Equal(new long[] { 512, 515, 312, 853, 306 }, Collect(AccessPattern.Random(0, 1000)).Take(5));
    }

    [Fact]
    public void RandomFirstValuesForWorkerOne()
    {
        Assert.Equal(88172645463325253UL, AccessPattern.RandomSeed(1));
        Assert.Equal(new long[] { 265, 354, 361, 960, 79 }, Collect(AccessPattern.Random(1, 1000)).Take(5));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 7)]
    [InlineData(3, 4096)]
    [InlineData(29, 131072)]
    public void RandomMatchesTheFormula(int worker, long n)
    {
        List<long> visits = Collect(AccessPattern.Random(worker, n));
        Assert.Equal(ReferenceRandom(worker, n), visits);
        Assert.Equal(n, visits.Count);
        Assert.All(visits, v => Assert.InRange(v, 0, n - 1));
    }

    [Fact]
    public void SequentialVisitsEveryPageInOrder()
    {
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), Collect(AccessPattern.Sequential(100)));
        Assert.Equal(Collect(AccessPattern.Sequential(10)), Collect(AccessPattern.Visit(AccessOrder.Sequential, 5, 10)));
        Assert.Equal(Collect(AccessPattern.Random(5, 10)), Collect(AccessPattern.Visit(AccessOrder.Random, 5, 10)));
    }

    [Fact]
    public void EmptyRegionHasNoVisits()
    {
        Assert.Empty(Collect(AccessPattern.Random(0, 0)));
        Assert.Empty(Collect(AccessPattern.Sequential(0)));
    }

    [Fact]
    public void EnumeratorReportsCountAndCurrent()
    {
        PageVisitEnumerator e = AccessPattern.Random(0, 1000);
        Assert.Equal(1000, e.Count);
        Assert.Equal(-1, e.Current);
        Assert.True(e.MoveNext());
        Assert.Equal(512, e.Current);
    }

    [Fact]
    public void InvalidArgumentsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPattern.Random(-1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPattern.Random(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPattern.Sequential(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPattern.FillSourcePage(0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPattern.FillSourcePage(-1, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => AccessPattern.FillSourcePage(0, -1, 10));
    }

    [Fact]
    public void IteratingDoesNotAllocate()
    {
        long sum = 0;
        foreach (long page in AccessPattern.Random(2, 64))
        {
            sum += page; // Warm up (JIT) before measuring.
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (long page in AccessPattern.Random(2, 100_000))
        {
            sum += page;
        }

        foreach (long page in AccessPattern.Sequential(100_000))
        {
            sum += page;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(sum > 0);
    }

    [Theory]
    [InlineData(0, 0, 10, 0)]
    [InlineData(0, 5, 10, 5)]
    [InlineData(0, 12, 10, 2)]
    [InlineData(1, 0, 10000, 7919)]
    [InlineData(1, 2082, 10000, 1)]
    [InlineData(3, 2, 1000, 759)]
    [InlineData(2, 100, 16384, 15938)]
    public void FillMappingIsW7919PlusIModN(int worker, long page, long n, long expected)
    {
        Assert.Equal(expected, AccessPattern.FillSourcePage(worker, page, n));
    }

    [Fact]
    public void FillMappingDoesNotOverflow()
    {
        var cases = new (int W, long I, long N)[]
        {
            (int.MaxValue, long.MaxValue - 1, long.MaxValue),
            (int.MaxValue, long.MaxValue, 16384),
            (12345, 1L << 40, (1L << 40) + 3),
        };
        foreach ((int w, long i, long n) in cases)
        {
            long expected = (long)((new BigInteger(w) * 7919 + i) % n);
            Assert.Equal(expected, AccessPattern.FillSourcePage(w, i, n));
        }
    }

    [Theory]
    [InlineData("seq", AccessOrder.Sequential)]
    [InlineData("Sequential", AccessOrder.Sequential)]
    [InlineData("rand", AccessOrder.Random)]
    [InlineData(" RANDOM ", AccessOrder.Random)]
    public void ParsesOrders(string text, AccessOrder expected)
    {
        Assert.True(AccessPattern.TryParseOrder(text, out AccessOrder order));
        Assert.Equal(expected, order);
        Assert.Equal(expected, AccessPattern.ParseOrder(text));
    }

    [Fact]
    public void RejectsUnknownOrder()
    {
        Assert.False(AccessPattern.TryParseOrder("zigzag", out _));
        Assert.False(AccessPattern.TryParseOrder(null, out _));
        FormatException e = Assert.Throws<FormatException>(() => AccessPattern.ParseOrder("zigzag"));
        Assert.Contains("seq", e.Message, StringComparison.Ordinal);
        Assert.Contains("rand", e.Message, StringComparison.Ordinal);
        Assert.Equal("seq", AccessPattern.FormatOrder(AccessOrder.Sequential));
        Assert.Equal("rand", AccessPattern.FormatOrder(AccessOrder.Random));
    }
}
