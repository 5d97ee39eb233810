using BatchSwap.Access;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Access;

/// <summary>The quick start of docs/api.md compiles and does what it says (kept in step with the document by hand).</summary>
public sealed class ApiDocSampleTests
{
    [Fact]
    public void TheQuickStartRuns()
    {
        // A tier of 64 MiB: resident pages, the compressed pool and the tier's own tables all fit in it.
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 64L << 20 });

        // 256 MiB of longs in 64 MiB of memory.
        using var keys = new PagedArray<long>(tier, 32L << 20);
        keys[12_345] = 42;                                    // one element
        long[] chunk = new long[4096];
        keys.CopyTo(1_000_000, chunk);                        // a run of elements: much cheaper than the indexer
        chunk.AsSpan().Fill(7);
        keys.CopyFrom(1_000_000, chunk);
        long sum = 0;
        foreach (long k in keys) sum += k;                    // enumerates through one small buffer, no allocation per element

        // Bytes: a region of 100 MiB, written and read at any byte offset, across page boundaries.
        using Region blob = tier.Allocate(100L << 20);
        blob.WriteAt(4090, "hello, paged world"u8);           // spans pages 0 and 1
        Span<byte> back = stackalloc byte[18];
        blob.ReadAt(4090, back);

        // A stream over the same bytes.
        using (RegionStream s = blob.AsStream())
        using (var w = new BinaryWriter(s))
        {
            s.Position = 1 << 20;
            w.Write(3.14);
        }

        CounterSnapshot c = tier.Snapshot();
        string line = $"compressed out {c[Counter.Zswpout]}, back in {c[Counter.Zswpin]}, " +
                      $"swap file writes {c[Counter.Pswpout]}, pool {c.Gauge("pool_total_size")} bytes";

        Assert.Equal(42 + 4096 * 7, sum);
        Assert.True(back.SequenceEqual("hello, paged world"u8));
        using var r = new BinaryReader(blob.AsStream());
        r.BaseStream.Position = 1 << 20;
        Assert.Equal(3.14, r.ReadDouble());
        Assert.StartsWith("compressed out ", line);
    }
}
