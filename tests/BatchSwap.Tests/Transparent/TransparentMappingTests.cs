using BatchSwap.Stats;
using BatchSwap.Transparent;

namespace BatchSwap.Tests.Transparent;

/// <summary>
/// Transparent mappings: plain memory paged by the tier through userfaultfd. Unmodified code (Span.Sort) runs on
/// more memory than the tier has, pages come back as written, and the tier's store path takes the cold ones.
/// </summary>
public sealed class TransparentMappingTests
{
    internal static MemoryTier NewTier(long memory = 16L << 20, string maxPoolPercent = "20") => new(new TierOptions
    {
        MemoryBytes = memory,
        Engines = 1,
        HugePages = false, // khugepaged would fill the arena frames the mapping discards
        Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = maxPoolPercent },
    });

    /// <summary>Reads one byte of every page (a sum, so that the loads stay).</summary>
    internal static long TouchPages(ReadOnlySpan<byte> b)
    {
        long sum = 0;
        for (int i = 0; i < b.Length; i += 4096) sum += Volatile.Read(in b[i]);
        return sum;
    }

    [Fact]
    public void SortingMoreIntsThanTheTierHoldsGivesTheSortedResult()
    {
        using MemoryTier tier = NewTier(16L << 20);
        using TransparentMapping m = tier.Map(64L << 20, new TransparentOptions { MaxResidentBytes = 8L << 20 });
        Span<int> a = m.AsSpan<int>();
        var rng = new Random(7);
        long sum = 0;
        for (int i = 0; i < a.Length; i++) { a[i] = rng.Next(); sum += a[i]; }

        a.Sort();

        long after = 0;
        bool sorted = true;
        for (int i = 0; i < a.Length; i++)
        {
            after += a[i];
            if (i > 0 && a[i - 1] > a[i]) sorted = false;
        }
        Assert.True(sorted, "the mapping is not sorted");
        Assert.Equal(sum, after);
        CounterSnapshot c = tier.Snapshot();
        Assert.True(c[Counter.Zswpout] > 0, "nothing went to zswap");
        TransparentStats s = m.Stats();
        Assert.True(s.Evictions > 0 && s.SwapInFills > 0 && s.WpFaults > 0, s.ToString());
        Assert.True(s.ResidentPages <= m.MaxResidentPages);
    }

    [Fact]
    public void AWriteAfterAZeroFillIsKept()
    {
        using MemoryTier tier = NewTier();
        using TransparentMapping m = tier.Map(64L << 20);
        Span<long> a = m.AsSpan<long>();
        int perPage = 4096 / sizeof(long);
        // Read every page first, out of order (lone reads: zero-page fills, write-protected), then write a few of them,
        // then push everything out.
        long zeros = 0;
        int pages = a.Length / perPage;
        for (int k = 0; k < pages; k++) zeros += a[(int)((long)k * 7919 % pages) * perPage];
        Assert.Equal(0, zeros);
        for (int i = 0; i < a.Length; i += 97 * perPage) a[i + 3] = i + 1;
        Span<byte> other = m.AsSpan<byte>(0, (int)m.Length);
        for (int pass = 0; pass < 2; pass++) TouchPages(other);
        for (int i = 0; i < a.Length; i += perPage)
            Assert.Equal(i % (97 * perPage) == 0 ? i + 1 : 0, a[i + 3]);
        Assert.True(m.Stats().ZeroFills > 0 && m.Stats().WpFaults > 0, m.Stats().ToString());
    }

    [Fact]
    public void PagesOnlyReadSinceTheyCameBackAreDroppedWithoutCompressing()
    {
        // Room in the pool for every page (else pool pressure drops retained copies first, by design).
        using MemoryTier tier = NewTier(maxPoolPercent: "60");
        using TransparentMapping m = tier.Map(20L << 20, new TransparentOptions { MaxResidentBytes = 2L << 20 });
        Span<byte> b = m.AsSpan<byte>();
        for (long p = 0; p < m.PageCount; p++) TestPages.Fill(b.Slice((int)(p * 4096), 4096), p, seed: 3);
        for (int pass = 0; pass < 3; pass++) TouchPages(b);
        CounterSnapshot before = tier.Snapshot();
        TouchPages(b);
        CounterSnapshot after = tier.Snapshot();
        long clean = after[Counter.PgstealClean] - before[Counter.PgstealClean];
        long stores = after[Counter.Zswpout] + after[Counter.Pswpout] - before[Counter.Zswpout] - before[Counter.Pswpout];
        Assert.True(clean > 0, "no clean steal: " + m.Stats() + "\n" + after.Since(before).ToVmstat());
        Assert.True(stores < clean / 4, $"{stores} pages stored again, {clean} dropped clean; {m.Stats()}\n{after.Since(before).ToVmstat()}");
        Span<byte> want = stackalloc byte[4096];
        for (long p = 0; p < m.PageCount; p++)
        {
            TestPages.Fill(want, p, seed: 3);
            Assert.True(want.SequenceEqual(b.Slice((int)(p * 4096), 4096)), $"page {p}");
        }
    }
}

