using System.Runtime.InteropServices;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;
using BatchSwap.Faults;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// The batch engines on their own (no tier): results of every batch size on 0..4 engines, the bounded offer slots when
/// engines are starved, generation tagging against late helpers, the idle-core rule, and shutdown. Behaviour only, no
/// timing: waits are for conditions, with generous deadlines.
/// </summary>
public sealed unsafe class CpuEnginesTests : IDisposable
{
    private const int Page = 4096;
    private const int MaxPages = 64;

    // Source pages and decompression frames, page-aligned native memory.
    private readonly byte* _pages = (byte*)NativeMemory.AlignedAlloc(MaxPages * Page, Page);
    private readonly byte* _frames = (byte*)NativeMemory.AlignedAlloc(MaxPages * Page, Page);

    public CpuEnginesTests()
    {
        for (int i = 0; i < MaxPages; i++) TestPages.Fill(new Span<byte>(_pages + (long)i * Page, Page), i, seed: 7);
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_pages);
        NativeMemory.AlignedFree(_frames);
    }

    private static byte Lz4 => CodecRegistry.Get("lz4").Id;

    public static TheoryData<int> EngineCounts => new(0, 1, 2, 3, 4);

    /// <summary>Fills a batch with compress jobs for pages [first, first + count) (mod the page set).</summary>
    private void FillCompress(JobBatch batch, int count, int first = 0)
    {
        batch.Clear();
        for (int i = 0; i < count; i++) batch.AddCompress(_pages + (long)((first + i) % MaxPages) * Page, Lz4);
    }

    /// <summary>Asserts every compress job's result against the page, decompressing what was compressed.</summary>
    private void AssertCompressed(JobBatch batch, int first = 0)
    {
        using IPageCodecContext ctx = CodecRegistry.Get("lz4").CreateContext();
        var back = new byte[Page];
        for (int i = 0; i < batch.Count; i++)
        {
            ref PageJob job = ref batch.Jobs[i];
            byte* page = _pages + (long)((first + i) % MaxPages) * Page;
            Assert.Equal(PageWork.Checksum(page), job.Checksum);
            switch (job.Result)
            {
                case JobResult.SameFilled:
                    Assert.True(PageWork.IsSameFilled(page, out ulong p));
                    Assert.Equal(p, job.Pattern);
                    break;
                case JobResult.Compressed:
                    Assert.Equal(CodecStatus.Ok, ctx.Decompress(new ReadOnlySpan<byte>(job.Destination, job.Written), back));
                    Assert.True(back.SequenceEqual(new ReadOnlySpan<byte>(page, Page)), $"job {i} decompressed to another page");
                    break;
                case JobResult.DidNotFit:
                    break;
                default:
                    Assert.Fail($"job {i}: {job.Result}");
                    break;
            }
        }

        Assert.Equal(0, Volatile.Read(ref CpuEngines.ClaimOfThisThread.Remaining));
        Assert.Equal(0, CpuEngines.ClaimOfThisThread.Unclaimed);
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            Thread.Sleep(1);
        }
    }

    [Theory]
    [MemberData(nameof(EngineCounts))]
    public void EveryBatchSizeFrom1To64RoundTrips(int engines)
    {
        // 8 cores claimed so that helpers are asked whatever the test machine has.
        using var cpu = new CpuEngines(engines, maxJobs: MaxPages, cores: 8);
        using var batch = new JobBatch(MaxPages);
        for (int count = 1; count <= MaxPages; count++)
        {
            FillCompress(batch, count, first: count);
            cpu.Run(batch);
            AssertCompressed(batch, first: count);

            // Decompress the compressed ones back into frames, in one batch, checksums verified.
            var compressed = new List<(int Job, int Length, uint Checksum)>();
            for (int i = 0; i < count; i++)
            {
                ref PageJob j = ref batch.Jobs[i];
                if (j.Result == JobResult.Compressed) compressed.Add((i, j.Written, j.Checksum));
            }

            if (compressed.Count == 0) continue;
            using var back = new JobBatch(MaxPages);
            back.Clear();
            for (int k = 0; k < compressed.Count; k++)
            {
                ref PageJob d = ref back.AddDecompress(batch.Output(compressed[k].Job), compressed[k].Length, Lz4, _frames + (long)k * Page);
                d.Checksum = compressed[k].Checksum;
                d.Verify = true;
            }

            cpu.Run(back);
            for (int k = 0; k < compressed.Count; k++)
            {
                Assert.Equal(JobResult.Decompressed, back.Jobs[k].Result);
                Assert.True(new ReadOnlySpan<byte>(_frames + (long)k * Page, Page)
                    .SequenceEqual(new ReadOnlySpan<byte>(_pages + (long)((count + compressed[k].Job) % MaxPages) * Page, Page)));
            }
        }

        Assert.Equal(0, cpu.ContainedExceptions);
        Assert.InRange(cpu.PendingOffers, 0, cpu.PostedSlots);
    }

    [Fact]
    public void ManySubmittersShareTheEngines()
    {
        using var cpu = new CpuEngines(2, maxJobs: 32, cores: 8);
        var errors = new List<string>();
        Thread[] submitters = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            try
            {
                using var batch = new JobBatch(32);
                for (int r = 0; r < 300; r++)
                {
                    int count = 1 + (r * 7 + t) % 32, first = r + t * 5;
                    FillCompress(batch, count, first);
                    cpu.Run(batch);
                    AssertCompressed(batch, first);
                }
            }
            catch (Exception e)
            {
                lock (errors) errors.Add(e.Message);
            }
        })).ToArray();
        foreach (Thread t in submitters) t.Start();
        foreach (Thread t in submitters) t.Join();
        Assert.Empty(errors);
        Assert.InRange(cpu.PendingOffers, 0, cpu.PostedSlots);
    }

    [Fact]
    public void OffersToStarvedEnginesAreOverwrittenNotQueued()
    {
        // Engines that never get to look at their slot (held in the hook, as a helper without a core would be).
        using var gate = new ManualResetEventSlim(false);
        using var cpu = new CpuEngines(2, maxJobs: 8, cores: 8, probe: new Probe(before: _ => gate.Wait()));
        using var batch = new JobBatch(8);
        FillCompress(batch, 8);
        cpu.Run(batch); // warm-up: contexts, first offers

        const int Runs = 5000;
        long offersBefore = cpu.OffersPosted;
        int maxPending = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < Runs; r++)
        {
            FillCompress(batch, 8, first: r);
            cpu.Run(batch);
            maxPending = Math.Max(maxPending, cpu.PendingOffers);
        }

        // No allocation per run on the submitting thread (the posted state is fixed slots, no queue nodes).
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - allocated);
        Assert.InRange(maxPending, 0, cpu.PostedSlots);
        // Both (free-looking) engines were asked every time, and each slot holds only the last offer.
        Assert.Equal(2L * Runs, cpu.OffersPosted - offersBefore);
        Assert.Equal(2, cpu.PostedSlots);
        Assert.Equal(2, cpu.PendingOffers);
        Assert.Equal(0, cpu.JobsRunByEngines);
        AssertCompressed(batch, first: Runs - 1);

        // Let them go: each finds one stale offer, runs nothing, and settles.
        gate.Set();
        WaitUntil(() => cpu.PendingOffers == 0 && cpu.BusyEngines == 0, "engines to take their stale offers");
        Assert.Equal(0, cpu.JobsRunByEngines);
    }

    [Fact]
    public void ClaimsTakeAQuarterOfWhatIsLeftAndCoverEveryJobOnce()
    {
        using var batch = new JobBatch(64);
        FillCompress(batch, 32);
        var claim = new RunClaim();
        int gen = claim.Open(batch);
        var sizes = new List<int>();
        int next = 0;
        while (claim.TryClaim(batch, gen, out int claimed) is int first && first >= 0)
        {
            Assert.Equal(next, first); // runs follow each other: no job skipped or claimed twice
            sizes.Add(claimed);
            next += claimed;
        }
        Assert.Equal(32, next);
        Assert.Equal([8, 6, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1], sizes);
        Assert.Equal(-1, claim.TryClaim(batch, gen - 1, out int stale)); // an old run claims nothing
        Assert.Equal(0, stale);
    }

    [Fact]
    public void ConcurrentClaimersShareEveryJobExactlyOnce()
    {
        using var batch = new JobBatch(64);
        var claim = new RunClaim();
        for (int round = 0; round < 200; round++)
        {
            FillCompress(batch, 64);
            int gen = claim.Open(batch);
            var hits = new int[64];
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                while (claim.TryClaim(batch, gen, out int claimed) is int first && first >= 0)
                    for (int i = first; i < first + claimed; i++) Interlocked.Increment(ref hits[i]);
            })).ToArray();
            foreach (Thread t in threads) t.Start();
            foreach (Thread t in threads) t.Join();
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void ALateHelperDoesNotRunJobsOfTheReopenedBatch()
    {
        using var taken = new CountdownEvent(1);
        using var gate = new ManualResetEventSlim(false);
        using var cpu = new CpuEngines(1, maxJobs: 8, cores: 8, probe: new Probe(after: _ =>
        {
            if (!taken.IsSet) taken.Signal();
            gate.Wait();
        }));
        using var batch = new JobBatch(8);
        FillCompress(batch, 8);
        cpu.Run(batch); // the engine is offered this run; whether or not it got there first, it then stops in the hook
        Assert.True(taken.Wait(TimeSpan.FromSeconds(20)), "the engine never took the offer");
        AssertCompressed(batch);
        long ranBefore = cpu.JobsRunByEngines;

        // Reuse the same batch object (and this thread's claim state) for a new run, opened but not worked by anyone yet.
        FillCompress(batch, 8, first: 3);
        RunClaim claim = CpuEngines.ClaimOfThisThread;
        claim.Open(batch);
        Assert.Equal(8, claim.Unclaimed);

        gate.Set();
        WaitUntil(() => cpu.BusyEngines == 0, "the late helper to give up");
        Assert.Equal(ranBefore, cpu.JobsRunByEngines);
        Assert.Equal(8, claim.Unclaimed);
        Assert.Equal(8, Volatile.Read(ref claim.Remaining));
        for (int i = 0; i < 8; i++) Assert.Equal(JobResult.Pending, batch.Jobs[i].Result);

        // And the batch still runs normally afterwards.
        cpu.Run(batch);
        AssertCompressed(batch, first: 3);
    }

    [Theory]
    [InlineData(2, 1, 2, 2, 1)] // the submitter alone on two cores: one helper for a batch of two
    [InlineData(2, 1, 2, 32, 1)]
    [InlineData(2, 1, 1, 1, 0)] // one job: the submitter does it
    [InlineData(2, 2, 2, 32, 0)] // both cores busy: no helper
    [InlineData(2, 0, 2, 32, 1)] // a submitter not counted as busy still counts as one
    [InlineData(4, 1, 4, 32, 3)]
    [InlineData(4, 1, 4, 3, 2)]
    [InlineData(4, 3, 4, 32, 1)]
    [InlineData(4, 6, 4, 32, 0)] // more busy threads than cores
    [InlineData(8, 1, 0, 32, 0)] // no engines
    public void HelpersOnlyWhereACoreIsIdle(int cores, int busy, int engines, int jobs, int expected)
    {
        using var cpu = new CpuEngines(engines, maxJobs: 64, busyThreads: () => busy, cores: cores);
        Assert.Equal(expected, cpu.HelpersFor(jobs));
    }

    [Fact]
    public void ALoneSubmitterOnTwoCoresAsksOneEngine()
    {
        using var cpu = new CpuEngines(2, maxJobs: 2, busyThreads: () => 1, cores: 2, spinMicros: 0);
        WaitUntil(() => cpu.SleepingEngines == 2, "the engines to block");
        using var batch = new JobBatch(2);
        FillCompress(batch, 2);
        cpu.Run(batch);
        AssertCompressed(batch);
        Assert.Equal(1, cpu.OffersPosted);
    }

    [Fact]
    public void BlockedEnginesAreWokenAndHelp()
    {
        // No spin: every run finds the engine blocked and must wake it.
        using var cpu = new CpuEngines(1, maxJobs: MaxPages, cores: 8, spinMicros: 0);
        using var batch = new JobBatch(MaxPages);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        int runs = 0;
        while (cpu.JobsRunByEngines == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the engine never ran a job");
            WaitUntil(() => cpu.SleepingEngines == 1, "the engine to block");
            FillCompress(batch, MaxPages, first: runs);
            cpu.Run(batch);
            AssertCompressed(batch, first: runs);
            runs++;
        }
    }

    [Fact]
    public void ThrowingJobsAreContainedOnEngines()
    {
        var faults = new FaultInjector(new FaultPlan { EngineThrowRate = 1.0 });
        using var cpu = new CpuEngines(2, faults, maxJobs: 32, cores: 8);
        using var batch = new JobBatch(32);
        for (int r = 0; r < 50; r++)
        {
            FillCompress(batch, 32, first: r);
            cpu.Run(batch);
            AssertCompressed(batch, first: r); // the retry after a contained throw succeeds
        }

        Assert.Equal(50 * 32, cpu.ContainedExceptions);
        Assert.All(cpu.Threads, t => Assert.True(t.IsAlive));
    }

    [Theory]
    [InlineData(0)] // engines block at once
    [InlineData(10_000_000)] // engines still spinning (10 s) when disposed
    public void DisposeEndsTheEngineThreads(int spinMicros)
    {
        var cpu = new CpuEngines(3, maxJobs: 16, cores: 8, spinMicros: spinMicros);
        using (var batch = new JobBatch(16))
        {
            for (int r = 0; r < 20; r++)
            {
                FillCompress(batch, 16, first: r);
                cpu.Run(batch);
            }
        }

        IReadOnlyList<Thread> threads = cpu.Threads;
        if (spinMicros == 0) WaitUntil(() => cpu.SleepingEngines == 3, "the engines to block");
        var started = DateTime.UtcNow;
        cpu.Dispose();
        Assert.All(threads, t => Assert.False(t.IsAlive, $"{t.Name} still alive"));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "Dispose waited for the spin to run out");
        cpu.Dispose(); // twice is fine
    }

    /// <summary>Holds engines at their decision points.</summary>
    private sealed class Probe(Action<int>? before = null, Action<int>? after = null) : IEngineProbe
    {
        public void BeforeTake(int engine) => before?.Invoke(engine);
        public void AfterTake(int engine) => after?.Invoke(engine);
    }
}
