using System.Diagnostics;
using System.Net;
using StackExchange.Redis;

namespace BatchSwap.Swap.Backends.Redis;

/// <summary>
/// Which master holds each of the 16384 hash slots, and which masters are down: the backend counts a batch's round
/// trips by node and keeps new pages off a node whose connection failed. The map is a snapshot of the client's cluster
/// view, rebuilt when the client reports a change (a failover, a moved slot). A single server (not a cluster) is one node.
/// Locking: the map is immutable and replaced whole; down marks are plain longs (a stale read only delays a skip).
/// </summary>
internal sealed class RedisTopology
{
    /// <summary>Hash slots in a Redis Cluster.</summary>
    public const int HashSlots = 16384;
    /// <summary>Node index of a hash slot no master serves.</summary>
    public const int NoNode = 255;

    private sealed class Map(EndPoint[] nodes, byte[] slotNode)
    {
        // Masters, by node index (at most 254).
        public readonly EndPoint[] Nodes = nodes;
        // Node index of each hash slot (NoNode when none serves it).
        public readonly byte[] SlotNode = slotNode;
        // Per node: Stopwatch timestamp until which it counts as down (0: up).
        public readonly long[] DownUntil = new long[nodes.Length];
    }

    private readonly ConnectionMultiplexer _mux;
    private readonly bool _cluster;
    // How long a node counts as down after a failure, in Stopwatch ticks.
    private readonly long _downTicks;
    // The current map.
    private volatile Map _map;
    // Set by the client's events: rebuild the map at the next look-up.
    private volatile bool _stale;
    // Whether any node may be marked down now (the fast path of IsDown).
    private volatile bool _anyDown;

    public RedisTopology(ConnectionMultiplexer mux, bool cluster, TimeSpan downInterval)
    {
        _mux = mux;
        _cluster = cluster;
        _downTicks = (long)(downInterval.TotalSeconds * Stopwatch.Frequency);
        _map = Build(null);
        mux.ConfigurationChanged += (_, _) => _stale = true;
        mux.HashSlotMoved += (_, _) => _stale = true;
    }

    /// <summary>Masters in the map now.</summary>
    public int NodeCount => Current.Nodes.Length;

    /// <summary>Master <paramref name="node"/>'s endpoint, or null for <see cref="NoNode"/>.</summary>
    public EndPoint? EndPointOf(int node)
    {
        Map m = Current;
        return node < m.Nodes.Length ? m.Nodes[node] : null;
    }

    /// <summary>The node index serving <paramref name="hashSlot"/> (<see cref="NoNode"/> when none does).</summary>
    public int NodeOf(int hashSlot) => Current.SlotNode[hashSlot];

    /// <summary>Whether the node serving <paramref name="hashSlot"/> failed within the retry interval.</summary>
    public bool IsDown(int hashSlot)
    {
        if (!_anyDown) return false;
        Map m = Current;
        int node = m.SlotNode[hashSlot];
        return node == NoNode || IsDownIn(m, node);
    }

    /// <summary>Whether the node at <paramref name="endPoint"/> failed within the retry interval (null, no node: false).</summary>
    public bool IsNodeDown(EndPoint? endPoint)
    {
        if (!_anyDown || endPoint is null) return false;
        Map m = Current;
        int node = Array.IndexOf(m.Nodes, endPoint);
        return node >= 0 && IsDownIn(m, node);
    }

    private static bool IsDownIn(Map m, int node)
    {
        long until = Volatile.Read(ref m.DownUntil[node]);
        return until != 0 && Stopwatch.GetTimestamp() < until;
    }

    /// <summary>
    /// The node at <paramref name="endPoint"/> lost its connection or stopped answering: it counts as down for the
    /// retry interval, and the client is asked to read the cluster's layout again (at most once a second), so that a
    /// replica that took over is found without waiting for a redirection that a dead node never sends.
    /// </summary>
    public void NodeFailed(EndPoint? endPoint)
    {
        Map m = Current;
        int node = endPoint is null ? -1 : Array.IndexOf(m.Nodes, endPoint);
        if (node >= 0 && _downTicks != 0)
        {
            Volatile.Write(ref m.DownUntil[node], Stopwatch.GetTimestamp() + _downTicks);
            _anyDown = true;
        }
        AskLayout();
    }

    /// <summary>Asks the client to read the cluster's layout again (at most once a second); the map follows when it has.</summary>
    public void AskLayout()
    {
        long now = Stopwatch.GetTimestamp(), last = Volatile.Read(ref _lastReconfigure);
        if (now - last < Stopwatch.Frequency || Interlocked.CompareExchange(ref _lastReconfigure, now, last) != last) return;
        _ = _mux.ConfigureAsync().ContinueWith(t => { _ = t.Exception; _stale = true; }, TaskScheduler.Default);
    }

    // Stopwatch timestamp of the last reconfiguration asked for.
    private long _lastReconfigure;

    private Map Current
    {
        get
        {
            if (_stale)
            {
                _stale = false;
                _map = Build(_map);
            }
            return _map;
        }
    }

    /// <summary>A map of the client's view now; down marks carry over by endpoint from <paramref name="old"/>.</summary>
    private Map Build(Map? old)
    {
        var nodes = new List<EndPoint>();
        var slotNode = new byte[HashSlots];
        Array.Fill(slotNode, (byte)NoNode);
        ClusterConfiguration? config = null;
        if (_cluster)
        {
            foreach (IServer s in _mux.GetServers())
            {
                if (!s.IsConnected) continue;
                try { config = s.ClusterConfiguration; } catch (RedisException) { config = null; }
                if (config is not null) break;
            }
        }
        if (config is null)
        {
            // A single server, or no cluster view yet: the first endpoint serves everything.
            nodes.Add(_mux.GetEndPoints()[0]);
            Array.Fill(slotNode, (byte)0);
        }
        else
        {
            // In endpoint order, so that a node keeps its index while the layout stays the same.
            foreach (ClusterNode n in config.Nodes.OrderBy(n => n.EndPoint?.ToString(), StringComparer.Ordinal))
            {
                if (n.IsReplica || n.Slots.Count == 0 || n.EndPoint is null || nodes.Count == NoNode - 1) continue;
                int index = nodes.Count;
                nodes.Add(n.EndPoint);
                foreach (SlotRange r in n.Slots)
                    for (int slot = r.From; slot <= r.To; slot++) slotNode[slot] = (byte)index;
            }
        }
        var map = new Map(nodes.ToArray(), slotNode);
        if (old is not null)
        {
            for (int i = 0; i < map.Nodes.Length; i++)
            {
                int j = Array.IndexOf(old.Nodes, map.Nodes[i]);
                if (j >= 0) map.DownUntil[i] = Volatile.Read(ref old.DownUntil[j]);
            }
        }
        return map;
    }
}
