using BatchSwap.Access;
using BatchSwap.Memory;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// TierOptions.PopulateMemory: a populated arena is resident (by mincore, page by page) as soon as the tier exists;
/// an unpopulated one becomes resident only as frames are used. Data round-trips either way.
/// </summary>
public sealed class ArenaPopulationTests
{
    private static MemoryTier NewTier(bool populate, bool hugePages) => new(new TierOptions
    {
        MemoryBytes = 16L << 20,
        Engines = 1,
        BackgroundReclaim = false,
        ZswapShrinkWorker = false,
        PopulateMemory = populate,
        HugePages = hugePages,
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APopulatedArenaIsWhollyResidentAtCreation(bool hugePages)
    {
        if (!OperatingSystem.IsLinux()) return; // residency is asked of mincore
        using MemoryTier tier = NewTier(populate: true, hugePages);
        Assert.Equal(tier.Arena.PageBytes, tier.Arena.ResidentPageBytes());
        long table = (long)tier.Arena.FrameCount * PageArena.FrameInfoBytes;
        long pageSize = Environment.SystemPageSize;
        Assert.Equal((table + pageSize - 1) / pageSize * pageSize, tier.Arena.ResidentFrameTableBytes());
        RoundTrip(tier);
    }

    [Fact]
    public void AnUnpopulatedArenaBecomesResidentOnlyAsItIsUsed()
    {
        if (!OperatingSystem.IsLinux()) return;
        // Without huge pages, so that one touched frame makes one page resident, not 2 MiB.
        using MemoryTier tier = NewTier(populate: false, hugePages: false);
        long atStart = tier.Arena.ResidentPageBytes();
        Assert.True(atStart < tier.Arena.PageBytes / 8, $"{atStart} of {tier.Arena.PageBytes} bytes resident before any use");
        RoundTrip(tier);
        long after = tier.Arena.ResidentPageBytes();
        Assert.True(after > atStart + tier.Arena.PageBytes / 2, $"only {after} of {tier.Arena.PageBytes} bytes resident after filling the tier");
    }

    [Fact]
    public void AnUnpopulatedArenaWithHugePagesRoundTrips()
    {
        using MemoryTier tier = NewTier(populate: false, hugePages: true);
        RoundTrip(tier);
    }

    /// <summary>Writes twice the tier's memory (so that most pages leave memory) and reads it all back.</summary>
    private static void RoundTrip(MemoryTier tier)
    {
        using Region r = tier.Allocate(32L << 20);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed: 5);
            r.Write(i, page);
        }
        Assert.True(tier.Snapshot()[Counter.Zswpout] + tier.Snapshot()[Counter.Pswpout] > 0, "nothing left memory");
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed: 5);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }
    }
}
