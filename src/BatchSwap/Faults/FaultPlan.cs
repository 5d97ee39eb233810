using System.Globalization;
using System.Text;

namespace BatchSwap.Faults;

/// <summary>
/// Faults to inject, for tests and <c>batchswap --inject</c>. Each rate is the probability, in [0, 1], that one
/// operation of that kind fails. Whatever is injected, no page may be lost or returned wrong: a page zswap cannot
/// take goes to the swap device, a page that cannot be written stays in memory, and a page whose only copy is
/// destroyed fails loudly when read.
/// </summary>
public sealed record FaultPlan
{
    /// <summary>No faults.</summary>
    public static FaultPlan None { get; } = new();

    /// <summary>Largest <see cref="SlowIoMicros"/> accepted (one second).</summary>
    public const int MaxSlowIoMicros = 1_000_000;

    /// <summary>Swap-device writes that fail with an I/O error.</summary>
    public double SwapWriteErrorRate { get; init; }
    /// <summary>Swap-device reads that fail with an I/O error.</summary>
    public double SwapReadErrorRate { get; init; }
    /// <summary>Swap-slot allocations that fail as if the device were full (counted as swap_full).</summary>
    public double SwapFullRate { get; init; }
    /// <summary>Swap-device writes that move only part of their bytes, then report failure.</summary>
    public double ShortWriteRate { get; init; }
    /// <summary>Swap-device reads that move only part of their bytes, then report failure.</summary>
    public double ShortReadRate { get; init; }
    /// <summary>Microseconds every swap-device read and write is delayed by (slow I/O), 0 to 1,000,000.</summary>
    public int SlowIoMicros { get; init; }
    /// <summary>Page compressions that fail (reject_compress_fail).</summary>
    public double CompressFailRate { get; init; }
    /// <summary>Pool allocations that fail (reject_alloc_fail): the pool cannot grow.</summary>
    public double PoolAllocFailRate { get; init; }
    /// <summary>Jobs whose engine thread throws before running them (an engine bug); the engines must contain it.</summary>
    public double EngineThrowRate { get; init; }
    /// <summary>Pages whose first 8 bytes equal this value always fail to compress (a deterministic codec failure).</summary>
    public ulong? CompressFailMarker { get; init; }
    /// <summary>Seed of the injection's random choices.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Whether any fault is planned.</summary>
    public bool IsActive =>
        SwapWriteErrorRate > 0 || SwapReadErrorRate > 0 || SwapFullRate > 0 || ShortWriteRate > 0 || ShortReadRate > 0
        || SlowIoMicros > 0 || CompressFailRate > 0 || PoolAllocFailRate > 0 || EngineThrowRate > 0 || CompressFailMarker is not null;

    /// <summary>Whether a fault is planned that can make a page unreadable for a while (read errors, short reads).</summary>
    public bool InjectsReadErrors => SwapReadErrorRate > 0 || ShortReadRate > 0;

    // ================================================================ the text form (--inject)

    /// <summary>The keys <see cref="Parse"/> accepts, with their ranges, for messages and help.</summary>
    public const string AcceptedKeys =
        "swap-write=RATE, swap-read=RATE, swap-full=RATE, short-write=RATE, short-read=RATE, compress=RATE, " +
        "pool-alloc=RATE, engine-throw=RATE (RATE a probability in [0, 1]), slow-io-us=N (N in [0, 1000000]), " +
        "compress-marker=HEX (a 64-bit value, 0x optional), seed=N (an integer)";

