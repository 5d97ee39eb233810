using System.Globalization;

namespace BatchSwap.Swap.Backends.Redis;

/// <summary>
/// A swap device in far memory: a Redis Cluster (or one Redis server, or Garnet, which speaks the same protocol).
/// Set it as <see cref="SwapDeviceOptions.Redis"/>. Pages are sealed with AES-GCM under a random key that never leaves
/// the process before they are sent; the keys of one device are named <c>{KeyPrefix}:{TierId}:{swap type}:{group}</c>
/// (a hash of 64 slots each), are deleted when the tier is disposed and expire after <see cref="KeyTtl"/> if it dies.
/// See docs/far-memory.md. Validated with the tier's options; the connection is checked when the tier is created.
/// </summary>
public sealed record RedisSwapOptions
{
    /// <summary>Seed nodes, "host:port" ("[::1]:7000" for IPv6); the client discovers the rest of the cluster from them.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>ACL user name (Redis 6+), or null for the default user.</summary>
    public string? User { get; init; }

    /// <summary>Password (AUTH), or null when the server has none.</summary>
    public string? Password { get; init; }

    /// <summary>Connect with TLS.</summary>
    public bool Tls { get; init; }

    /// <summary>
    /// Require a cluster (the default): a server not in cluster mode is a configuration error at tier creation. False
    /// takes a single server (or a proxy) as it is.
    /// </summary>
    public bool Cluster { get; init; } = true;

    /// <summary>First part of every key, so that the tiers' keys are told apart from other data in the cluster.</summary>
    public string KeyPrefix { get; init; } = "batchswap";

    /// <summary>The tier's part of every key (letters, digits, '-' and '_'); null picks a random one, so that many tiers share a cluster.</summary>
    public string? TierId { get; init; }

    /// <summary>Most time to connect to the seed nodes at tier creation.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most time one command may take before it counts as timed out (swap_remote_timeouts).</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts after the first for a batch part that timed out or lost its connection (0 to 10).</summary>
    public int Retries { get; init; } = 1;

    /// <summary>Time to live of the tier's keys, refreshed while it lives, so that a crashed tier's pages expire. At least 10 s.</summary>
    public TimeSpan KeyTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Replicas that must hold a write before it counts as written (WAIT after each batch, per node); 0 (the default)
    /// counts a write once its master has it. A page then survives the loss of its master once a replica took over.
    /// </summary>
    public int ReplicaAcks { get; init; }

    /// <summary>Most time WAIT gives the replicas; a write they did not all acknowledge in time fails (the folio stays in memory).</summary>
    public TimeSpan ReplicaTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long new pages keep off a node whose connection failed (writes go to the next device meanwhile).</summary>
    public TimeSpan NodeRetryInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The endpoints and settings, without the password.</summary>
    public override string ToString() =>
        $"redis://{string.Join(',', Endpoints)}{(Cluster ? "" : " (single server)")}{(Tls ? ", tls" : "")}{(Password is null ? "" : ", password set")}";

    /// <summary>Checks every setting; <paramref name="where"/> names the device in messages.</summary>
    internal void Validate(string where)
    {
        if (Endpoints is null || Endpoints.Count == 0)
            throw new ArgumentException($"{where}: a Redis swap device needs at least one endpoint (host:port)");
        foreach (string? e in Endpoints)
        {
            if (!TrySplitEndpoint(e, out _, out _, out string? error))
                throw new ArgumentException($"{where}: endpoint '{e}' {error}");
        }
        if (string.IsNullOrWhiteSpace(KeyPrefix) || KeyPrefix.Length > 64 || KeyPrefix.Any(char.IsWhiteSpace))
            throw new ArgumentException($"{where}: KeyPrefix must be 1 to 64 characters without spaces, got '{KeyPrefix}'");
        if (TierId is not null && (TierId.Length is 0 or > 64 || !TierId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"{where}: TierId must be 1 to 64 letters, digits, '-' or '_' (or null for a random one), got '{TierId}'");
        Require(ConnectTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), "ConnectTimeout", where);
        Require(OperationTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5), "OperationTimeout", where);
        Require(KeyTtl, TimeSpan.FromSeconds(10), TimeSpan.FromDays(365), "KeyTtl", where);
        Require(ReplicaTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), "ReplicaTimeout", where);
        Require(NodeRetryInterval, TimeSpan.Zero, TimeSpan.FromMinutes(10), "NodeRetryInterval", where);
        if (Retries is < 0 or > 10) throw new ArgumentOutOfRangeException(nameof(Retries), Retries, $"{where}: Retries must be in [0, 10]");
        if (ReplicaAcks is < 0 or > 16) throw new ArgumentOutOfRangeException(nameof(ReplicaAcks), ReplicaAcks, $"{where}: ReplicaAcks must be in [0, 16]");
    }

    private static void Require(TimeSpan value, TimeSpan min, TimeSpan max, string name, string where)
    {
        if (value < min || value > max)
            throw new ArgumentOutOfRangeException(name, value, $"{where}: {name} must be in [{Show(min)}, {Show(max)}], got {Show(value)}");
    }

    private static string Show(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s" : $"{t.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms";

    /// <summary>Splits "host:port" or "[v6]:port"; false with the reason when it is neither.</summary>
    internal static bool TrySplitEndpoint(string? text, out string host, out int port, out string? error)
    {
        host = "";
        port = 0;
        error = null;
        if (string.IsNullOrWhiteSpace(text)) { error = "is empty"; return false; }
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) { error = "must be host:port"; return false; }
        host = text[..colon];
        if (host.StartsWith('[') != host.EndsWith(']')) { error = "has an unbalanced '[' (IPv6 is [addr]:port)"; return false; }
        if (!host.StartsWith('[') && host.Contains(':')) { error = "must be host:port (write IPv6 as [addr]:port)"; return false; }
        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            error = "must end in a port in [1, 65535]";
            return false;
        }
        host = host.Trim('[', ']');
        return true;
    }
}
