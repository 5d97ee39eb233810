using BatchSwap.Access;
using BatchSwap.Faults;
using BatchSwap.MemCg;

namespace BatchSwap.Tests.Shutdown;

/// <summary>Disposing the tier while threads use it completes cleanly: later accesses throw, files and threads are gone.</summary>
public sealed class DisposeTests
{
    [Fact]
    public void DisposeWhileThreadsReclaimAndDoIoEndsCleanly()
    {
        string dir = Directory.CreateTempSubdirectory("batchswap-dispose-").FullName;
        string named = Path.Combine(dir, "named.swap");
        var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 2,
            SwapDirectory = dir,
            SwapDevices = [new SwapDeviceOptions(), new SwapDeviceOptions(named)],
            Faults = new FaultPlan { SlowIoMicros = 100 },
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "5" },
        });
        // The temporary file has no name; the named one is the only entry in the directory.
        Assert.Equal([named], Directory.GetFileSystemEntries(dir));
        IReadOnlyList<Thread> io = tier.SwapIoThreads;
        IReadOnlyList<Thread> engines = tier.EngineThreads;
        Thread? shrinker = tier.ShrinkWorkerThread;
        Region[] regions = Enumerable.Range(0, 4).Select(_ => tier.Allocate(12L << 20)).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        int disposedSeen = 0;
        using var started = new CountdownEvent(regions.Length);
        var threads = regions.Select((r, w) => new Thread(() =>
        {
            var page = new byte[4096];
            bool signalled = false;
            try
            {
                for (long round = 0; ; round++)
                {
                    for (long i = 0; i < r.PageCount; i++)
                    {
                        TestPages.Fill(page, i, w);
                        r.Write(i, page);
                        r.Read((i * 7919) % r.PageCount, page);
                        if (!signalled && i > 500) { started.Signal(); signalled = true; }
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                Interlocked.Increment(ref disposedSeen);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
            finally
            {
                if (!signalled) started.Signal();
            }
        })
        { IsBackground = true }).ToArray();
        foreach (Thread t in threads) t.Start();
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)));
        Thread.Sleep(100);
        tier.Dispose(); // reclaim, writeback and slow I/O are in flight on four threads
        foreach (Thread t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "an accessing thread did not end");
        Assert.Empty(errors);
        Assert.Equal(threads.Length, disposedSeen);

        Assert.Empty(Directory.GetFileSystemEntries(dir)); // nothing left behind
        Directory.Delete(dir);
        Assert.All(io, t => Assert.False(t.IsAlive, $"{t.Name} is still running"));
        Assert.All(engines, t => Assert.False(t.IsAlive, $"{t.Name} is still running"));
        Assert.All(engines, t => Assert.StartsWith("batchswap-engine-", t.Name));
        if (shrinker is not null) Assert.False(shrinker.IsAlive, "the zswap shrink worker is still running");

        // Everything after dispose throws ObjectDisposedException, except Dispose itself.
        Region r0 = regions[0];
        var e1 = Assert.Throws<ObjectDisposedException>(() => r0.Read(0, new byte[16]));
        Assert.Contains("memory tier has been disposed", e1.Message);
        Assert.Throws<ObjectDisposedException>(() => r0.Write(0, new byte[16]));
        Assert.Throws<ObjectDisposedException>(() => { using PageLease l = r0.Pin(0); });
        Assert.Throws<ObjectDisposedException>(() => r0.IsResident(0));
        Assert.Throws<ObjectDisposedException>(() => tier.Allocate(1 << 20));
        Assert.Throws<ObjectDisposedException>(() => tier.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => tier.CreateGroup("late", 1 << 20));
        foreach (Region r in regions) r.Dispose();
        tier.Dispose();
    }

    [Fact]
    public void DisposeWaitsForAnOpenLease()
    {
        var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1 });
        Region r = tier.Allocate(1 << 20);
        using var pinned = new ManualResetEventSlim();
        int afterDispose = 0;
        var holder = new Thread(() =>
        {
            using PageLease lease = r.Pin(3);
            pinned.Set();
            Thread.Sleep(300);
            lease.Span[0] = 42; // the page is still there: Dispose is waiting
            Volatile.Write(ref afterDispose, 1);
        });
        holder.Start();
        pinned.Wait();
        tier.Dispose();
        Assert.Equal(1, Volatile.Read(ref afterDispose));
        holder.Join();
        Assert.Throws<ObjectDisposedException>(() => r.Read(3, new byte[1]));
    }

    [Fact]
    public void RegionMisuseThrowsClearly()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1 });
        Region r = tier.Allocate(1 << 20);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => r.Read(r.PageCount, new byte[1]));
        Assert.Contains("outside the region (0 … 255)", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => r.Write(0, new byte[100], offset: 4000));
        Assert.Contains("do not lie within one 4096-byte page", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Read(-1, new byte[1]));
        r.Dispose();
        var d = Assert.Throws<ObjectDisposedException>(() => r.Read(0, new byte[1]));
        Assert.Contains("region has been freed", d.Message);
        r.Dispose(); // a second dispose does nothing
        using var other = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1 });
        MemoryGroup foreign = other.CreateGroup("g", 4L << 20);
        var a = Assert.Throws<ArgumentException>(() => tier.Allocate(1 << 20, group: foreign));
        Assert.Contains("belongs to another tier", a.Message);
    }

    [Fact]
    public void BadOptionsNameTheAcceptedValues()
    {
        static string Refused(TierOptions o) => Assert.ThrowsAny<ArgumentException>(() => new MemoryTier(o)).Message;
        Assert.Contains("[-1, 32767]", Refused(new TierOptions { MemoryBytes = 16L << 20, SwapDevices = [new SwapDeviceOptions(Priority: 99999)] }));
        Assert.Contains("at least 2 MiB", Refused(new TierOptions { MemoryBytes = 16L << 20, SwapDevices = [new SwapDeviceOptions(CapacityBytes: 4096)] }));
        Assert.Contains("given twice", Refused(new TierOptions { MemoryBytes = 16L << 20, SwapDevices = [new SwapDeviceOptions("/tmp/bs-same.swap"), new SwapDeviceOptions("/tmp/bs-same.swap")] }));
        Assert.Contains("[0, 256]", Refused(new TierOptions { MemoryBytes = 16L << 20, Engines = 300 }));
        Assert.Contains("[1, 64]", Refused(new TierOptions { MemoryBytes = 16L << 20, Nodes = 65 }));
        Assert.Contains("at most 16 TiB", Refused(new TierOptions { MemoryBytes = 1L << 50 }));
        Assert.Contains("accepted: lz4", Assert.Throws<Tunables.TunableException>(() => new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Compressor = null! })).Message);
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1 });
        Assert.Contains("Y or N", Assert.Throws<Tunables.TunableException>(() => tier.Tunables.Set("zswap.verify_checksums", "sometimes")).Message);
        Assert.Contains("[0, 100]", Assert.Throws<Tunables.TunableException>(() => tier.Tunables.Set("zswap.accept_threshold_percent", "-1")).Message);
        Assert.Contains("[1 MiB,", Assert.Throws<ArgumentOutOfRangeException>(() => tier.CreateGroup("tiny", 1000)).Message);
        Assert.Contains("order must be in [0, 9]", Assert.Throws<ArgumentOutOfRangeException>(() => tier.Allocate(1 << 20, order: 10)).Message);
    }
}
