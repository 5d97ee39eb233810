using BatchSwap.Reclaim;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// The automatic batch size, driven directly with made-up store costs (no tier, no clock): it climbs to the cheapest
/// size, follows the costs when they change, holds still when sizes cost the same, and never leaves the engines' limit.
/// </summary>
public sealed class BatchSizeControllerTests
{
    // Pages per observed flush, as for a full batch of order-0 folios of the size (at least one folio's worth).
    private static int PagesOf(int size) => Math.Max(size, 1);

    /// <summary>Runs <paramref name="lists"/> folio lists: each takes its size from the controller and reports one flush at <paramref name="nsPerPage"/> of that size.</summary>
    private static void Drive(BatchSizeController c, int lists, Func<int, double> nsPerPage)
    {
        for (int i = 0; i < lists; i++)
        {
            int size = c.ForList();
            int pages = PagesOf(size) * 8;
            c.Observe(size, pages, (long)(nsPerPage(size) * pages));
        }
    }

    private static Func<int, double> Table(params (int Size, double Ns)[] costs) => size => costs.First(c => c.Size == size).Ns;

    // Batching pays up to 8 (idle engines take the jobs), then the tail of the last jobs costs more than it brings.
    private static readonly Func<int, double> CheapestAt8 = Table((1, 5000), (2, 3900), (4, 3200), (8, 2600), (16, 2900), (32, 3300));
    // Every core is busy with application threads: no engine helps, and each hand-off only adds to the cost.
    private static readonly Func<int, double> CheapestAt1 = Table((1, 2000), (2, 2150), (4, 2300), (8, 2450), (16, 2600), (32, 2750));

    [Fact]
    public void StartsAtTheLimitAndChoosesAmongPowersOfTwo()
    {
        var c = new BatchSizeController(32);
        Assert.Equal(32, c.Current);
        Assert.Equal([1, 2, 4, 8, 16, 32], c.Sizes);
        Assert.Equal(0, c.Changes);
        Assert.Equal([1, 2, 4, 8, 12], new BatchSizeController(12).Sizes);
    }

    [Fact]
    public void ProbesOnlyTheNeighbours()
    {
        var c = new BatchSizeController(32);
        var seen = new List<int>();
        for (int i = 0; i < BatchSizeController.ProbePeriod * 4; i++) seen.Add(c.ForList());
        // At the top, the only neighbour is 16: one list in every probe period.
        Assert.Equal(4, seen.Count(s => s == 16));
        Assert.All(seen, s => Assert.True(s is 16 or 32, $"size {s}"));
    }

    [Fact]
    public void ClimbsToTheCheapestSizeAndStaysThere()
    {
        var c = new BatchSizeController(32);
        Drive(c, BatchSizeController.EpochLists * 40, CheapestAt8);
        Assert.Equal(8, c.Current);
        Assert.Equal(2, c.Changes); // 32 -> 16 -> 8, no detour

        long changes = c.Changes;
        Drive(c, BatchSizeController.EpochLists * 40, CheapestAt8);
        Assert.Equal(8, c.Current);
        Assert.Equal(changes, c.Changes); // converged: no flapping between 8 and its neighbours
        Assert.True(c.CostOf(8) < c.CostOf(4) && c.CostOf(8) < c.CostOf(16));
    }

    [Fact]
    public void MovesWhenTheCostsChange()
    {
        var c = new BatchSizeController(32);
        Drive(c, BatchSizeController.EpochLists * 40, CheapestAt8);
        Assert.Equal(8, c.Current);

        // The application's threads take every core: batching stops paying, batch 1 is right.
        Drive(c, BatchSizeController.EpochLists * 120, CheapestAt1);
        Assert.Equal(1, c.Current);

        // The cores are free again.
        Drive(c, BatchSizeController.EpochLists * 120, CheapestAt8);
        Assert.Equal(8, c.Current);
    }

