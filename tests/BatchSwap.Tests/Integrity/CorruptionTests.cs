using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Swap;

namespace BatchSwap.Tests.Integrity;

/// <summary>A corrupt stored entry is detected on load, counted, and raised: never wrong data.</summary>
public sealed unsafe class CorruptionTests
{
    private static MemoryTier NewTier(string compressor = "lz4", bool zswap = true) => new(new TierOptions
    {
        MemoryBytes = 16L << 20,
        Engines = 2,
        Compressor = compressor,
        Tunables = new Dictionary<string, string>
        {
            ["zswap.enabled"] = zswap ? "Y" : "N",
            ["zswap.max_pool_percent"] = "100",
            ["zswap.shrinker_enabled"] = "N",
        },
    });

    [Theory]
    [InlineData("lz4", false)]
    [InlineData("zstd", false)]
    [InlineData("snappy", false)]
    [InlineData("deflate", false)]
    [InlineData("lz4", true)]
    public void AFlippedByteInThePoolIsCaughtOnLoad(string compressor, bool raw)
    {
        using MemoryTier tier = NewTier(compressor);
        using Region r = tier.Allocate(24L << 20);
        FaultInjectionTests_Write(r, seed: 21);
        var hit = new List<long>();
        for (long p = 0; p < r.PageCount && hit.Count < 20; p++)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out SwapDevice dev, out int slot, out ulong info) || !StoredEntries.InPool(info)) continue;
            if (((SlotInfo.Flags(info) & SlotFlags.Raw) != 0) != raw) continue;
            byte* obj = StoredEntries.PoolObject(tier, dev, slot, info, out int len);
            if (obj is null) continue;
            obj[len / 2] ^= 0x5A;
            hit.Add(p);
        }
        Assert.NotEmpty(hit);
        long before = tier.Snapshot()[Counter.DecompressFail];
        Span<byte> buf = stackalloc byte[4096];
        foreach (long p in hit)
        {
            var e = Assert.Throws<PageDataLostException>(() => r.Read(p, new byte[4096]));
            Assert.Equal(p, e.Page);
            // Still never wrong data: the page stays out, and fails again.
            Assert.Throws<PageDataLostException>(() => r.Read(p, new byte[4096]));
            Assert.False(r.IsResident(p));
        }
        Assert.True(tier.Snapshot()[Counter.DecompressFail] - before >= hit.Count);
        // Every other page is intact.
        Span<byte> want = stackalloc byte[4096];
        var lost = new HashSet<long>(hit);
        for (long p = 0; p < r.PageCount; p++)
        {
            if (lost.Contains(p)) continue;
            TestPages.Fill(want, p, 21);
            r.Read(p, buf);
            Assert.True(want.SequenceEqual(buf), $"page {p} read back wrong");
        }
    }

    [Fact]
    public void AFlippedByteInTheSwapFileIsCaughtOnLoad()
    {
        using MemoryTier tier = NewTier(zswap: false);
        using Region r = tier.Allocate(24L << 20);
        FaultInjectionTests_Write(r, seed: 22);
        var hit = new List<long>();
        for (long p = 0; p < r.PageCount && hit.Count < 20; p += 7)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out SwapDevice dev, out int slot, out ulong info) || !StoredEntries.OnDisk(info)) continue;
            StoredEntries.CorruptOnDisk(dev, slot, (int)(p * 131 % 4096));
            hit.Add(p);
        }
        Assert.NotEmpty(hit);
        foreach (long p in hit)
        {
            Assert.Throws<PageDataLostException>(() => r.Read(p, new byte[4096]));
            Assert.Throws<PageDataLostException>(() => r.Write(p, new byte[16]));
        }
        Assert.True(tier.Snapshot()[Counter.SwapChecksumFail] >= hit.Count);
    }

    [Fact]
    public void AChangedFillWordIsCaughtOnLoad()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(24L << 20);
        var page = new byte[4096];
        for (long p = 0; p < r.PageCount; p++)
        {
            Array.Fill(page, (byte)(p % 251 + 1)); // every page same-filled, each with its own byte
            r.Write(p, page);
        }
        var hit = new List<long>();
        for (long p = 0; p < r.PageCount && hit.Count < 20; p += 5)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out SwapDevice dev, out int slot, out ulong info)
                || (SlotInfo.Flags(info) & SlotFlags.SameFilled) == 0) continue;
            dev.Handle(slot) ^= 0x0100; // the slot table's fill word, one bit changed
            hit.Add(p);
        }
        Assert.NotEmpty(hit);
        foreach (long p in hit) Assert.Throws<PageDataLostException>(() => r.Read(p, new byte[16]));
        var lost = new HashSet<long>(hit);
        for (long p = 0; p < r.PageCount; p++)
        {
            if (lost.Contains(p)) continue;
            r.Read(p, page);
            Assert.True(page.AsSpan().IndexOfAnyExcept((byte)(p % 251 + 1)) < 0, $"page {p} read back wrong");
        }
    }

    [Fact]
    public void WritebackKeepsACorruptEntrySoThatItsLoadFailsLoudly()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(24L << 20);
        FaultInjectionTests_Write(r, seed: 23);
        long victim = -1;
        for (long p = 0; p < r.PageCount && victim < 0; p++)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out SwapDevice dev, out int slot, out ulong info) || !StoredEntries.InPool(info)
                || (SlotInfo.Flags(info) & SlotFlags.Raw) != 0) continue;
            byte* obj = StoredEntries.PoolObject(tier, dev, slot, info, out int len);
            if (obj is null) continue;
            for (int i = 0; i < len; i++) obj[i] = (byte)~obj[i];
            victim = p;
        }
        Assert.True(victim >= 0);
        // Now make the pool write everything back: the corrupt entry cannot be, and stays in zswap.
        tier.Tunables.Set("zswap.max_pool_percent", "1");
        tier.Tunables.Set("zswap.shrinker_enabled", "Y");
        using Region more = tier.Allocate(8L << 20);
        FaultInjectionTests_Write(more, seed: 24);
        Assert.True(tier.Snapshot()[Counter.WrittenBackPages] > 0);
        Assert.Throws<PageDataLostException>(() => r.Read(victim, new byte[4096]));
    }

    private static void FaultInjectionTests_Write(Region r, int seed) => Faults.FaultInjectionTests.WriteAll(r, seed);
}
