using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Swap.Backends;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// The plug holds folios of one swap type: when the next folio's slots are on another device (here: the device a list
/// started on is full, and its equal-priority twin takes over), the plug is flushed first (plug_flush_swap_type).
/// </summary>
public sealed class SwapTypeFlushTests
{
    private const int Seed = 17;

    [Fact]
    public void AFolioOnAnotherSwapTypeFlushesThePlug()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            // Equal priorities take turns per folio list; the small one fills (and, as loads free its slots, fills again).
            SwapDevices = [new SwapDeviceOptions(CapacityBytes: 2L << 20), new SwapDeviceOptions(CapacityBytes: 64L << 20)],
            SwapBackendFactory = (_, slots) => new MemorySwapBackend(slots),
            Tunables = new Dictionary<string, string> { ["zswap.exclusive_loads"] = "Y", ["vm.page-cluster"] = "0" },
        });
        using Region r = tier.Allocate(24L << 20);
        Span<byte> page = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, Seed);
            r.Write(i, page);
        }
        var rng = new Random(3);
        for (int pass = 0; pass < 2; pass++)
        {
            for (int k = 0; k < r.PageCount; k++)
            {
                long i = rng.NextInt64(r.PageCount);
                TestPages.Fill(page, i, Seed);
                r.Read(i, got);
                Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
            }
        }

        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.PlugFlushSwapType] > 0, "no plug was flushed for a folio of another swap type");
        Assert.Equal(0, s[Counter.SwapFull]); // the big device always had room
        Assert.True(tier.Devices[0].UsedSlots > 0 && tier.Devices[1].UsedSlots > 0, "one device was never used");
        // Every flush is counted once, under one reason.
        long reasons = s[Counter.PlugFlushFull] + s[Counter.PlugFlushSwapType] + s[Counter.PlugFlushNode] + s[Counter.PlugFlushPmd] + s[Counter.PlugFlushEnd];
        Assert.Equal(s[Counter.ReclaimBatches], reasons);
    }
}
