using System.Runtime.InteropServices;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Access;

/// <summary>A paged array holds more elements than the tier's memory, including elements that span two pages.</summary>
public sealed class PagedArrayTests
{
    /// <summary>12 bytes: 4096 is not a multiple, so one element in three pages spans a page boundary.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private readonly record struct Triple(int A, int B, int C);

    [Fact]
    public void IndexerAndEnumerationSeeWhatWasWritten()
    {
        using MemoryTier tier = AccessTier.Create();
        using var a = new PagedArray<long>(tier, 5L << 20); // 40 MiB of longs in a 24 MiB tier
        Assert.Equal(5L << 20, a.Length);
        for (long i = 0; i < a.Length; i += 97) a[i] = i * 3;
        Assert.True(Swapped(tier) > 0);
        long sum = 0, n = 0;
        foreach (long v in a)
        {
            Assert.Equal(n % 97 == 0 ? n * 3 : 0, v);
            sum += v;
            n++;
        }
        Assert.Equal(a.Length, n);
        Assert.Equal(97 * 1000 * 3, a[97 * 1000]);
        Assert.True(sum > 0);
    }

    [Fact]
    public void ElementsThatSpanPagesRoundTrip()
    {
        using MemoryTier tier = AccessTier.Create();
        long count = (36L << 20) / 12;
        using var a = new PagedArray<Triple>(tier, count);
        // Element 341 lies at bytes 4092 … 4103: its first int on page 0, the rest on page 1.
        a[341] = new Triple(1, 2, 3);
        Assert.Equal(new Triple(1, 2, 3), a[341]);
        var chunk = new Triple[1000];
        for (long s = 0; s < count; s += chunk.Length)
        {
            int len = (int)Math.Min(chunk.Length, count - s);
            for (int k = 0; k < len; k++) chunk[k] = new Triple((int)(s + k), -(int)(s + k), 7);
            a.CopyFrom(s, chunk.AsSpan(0, len));
        }
        Assert.True(Swapped(tier) > 0);
        for (long i = 0; i < count; i += 331) Assert.Equal(new Triple((int)i, -(int)i, 7), a[i]);
        long seen = 0;
        foreach (Triple t in a)
        {
            Assert.Equal(new Triple((int)seen, -(int)seen, 7), t);
            seen++;
        }
        Assert.Equal(count, seen);
        var back = new Triple[700];
        a.CopyTo(340, back);
        for (int k = 0; k < back.Length; k++) Assert.Equal(new Triple(340 + k, -(340 + k), 7), back[k]);
    }

    [Fact]
    public void WritesAfterAReadOnlyPassAreNeverLostToARetainedCopy()
    {
        using MemoryTier tier = AccessTier.Create();
        using var a = new PagedArray<int>(tier, 8L << 20); // 32 MiB
        var chunk = new int[4096];
        for (long s = 0; s < a.Length; s += chunk.Length)
        {
            for (int k = 0; k < chunk.Length; k++) chunk[k] = (int)(s + k);
            a.CopyFrom(s, chunk);
        }
        foreach (int _ in a) { } // read-only: pages come back clean and keep their copies
        CounterSnapshot afterRead = tier.Snapshot();
        Assert.True(afterRead.Gauge("zswap_retained_pages") + afterRead[Counter.PgstealClean] > 0);
        for (long i = 0; i < a.Length; i += 1024) a[i] = -1; // one element per page changes
        long n = 0;
        foreach (int v in a)
        {
            Assert.Equal(n % 1024 == 0 ? -1 : (int)n, v);
            n++;
        }
    }

    [Fact]
    public void BadIndicesAndRangesAreRefused()
    {
        using MemoryTier tier = AccessTier.Create();
        using var a = new PagedArray<short>(tier, 100);
        Assert.Throws<ArgumentOutOfRangeException>(() => a[100]);
        Assert.Throws<ArgumentOutOfRangeException>(() => a[-1] = 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.CopyTo(99, new short[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.CopyFrom(-1, new short[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PagedArray<int>(tier, 0));
        a.CopyTo(100, Span<short>.Empty);
    }

    [Fact]
    public void DisposeFreesTheRegion()
    {
        using MemoryTier tier = AccessTier.Create();
        var a = new PagedArray<byte>(tier, 1 << 20);
        a[5] = 1;
        a.Dispose();
        Assert.True(a.Region.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => a[5]);
    }

    [Fact]
    public void EnumeratingAllocatesNothingPerElement()
    {
        using MemoryTier tier = AccessTier.Create();
        using var a = new PagedArray<int>(tier, 1 << 20);
        long sum = 0;
        foreach (int v in a) sum += v; // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (int v in a) sum += v;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 << 10, $"{allocated} bytes allocated to enumerate {a.Length} elements");
        Assert.Equal(0, sum);
    }

    private static long Swapped(MemoryTier tier)
    {
        CounterSnapshot c = tier.Snapshot();
        return c[Counter.Zswpout] + c[Counter.Pswpout];
    }
}
