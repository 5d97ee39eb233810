using System.Globalization;
using BatchSwap.Stats;
using StackExchange.Redis;

namespace BatchSwap.Swap.Backends.Redis;

/// <summary>
/// A swap device in far memory: its pages live in a Redis Cluster (or one Redis server, or Garnet), through
/// StackExchange.Redis.
/// <para>
/// The problem: a remote page costs a network round trip, and reclaim and swap-in move pages a batch at a time; a
/// store outside the process must never see a page, nor give back a wrong one; a node may stop answering at any time.
/// The answer: each group of 64 consecutive slots is one hash key (<c>prefix:tier:type:group</c>, the field is the
/// slot), so the keys spread over hash slots and nodes while a run of slots stays on one node; a submitted batch is
/// one pipelined <see cref="IBatch"/> — HSET and PEXPIRE per group written, HMGET per group read — which the client
/// sends as one write per node: one round trip per node involved (counted in swap_remote_round_trips, with the RESP
/// bytes each way). Every value is sealed by <see cref="PageSealer"/> (AES-GCM, the slot's identity and write
/// generation as associated data); a value that does not open is a loud failure of that page alone
/// (swap_remote_auth_fail), never data. Zswap writeback sends compressed objects as they are
/// (<see cref="StoresCompressed"/>).
/// </para>
/// <para>
/// Failures are results: a part that times out or loses its connection is sent again up to
/// <see cref="RedisSwapOptions.Retries"/> times, each attempt bounded by the operation timeout; then its pages fail
/// (writes: the folio stays in memory or the entry in zswap; reads: the fault fails loudly). A node whose connection
/// failed is kept off new slot reservations for <see cref="RedisSwapOptions.NodeRetryInterval"/>, so that reclaim
/// puts new pages on the next swap device meanwhile. Keys get a TTL, refreshed while the tier lives; dispose deletes them.
/// </para>
/// Locking: the slot table (<see cref="ClusterState"/>) is made under the device's allocation lock in
/// <see cref="Reserve"/>; a slot's generation belongs to whoever holds the slot (its write or its load), as the slot
/// info word does. Submissions run concurrently; each has its own <see cref="Exchange"/>.
/// </summary>
internal sealed partial class RedisSwapBackend : ISwapBackend
{
    /// <summary>log2 of the slots in one hash key.</summary>
    public const int GroupShift = 6;
    /// <summary>Slots in one hash key.</summary>
    public const int GroupSlots = 1 << GroupShift;
    private const int GroupsPerCluster = SwapDevice.ClusterSlots / GroupSlots;

    /// <summary>The backend's state for one 512-slot cluster, made when the cluster is first reserved.</summary>
    private sealed class ClusterState
    {
        // Per slot: the generation of its last write (0: never written). Nonce and associated data of its value.
        public readonly uint[] Generation = new uint[SwapDevice.ClusterSlots];
        // Per group: its hash key.
        public readonly RedisKey[] Keys = new RedisKey[GroupsPerCluster];
        // Per group: the key's hash slot.
        public readonly ushort[] HashSlots = new ushort[GroupsPerCluster];
    }

    // ---- set-up ----
    private readonly ConnectionMultiplexer _mux;
    private readonly IDatabase _db;
    private readonly RedisSwapOptions _options;
    private readonly Counters _counters;
    private readonly PageSealer _sealer;
    private readonly RedisTopology _topology;
    // "prefix:tier:type:": every key of this device starts so.
    private readonly string _keyPrefix;
    // The keys' time to live.
    private readonly TimeSpan _ttl;
    // Slot table per cluster (null until reserved); written under the device's allocation lock, read by the slot's holder.
    private readonly ClusterState?[] _clusters;
    // Refreshes the keys' TTL while the tier lives.
    private readonly Timer _refresh;
    // Set while a refresh runs (refreshes never overlap).
    private int _refreshing;
    // Set once disposed.
    private int _disposed;

    private RedisSwapBackend(ConnectionMultiplexer mux, RedisSwapOptions options, int type, int slots, Counters counters)
    {
        _mux = mux;
        _db = mux.GetDatabase();
        _options = options;
        _counters = counters;
        _sealer = new PageSealer(type);
        _topology = new RedisTopology(mux, options.Cluster, options.NodeRetryInterval);
        TierId = options.TierId ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        _keyPrefix = $"{options.KeyPrefix}:{TierId}:{type}:";
        _ttl = options.KeyTtl;
        _clusters = new ClusterState?[(slots + SwapDevice.ClusterSlots - 1) / SwapDevice.ClusterSlots];
        Description = $"redis {(options.Cluster ? $"cluster of {_topology.NodeCount} masters" : "server")} ({string.Join(',', options.Endpoints)}), AES-GCM";
        TimeSpan every = _ttl / 3;
        _refresh = new Timer(_ => RefreshTtl(), null, every, every);
    }

