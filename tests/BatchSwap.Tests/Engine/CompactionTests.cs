using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.Engine;

/// <summary>Pool compaction in a running tier: swapped-out pages keep their bytes while their objects move.</summary>
public sealed class CompactionTests
{
    // Without kswapd and the shrink worker the test thread alone reclaims, stores and writes back, so that the pool
    // changes only when it says.
    private static MemoryTier NewTier(bool kswapd = false) =>
        new(new TierOptions
        {
            MemoryBytes = 32L << 20,
            Engines = 2,
            BackgroundReclaim = kswapd,
            ZswapShrinkWorker = kswapd,
            SwapDevices = [new SwapDeviceOptions()],
            // Exclusive loads: each read frees its pool object, which is what fragments the pool here.
            Tunables = new Dictionary<string, string> { ["zswap.exclusive_loads"] = "Y" },
        });

    private static void WriteAll(Region r, int seed)
    {
        Span<byte> page = stackalloc byte[4096];
        for (long p = 0; p < r.PageCount; p++)
        {
            TestPages.Fill(page, p, seed);
            r.Write(p, page);
        }
    }

    private static int CountMismatches(Region r, int seed)
    {
        Span<byte> expect = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        int bad = 0;
        for (long p = 0; p < r.PageCount; p++)
        {
            TestPages.Fill(expect, p, seed);
            r.Read(p, got);
            if (!got.SequenceEqual(expect)) bad++;
        }
        return bad;
    }

    [Fact]
    public void CompactionShrinksThePoolAndEveryPageReadsBack()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(48L << 20);
        WriteAll(r, seed: 11);
        // Fault back two pages of every three that are in the pool (loads are exclusive: their objects are freed),
        // and drop them again, so that the pool is left full of holes.
        Span<byte> page = stackalloc byte[4096];
        int loaded = 0;
        for (long p = 0; p < r.PageCount && loaded < 2000; p++)
        {
            if (p % 3 == 0 || !StoredEntries.TryGetSlot(tier, r, p, out _, out _, out ulong info) || !StoredEntries.InPool(info)) continue;
            r.Read(p, page);
            loaded++;
        }
        CounterSnapshot before = tier.Snapshot();
        long pool = before.Gauge("pool_total_size");

        long freed = tier.Zswap.Compact();

        CounterSnapshot after = tier.Snapshot();
        Assert.True(freed > 0);
        Assert.True(after.Gauge("pool_total_size") < pool, $"{pool} -> {after.Gauge("pool_total_size")}");
        Assert.Equal(pool - freed * 4096, after.Gauge("pool_total_size"));
        Assert.True(after[Counter.ZswapCompactObjects] > before[Counter.ZswapCompactObjects]);
        Assert.Equal(before[Counter.PagesCompacted] + freed, after[Counter.PagesCompacted]);
        Assert.Equal(0, CountMismatches(r, 11));
    }

    [Fact]
    public void CompactionSkipsALockedSlot()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(48L << 20);
        WriteAll(r, seed: 5);
        Span<byte> page = stackalloc byte[4096];
        for (long p = 0; p < r.PageCount; p++)
            if (p % 4 != 0 && StoredEntries.TryGetSlot(tier, r, p, out _, out _, out ulong info) && StoredEntries.InPool(info)) r.Read(p, page);

        // Lock every remaining pool entry's slot, as a load or writeback in flight would.
        var locked = new List<(Swap.SwapDevice Dev, int Slot, ulong Handle)>();
        long before = tier.Snapshot()[Counter.ZswapCompactBusy];
        try
        {
            for (long p = 0; p < r.PageCount; p++)
            {
                if (!StoredEntries.TryGetSlot(tier, r, p, out Swap.SwapDevice dev, out int slot, out ulong info) || !StoredEntries.InPool(info)) continue;
                Assert.True(dev.TryLockSlot(slot, out _));
                locked.Add((dev, slot, dev.Handle(slot)));
            }
            Assert.NotEmpty(locked);

            Assert.Equal(0, tier.Zswap.Compact());

            Assert.True(tier.Snapshot()[Counter.ZswapCompactBusy] > before);
            foreach ((Swap.SwapDevice dev, int slot, ulong handle) in locked) Assert.Equal(handle, dev.Handle(slot));
        }
        finally
        {
            foreach ((Swap.SwapDevice dev, int slot, _) in locked) dev.UnlockSlot(slot);
        }
        Assert.True(tier.Zswap.Compact() > 0);
        Assert.Equal(0, CountMismatches(r, 5));
    }

    [Fact]
    public void ReclaimCompactsAFragmentedPool()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(64L << 20);
        WriteAll(r, seed: 3);
        // Read every other page and then all of them: faults free scattered objects while reclaim keeps storing.
        Span<byte> page = stackalloc byte[4096];
        for (long p = 0; p < r.PageCount; p += 2) r.Read(p, page);
        Assert.Equal(0, CountMismatches(r, 3));
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.PagesCompacted] > 0, "reclaim never compacted the pool");
        // What compaction leaves is near what the stored sizes need.
        long pool = s.Gauge("pool_total_size"), payload = s.Gauge("pool_compressed_bytes");
        Assert.True(pool - payload < payload / 4 + (256L << 12), $"pool {pool} B for {payload} B");
        Assert.Equal(0, CountMismatches(r, 3));
    }
}