/// <summary>Concurrency and lifetime: threads on one page, GC pressure while threads fault, dispose, the tier's own dispose.</summary>
public sealed unsafe class TransparentMappingLifetimeTests
{
    [Fact]
    public void SeveralThreadsFaultingOnTheSamePageAllSeeIt()
    {
        using MemoryTier tier = TransparentMappingTests.NewTier();
        using TransparentMapping m = tier.Map(32L << 20, new TransparentOptions { MaxResidentBytes = 1L << 20 });
        Span<long> a = m.AsSpan<long>();
        for (int i = 0; i < a.Length; i += 512) a[i] = i;
        const int threads = 6, rounds = 40;
        long wrong = 0;
        using var barrier = new Barrier(threads + 1);
        var ts = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            ts[t] = new Thread(() =>
            {
                Span<long> v = m.AsSpan<long>();
                for (int r = 0; r < rounds; r++)
                {
                    barrier.SignalAndWait();
                    int page = (r * 37 % (v.Length / 512)) * 512;
                    if (Volatile.Read(ref v[page]) != page) Interlocked.Increment(ref wrong);
                    barrier.SignalAndWait();
                }
            });
            ts[t].Start();
        }
        for (int r = 0; r < rounds; r++)
        {
            barrier.SignalAndWait(); // all threads touch one page at once
            barrier.SignalAndWait();
            // Push the mapping's pages out, so that the next round's page is missing again.
            TransparentMappingTests.TouchPages(m.AsSpan<byte>(16L << 20, 8 << 20));
        }
        foreach (Thread t in ts) Assert.True(t.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, wrong);
        Assert.True(m.Stats().Refaults > 0, m.Stats().ToString());
    }

    [Fact]
    public void GarbageCollectionsWhileThreadsFaultDoNotDeadlock()
    {
        // Not `using`: if a thread is stuck in a fault, unmapping the memory under it would crash the test host.
        MemoryTier tier = TransparentMappingTests.NewTier();
        TransparentMapping m = tier.Map(20L << 20, new TransparentOptions { MaxResidentBytes = 2L << 20 });
        const int workers = 4;
        long perWorker = m.Length / workers / sizeof(int);
        using var stop = new CancellationTokenSource();
        long collections = 0, bad = 0;
        var gc = new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 200; i++) keep.Add(new byte[1024 + i]);
                if (keep.Count > 5000) keep.Clear();
                GC.Collect();
                Interlocked.Increment(ref collections);
                Thread.Sleep(1); // collections back to back would leave the faulting threads almost no time between them
            }
        });
        gc.Start();
        var ts = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            int worker = w;
            ts[w] = new Thread(() =>
            {
                Span<int> v = m.AsSpan<int>(worker * perWorker, (int)perWorker);
                for (int pass = 0; pass < 3; pass++)
                {
                    for (int i = 0; i < v.Length; i += 1024)
                    {
                        if (pass > 0 && v[i] != i * 3 + worker + pass - 1) Interlocked.Increment(ref bad);
                        v[i] = i * 3 + worker + pass;
                        if ((i & 0xFFFF) == 0) _ = new object[4]; // the faulting threads allocate too
                    }
                }
            });
            ts[w].Start();
        }
        bool done = ts.All(t => t.Join(TimeSpan.FromSeconds(120)));
        stop.Cancel();
        gc.Join(TimeSpan.FromSeconds(10));
        Assert.True(done, $"a faulting thread did not finish: the handler and a garbage collection waited for each other ({m.Stats()}, {collections} collections)");
        m.Dispose();
        tier.Dispose();
        Assert.Equal(0, bad);
        Assert.True(collections > 10, $"only {collections} collections ran");
        Assert.True(m.Stats().Evictions > 0);
    }

    [Fact]
    public void DisposeReleasesEverything()
    {
        using MemoryTier tier = TransparentMappingTests.NewTier();
        long charged = tier.DefaultGroup.ChargedBytes;
        long stored = tier.Snapshot().Gauge("stored_pages");
        var m = tier.Map(40L << 20);
        Span<byte> b = m.AsSpan<byte>();
        for (int i = 0; i < b.Length; i += 4096) b[i] = (byte)(i >> 12);
        Assert.True(tier.Snapshot().Gauge("stored_pages") > stored);
        Thread handler = m.HandlerThread;
        nint address = (nint)m.Pointer;
        m.Dispose();
        Assert.False(handler.IsAlive);
        Assert.Equal(charged, tier.DefaultGroup.ChargedBytes);
        Assert.Equal(stored, tier.Snapshot().Gauge("stored_pages"));
        Assert.Equal(0, tier.Snapshot().Gauge("swap_used_pages"));
        string start = address.ToString("x");
        Assert.DoesNotContain(File.ReadLines("/proc/self/maps"), l => l.StartsWith(start + "-", StringComparison.Ordinal));
        Assert.Throws<ObjectDisposedException>(() => m.AsSpan<byte>(0, 1));
        m.Dispose(); // a second call does nothing
    }

    [Fact]
    public void DisposingTheTierDisposesOpenMappings()
    {
        TransparentMapping m;
        using (MemoryTier tier = TransparentMappingTests.NewTier())
        {
            m = tier.Map(8L << 20);
            m.AsSpan<byte>()[12345] = 1;
        }
        Assert.False(m.HandlerThread.IsAlive);
        Assert.Throws<ObjectDisposedException>(() => m.AsSpan<byte>(0, 1));
    }

    [Fact]
    public void TheUserModeOnlyPathWorks()
    {
        using MemoryTier tier = TransparentMappingTests.NewTier();
        using TransparentMapping m = tier.Map(24L << 20, new TransparentOptions { Access = UffdAccess.UserModeOnly });
        Assert.False(m.KernelFaultsHandled);
        Assert.Contains("UFFD_USER_MODE_ONLY", m.UffdSource);
        Span<int> a = m.AsSpan<int>();
        for (int i = 0; i < a.Length; i += 1024) a[i] = i;
        for (int i = 0; i < a.Length; i += 1024) Assert.Equal(i, a[i]);
    }

    [Fact]
    public void WhenUserfaultfdIsRefusedTheErrorNamesTheCauseAndTheSysctl()
    {
        using MemoryTier tier = TransparentMappingTests.NewTier();
        long charged = tier.DefaultGroup.ChargedBytes;
        var e = Assert.Throws<UserfaultfdUnavailableException>(() => tier.Map(8L << 20, new TransparentOptions { Access = UffdAccess.SimulateDenied }));
        Assert.Contains("vm.unprivileged_userfaultfd", e.Message);
        Assert.Contains("seccomp", e.Message);
        Assert.Contains("/dev/userfaultfd", e.Message);
        Assert.Equal(charged, tier.DefaultGroup.ChargedBytes); // the region made for it is freed
    }

    [Fact]
    public void MemoryAndSpansSeeTheSameBytes()
    {
        using MemoryTier tier = TransparentMappingTests.NewTier();
        using TransparentMapping m = tier.Map(1L << 20);
        Memory<int> mem = m.AsMemory<int>(1000, 5000);
        mem.Span.Fill(42);
        Assert.Equal(42, m.AsSpan<int>()[1000]);
        Assert.Equal(0, m.AsSpan<int>()[999]);
        Assert.Equal(42, m.AsSpan<int>(5999, 1)[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.AsSpan<int>(m.Length / 4 - 1, 2));
    }
}
