using BatchSwap.Access;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// Swap-in readahead (VMA readahead): the window doubles, up to 2^vm.page-cluster pages, while faults land just past the
/// last one, and halves down to one page when they jump around.
/// </summary>
public sealed class ReadaheadWindowTests
{
    private const int Seed = 21;

    private static void Check(Region r, long page)
    {
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        TestPages.Fill(want, page, Seed);
        r.Read(page, got);
        Assert.True(want.SequenceEqual(got), $"page {page} read back wrong");
    }

    [Fact]
    public void TheWindowGrowsOnSequentialFaultsAndShrinksOnRandomOnes()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 32L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            Tunables = new Dictionary<string, string> { ["vm.page-cluster"] = "3" },
        });
        int max = 1 << tier.Tunables.PageCluster;
        Assert.Equal(8, max);
        using Region r = tier.Allocate(8L << 20);
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, Seed);
            r.Write(i, page);
        }
        // A second region pushes the first out, then goes: swap-ins have free memory for their neighbours.
        using (Region filler = tier.Allocate(28L << 20))
        {
            page.Fill(0x5A);
            for (long i = 0; i < filler.PageCount; i++) filler.Write(i, page);
        }
        long start = 0;
        while (start < r.PageCount - 64 && Enumerable.Range(0, 64).Any(k => r.IsResident(start + k))) start++;
        Assert.True(start < r.PageCount - 64, "no 64 swapped-out pages in a row");
        Assert.Equal(1, r.Space.ReadaheadWindow);

        // Sequential: each fault's window is at least the last one's, up to the maximum; readahead spares faults.
        long ra0 = tier.Snapshot()[Counter.SwapRa];
        var windows = new List<int>();
        for (long p = start; p < start + 64; p++)
        {
            bool fault = !r.IsResident(p);
            Check(r, p);
            if (fault) windows.Add(r.Space.ReadaheadWindow);
        }
        Assert.Equal(1, windows[0]); // no earlier fault to follow
        for (int i = 1; i < windows.Count; i++) Assert.True(windows[i] >= windows[i - 1], $"the window shrank on a sequential fault: {string.Join(",", windows)}");
        Assert.Equal(max, windows[^1]);
        Assert.True(windows.Count <= 64 / max + 6, $"{windows.Count} faults for 64 sequential pages: {string.Join(",", windows)}");
        long ra = tier.Snapshot()[Counter.SwapRa] - ra0;
        Assert.Equal(64 - windows.Count, ra); // every other page came in by readahead

        // Random: backwards, far apart; each fault halves the window, down to one page, and one page is all that comes.
        windows.Clear();
        var raAfter = new List<long>();
        for (long p = r.PageCount - 1; p > start + 64 && windows.Count < 6; p -= 97)
        {
            if (r.IsResident(p)) continue;
            Check(r, p);
            windows.Add(r.Space.ReadaheadWindow);
            raAfter.Add(tier.Snapshot()[Counter.SwapRa]);
        }
        Assert.Equal([max / 2, max / 4, 1, 1, 1, 1], windows);
        Assert.Equal(raAfter[2], raAfter[^1]); // window 1: no neighbour read
    }
}
