using System.Diagnostics;
using System.Runtime.InteropServices;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Swap.Backends;
using BatchSwap.Swap.Backends.Redis;
using BatchSwap.Tests.Infrastructure;
using StackExchange.Redis;

namespace BatchSwap.Tests.FarMemory;

/// <summary>The Redis backend alone, on the shared local cluster: what it stores, what it refuses, what it leaves behind.</summary>
[Collection(RedisCollection.Name)]
public sealed unsafe class RedisSwapBackendTests(RedisFixture redis) : IDisposable
{
    private const int Slots = 4 * 512;
    private const int MaxPages = 128;
    private readonly Counters _counters = new();
    // Page buffers, 4 KiB aligned.
    private readonly byte* _pages = (byte*)NativeMemory.AlignedAlloc(MaxPages * PageSize.Bytes, PageSize.Bytes);

    public void Dispose() => NativeMemory.AlignedFree(_pages);

    private RedisSwapOptions Options(string? tierId = null) => new()
    {
        Endpoints = redis.Cluster.Endpoints.Take(1).ToArray(),
        TierId = tierId ?? "t" + Guid.NewGuid().ToString("N")[..12],
        OperationTimeout = TimeSpan.FromSeconds(2),
        KeyTtl = TimeSpan.FromMinutes(5),
    };

    private Span<byte> Page(int i) => new(_pages + (long)i * PageSize.Bytes, PageSize.Bytes);

    /// <summary>Moves pages 0.. of the buffer to or from <paramref name="slots"/> (one run per consecutive stretch); gives each page's result.</summary>
    private bool[] Transfer(RedisSwapBackend backend, SwapIoKind kind, int[] slots, int[]? lengths = null)
    {
        using var io = new SwapIoBatch();
        io.Reset(kind, 0);
        for (int i = 0; i < slots.Length; i++)
        {
            if (i == 0 || slots[i] != slots[i - 1] + 1) io.BeginRun(slots[i], i);
            io.AddPage((nint)(_pages + (long)i * PageSize.Bytes), lengths?[i] ?? PageSize.Bytes);
        }
        io.Start(null);
        backend.Submit(io);
        io.Wait();
        var ok = new bool[slots.Length];
        int page = 0;
        for (int r = 0; r < io.RunCount; r++)
            for (int k = 0; k < io.Runs[r].PageCount; k++, page++) ok[page] = io.PageOk(r, page);
        return ok;
    }

    private RedisSwapBackend Connect(RedisSwapOptions options)
    {
        RedisSwapBackend b = RedisSwapBackend.Connect(options, 0, Slots, _counters);
        for (int c = 0; c < Slots; c += 512) Assert.True(b.Reserve(c, 512));
        return b;
    }

    private ConnectionMultiplexer Admin() => ConnectionMultiplexer.Connect(string.Join(',', redis.Cluster.Endpoints));

