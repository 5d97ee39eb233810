using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// What a tier reports of its zero, same-filled and incompressible pages: the same_filled_pages and
/// stored_incompressible_pages gauges match the entries in the slot tables, and go back to zero with them.
/// </summary>
public sealed class SameFilledAndIncompressibleTests
{
    // Four kinds, by page index: zeros, one repeated word, random, text.
    private static void Fill(Span<byte> page, long index)
    {
        switch (index & 3)
        {
            case 0: page.Clear(); break;
            case 1:
                for (int i = 0; i < page.Length; i += 8) BitConverter.TryWriteBytes(page[i..], 0x0101_0101_0000_0000UL + (ulong)index);
                break;
            case 2: new Random((int)index).NextBytes(page); break;
            default:
                for (int i = 0; i < page.Length; i++) page[i] = (byte)"same and not same "[i % 18];
                BitConverter.TryWriteBytes(page, index);
                break;
        }
    }

    [Fact]
    public void GaugesCountTheEntriesOfEachKind()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "100", ["zswap.exclusive_loads"] = "Y" },
        });
        Region r = tier.Allocate(32L << 20);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            Fill(page, i);
            r.Write(i, page);
        }

        (long sameFilled, long asIs, long compressed) = AssertGaugesMatchEntries(tier, r);
        Assert.True(sameFilled > 1000 && asIs > 500 && compressed > 500, $"same-filled {sameFilled}, as-is {asIs}, compressed {compressed}");
        CounterSnapshot s = tier.Snapshot();
        // Random pages are kept as-is (their group may write back), never turned away as poor.
        Assert.Equal(0, s[Counter.RejectCompressPoor]);
        // Every entry was a zswpout, and every page stored went through the engines (same-filled ones are detected there).
        Assert.True(s[Counter.Zswpout] >= sameFilled + asIs + compressed);
        Assert.True(s[Counter.ZswapCompressJobs] >= s[Counter.Zswpout]);

        // Half of it loaded back (exclusively: the entries go) while the rest is reclaimed: the gauges still match.
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount / 2; i++)
        {
            Fill(page, i);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }
        AssertGaugesMatchEntries(tier, r);
        // Freed: they go back to zero with the entries.
        r.Dispose();
        CounterSnapshot end = tier.Snapshot();
        Assert.Equal(0, end.Gauge("same_filled_pages"));
        Assert.Equal(0, end.Gauge("stored_incompressible_pages"));
        Assert.Equal(0, end.Gauge("stored_pages"));
    }

    /// <summary>Counts the region's zswap entries by kind through its page table and checks the gauges against them.</summary>
    private static (long SameFilled, long AsIs, long Compressed) AssertGaugesMatchEntries(MemoryTier tier, Region r)
    {
        long sameFilled = 0, asIs = 0, compressed = 0;
        for (long p = 0; p < r.PageCount; p++)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out _, out _, out ulong info)) continue;
            SlotFlags f = SlotInfo.Flags(info);
            if ((f & SlotFlags.SameFilled) != 0) { sameFilled++; Assert.True((p & 3) is 0 or 1, $"page {p} stored as same-filled"); }
            else if ((f & SlotFlags.Raw) != 0) { asIs++; Assert.Equal(2, p & 3); }
            else if ((f & SlotFlags.Zswap) != 0) { compressed++; Assert.Equal(3, p & 3); }
        }
        CounterSnapshot s = tier.Snapshot();
        Assert.Equal(sameFilled, s.Gauge("same_filled_pages"));
        Assert.Equal(asIs, s.Gauge("stored_incompressible_pages"));
        Assert.Equal(sameFilled + asIs + compressed, s.Gauge("stored_pages"));
        return (sameFilled, asIs, compressed);
    }
}
