using System.Diagnostics.Metrics;
using BatchSwap.Access;
using BatchSwap.Stats;
using BatchSwap.Telemetry;

namespace BatchSwap.Tests.Telemetry;

/// <summary>The meter "BatchSwap": every counter and gauge as an observable instrument, tagged, matching the snapshot.</summary>
public sealed class MetricsTests
{
    /// <summary>One measurement: instrument, value and tags.</summary>
    private sealed record Reading(string Instrument, string? Unit, long Value, Dictionary<string, string?> Tags);

    [Fact]
    public void EveryCounterAndGaugeIsAnInstrumentWhoseValueMatchesTheSnapshot()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Name = "metrics-test",
            BackgroundReclaim = false,
            ZswapShrinkWorker = false,
            Engines = 1,
        });
        using (Region r = tier.Allocate(48L << 20))
        {
            Span<byte> page = stackalloc byte[4096];
            for (long i = 0; i < r.PageCount; i++) { TestPages.Fill(page, i, 5); r.Write(i, page); }
            for (long i = 0; i < r.PageCount; i += 7) r.Read(i, page);

            List<Reading> readings = Collect(tier.Name);
            CounterSnapshot s = tier.Snapshot();
            Assert.True(s[Counter.Zswpout] > 0 && s[Counter.Zswpin] > 0);

            foreach (Counter c in Enum.GetValues<Counter>())
            {
                Reading m = Assert.Single(readings, x => x.Instrument == "batchswap." + CounterNames.Of(c));
                Assert.Equal(s[c], m.Value);
            }

            foreach (KeyValuePair<string, long> g in s.Gauges)
            {
                Reading m = Assert.Single(readings, x => x.Instrument == "batchswap." + g.Key);
                if (g.Key != "swap_io_in_flight") Assert.Equal(g.Value, m.Value);
            }

            Assert.Equal("{page}", readings.First(x => x.Instrument == "batchswap.zswpout").Unit);
            Assert.Equal("ns", readings.First(x => x.Instrument == "batchswap.reclaim_ns").Unit);
            Assert.Equal("By", readings.First(x => x.Instrument == "batchswap.pool_total_size").Unit);
            Assert.All(readings, x => Assert.Equal("metrics-test", x.Tags[BatchSwapTelemetry.TierTag]));
            Assert.Equal(CounterNames.Count + s.Gauges.Count + 5, readings.Count); // 5 per-group gauges, one group

            Reading charged = Assert.Single(readings, x => x.Instrument == "batchswap.group.charged_bytes");
            Assert.Equal("root", charged.Tags[BatchSwapTelemetry.GroupTag]);
            Assert.Equal(tier.DefaultGroup.ChargedBytes, charged.Value);
            Assert.Equal(s.Gauge("resident_pages"), Assert.Single(readings, x => x.Instrument == "batchswap.group.resident_pages").Value);
        }
    }

    [Fact]
    public void PerGroupGaugesHaveOneMeasurementPerGroup()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, BackgroundReclaim = false });
        tier.CreateGroup("a", 4L << 20);
        tier.CreateGroup("b", 6L << 20);
        Reading[] limits = Collect(tier.Name).Where(x => x.Instrument == "batchswap.group.limit_bytes").ToArray();
        Assert.Equal(["a", "b", "root"], limits.Select(x => x.Tags[BatchSwapTelemetry.GroupTag]).Order());
        Assert.Equal(4L << 20, limits.Single(x => (string?)x.Tags[BatchSwapTelemetry.GroupTag] == "a").Value);
    }

    [Fact]
    public void ADisposedTiersInstrumentsAreGone()
    {
        var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20 });
        string name = tier.Name;
        Assert.NotEmpty(Collect(name));
        tier.Dispose();
        Assert.Empty(Collect(name));
    }

    /// <summary>Every measurement of the tier called <paramref name="tier"/>, through a <see cref="MeterListener"/>.</summary>
    private static List<Reading> Collect(string tier)
    {
        var readings = new List<Reading>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BatchSwapTelemetry.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var t = new Dictionary<string, string?>();
            foreach (KeyValuePair<string, object?> kv in tags) t[kv.Key] = kv.Value?.ToString();
            if (t.GetValueOrDefault(BatchSwapTelemetry.TierTag) == tier) readings.Add(new Reading(instrument.Name, instrument.Unit, value, t));
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return readings;
    }
}
