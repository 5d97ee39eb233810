using System.Text.Json;
using BatchSwap.Workloads.Metrics;

namespace BatchSwap.Cli.Output;

/// <summary>Latency percentiles as a JSON object: <c>{"count", "p50", "p90", "p99", "p99_9", "max"}</c>, in microseconds.</summary>
internal static class LatencyJson
{
    public static void Write(Utf8JsonWriter j, string name, LatencySummary s)
    {
        j.WriteStartObject(name);
        j.WriteNumber("count", s.Count);
        j.WriteNumber("p50", Math.Round(s.P50, 2));
        j.WriteNumber("p90", Math.Round(s.P90, 2));
        j.WriteNumber("p99", Math.Round(s.P99, 2));
        j.WriteNumber("p99_9", Math.Round(s.P999, 2));
        j.WriteNumber("max", Math.Round(s.Max, 2));
        j.WriteEndObject();
    }
}
