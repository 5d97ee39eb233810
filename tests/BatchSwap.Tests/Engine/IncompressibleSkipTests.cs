using System.Buffers.Binary;
using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// With writeback disabled, a folio that did not compress stays in memory; reclaim remembers that and does not
/// compress it again at every scan, until the folio is written.
/// </summary>
public sealed class IncompressibleSkipTests
{
    // Every other page is random (incompressible); the rest compress well.
    private static bool IsRandom(long page) => (page & 1) == 1;

    private static void FillPage(Span<byte> page, long index, int generation)
    {
        if (IsRandom(index))
        {
            ulong x = (ulong)(index + 1) * 0x9E3779B97F4A7C15UL ^ (ulong)generation * 0xD1B54A32D192ED03UL;
            for (int i = 0; i < page.Length; i += 8)
            {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                BinaryPrimitives.WriteUInt64LittleEndian(page[i..], x);
            }
        }
        else
        {
            for (int i = 0; i < page.Length; i++) page[i] = (byte)"compressible text, "[i % 19];
            BinaryPrimitives.WriteInt64LittleEndian(page, index);
            BinaryPrimitives.WriteInt32LittleEndian(page[8..], generation);
        }
    }

    /// <summary>Reads every compressible page (faulting most back in, which makes reclaim scan the rest).</summary>
    private static void ReadCompressible(Region r, int generation)
    {
        Span<byte> expect = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            if (IsRandom(i)) continue;
            FillPage(expect, i, generation);
            r.Read(i, got);
            Assert.True(expect.SequenceEqual(got), $"page {i} read back wrong");
        }
    }

    /// <summary>Writes new random contents into every random page, with Write or through a lease.</summary>
    private static void RewriteRandom(Region r, int generation, bool lease)
    {
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            if (!IsRandom(i)) continue;
            FillPage(page, i, generation);
            if (!lease)
            {
                r.Write(i, page);
                continue;
            }
            using PageLease l = r.Pin(i);
            page.CopyTo(l.Span);
        }
    }

    /// <summary>A 32 MiB tier (no background threads, a pool that may take everything) and an 8 MiB group that may not write back.</summary>
    internal static MemoryTier NoWritebackTier(string groupName, out MemoryGroup group)
    {
        var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 32L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "100" },
        });
        group = tier.CreateGroup(groupName, 8L << 20);
        group.WritebackEnabled = false;
        return tier;
    }

    [Fact]
    public void RejectedFoliosAreNotCompressedAgainUntilWritten()
    {
        using MemoryTier tier = NoWritebackTier("no-writeback", out MemoryGroup g);
        using Region r = tier.Allocate(12L << 20, group: g);
        long randomPages = r.PageCount / 2;

        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            FillPage(page, i, generation: 0);
            r.Write(i, page);
        }
        ReadCompressible(r, generation: 0);
        CounterSnapshot s1 = tier.Snapshot();
        Assert.True(s1[Counter.RejectCompressPoor] > 0, "no random page was ever tried");
        Assert.Equal(0, s1[Counter.Pswpout]); // writeback is off: nothing reaches the swap device

        for (int round = 0; round < 3; round++) ReadCompressible(r, generation: 0);
        CounterSnapshot s2 = tier.Snapshot();
        // Each random page was compressed at most once: it has not been written since it was first rejected.
        Assert.True(s2[Counter.RejectCompressPoor] <= randomPages,
            $"{s2[Counter.RejectCompressPoor]} poor rejects for {randomPages} random pages written once");
        Assert.True(s2[Counter.RejectCompressPoorSkipped] > s1[Counter.RejectCompressPoorSkipped], "reclaim did not skip the rejected folios");
        // (A compressible page read back keeps its copy, so reclaiming it again is a clean steal, not a new store.)
        Assert.True(s2[Counter.Zswpout] + s2[Counter.PgstealClean] > s1[Counter.Zswpout] + s1[Counter.PgstealClean], "the rounds did not reclaim");

        // Written again, the random pages are tried again: through Write, then through a lease (a pin may write).
        RewriteRandom(r, generation: 1, lease: false);
        for (int round = 0; round < 2; round++) ReadCompressible(r, generation: 0);
        CounterSnapshot s3 = tier.Snapshot();
        Assert.True(s3[Counter.RejectCompressPoor] > s2[Counter.RejectCompressPoor], "pages written were not tried again");
        Assert.True(s3[Counter.RejectCompressPoor] <= 2 * randomPages,
            $"{s3[Counter.RejectCompressPoor]} poor rejects for {randomPages} random pages written twice");

        RewriteRandom(r, generation: 2, lease: true);
        for (int round = 0; round < 2; round++) ReadCompressible(r, generation: 0);
        CounterSnapshot s4 = tier.Snapshot();
        Assert.True(s4[Counter.RejectCompressPoor] > s3[Counter.RejectCompressPoor], "pages written through a lease were not tried again");
        Assert.True(s4[Counter.RejectCompressPoor] <= 3 * randomPages,
            $"{s4[Counter.RejectCompressPoor]} poor rejects for {randomPages} random pages written three times");

        // Every page reads back as last written.
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            FillPage(page, i, generation: IsRandom(i) ? 2 : 0);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }
    }

    [Fact]
    public void AllowingWritebackAgainLetsTheFoliosGo()
    {
        using MemoryTier tier = NoWritebackTier("toggle", out MemoryGroup g);
        using Region r = tier.Allocate(12L << 20, group: g);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            FillPage(page, i, generation: 0);
            r.Write(i, page);
        }
        for (int round = 0; round < 2; round++) ReadCompressible(r, generation: 0);
        long skipped = tier.Snapshot()[Counter.RejectCompressPoorSkipped];
        Assert.True(skipped > 0);

        // With writeback allowed, zswap keeps incompressible pages as-is: the marked folios leave memory unwritten.
        g.WritebackEnabled = true;
        for (int round = 0; round < 2; round++) ReadCompressible(r, generation: 0);
        CounterSnapshot s = tier.Snapshot();
        Assert.Equal(skipped, s[Counter.RejectCompressPoorSkipped]);
        Assert.True(s.Gauge("stored_incompressible_pages") > 0, "no random page was stored as-is");
    }
}