    [Fact]
    public void DoesNotFlapWhenSizesCostTheSame()
    {
        var c = new BatchSizeController(32);
        var rng = new Random(7);
        // Every size costs 3000 ns a page, give or take 10 % per flush.
        Drive(c, BatchSizeController.EpochLists * 200, _ => 3000 * (0.9 + 0.2 * rng.NextDouble()));
        Assert.Equal(0, c.Changes);
    }

    [Fact]
    public void LoadThatChangesEverySizeAlikeDoesNotMoveIt()
    {
        var c = new BatchSizeController(32);
        // Phases of a workload: every size costs from 1x to 3x as much, epoch by epoch, all alike; 16 and 32 cost the same.
        int lists = 0;
        Drive(c, BatchSizeController.EpochLists * 200, size => 3000.0 * (1 + 2 * Math.Abs(Math.Sin(lists++ / (double)BatchSizeController.EpochLists))) * (size == 32 ? 1 : 1.1));
        Assert.Equal(32, c.Current);
        Assert.Equal(0, c.Changes);
    }

    [Fact]
    public void FindsTheCheapestSizeThroughNoise()
    {
        var c = new BatchSizeController(32);
        var rng = new Random(11);
        // The costs of CheapestAt8, each flush off by up to 30 % either way.
        Drive(c, BatchSizeController.EpochLists * 200, size => CheapestAt8(size) * (0.7 + 0.6 * rng.NextDouble()));
        Assert.Equal(8, c.Current);
    }

    [Fact]
    public void HysteresisIgnoresANeighbourOnlySlightlyCheaper()
    {
        var c = new BatchSizeController(32);
        // 16 is 1 % cheaper than 32: within the margin, not worth a move.
        Drive(c, BatchSizeController.EpochLists * 40, size => size == 16 ? 2970 : 3000);
        Assert.Equal(32, c.Current);
        Assert.Equal(0, c.Changes);
    }

    [Fact]
    public void ALimitOfOneLeavesOnlyBatchOne()
    {
        var c = new BatchSizeController(1);
        Assert.Equal([1], c.Sizes);
        for (int i = 0; i < BatchSizeController.EpochLists * 10; i++)
        {
            Assert.Equal(1, c.ForList());
            c.Observe(1, 8, 8000);
            c.Observe(32, 256, 1); // no such candidate: ignored
        }
        Assert.Equal(1, c.Current);
        Assert.Equal(0, c.Changes);
    }

    [Fact]
    public void NeverGoesAboveALimitThatIsNotAPowerOfTwo()
    {
        var c = new BatchSizeController(12);
        Assert.Equal(12, c.Current);
        // Larger is always cheaper: it stays at the limit.
        Drive(c, BatchSizeController.EpochLists * 40, size => 10000.0 / size);
        Assert.Equal(12, c.Current);
        // Smaller is always cheaper: it goes down to 1.
        Drive(c, BatchSizeController.EpochLists * 120, size => 1000.0 + 100 * size);
        Assert.Equal(1, c.Current);
    }

    [Fact]
    public void IgnoresSizesItDidNotChooseAndRefusedStores()
    {
        var c = new BatchSizeController(32);
        for (int i = 0; i < BatchSizeController.EpochLists * 20; i++)
        {
            int size = c.ForList();
            c.Observe(size, PagesOf(size) * 8, 3000L * PagesOf(size) * 8);
            c.Observe(5, 40, 1);     // a manual size: not a candidate
            c.Observe(16, 64, -1);   // a store refused without compressing
            c.Observe(16, 0, 0);     // nothing stored
        }
        Assert.Equal(32, c.Current);
        Assert.Equal(0, c.Changes);
        Assert.Equal(3000, c.CostOf(16), 1.0);
    }

    [Fact]
    public void ConcurrentReclaimersConverge()
    {
        var c = new BatchSizeController(32);
        Parallel.For(0, 4, _ => Drive(c, BatchSizeController.EpochLists * 20, CheapestAt8));
        Drive(c, BatchSizeController.EpochLists * 20, CheapestAt8);
        Assert.Equal(8, c.Current);
    }
}
