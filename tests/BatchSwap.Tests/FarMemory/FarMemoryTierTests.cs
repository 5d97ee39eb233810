using BatchSwap.Access;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Swap.Backends.Redis;
using BatchSwap.Tests.Faults;
using BatchSwap.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace BatchSwap.Tests.FarMemory;

/// <summary>
/// A tier whose swap device is a real Redis Cluster on loopback (three masters; three replicas for the replica
/// test): every page comes back as written or fails loudly, batches are few round trips, writeback sends compressed
/// objects, a lost node loses only its pages, and nothing of the tier is left in the cluster after dispose.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed unsafe class FarMemoryTierTests(RedisFixture redis, ITestOutputHelper output)
{
    private static RedisSwapOptions Remote(LocalRedis.Cluster cluster, TimeSpan? timeout = null) => new()
    {
        Endpoints = cluster.Endpoints.Take(2).ToArray(),
        TierId = "t" + Guid.NewGuid().ToString("N")[..12],
        OperationTimeout = timeout ?? TimeSpan.FromSeconds(2),
        KeyTtl = TimeSpan.FromMinutes(5),
    };

    /// <summary>A 16 MiB tier with a small pool whose only swap device is <paramref name="remote"/> (or the given devices).</summary>
    private static MemoryTier Tier(RedisSwapOptions remote, string poolPercent = "10", SwapDeviceOptions[]? devices = null,
        Dictionary<string, string>? tunables = null, bool shrinkWorker = true)
    {
        var t = tunables ?? new Dictionary<string, string>();
        t["zswap.max_pool_percent"] = poolPercent;
        return new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 1,
            ZswapShrinkWorker = shrinkWorker,
            SwapDevices = devices ?? [new SwapDeviceOptions(CapacityBytes: 128L << 20) { Redis = remote }],
            Tunables = t,
        });
    }

    private static RedisSwapBackend Backend(MemoryTier tier, int type = 0) => (RedisSwapBackend)tier.Devices[type].Backend;

    [Fact]
    public void EveryPageRoundTripsUnderASmallPoolWithSeveralWorkers()
    {
        using MemoryTier tier = Tier(Remote(redis.Cluster));
        const int workers = 3;
        var regions = Enumerable.Range(0, workers).Select(_ => tier.Allocate(8L << 20)).ToArray();
        try
        {
            // Each worker fills its region, reads it back (in order, then scattered), and does it again with new contents.
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                for (int round = 0; round < 2; round++)
                {
                    int seed = 10 * w + round;
                    FaultInjectionTests.WriteAll(regions[w], seed);
                    Assert.Equal(0, FaultInjectionTests.VerifyAll(regions[w], seed, readErrors: false));
                }
            });
            CounterSnapshot s = tier.Snapshot();
            Assert.True(s[Counter.Pswpout] > 3000, $"only {s[Counter.Pswpout]} pages went remote");
            Assert.True(s[Counter.Pswpin] > 3000, $"only {s[Counter.Pswpin]} pages came back from remote");
            Assert.Equal(0, s[Counter.SwapRemoteAuthFail] + s[Counter.SwapRemoteMissing] + s[Counter.SwapReadFail] + s[Counter.SwapWriteFail]);
        }
        finally
        {
            foreach (Region r in regions) r.Dispose();
        }
    }

    [Fact]
    public void BatchesTakeFewerThanOneRoundTripPerEightPages()
    {
        using MemoryTier tier = Tier(Remote(redis.Cluster), tunables: new() { ["vm.page-cluster"] = "5" });
        using Region r = tier.Allocate(32L << 20);
        FaultInjectionTests.WriteAll(r, seed: 21);
        CounterSnapshot written = tier.Snapshot();
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(want, i, 21);
            r.Read(i, got);
            Assert.True(want.SequenceEqual(got), $"page {i} read back wrong");
        }
        CounterSnapshot read = tier.Snapshot();
        long writeTrips = written[Counter.SwapRemoteRoundTrips], readTrips = read[Counter.SwapRemoteRoundTrips] - writeTrips;
        long outPages = written[Counter.Pswpout], inPages = read[Counter.Pswpin];
        Assert.True(outPages > 4000 && inPages > 4000, $"{outPages} pages out, {inPages} in: too few went remote");
        Assert.True(writeTrips * 8 < outPages, $"{writeTrips} round trips for {outPages} pages written");
        Assert.True(readTrips * 8 < inPages, $"{readTrips} round trips for {inPages} pages read");
    }

    /// <summary>Fills a page with text made of a few words: it compresses to about half or better.</summary>
    private static void FillText(Span<byte> page, long index, int seed)
    {
        string[] words = ["swap ", "zswap ", "page ", "folio ", "reclaim ", "memory ", "cluster ", "remote ", "far ", "batch "];
        ulong x = (ulong)(index * 7919 + seed) | 1;
        int at = 0;
        while (at < page.Length)
        {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            string w = words[(int)(x % (ulong)words.Length)];
            for (int c = 0; c < w.Length && at < page.Length; c++) page[at++] = (byte)w[c];
        }
    }

    [Fact]
    public void WritebackSendsCompressedObjectsAsTheyAre()
    {
        // The storing thread writes back before its next batch: the pool stays open to stores, few folios are rejected.
        using MemoryTier tier = Tier(Remote(redis.Cluster), shrinkWorker: false);
        using Region r = tier.Allocate(32L << 20);
        Span<byte> p = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++) { FillText(p, i, 4); r.Write(i, p); }
        CounterSnapshot s = tier.Snapshot();
        long stored = s.Gauge("stored_pages") - s.Gauge("same_filled_pages") - s.Gauge("stored_incompressible_pages");
        double compressed = (double)s.Gauge("pool_compressed_bytes") / stored; // the same kind of page as those written back
        long wb = s[Counter.Zswpwb], wbCompressed = s[Counter.ZswpwbCompressed], pages = s[Counter.Pswpout];
        Assert.True(wbCompressed > 2000, $"only {wbCompressed} entries written back compressed");
        Assert.Equal(wb, wbCompressed);
        Assert.True(compressed < PageSize.Bytes * 0.7, $"the test pages compress to {compressed:F0} bytes");
        // Bytes on the wire: each compressed object, its tag, key and framing; the rest (rejected folios) whole pages.
        double perObject = compressed + PageSealer.TagBytes + 64;
        long bytes = s[Counter.SwapRemoteBytesSent];
        double expected = wbCompressed * (compressed + PageSealer.TagBytes) + (pages - wbCompressed) * (double)(PageSize.Bytes + PageSealer.TagBytes);
        Assert.InRange(bytes, expected, expected + pages * 64.0);
        Assert.True(bytes < pages * perObject * 1.3, $"{bytes} bytes sent for {pages} pages of about {compressed:F0} bytes compressed");

        // They come back decompressed and checked.
        Span<byte> want = stackalloc byte[4096];
        for (long i = 0; i < r.PageCount; i++)
        {
            FillText(want, i, 4);
            r.Read(i, p);
            Assert.True(want.SequenceEqual(p), $"page {i} read back wrong");
        }
        Assert.Equal(0, tier.Snapshot()[Counter.DecompressFail]);
    }

    [Fact]
    public void AValueChangedBehindTheTiersBackIsALoudFailureOfThatPageOnly()
    {
        using MemoryTier tier = Tier(Remote(redis.Cluster));
        using Region r = tier.Allocate(24L << 20);
        FaultInjectionTests.WriteAll(r, seed: 31);
        // Change one stored page in the cluster.
        using (ConnectionMultiplexer admin = ConnectionMultiplexer.Connect(string.Join(',', redis.Cluster.Endpoints)))
        {
            IDatabase db = admin.GetDatabase();
            RedisKey key = Backend(tier).KeyOf(3);
            HashEntry e = db.HashGetAll(key).First();
            byte[] v = (byte[])e.Value!;
            v[v.Length / 2] ^= 0x40;
            db.HashSet(key, e.Name, v);
        }
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        var lost = new List<long>();
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(want, i, 31);
            try
            {
                r.Read(i, got);
                Assert.True(want.SequenceEqual(got), $"page {i} read back wrong");
            }
            catch (PageDataLostException ex)
            {
                Assert.Equal(i, ex.Page);
                lost.Add(i);
            }
        }
        Assert.Single(lost);
        Assert.True(tier.Snapshot()[Counter.SwapRemoteAuthFail] >= 1);
        // Still lost, still loudly, on the next try.
        Assert.Throws<PageDataLostException>(() => r.Read(lost[0], new byte[4096]));
    }

    [Fact]
    public void AfterDisposeTheClusterHoldsNoKeyOfTheTier()
    {
        MemoryTier tier = Tier(Remote(redis.Cluster));
        string pattern = Backend(tier).KeyPattern;
        using (Region r = tier.Allocate(24L << 20)) FaultInjectionTests.WriteAll(r, seed: 41);
        Assert.True(redis.Cluster.CountKeys(pattern) > 10);
        tier.Dispose();
        Assert.Equal(0, redis.Cluster.CountKeys(pattern));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AFileAndTheClusterTakePagesByPriority(bool fileFirst)
    {
        RedisSwapOptions remote = Remote(redis.Cluster);
        // The first device by priority holds one 2 MiB cluster of slots; the rest must go to the other.
        var file = new SwapDeviceOptions(CapacityBytes: fileFirst ? 2L << 20 : 128L << 20, Priority: fileFirst ? 5 : 0);
        var cluster = new SwapDeviceOptions(CapacityBytes: fileFirst ? 128L << 20 : 2L << 20, Priority: fileFirst ? 0 : 5) { Redis = remote };
        using MemoryTier tier = Tier(remote, devices: [file, cluster]);
        using Region r = tier.Allocate(32L << 20);
        FaultInjectionTests.WriteAll(r, seed: 51);
        Assert.True(tier.Devices[0].UsedSlots > 0 && tier.Devices[1].UsedSlots > 0,
            $"file {tier.Devices[0].UsedSlots} slots, cluster {tier.Devices[1].UsedSlots} slots");
        int first = fileFirst ? 0 : 1;
        Assert.True(tier.Devices[first].UsedSlots > 400, $"the first device by priority holds {tier.Devices[first].UsedSlots} slots");
        Assert.Equal(0, FaultInjectionTests.VerifyAll(r, seed: 51, readErrors: false));
    }

    [Fact]
    public void ANodeKilledMidRunLosesOnlyItsPagesLoudlyAndTheTierKeepsWorking()
    {
        LocalRedis.Cluster cluster = redis.Redis.StartCluster(masters: 3);
        var masters = cluster.Masters();
        using MemoryTier tier = Tier(Remote(cluster, TimeSpan.FromMilliseconds(500)) with { Retries = 0 });
        RedisSwapBackend backend = Backend(tier);
        using Region r = tier.Allocate(24L << 20);
        FaultInjectionTests.WriteAll(r, seed: 61);

        (LocalRedis.Node victim, List<(int From, int To)> victimSlots) = masters[1];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        cluster.Kill(victim);
        bool OnVictim(int slot)
        {
            int hashSlot = (int)HashSlotOf(backend.KeyOf(slot >> RedisSwapBackend.GroupShift));
            return victimSlots.Any(s => hashSlot >= s.From && hashSlot <= s.To);
        }

        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        long lost = 0, remoteOk = 0;
        for (long i = 0; i < r.PageCount; i++)
        {
            ulong pte = *r.Space.PteAddress(i);
            bool remote = Pte.IsSwap(pte) && (tier.Devices[0].Info(Pte.SwapOffset(pte)) & (ulong)Swap.SlotFlags.OnDisk) != 0;
            int slot = remote ? Pte.SwapOffset(pte) : -1;
            TestPages.Fill(want, i, 61);
            try
            {
                r.Read(i, got);
                Assert.True(want.SequenceEqual(got), $"page {i} read back wrong");
                if (remote) remoteOk++;
            }
            catch (PageDataLostException)
            {
                Assert.True(remote && OnVictim(slot), $"page {i} failed, but its copy was not on the killed node (remote {remote}, slot {slot}); {Diag(tier)}");
                lost++;
            }
        }
        output.WriteLine($"{clock.Elapsed}: after the reads: {lost} lost, {remoteOk} remote ok; {Diag(tier)}");
        Assert.True(lost > 0, "no page was lost with its node");
        Assert.True(remoteOk > 0, "no remote page survived on the other nodes");
        Assert.True(tier.Snapshot()[Counter.SwapReadFail] >= lost);

        // The tier keeps working: new pages go to the nodes that are left.
        using Region fresh = tier.Allocate(16L << 20);
        FaultInjectionTests.WriteAll(fresh, seed: 62);
        Assert.Equal(0, FaultInjectionTests.VerifyAll(fresh, seed: 62, readErrors: false));
        output.WriteLine($"{clock.Elapsed}: after the fresh region: {Diag(tier)}");
    }

    [Fact]
    public void WithReplicaAcknowledgementAPageSurvivesItsMastersLoss()
    {
        LocalRedis.Cluster cluster = redis.Redis.StartCluster(masters: 3, replicasPerMaster: 1);
        using MemoryTier tier = Tier(Remote(cluster) with { ReplicaAcks = 1 });
        using Region r = tier.Allocate(24L << 20);
        FaultInjectionTests.WriteAll(r, seed: 71);
        Assert.Equal(0, tier.Snapshot()[Counter.SwapRemoteReplicaShort]);

        cluster.Kill(cluster.Masters()[0].Node);
        cluster.WaitUntilOk(TimeSpan.FromSeconds(30), masters: 3); // a replica took over
        // Every page comes back as written; reads may fail loudly until the client has seen the new master.
        Span<byte> want = stackalloc byte[4096];
        Span<byte> got = stackalloc byte[4096];
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(want, i, 71);
            while (true)
            {
                try
                {
                    r.Read(i, got);
                    break;
                }
                catch (PageDataLostException) when (deadline.Elapsed < TimeSpan.FromSeconds(40))
                {
                    Thread.Sleep(50);
                }
            }
            Assert.True(want.SequenceEqual(got), $"page {i} read back wrong");
        }
        Assert.Equal(0, tier.Snapshot()[Counter.SwapRemoteAuthFail] + tier.Snapshot()[Counter.SwapRemoteMissing]);
    }

    private static string Diag(MemoryTier tier)
    {
        CounterSnapshot s = tier.Snapshot();
        return string.Join(", ", new[] { Counter.SwapRemoteTimeouts, Counter.SwapRemoteErrors, Counter.SwapRemoteNodeDownSkips, Counter.SwapRemoteRetries,
            Counter.SwapRemoteMissing, Counter.SwapRemoteAuthFail, Counter.SwapReadFail }.Select(c => $"{CounterNames.Of(c)} {s[c]}"));
    }

    /// <summary>The Redis Cluster hash slot of a key (CRC16/XMODEM mod 16384; these keys have no hash tag).</summary>
    private static ushort HashSlotOf(string key)
    {
        ushort crc = 0;
        foreach (char ch in key)
        {
            crc ^= (ushort)((byte)ch << 8);
            for (int b = 0; b < 8; b++) crc = (ushort)((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
        return (ushort)(crc % 16384);
    }
}