    /// <summary>
    /// Parses the text form, a comma-separated list of key=value ("swap-write=0.01,compress=0.05,slow-io-us=50").
    /// Empty text or "none" is <see cref="None"/>. Throws <see cref="FormatException"/> naming the accepted keys and
    /// ranges for anything else.
    /// </summary>
    public static FaultPlan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Length == 0 || t.Equals("none", StringComparison.OrdinalIgnoreCase)) return None;
        var plan = new FaultPlan();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string part in t.Split(',', StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (part.Length == 0 || eq <= 0 || eq == part.Length - 1)
                throw new FormatException($"fault '{part}' is not key=value; accepted: {AcceptedKeys}");
            string key = part[..eq].Trim().ToLowerInvariant();
            string value = part[(eq + 1)..].Trim();
            if (!seen.Add(key)) throw new FormatException($"fault '{key}' is given twice");
            plan = key switch
            {
                "swap-write" => plan with { SwapWriteErrorRate = Rate(key, value) },
                "swap-read" => plan with { SwapReadErrorRate = Rate(key, value) },
                "swap-full" => plan with { SwapFullRate = Rate(key, value) },
                "short-write" => plan with { ShortWriteRate = Rate(key, value) },
                "short-read" => plan with { ShortReadRate = Rate(key, value) },
                "compress" => plan with { CompressFailRate = Rate(key, value) },
                "pool-alloc" => plan with { PoolAllocFailRate = Rate(key, value) },
                "engine-throw" => plan with { EngineThrowRate = Rate(key, value) },
                "slow-io-us" => plan with { SlowIoMicros = Micros(key, value) },
                "compress-marker" => plan with { CompressFailMarker = Marker(key, value) },
                "seed" => plan with { Seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : throw new FormatException($"seed must be an integer, got '{value}'") },
                _ => throw new FormatException($"unknown fault '{key}'; accepted: {AcceptedKeys}"),
            };
        }
        return plan;
    }

    /// <summary>The text form that <see cref="Parse"/> reads back; "none" when nothing is planned.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        void Add(string key, string value) => sb.Append(sb.Length > 0 ? "," : "").Append(key).Append('=').Append(value);
        void AddRate(string key, double rate) { if (rate > 0) Add(key, rate.ToString("R", CultureInfo.InvariantCulture)); }
        AddRate("swap-write", SwapWriteErrorRate);
        AddRate("swap-read", SwapReadErrorRate);
        AddRate("swap-full", SwapFullRate);
        AddRate("short-write", ShortWriteRate);
        AddRate("short-read", ShortReadRate);
        AddRate("compress", CompressFailRate);
        AddRate("pool-alloc", PoolAllocFailRate);
        AddRate("engine-throw", EngineThrowRate);
        if (SlowIoMicros > 0) Add("slow-io-us", SlowIoMicros.ToString(CultureInfo.InvariantCulture));
        if (CompressFailMarker is ulong m) Add("compress-marker", "0x" + m.ToString("X16", CultureInfo.InvariantCulture));
        if (sb.Length == 0) return "none";
        if (Seed != 1) Add("seed", Seed.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static double Rate(string key, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !(r >= 0 && r <= 1))
            throw new FormatException($"{key} must be a probability in [0, 1], got '{value}'");
        return r;
    }

    private static int Micros(string key, string value)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int us) || us < 0 || us > MaxSlowIoMicros)
            throw new FormatException($"{key} must be an integer number of microseconds in [0, {MaxSlowIoMicros}], got '{value}'");
        return us;
    }

    private static ulong Marker(string key, string value)
    {
        string hex = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value;
        if (hex.Length is 0 or > 16 || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong m))
            throw new FormatException($"{key} must be a 64-bit hexadecimal value (0x optional), got '{value}'");
        return m;
    }

    // ================================================================ validation

    internal void Validate()
    {
        Check(SwapWriteErrorRate, nameof(SwapWriteErrorRate));
        Check(SwapReadErrorRate, nameof(SwapReadErrorRate));
        Check(SwapFullRate, nameof(SwapFullRate));
        Check(ShortWriteRate, nameof(ShortWriteRate));
        Check(ShortReadRate, nameof(ShortReadRate));
        Check(CompressFailRate, nameof(CompressFailRate));
        Check(PoolAllocFailRate, nameof(PoolAllocFailRate));
        Check(EngineThrowRate, nameof(EngineThrowRate));
        if (SlowIoMicros is < 0 or > MaxSlowIoMicros)
            throw new ArgumentOutOfRangeException(nameof(SlowIoMicros), SlowIoMicros, $"{nameof(SlowIoMicros)} must be in [0, {MaxSlowIoMicros}]");
    }

    private static void Check(double rate, string name)
    {
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentOutOfRangeException(name, rate, $"{name} must be in [0, 1]");
    }
}
