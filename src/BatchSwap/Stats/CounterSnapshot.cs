using System.Text;

namespace BatchSwap.Stats;

/// <summary>
/// The tier's counters and gauges at one moment: event counts under the kernel's names, plus the state of the
/// pool, memory and swap. Immutable.
/// </summary>
public sealed class CounterSnapshot
{
    // Event counters by Counter.
    private readonly long[] _events;

    internal CounterSnapshot(long[] events, IReadOnlyList<KeyValuePair<string, long>> gauges)
    {
        _events = events;
        Gauges = gauges;
    }

    /// <summary>An event counter's value.</summary>
    public long this[Counter counter] => _events[(int)counter];

    /// <summary>Gauges (values that go up and down) by kernel-style name: stored_pages, pool_total_size, …</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Gauges { get; }

    /// <summary>A gauge by name, or 0.</summary>
    public long Gauge(string name)
    {
        foreach (KeyValuePair<string, long> g in Gauges) if (g.Key == name) return g.Value;
        return 0;
    }

    /// <summary>Every counter and gauge by name, events first.</summary>
    public IEnumerable<KeyValuePair<string, long>> All()
    {
        foreach (Counter c in Enum.GetValues<Counter>()) yield return new(CounterNames.Of(c), _events[(int)c]);
        foreach (KeyValuePair<string, long> g in Gauges) yield return g;
    }

    /// <summary>The difference of each event counter from an earlier snapshot (gauges are taken from this one).</summary>
    public CounterSnapshot Since(CounterSnapshot earlier)
    {
        var d = new long[_events.Length];
        for (int i = 0; i < d.Length; i++) d[i] = _events[i] - earlier._events[i];
        return new CounterSnapshot(d, Gauges);
    }

    /// <summary>vmstat-like text: one "name value" line each.</summary>
    public string ToVmstat()
    {
        var sb = new StringBuilder();
        foreach (KeyValuePair<string, long> kv in All()) sb.Append(kv.Key).Append(' ').Append(kv.Value).Append('\n');
        return sb.ToString();
    }
}
