using System.Diagnostics;
using System.Diagnostics.Metrics;
using BatchSwap.MemCg;
using BatchSwap.Stats;
using BatchSwap.Telemetry;

namespace BatchSwap;

/// <summary>
/// A tier's <see cref="Meter"/> (named <see cref="BatchSwapTelemetry.MeterName"/>): one observable instrument per event
/// counter and gauge of <see cref="CounterSnapshot"/>, and per-group gauges. Costs nothing until a listener collects:
/// the callbacks run only then, and the instruments of one collection share one snapshot (taken by the first callback,
/// reused for <see cref="SnapshotReuse"/>), so a collection reads the counters once, not once per instrument.
/// </summary>
/// <remarks>Locking: <see cref="_cacheLock"/> guards the cached snapshot; callbacks may run on any listener's thread.</remarks>
internal sealed class TierMetrics : IDisposable
{
    /// <summary>How long a snapshot serves the callbacks of one collection.</summary>
    internal static readonly TimeSpan SnapshotReuse = TimeSpan.FromMilliseconds(50);

    // The meter and its instruments; disposing it removes them from every listener.
    private readonly Meter _meter;
    // Takes a snapshot, or null once the tier is closing.
    private readonly Func<CounterSnapshot?> _snapshot;
    // The tier's groups now.
    private readonly MemoryGroups _groups;
    // The tier tag every measurement carries.
    private readonly KeyValuePair<string, object?> _tierTag;
    // Guards _cached and _cachedAt.
    private readonly Lock _cacheLock = new();
    // The snapshot the current collection reads, and when it was taken (Stopwatch ticks).
    private CounterSnapshot? _cached;
    private long _cachedAt;

    public TierMetrics(string tierName, IEnumerable<string> gaugeNames, Func<CounterSnapshot?> snapshot, MemoryGroups groups)
    {
        _snapshot = snapshot;
        _groups = groups;
        _tierTag = new(BatchSwapTelemetry.TierTag, tierName);
        string version = typeof(TierMetrics).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        // The tier tag goes on each measurement, not on the meter: dotnet-counters would show it twice.
        _meter = new Meter(BatchSwapTelemetry.MeterName, version);

        foreach (Counter c in Enum.GetValues<Counter>())
        {
            string name = CounterNames.Of(c);
            _meter.CreateObservableCounter(BatchSwapTelemetry.InstrumentPrefix + name, () => Event(c), UnitOf(name), DescriptionOf(c));
        }

        foreach (string gauge in gaugeNames)
        {
            _meter.CreateObservableGauge(BatchSwapTelemetry.InstrumentPrefix + gauge, () => Gauge(gauge), UnitOf(gauge));
        }

        Group("charged_bytes", "By", g => g.ChargedBytes, "Bytes charged to the group: resident pages, page tables and pool objects.");
        Group("peak_charged_bytes", "By", g => g.PeakChargedBytes, "The most bytes ever charged to the group at once.");
        Group("pool_charged_bytes", "By", g => g.PoolChargedBytes, "Bytes of compressed pool objects charged to the group.");
        Group("limit_bytes", "By", g => g.LimitBytes, "The group's limit.");
        Group("resident_pages", "{page}", g => g.LruPages, "The group's pages resident now (on its LRU lists).");
    }

    public void Dispose() => _meter.Dispose();

    /// <summary>The unit of a kernel-style name: nanoseconds, bytes, folios or pages (none for plain counts).</summary>
    internal static string? UnitOf(string name) =>
        name.EndsWith("_ns", StringComparison.Ordinal) ? "ns"
        : name.EndsWith("_bytes", StringComparison.Ordinal) || name.EndsWith("_size", StringComparison.Ordinal) ? "By"
        : name.StartsWith("zswpout_order", StringComparison.Ordinal) || name.StartsWith("swpin_order", StringComparison.Ordinal) ? "{folio}"
        : name.EndsWith("_pages", StringComparison.Ordinal) || name is "zswpout" or "zswpin" or "zswpwb" or "pswpout" or "pswpin" or "pgscan" or "pgsteal" ? "{page}"
        : null;

    private static string DescriptionOf(Counter c) => $"{CounterNames.Of(c)}: a BatchSwap event counter (BatchSwap.Stats.Counter.{c})";

    private void Group(string name, string unit, Func<MemoryGroup, long> value, string description) =>
        _meter.CreateObservableGauge(BatchSwapTelemetry.GroupInstrumentPrefix + name, () => PerGroup(value), unit, description);

    private IEnumerable<Measurement<long>> Event(Counter c)
    {
        CounterSnapshot? s = Current();
        return s is null ? [] : [new Measurement<long>(s[c], _tierTag)];
    }

    private IEnumerable<Measurement<long>> Gauge(string name)
    {
        CounterSnapshot? s = Current();
        return s is null ? [] : [new Measurement<long>(s.Gauge(name), _tierTag)];
    }

    private IEnumerable<Measurement<long>> PerGroup(Func<MemoryGroup, long> value)
    {
        IReadOnlyList<MemoryGroup> groups = _groups.All;
        var m = new Measurement<long>[groups.Count];
        for (int i = 0; i < groups.Count; i++)
            m[i] = new Measurement<long>(value(groups[i]), _tierTag, new(BatchSwapTelemetry.GroupTag, groups[i].Name));
        return m;
    }

    /// <summary>The snapshot of this collection: the cached one while fresh, else a new one (null once the tier is closing).</summary>
    private CounterSnapshot? Current()
    {
        lock (_cacheLock)
        {
            if (_cached is null || Stopwatch.GetElapsedTime(_cachedAt) > SnapshotReuse)
            {
                CounterSnapshot? s = _snapshot();
                if (s is null) return null;
                _cached = s;
                _cachedAt = Stopwatch.GetTimestamp();
            }

            return _cached;
        }
    }
}
