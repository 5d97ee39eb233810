using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Stats;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// Pressure stall information: "some" (a thread of the group stalled on reclaim) and "full" (every thread using the
/// group stalled). Full time is part of some time, so it can never be more, at any moment and however the reads
/// fall against the stalls.
/// </summary>
public sealed class PressureStallTests
{
    private static (long Some, long Full) Read(MemoryGroup g)
    {
        g.StallTime(out long some, out long full);
        return (some, full);
    }

    private static void AssertOrdered((long Some, long Full) now, (long Some, long Full) before)
    {
        Assert.True(now.Full <= now.Some, $"full {now.Full} ns > some {now.Some} ns");
        Assert.True(now.Some >= before.Some && now.Full >= before.Full, $"stall time went back: {before} then {now}");
    }

    [Fact]
    public void AStallStillOpenCountsForSomeAsWellAsFull()
    {
        using var arena = new PageArena(8L << 20, 1);
        MemoryGroup g = new MemoryGroups(arena).Create("g", 4L << 20);

        g.EnterActive();
        g.StallEnter();  // the only active thread stalls: some and full
        Thread.Sleep(2);
        g.EnterActive(); // a second thread runs: some only
        Thread.Sleep(2);
        g.LeaveActive(); // it leaves: full again, inside the same "some" interval, which is still open
        Thread.Sleep(2);

        (long some, long full) = Read(g);
        Assert.True(full > 0, "no full stall time");
        Assert.True(some > full, $"some {some} ns is not above full {full} ns, though a thread ran while the other stalled");

        g.StallLeave();
        g.LeaveActive();
        (long Some, long Full) closed = Read(g);
        AssertOrdered(closed, (some, full));
        Thread.Sleep(1);
        Assert.Equal(closed, Read(g)); // nothing accrues without a stall
    }

    [Fact]
    public void FullNeverExceedsSomeWhileManyThreadsStall()
    {
        using var arena = new PageArena(8L << 20, 1);
        MemoryGroup g = new MemoryGroups(arena).Create("g", 4L << 20);
        using var stop = new CancellationTokenSource();
        var workers = new Thread[4];
        for (int t = 0; t < workers.Length; t++)
        {
            int seed = t;
            workers[t] = new Thread(() =>
            {
                var rng = new Random(seed);
                while (!stop.IsCancellationRequested)
                {
                    // The last thread is like kswapd: it stalls without being one of the group's active threads.
                    bool active = seed != workers.Length - 1;
                    if (active) g.EnterActive();
                    for (int k = rng.Next(1, 4); k > 0; k--)
                    {
                        g.StallEnter();
                        Thread.SpinWait(rng.Next(10, 2000));
                        g.StallLeave();
                        Thread.SpinWait(rng.Next(10, 500));
                    }
                    if (active) g.LeaveActive();
                    if (rng.Next(8) == 0) Thread.Yield();
                }
            })
            { IsBackground = true };
            workers[t].Start();
        }

        (long Some, long Full) last = (0, 0);
        try
        {
            for (int i = 0; i < 20_000; i++)
            {
                (long Some, long Full) now = Read(g);
                AssertOrdered(now, last);
                last = now;
                if ((i & 63) == 0) Thread.Yield();
            }
        }
        finally
        {
            stop.Cancel();
            foreach (Thread w in workers) w.Join();
        }

        // One thread alone stalls: full for the whole stall.
        g.EnterActive();
        g.StallEnter();
        Thread.Sleep(1);
        g.StallLeave();
        g.LeaveActive();
        (long Some, long Full) end = Read(g);
        AssertOrdered(end, last);
        Assert.True(end.Some > 0 && end.Full > 0, $"stall time not counted: {end}");
    }

    [Fact]
    public void TierSnapshotsNeverShowFullAboveSome()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 24L << 20,
            Engines = 1,
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
        });
        MemoryGroup group = tier.CreateGroup("psi", 8L << 20);

        // One thread over its group's limit: it stalls in direct reclaim, alone, so some and full both grow.
        using (Region r = tier.Allocate(12L << 20, group: group)) WriteAndRead(r, seed: 1);
        CounterSnapshot single = tier.Snapshot();
        Assert.True(single[Counter.Allocstall] > 0, "the writer never reclaimed");
        Assert.True(single[Counter.PsiFullNs] > 0, "a lone thread's stalls were not full");
        Assert.True(single[Counter.PsiFullNs] <= single[Counter.PsiSomeNs]);

        // Three threads stalling and running over each other; snapshots taken meanwhile.
        var regions = new Region[3];
        for (int i = 0; i < regions.Length; i++) regions[i] = tier.Allocate(4L << 20, group: group);
        try
        {
            Exception? failed = null;
            Thread[] writers = regions.Select((r, i) => new Thread(() =>
            {
                try { WriteAndRead(r, seed: 10 + i); }
                catch (Exception e) { failed = e; }
            })).ToArray();
            foreach (Thread w in writers) w.Start();
            long lastSome = single[Counter.PsiSomeNs], lastFull = single[Counter.PsiFullNs];
            int samples = 0;
            while (writers.Any(w => w.IsAlive) || samples < 10)
            {
                CounterSnapshot s = tier.Snapshot();
                long some = s[Counter.PsiSomeNs], full = s[Counter.PsiFullNs];
                Assert.True(full <= some, $"snapshot {samples}: psi_full_ns {full} > psi_some_ns {some}");
                Assert.True(some >= lastSome && full >= lastFull, $"snapshot {samples}: stall time went back");
                (lastSome, lastFull) = (some, full);
                samples++;
                Thread.Sleep(1);
            }
            foreach (Thread w in writers) w.Join();
            Assert.Null(failed);
            CounterSnapshot end = tier.Snapshot();
            Assert.True(end[Counter.PsiSomeNs] > single[Counter.PsiSomeNs], "the three writers never stalled");
            Assert.True(end[Counter.PsiFullNs] <= end[Counter.PsiSomeNs]);
        }
        finally
        {
            foreach (Region r in regions) r.Dispose();
        }
    }

    private static void WriteAndRead(Region r, int seed)
    {
        Span<byte> page = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed);
            r.Write(i, page);
        }
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i, seed);
            r.Read(i, got);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }
    }
}