    /// <summary>
    /// Connects to the cluster and checks it, for swap type <paramref name="type"/> of <paramref name="slots"/> slots.
    /// Bad configuration — no seed answers, a wrong password, a server not in cluster mode when a cluster was asked
    /// for, a cluster whose state is not ok — is one <see cref="IOException"/> naming the cause, within the connect timeout.
    /// </summary>
    public static RedisSwapBackend Connect(RedisSwapOptions options, int type, int slots, Counters counters)
    {
        string where = $"swap device {type} ({options})";
        var config = new ConfigurationOptions
        {
            AbortOnConnectFail = true,
            ConnectTimeout = Ms(options.ConnectTimeout),
            ConnectRetry = 1,
            SyncTimeout = Ms(options.OperationTimeout),
            AsyncTimeout = Ms(options.OperationTimeout),
            // Timeouts are checked on each heartbeat: keep it well under the timeout.
            HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(options.OperationTimeout.TotalMilliseconds / 4, 50, 1000)),
            // A command for a node that is down fails at once (it is not queued until the node comes back).
            BacklogPolicy = BacklogPolicy.FailFast,
            ReconnectRetryPolicy = new LinearRetry(Math.Max(100, Ms(options.NodeRetryInterval) / 2)),
            // The cluster's layout is read again this often even when nothing failed (after a failure, at once).
            ConfigCheckSeconds = 10,
            User = options.User,
            Password = options.Password,
            Ssl = options.Tls,
            ClientName = "batchswap",
            AllowAdmin = false,
        };
        foreach (string e in options.Endpoints)
        {
            RedisSwapOptions.TrySplitEndpoint(e, out string host, out int port, out _);
            config.EndPoints.Add(host, port);
        }
        ConnectionMultiplexer mux;
        try
        {
            mux = ConnectionMultiplexer.Connect(config);
        }
        catch (RedisConnectionException e)
        {
            throw new IOException($"{where}: {ConnectFailure(e, options)}", e);
        }
        try
        {
            Check(mux, options, where);
            return new RedisSwapBackend(mux, options, type, slots, counters);
        }
        catch
        {
            mux.Dispose();
            throw;
        }
    }

    private static int Ms(TimeSpan t) => (int)Math.Min(int.MaxValue, Math.Ceiling(t.TotalMilliseconds));

    /// <summary>One line for a failed connection: authentication, or nothing answered.</summary>
    private static string ConnectFailure(RedisConnectionException e, RedisSwapOptions options)
    {
        string text = e.ToString();
        if (e.FailureType == ConnectionFailureType.AuthenticationFailure || text.Contains("WRONGPASS", StringComparison.Ordinal)
            || text.Contains("NOAUTH", StringComparison.Ordinal) || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase)
            || text.Contains("without any password configured", StringComparison.Ordinal))
            return options.Password is null
                ? "the server wants a password (give password=… in the spec, or RedisSwapOptions.Password)"
                : "authentication failed: wrong user or password";
        return $"no seed node answered within {options.ConnectTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s ({e.FailureType})";
    }

    /// <summary>Checks that what answered is what was asked for.</summary>
    private static void Check(ConnectionMultiplexer mux, RedisSwapOptions options, string where)
    {
        IServer? any = null;
        foreach (IServer s in mux.GetServers())
        {
            if (!s.IsConnected) continue;
            any ??= s;
            if (options.Cluster && s.ServerType != ServerType.Cluster)
                throw new IOException($"{where}: {s.EndPoint} is not in cluster mode (cluster_enabled:0); give cluster=false (RedisSwapOptions.Cluster = false) to use a single server");
        }
        if (any is null) throw new IOException($"{where}: no seed node answered");
        if (!options.Cluster) return;
        string info;
        try
        {
            info = (string?)any.Execute("CLUSTER", "INFO") ?? "";
        }
        catch (RedisException e)
        {
            throw new IOException($"{where}: CLUSTER INFO failed on {any.EndPoint}: {e.Message}", e);
        }
        if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
            throw new IOException($"{where}: the cluster's state is not ok (CLUSTER INFO on {any.EndPoint}: {FirstLine(info, "cluster_state")}); are all 16384 hash slots assigned?");
    }

    private static string FirstLine(string info, string name)
    {
        foreach (string line in info.Split('\n'))
            if (line.StartsWith(name, StringComparison.Ordinal)) return line.Trim();
        return "no " + name;
    }

    /// <summary>The random (or given) tier id in this device's keys.</summary>
    public string TierId { get; }

    /// <summary>The pattern that matches every key of this device (for SCAN).</summary>
    public string KeyPattern => _keyPrefix + "*";

    /// <summary>The hash key of slot group <paramref name="group"/>.</summary>
    public string KeyOf(int group) => _keyPrefix + group.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public bool DirectIo => true;

    /// <inheritdoc/>
    public bool StoresCompressed => true;

    /// <inheritdoc/>
    public long PageCacheBytes() => 0;

    /// <inheritdoc/>
    public bool Reserve(int firstSlot, int count)
    {
        int c = firstSlot / SwapDevice.ClusterSlots;
        ClusterState? state = _clusters[c];
        if (state is null)
        {
            state = new ClusterState();
            for (int g = 0; g < GroupsPerCluster; g++)
            {
                var key = new RedisKey(KeyOf(c * GroupsPerCluster + g));
                state.Keys[g] = key;
                state.HashSlots[g] = (ushort)Math.Max(0, _mux.HashSlot(key)); // -1 on a single server: node 0 serves all
            }
            Volatile.Write(ref _clusters[c], state);
        }
        // New pages keep off a node that failed lately: reclaim takes the next device meanwhile.
        int first = (firstSlot % SwapDevice.ClusterSlots) >> GroupShift, last = ((firstSlot + count - 1) % SwapDevice.ClusterSlots) >> GroupShift;
        for (int g = first; g <= last; g++)
        {
            if (_topology.IsDown(state.HashSlots[g]))
            {
                _counters.Add(Counter.SwapRemoteNodeDownSkips);
                return false;
            }
        }
        return true;
    }

    /// <inheritdoc/>
    public void Submit(SwapIoBatch batch)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            for (int r = 0; r < batch.RunCount; r++) batch.Complete(r, false);
            return;
        }
        _ = new Exchange(this, batch).RunAsync();
    }

    // ================================================================ TTL and dispose

    /// <summary>Groups that hold (or held) a written slot, by hash key.</summary>
    private List<RedisKey> WrittenKeys()
    {
        var keys = new List<RedisKey>();
        foreach (ClusterState? state in _clusters)
        {
            if (state is null) continue;
            for (int g = 0; g < GroupsPerCluster; g++)
            {
                bool written = false;
                for (int s = g * GroupSlots; s < (g + 1) * GroupSlots && !written; s++) written = Volatile.Read(ref state.Generation[s]) != 0;
                if (written) keys.Add(state.Keys[g]);
            }
        }
        return keys;
    }

    /// <summary>Sets the TTL of every written group again (a timer's callback, every third of the TTL).</summary>
    internal void RefreshTtl()
    {
        if (Interlocked.Exchange(ref _refreshing, 1) != 0) return;
        try
        {
            if (Volatile.Read(ref _disposed) == 0) ForEachKey(WrittenKeys(), (b, k) => b.KeyExpireAsync(k, _ttl));
        }
        catch (Exception)
        {
            // A timer thread must not die of a network failure: the next refresh tries again, the TTL covers the gap.
            _counters.Add(Counter.SwapRemoteErrors);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    /// <summary>Runs one command per key, pipelined 1024 at a time, waiting a bounded time for each chunk. Returns commands that failed.</summary>
    private int ForEachKey(List<RedisKey> keys, Func<IBatch, RedisKey, Task> command)
    {
        int failed = 0;
        for (int i = 0; i < keys.Count; i += 1024)
        {
            IBatch b = _db.CreateBatch();
            var tasks = new Task[Math.Min(1024, keys.Count - i)];
            for (int k = 0; k < tasks.Length; k++) tasks[k] = command(b, keys[i + k]);
            b.Execute();
            try
            {
                Task.WaitAll(tasks, _options.OperationTimeout + TimeSpan.FromSeconds(1));
            }
            catch (AggregateException)
            {
                // Counted below; a node that is down keeps its keys until they expire.
            }
            foreach (Task t in tasks) if (!t.IsCompletedSuccessfully) failed++;
        }
        if (failed > 0) _counters.Add(Counter.SwapRemoteErrors, failed);
        return failed;
    }

    /// <summary>Deletes the device's keys (those of a node that is down expire by their TTL), then closes the connection and forgets the key.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _refresh.Dispose();
        SpinWait.SpinUntil(() => Volatile.Read(ref _refreshing) == 0, _options.OperationTimeout * 2 + TimeSpan.FromSeconds(2));
        try
        {
            ForEachKey(WrittenKeys(), (b, k) => b.KeyDeleteAsync(k));
        }
        finally
        {
            _mux.Dispose();
            _sealer.Dispose();
        }
    }
}
