using System.Globalization;
using BatchSwap.Swap.Backends.Redis;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Commands;

/// <summary>
/// One <c>--swap-device SPEC</c>: <c>file:PATH[?prio=N&amp;size=SIZE]</c>, or
/// <c>redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…][?prio=N&amp;password=…&amp;user=…&amp;tls=true&amp;cluster=false&amp;ttl=1h&amp;timeout=2s&amp;retries=N&amp;replicas=N&amp;tier=ID&amp;size=SIZE]</c>.
/// Parsing checks the form; the values are checked with the tier's options, so that both say the same.
/// </summary>
internal sealed record SwapDeviceSpec(string? Path, RedisSwapOptions? Redis, int Priority, long CapacityBytes)
{
    /// <summary>What the option accepts, for messages and help.</summary>
    public const string Accepted = "file:PATH or redis://HOST:PORT[,HOST:PORT…][?prio=N&password=…&tls=true&cluster=false&ttl=1h&timeout=2s&retries=N&replicas=N&size=SIZE]";

    /// <summary>The tier's options for this device; <paramref name="defaultCapacity"/> when no size was given.</summary>
    public SwapDeviceOptions ToOptions(long defaultCapacity) =>
        new(Path, CapacityBytes > 0 ? CapacityBytes : defaultCapacity, Priority) { Redis = Redis };

    /// <summary>Parses one spec; a malformed one is a <see cref="CliError"/> of one line.</summary>
    public static SwapDeviceSpec Parse(string text)
    {
        string Fail(string why) => throw new CliError($"--swap-device '{Redact(text)}': {why}; accepted: {Accepted}");
        if (string.IsNullOrWhiteSpace(text)) Fail("empty");
        text = text.Trim();
        if (text.StartsWith("file:", StringComparison.Ordinal))
        {
            (string path, Dictionary<string, string> q) = SplitQuery(text["file:".Length..], Fail);
            if (path.Length == 0) Fail("file: needs a path");
            int prio = TakePriority(q, Fail);
            long size = TakeSize(q, Fail);
            if (q.Count > 0) Fail($"file devices take prio and size, not '{q.Keys.First()}'");
            return new SwapDeviceSpec(path, null, prio, size);
        }
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            bool tls = text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
            (string rest, Dictionary<string, string> q) = SplitQuery(text[(text.IndexOf("//", StringComparison.Ordinal) + 2)..], Fail);
            string? user = null, password = null;
            int at = rest.LastIndexOf('@');
            if (at >= 0)
            {
                string cred = Uri.UnescapeDataString(rest[..at]);
                rest = rest[(at + 1)..];
                int colon = cred.IndexOf(':');
                if (colon < 0) password = cred;
                else { user = colon > 0 ? cred[..colon] : null; password = cred[(colon + 1)..]; }
            }
            string[] endpoints = rest.Split(',', StringSplitOptions.TrimEntries);
            foreach (string e in endpoints)
                if (!RedisSwapOptions.TrySplitEndpoint(e, out _, out _, out string? error)) Fail($"endpoint '{e}' {error}");
            var options = new RedisSwapOptions { Endpoints = endpoints, User = user, Password = password, Tls = tls };
            int prio = TakePriority(q, Fail);
            long size = TakeSize(q, Fail);
            foreach ((string key, string value) in q)
            {
                options = key switch
                {
                    "password" => options with { Password = value },
                    "user" => options with { User = value },
                    "tls" => options with { Tls = Bool(key, value, Fail) },
                    "cluster" => options with { Cluster = Bool(key, value, Fail) },
                    "ttl" => options with { KeyTtl = Duration(key, value, Fail) },
                    "timeout" => options with { OperationTimeout = Duration(key, value, Fail) },
                    "connect-timeout" => options with { ConnectTimeout = Duration(key, value, Fail) },
                    "retries" => options with { Retries = Int(key, value, Fail) },
                    "replicas" => options with { ReplicaAcks = Int(key, value, Fail) },
                    "replica-timeout" => options with { ReplicaTimeout = Duration(key, value, Fail) },
                    "tier" => options with { TierId = value },
                    "prefix" => options with { KeyPrefix = value },
                    _ => throw new CliError($"--swap-device '{Redact(text)}': unknown setting '{key}'; accepted: prio, size, password, user, tls, cluster, ttl, timeout, connect-timeout, retries, replicas, replica-timeout, tier, prefix"),
                };
            }
            try
            {
                options.Validate("--swap-device");
            }
            catch (ArgumentException e)
            {
                // One line: the validator's message without ArgumentException's parameter suffix.
                Fail(e.Message.Split(" (Parameter", 2)[0].Replace("--swap-device: ", "", StringComparison.Ordinal));
            }
            return new SwapDeviceSpec(null, options, prio, size);
        }
        throw new CliError($"--swap-device '{Redact(text)}': must start with file: or redis://; accepted: {Accepted}");
    }

    /// <summary>The spec with any password replaced, for messages.</summary>
    internal static string Redact(string text)
    {
        string s = System.Text.RegularExpressions.Regex.Replace(text, "(password=)[^&]*", "$1***");
        return System.Text.RegularExpressions.Regex.Replace(s, "(//[^/@?]*:)[^@/?]*@", "$1***@");
    }

    private static (string Head, Dictionary<string, string> Query) SplitQuery(string text, Func<string, string> fail)
    {
        var q = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int mark = text.LastIndexOf('?');
        if (mark < 0) return (text, q);
        foreach (string pair in text[(mark + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) fail($"'{pair}' must be NAME=VALUE");
            string key = pair[..eq].Trim().ToLowerInvariant();
            if (!q.TryAdd(key, Uri.UnescapeDataString(pair[(eq + 1)..].Trim()))) fail($"'{key}' is given twice");
        }
        return (text[..mark], q);
    }

    private static int TakePriority(Dictionary<string, string> q, Func<string, string> fail)
    {
        if (!q.Remove("prio", out string? v)) return 0;
        int prio = Int("prio", v, fail);
        if (prio is < -1 or > 32767) fail($"prio must be in [-1, 32767], got {prio}");
        return prio;
    }

    private static long TakeSize(Dictionary<string, string> q, Func<string, string> fail)
    {
        if (!q.Remove("size", out string? v)) return 0;
        if (!ByteSize.TryParse(v, out long bytes, out string? error)) fail($"size: {error}");
        if (bytes < 2L << 20) fail($"size must be at least 2MiB (one cluster of slots), got '{v}'");
        return bytes;
    }

    private static int Int(string key, string value, Func<string, string> fail) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : int.Parse(fail($"{key} must be a whole number, got '{value}'"));

    private static bool Bool(string key, string value, Func<string, string> fail) => value.ToLowerInvariant() switch
    {
        "true" or "yes" or "1" => true,
        "false" or "no" or "0" => false,
        _ => bool.Parse(fail($"{key} must be true or false, got '{value}'")),
    };

    /// <summary>A duration: a number with ms, s, m or h (bare numbers are seconds).</summary>
    private static TimeSpan Duration(string key, string value, Func<string, string> fail)
    {
        string v = value.Trim().ToLowerInvariant();
        (string number, double scale) = v.EndsWith("ms", StringComparison.Ordinal) ? (v[..^2], 0.001)
            : v.EndsWith('s') ? (v[..^1], 1.0) : v.EndsWith('m') ? (v[..^1], 60.0) : v.EndsWith('h') ? (v[..^1], 3600.0) : (v, 1.0);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || n < 0)
            fail($"{key} must be a duration such as 500ms, 2s, 10m or 1h, got '{value}'");
        return TimeSpan.FromSeconds(n * scale);
    }
}
