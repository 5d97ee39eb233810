using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// The clean-page rule: a page that comes back from swap and is only read keeps its copy, so reclaiming it again costs
/// no compression and no I/O; a write drops the copy (never stale data); pool pressure drops copies before writeback.
/// </summary>
public sealed class RetainedCopyTests
{
    private static MemoryTier NewTier(bool exclusive = false) => new(new TierOptions
    {
        MemoryBytes = 16L << 20,
        Engines = 1,
        BackgroundReclaim = false,
        ZswapShrinkWorker = false,
        Tunables = new Dictionary<string, string> { ["zswap.exclusive_loads"] = exclusive ? "Y" : "N", ["zswap.max_pool_percent"] = "60" },
    });

    private static void WriteAll(Region r, int seed) => Faults.FaultInjectionTests.WriteAll(r, seed);

    private static long ReadAll(Region r, Func<long, int> seedOf)
    {
        Span<byte> page = stackalloc byte[4096], want = stackalloc byte[4096];
        long bad = 0;
        for (long i = 0; i < r.PageCount; i++)
        {
            r.Read(i, page);
            TestPages.Fill(want, i, seedOf(i));
            if (!page.SequenceEqual(want)) bad++;
        }
        return bad;
    }

    [Fact]
    public void ReclaimingAPageThatWasOnlyReadCompressesNothing()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(32L << 20);
        WriteAll(r, seed: 1);
        Assert.Equal(0, ReadAll(r, _ => 1)); // everything comes back once (and goes out again, clean)
        CounterSnapshot a = tier.Snapshot();
        Assert.Equal(0, ReadAll(r, _ => 1));
        CounterSnapshot b = tier.Snapshot();
        long clean = b[Counter.PgstealClean] - a[Counter.PgstealClean];
        long stores = b[Counter.Zswpout] + b[Counter.Pswpout] - a[Counter.Zswpout] - a[Counter.Pswpout];
        long steals = b[Counter.Pgsteal] - a[Counter.Pgsteal];
        Assert.True(clean > steals * 9 / 10, $"{clean} of {steals} steals were clean");
        Assert.True(stores < steals / 10, $"{stores} pages were stored again for {steals} steals");
        Assert.True(b.Gauge("zswap_retained_pages") > 0);
    }

    [Fact]
    public void AReadOnlyPinKeepsTheCopyAndAWritablePinDropsIt()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(32L << 20);
        WriteAll(r, seed: 1);
        Span<byte> want = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            using ReadOnlyPageLease l = r.PinReadOnly(i);
            TestPages.Fill(want, i, 1);
            Assert.True(l.Span.SequenceEqual(want));
        }
        CounterSnapshot a = tier.Snapshot();
        Assert.Equal(0, a[Counter.SwapRetainedInvalidated]);
        Assert.True(a[Counter.PgstealClean] > 0);
        for (long i = 0; i < r.PageCount; i += 2)
        {
            using PageLease l = r.Pin(i);
        }
        Assert.True(tier.Snapshot()[Counter.SwapRetainedInvalidated] > 0);
        Assert.Equal(0, ReadAll(r, _ => 1));
    }

    [Fact]
    public void ExclusiveLoadsKeepNoCopy()
    {
        using MemoryTier tier = NewTier(exclusive: true);
        using Region r = tier.Allocate(32L << 20);
        WriteAll(r, seed: 1);
        Assert.Equal(0, ReadAll(r, _ => 1));
        Assert.Equal(0, ReadAll(r, _ => 1));
        CounterSnapshot s = tier.Snapshot();
        Assert.Equal(0, s[Counter.PgstealClean]);
        Assert.Equal(0, s.Gauge("zswap_retained_pages"));
    }

    [Fact]
    public void AWriteDropsTheCopySoTheNewDataGoesOut()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(32L << 20);
        WriteAll(r, seed: 1);
        Assert.Equal(0, ReadAll(r, _ => 1)); // every page has been back in, with its copy retained
        // Rewrite every third page (through Write) and every seventh (through a lease), while it is resident or not.
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            if (i % 7 == 0)
            {
                using PageLease l = r.Pin(i);
                TestPages.Fill(l.Span, i, 2);
            }
            else if (i % 3 == 0)
            {
                TestPages.Fill(page, i, 2);
                r.Write(i, page);
            }
        }
        static int Seed(long i) => i % 7 == 0 || i % 3 == 0 ? 2 : 1;
        Assert.Equal(0, ReadAll(r, Seed)); // had a stale copy been reused, old data would come back here
        Assert.Equal(0, ReadAll(r, Seed));
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.SwapRetainedInvalidated] > 0);
        Assert.True(s[Counter.PgstealClean] > 0);
    }

    [Fact]
    public void PoolPressureDropsRetainedCopiesBeforeWritingAnythingBack()
    {
        using MemoryTier tier = NewTier();
        using Region r = tier.Allocate(24L << 20);
        WriteAll(r, seed: 3);
        // Bring back the pages that are in the pool: each keeps its pool object as a retained copy.
        Span<byte> page = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount && tier.Snapshot().Gauge("zswap_retained_pages") < 256; i++)
            if (StoredEntries.TryGetSlot(tier, r, i, out _, out _, out ulong info) && StoredEntries.InPool(info)) r.Read(i, page);
        CounterSnapshot a = tier.Snapshot();
        Assert.True(a.Gauge("zswap_retained_pages") > 0);

        // The group's writeback pass (memcg-aware shrinking) takes retained copies first, and writes nothing back.
        Assert.True(tier.Zswap.WritebackForGroup(tier.DefaultGroup) > 0);
        CounterSnapshot b = tier.Snapshot();
        Assert.True(b[Counter.ZswapRetainedDropped] > 0);
        Assert.Equal(a[Counter.Zswpwb], b[Counter.Zswpwb]);
        Assert.True(b.Gauge("zswap_retained_pages") < a.Gauge("zswap_retained_pages"));
        Assert.True(b.Gauge("pool_total_size") <= a.Gauge("pool_total_size"));

        // A page whose copy was dropped is stored anew when it is reclaimed, into the slot it kept.
        Assert.Equal(0, ReadAll(r, _ => 3));
        Assert.Equal(0, ReadAll(r, _ => 3));
    }
}