    [Fact]
    public void PagesAndCompressedObjectsRoundTripSealedWithATtlAndNoPlaintext()
    {
        using RedisSwapBackend b = Connect(Options());
        // Runs that cross the 64-slot groups (hash keys), a lone slot, and objects shorter than a page.
        int[] slots = [60, 61, 62, 63, 64, 65, 66, 300, 1000, 1001, 1002];
        int[] lengths = [4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 100, 2000, 4096];
        for (int i = 0; i < slots.Length; i++) TestPages.Fill(Page(i), i + 2, 9); // 2, 7: text pages
        byte[][] want = Enumerable.Range(0, slots.Length).Select(i => Page(i)[..lengths[i]].ToArray()).ToArray();
        Assert.All(Transfer(b, SwapIoKind.Write, slots, lengths), Assert.True);

        for (int i = 0; i < slots.Length; i++) Page(i).Fill(0xEE);
        Assert.All(Transfer(b, SwapIoKind.Read, slots, lengths), Assert.True);
        for (int i = 0; i < slots.Length; i++) Assert.True(want[i].AsSpan().SequenceEqual(Page(i)[..lengths[i]]), $"slot {slots[i]} read back wrong");

        // What the cluster holds is sealed: no 32-byte stretch of a text page, 16 bytes more than the plaintext, and a TTL.
        using ConnectionMultiplexer admin = Admin();
        IDatabase db = admin.GetDatabase();
        byte[] stored = (byte[])db.HashGet(b.KeyOf(0), 62)!; // slot 62 holds page 2, a text page
        Assert.Equal(PageSize.Bytes + PageSealer.TagBytes, stored.Length);
        Assert.True(stored.AsSpan().IndexOf(want[2].AsSpan(100, 32)) < 0, "plaintext found in the stored value");
        Assert.Equal(100 + PageSealer.TagBytes, ((byte[])db.HashGet(b.KeyOf(1000 >> 6), 1000 & 63)!).Length);
        TimeSpan? ttl = db.KeyTimeToLive(b.KeyOf(0));
        Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromMinutes(5), $"ttl {ttl}");
        Assert.Equal(0, _counters.Read(Counter.SwapRemoteAuthFail));
    }

    [Fact]
    public void AChangedMovedOrReplayedValueFailsItsPageAloneAndLoudly()
    {
        using RedisSwapBackend b = Connect(Options());
        int[] slots = [10, 11, 12, 13];
        for (int i = 0; i < 4; i++) TestPages.Fill(Page(i), i, 3);
        Assert.All(Transfer(b, SwapIoKind.Write, slots), Assert.True);
        using ConnectionMultiplexer admin = Admin();
        IDatabase db = admin.GetDatabase();
        RedisKey key = b.KeyOf(0);
        byte[] old11 = (byte[])db.HashGet(key, 11)!;
        // Slot 11 is written again (a new generation): its old value is now a replay.
        TestPages.Fill(Page(0), 99, 3);
        Assert.True(Transfer(b, SwapIoKind.Write, [11])[0]);

        db.HashSet(key, 11, old11);                                    // replay of an older write
        byte[] v10 = (byte[])db.HashGet(key, 10)!;
        v10[17] ^= 1;
        db.HashSet(key, 10, v10);                                      // changed
        db.HashSet(key, 13, db.HashGet(key, 12));                      // moved from another slot

        bool[] ok = Transfer(b, SwapIoKind.Read, slots);
        Assert.Equal([false, false, true, false], ok);
        var want = new byte[PageSize.Bytes];
        TestPages.Fill(want, 2, 3);
        Assert.True(want.AsSpan().SequenceEqual(Page(2)), "the untouched page read back wrong");
        Assert.Equal(3, _counters.Read(Counter.SwapRemoteAuthFail));

        // A value deleted behind the tier's back is missing, also loudly.
        db.HashDelete(key, 12);
        Assert.False(Transfer(b, SwapIoKind.Read, [12])[0]);
        Assert.Equal(1, _counters.Read(Counter.SwapRemoteMissing));
    }

    [Fact]
    public void OneFlushedBatchIsOneRoundTripPerNodeAndDisposeLeavesNoKey()
    {
        RedisSwapOptions options = Options();
        RedisSwapBackend b = Connect(options);
        int[] slots = Enumerable.Range(0, 128).ToArray(); // two groups: at most two nodes
        for (int i = 0; i < slots.Length; i++) TestPages.Fill(Page(i), i, 5);
        long before = _counters.Read(Counter.SwapRemoteRoundTrips);
        Assert.All(Transfer(b, SwapIoKind.Write, slots), Assert.True);
        long trips = _counters.Read(Counter.SwapRemoteRoundTrips) - before;
        Assert.InRange(trips, 1, 2);
        long sent = _counters.Read(Counter.SwapRemoteBytesSent);
        Assert.InRange(sent, 128 * (PageSize.Bytes + PageSealer.TagBytes), 128 * (PageSize.Bytes + PageSealer.TagBytes + 64));
        Assert.All(Transfer(b, SwapIoKind.Read, slots), Assert.True);
        Assert.InRange(_counters.Read(Counter.SwapRemoteRoundTrips) - before - trips, 1, 2);
        Assert.True(_counters.Read(Counter.SwapRemoteBytesReceived) > 128 * PageSize.Bytes);

        string pattern = b.KeyPattern;
        Assert.Equal(2, redis.Cluster.CountKeys(pattern));
        b.Dispose();
        Assert.Equal(0, redis.Cluster.CountKeys(pattern));
    }

    [Fact]
    public void AnUnreachableSeedIsOneClearErrorWithinTheConnectTimeout()
    {
        int port = LocalRedis.FreePort();
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<IOException>(() => RedisSwapBackend.Connect(
            new RedisSwapOptions { Endpoints = [$"127.0.0.1:{port}"], ConnectTimeout = TimeSpan.FromMilliseconds(500) }, 0, Slots, _counters));
        Assert.Contains("no seed node answered", e.Message);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
    }

    [Fact]
    public void AWrongOrMissingPasswordIsOneClearError()
    {
        string ep = redis.Standalone.Endpoint;
        var wrong = Assert.Throws<IOException>(() => RedisSwapBackend.Connect(
            new RedisSwapOptions { Endpoints = [ep], Password = "not-it", Cluster = false, ConnectTimeout = TimeSpan.FromSeconds(2) }, 0, Slots, _counters));
        Assert.Contains("authentication failed", wrong.Message);
        Assert.DoesNotContain("not-it", wrong.Message);
        var none = Assert.Throws<IOException>(() => RedisSwapBackend.Connect(
            new RedisSwapOptions { Endpoints = [ep], Cluster = false, ConnectTimeout = TimeSpan.FromSeconds(2) }, 0, Slots, _counters));
        Assert.Contains("wants a password", none.Message);
    }

    [Fact]
    public void AServerNotInClusterModeIsRefusedUnlessASingleServerWasAskedFor()
    {
        var options = new RedisSwapOptions { Endpoints = [redis.Standalone.Endpoint], Password = RedisFixture.StandalonePassword, KeyTtl = TimeSpan.FromMinutes(1) };
        var e = Assert.Throws<IOException>(() => RedisSwapBackend.Connect(options, 0, Slots, _counters));
        Assert.Contains("not in cluster mode", e.Message);
        Assert.Contains("cluster=false", e.Message);

        using RedisSwapBackend single = Connect(options with { Cluster = false });
        TestPages.Fill(Page(0), 1, 1);
        byte[] want = Page(0).ToArray();
        Assert.True(Transfer(single, SwapIoKind.Write, [7])[0]);
        Page(0).Clear();
        Assert.True(Transfer(single, SwapIoKind.Read, [7])[0]);
        Assert.True(want.AsSpan().SequenceEqual(Page(0)));
    }
}
