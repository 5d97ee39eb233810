using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Stats;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// memory.zswap.writeback = 0 for one group of a tier: none of its pages reach the swap device, what zswap cannot take
/// stays in memory, and the other groups still write back.
/// </summary>
public sealed class WritebackDisabledTests
{
    // Even pages compress; odd pages are random (zswap takes them as-is only for a group that may write back).
    private static void Fill(Span<byte> page, long index, int seed)
    {
        if ((index & 1) == 0)
        {
            for (int i = 0; i < page.Length; i++) page[i] = (byte)"text that compresses, "[i % 22];
            BitConverter.TryWriteBytes(page, index * 31 + seed);
        }
        else new Random((int)index * 7 + seed).NextBytes(page);
    }

    private static void WriteAll(Region r, int seed)
    {
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            Fill(page, i, seed);
            r.Write(i, page);
        }
    }

    private static void VerifyAll(Region r, int seed)
    {
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            Fill(want, i, seed);
            r.Read(i, got);
            Assert.True(want.SequenceEqual(got), $"page {i} read back wrong");
        }
    }

    /// <summary>Pages of the region on a swap device, and random pages resident.</summary>
    private static (int OnDisk, int RandomResident) Census(MemoryTier tier, Region r)
    {
        int onDisk = 0, randomResident = 0;
        for (long p = 0; p < r.PageCount; p++)
        {
            if (StoredEntries.TryGetSlot(tier, r, p, out _, out _, out ulong info)) { if (StoredEntries.OnDisk(info)) onDisk++; }
            else if ((p & 1) == 1) randomResident++;
        }
        return (onDisk, randomResident);
    }

    [Fact]
    public void NothingOfTheGroupIsWrittenAndItsRejectedFoliosStayWhileAnotherGroupWritesBack()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 48L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "100" },
        });
        MemoryGroup kept = tier.CreateGroup("no-writeback", 8L << 20);
        kept.WritebackEnabled = false;
        MemoryGroup written = tier.CreateGroup("writeback", 8L << 20);
        // Half of the first group's region is random: 6 MiB that can only stay in its 8 MiB.
        using Region keptRegion = tier.Allocate(12L << 20, group: kept);
        using Region writtenRegion = tier.Allocate(16L << 20, group: written);

        WriteAll(keptRegion, seed: 1);
        VerifyAll(keptRegion, seed: 1);
        Assert.Equal(0, tier.Snapshot()[Counter.Pswpout]); // alone, the group wrote nothing
        WriteAll(writtenRegion, seed: 2);
        VerifyAll(writtenRegion, seed: 2);
        VerifyAll(keptRegion, seed: 1);
        CounterSnapshot s = tier.Snapshot();

        (int keptOnDisk, int keptRandomResident) = Census(tier, keptRegion);
        (int writtenOnDisk, _) = Census(tier, writtenRegion);
        Assert.Equal(0, keptOnDisk);
        Assert.True(writtenOnDisk > 0, "the group that may write back wrote nothing");
        Assert.True(s[Counter.Pswpout] >= writtenOnDisk);
        // Its random pages were tried, turned away, and stayed: nearly all of them are resident.
        Assert.True(s[Counter.RejectCompressPoor] > 0, "no random page of the group was ever tried");
        Assert.True(keptRandomResident > keptRegion.PageCount / 2 * 9 / 10, $"only {keptRandomResident} of {keptRegion.PageCount / 2} random pages resident");
    }
}
