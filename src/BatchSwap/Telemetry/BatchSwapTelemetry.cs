namespace BatchSwap.Telemetry;

/// <summary>
/// Names under which a <see cref="MemoryTier"/> publishes its counters and gauges through
/// <see cref="System.Diagnostics.Metrics"/>: the meter, the tags and how instrument names are made.
/// </summary>
/// <remarks>
/// Every tier creates its own <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/> (disposed
/// with the tier) with observable instruments only, so nothing is measured unless a listener (dotnet-counters,
/// OpenTelemetry, a <see cref="System.Diagnostics.Metrics.MeterListener"/>) collects. Each event counter of
/// <see cref="Stats.Counter"/> is an <c>ObservableCounter</c> named <see cref="InstrumentPrefix"/> + its kernel name
/// (<c>batchswap.zswpout</c>, <c>batchswap.pgscan</c>, ...), each gauge of <see cref="Stats.CounterSnapshot.Gauges"/> an
/// <c>ObservableGauge</c> named the same way (<c>batchswap.stored_pages</c>, ...). Every measurement carries the tag
/// <see cref="TierTag"/>; per-group gauges (<c>batchswap.group.charged_bytes</c>, ...) also carry <see cref="GroupTag"/>.
/// </remarks>
public static class BatchSwapTelemetry
{
    /// <summary>The meter's name: <c>dotnet-counters monitor --counters BatchSwap</c>, OpenTelemetry <c>AddMeter("BatchSwap")</c>.</summary>
    public const string MeterName = "BatchSwap";

    /// <summary>What every instrument's name starts with, before the kernel-style counter or gauge name.</summary>
    public const string InstrumentPrefix = "batchswap.";

    /// <summary>What the per-group instruments' names start with (<c>batchswap.group.charged_bytes</c>).</summary>
    public const string GroupInstrumentPrefix = "batchswap.group.";

    /// <summary>The tag naming the tier (<see cref="MemoryTier.Name"/>).</summary>
    public const string TierTag = "batchswap.tier";

    /// <summary>The tag naming the memory group (<c>MemoryGroup.Name</c>) of a per-group gauge.</summary>
    public const string GroupTag = "batchswap.group";

    /// <summary>The logger category of a tier's log lines (<see cref="TierOptions.LoggerFactory"/>).</summary>
    public const string LoggerCategory = "BatchSwap";
}
