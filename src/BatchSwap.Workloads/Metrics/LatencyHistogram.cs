using System.Diagnostics;
using HdrHistogram;

namespace BatchSwap.Workloads.Metrics;

/// <summary>
/// Latencies in <see cref="Stopwatch"/> ticks, one histogram per worker (not thread-safe: each worker records into its
/// own and the driver merges them at the end with <see cref="Add"/>). Backed by HdrHistogram: 3 significant digits,
/// values up to an hour.
/// </summary>
public sealed class LatencyHistogram
{
    // The recorded values, in Stopwatch ticks.
    private readonly LongHistogram _histogram = new(Math.Max(2, Stopwatch.Frequency * 3600), 3);

    /// <summary>Values recorded.</summary>
    public long Count => _histogram.TotalCount;

    /// <summary>Records one latency of <paramref name="ticks"/> Stopwatch ticks (negative values count as 0).</summary>
    public void Record(long ticks) => _histogram.RecordValue(Math.Clamp(ticks, 0, _histogram.HighestTrackableValue));

    /// <summary>Adds every value of <paramref name="other"/> into this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _histogram.Add(other._histogram);
    }

    /// <summary>Merges the histograms of all workers into a new one.</summary>
    public static LatencyHistogram Merge(IEnumerable<LatencyHistogram> parts)
    {
        var all = new LatencyHistogram();
        foreach (LatencyHistogram h in parts) all.Add(h);
        return all;
    }

    /// <summary>The percentiles, in microseconds.</summary>
    public LatencySummary Summarize()
    {
        if (Count == 0) return LatencySummary.Empty;
        double us = 1e6 / Stopwatch.Frequency;
        return new LatencySummary(
            Count,
            _histogram.GetValueAtPercentile(50) * us,
            _histogram.GetValueAtPercentile(90) * us,
            _histogram.GetValueAtPercentile(99) * us,
            _histogram.GetValueAtPercentile(99.9) * us,
            _histogram.GetMaxValue() * us);
    }
}

/// <summary>Percentiles of a latency histogram, in microseconds.</summary>
/// <param name="Count">Values recorded.</param>
/// <param name="P50">Median.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="P999">99.9th percentile.</param>
/// <param name="Max">Largest value.</param>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max)
{
    /// <summary>No values.</summary>
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>"p50 12.3 us, p90 …, max … (n timed)".</summary>
    public string Format() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"p50 {P50:F1} us, p90 {P90:F1} us, p99 {P99:F1} us, p99.9 {P999:F1} us, max {Max:F1} us ({Count} timed)");
}
