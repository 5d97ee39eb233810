using System.Buffers.Binary;
using BatchSwap.Access;
using BatchSwap.Faults;
using BatchSwap.MemCg;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>Failure is a result, never a loss: folios of a batch that zswap cannot take go to the swap device.</summary>
public sealed class BatchFailureTests
{
    private const ulong Marker = 0xBADC0DE5BADC0DE5UL;

    private static void FillPage(Span<byte> page, long index, bool marked)
    {
        TestPages.Fill(page, index, seed: 11);
        // Keep the page unlike any same-filled page so it really goes through the codec.
        BinaryPrimitives.WriteInt64LittleEndian(page[8..], index + 1);
        if (marked) BinaryPrimitives.WriteUInt64LittleEndian(page, Marker);
        else if (BinaryPrimitives.ReadUInt64LittleEndian(page) == Marker) page[0] ^= 1;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void FoliosWithAFailedPageGoToTheSwapDeviceAndTheRestToZswap(int order)
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            CompressBatchSize = 32,
            Faults = new FaultPlan { CompressFailMarker = Marker },
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "100" },
        });
        using Region r = tier.Allocate(48L << 20, order);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            bool marked = i % 37 == 5; // one page in many fails: its whole folio must fail
            FillPage(page, i, marked);
            r.Write(i, page);
        }

        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.RejectCompressFail] > 0);
        Assert.True(s[Counter.Pswpout] > 0, "failed folios are written to the swap device");
        Assert.True(s[Counter.Zswpout] > 0, "the other folios of the batches are stored in zswap");
        if (order > 0) Assert.True(s[Counter.ZswpoutOrder0 + order] > 0, "large folios are stored whole");
        // A page whose compression fails never lands in zswap: once out, it is on the swap device. (Whole-folio
        // counts cannot be checked from pswpout: a page touched after its folio went out comes back as order 0.)
        int swappedOut = 0;
        for (long i = 5; i < r.PageCount; i += 37)
        {
            if (!Integrity.StoredEntries.TryGetSlot(tier, r, i, out _, out _, out ulong info)) continue;
            Assert.True(Integrity.StoredEntries.OnDisk(info) && !Integrity.StoredEntries.InPool(info), $"marked page {i} is not on the swap device");
            swappedOut++;
        }
        Assert.True(swappedOut > 0, "no marked page was swapped out");

        Span<byte> expect = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            FillPage(expect, i, i % 37 == 5);
            r.Read(i, got);
            Assert.True(expect.SequenceEqual(got), $"page {i} read back wrong");
        }
    }

    [Fact]
    public void APageThatCannotBeWrittenStaysInMemory()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Faults = new FaultPlan { SwapWriteErrorRate = 1.0 },
            Tunables = new Dictionary<string, string> { ["zswap.enabled"] = "N" },
        });
        using Region r = tier.Allocate(64L << 20);
        Span<byte> page = stackalloc byte[4096];
        // Nothing can leave memory: the group must run out, loudly, and every page written so far must be intact.
        long written = 0;
        Assert.Throws<MemoryGroupExhaustedException>(() =>
        {
            Span<byte> p = stackalloc byte[4096];
            for (long i = 0; i < r.PageCount; i++) { TestPages.Fill(p, i, 5); r.Write(i, p); written++; }
        });
        Assert.True(written > 1000);
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < written; i++)
        {
            TestPages.Fill(page, i, 5);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got));
        }
        Assert.Equal(0, tier.Snapshot()[Counter.Pswpout]);
    }
}
