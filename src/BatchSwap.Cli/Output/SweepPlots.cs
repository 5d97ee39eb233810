using System.Globalization;
using BatchSwap.Cli.Commands;
using ScottPlot;

namespace BatchSwap.Cli.Output;

/// <summary>
/// PNG plots of a sweep: for each swept parameter, one plot per figure (throughput, compression ratio, pages written
/// back, fault-in p99) with the parameter's values along x and one series per combination of the other parameters.
/// </summary>
/// <remarks>
/// Batch sizes lie on a log2 axis (1, 2, 4 … 32 equally spaced; "auto" one step right of the largest, not joined to
/// the fixed sizes). Categories (codecs, folio orders) are drawn as points, nudged apart per series, never joined by
/// lines; numeric parameters (batch size, workers, limit) are joined. Every y axis starts at zero. When a point ran
/// more than once, the throughput plot shows each run as a small dot and the runs' range as an error bar around the
/// median.
/// </remarks>
internal static class SweepPlots
{
    // The figures plotted: file-name part, axis title, value, and the per-run values when there are several.
    private static readonly Metric[] Metrics =
    [
        new("throughput", "throughput (MiB/s)", r => r.ThroughputMiBps, r => r.Throughputs),
        new("compression_ratio", "compression ratio (stored / pool)", r => r.CompressionRatio, null),
        new("zswpwb", "pages written back (zswpwb)", r => r.Error is null ? r.Zswpwb : double.NaN, null),
        new("fault_p99", "fault-in latency p99 (µs)", r => r.FaultP99Us, null),
    ];

    /// <summary>A plotted figure: file-name part, axis title, the point's value, and its runs' values (null: none kept).</summary>
    internal sealed record Metric(string Name, string Title, Func<SweepPointResult, double> Of, Func<SweepPointResult, double[]>? Runs);

    /// <summary>Writes the plots into <paramref name="dir"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string dir, SweepAxes axes, IReadOnlyList<SweepPointResult> results)
    {
        var written = new List<string>();
        foreach (SweepParameter x in axes.Swept())
        {
            foreach (Metric metric in Metrics)
            {
                Plot plot = Build(axes, x, metric, results);
                string path = Path.Combine(dir, $"{metric.Name}-vs-{x.Name}.png");
                plot.SavePng(path, 900, 540);
                written.Add(path);
            }
        }
        return written;
    }

    /// <summary>The figures plotted, in order (tests build each).</summary>
    internal static IReadOnlyList<Metric> All => Metrics;

    /// <summary>Whether a parameter's values are categories (drawn as points) rather than magnitudes (joined by lines).</summary>
    internal static bool IsCategorical(SweepParameter x) => x.Name is "compressor" or "order";

    /// <summary>
    /// Where value <paramref name="label"/> of <paramref name="x"/> lies along the x axis: log2 of a batch size ("auto"
    /// one step past the largest size swept), else its index among the values.
    /// </summary>
    internal static double Position(SweepParameter x, string label)
    {
        if (x.Name != "batch_size") return Array.IndexOf(x.Values, label);
        if (int.TryParse(label, NumberStyles.Integer, CultureInfo.InvariantCulture, out int b)) return Math.Log2(b);
        double largest = x.Values.Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? Math.Log2(n) : 0).Max();
        return largest + 1;
    }

    /// <summary>One plot of <paramref name="metric"/> against <paramref name="x"/>.</summary>
    internal static Plot Build(SweepAxes axes, SweepParameter x, Metric metric, IReadOnlyList<SweepPointResult> results)
    {
        SweepParameter[] others = SweepParameter.All(axes).Where(p => p.Name != x.Name && p.Values.Length > 1).ToArray();
        bool categorical = IsCategorical(x);
        bool spread = metric.Runs is not null && results.Any(r => metric.Runs(r).Length > 1);
        var plot = new Plot();
        plot.Font.Set(Fonts.Sans);
        IGrouping<string, SweepPointResult>[] series = results.GroupBy(r => string.Join(", ", others.Select(o => $"{o.Title} {o.Of(r.Point)}"))).ToArray();
        double top = 0;
        for (int si = 0; si < series.Length; si++)
        {
            Color color = plot.Add.Palette.GetColor(si);
            // Categories: nudge each series a little so that equal values do not hide each other.
            double nudge = categorical && series.Length > 1 ? (si - (series.Length - 1) / 2.0) * Math.Min(0.12, 0.6 / series.Length) : 0;
            var joined = new List<(double X, double Y)>();
            var apart = new List<(double X, double Y)>();
            foreach (SweepPointResult r in series[si].OrderBy(r => Position(x, x.Of(r.Point))))
            {
                double y = metric.Of(r);
                if (double.IsNaN(y)) continue;
                string label = x.Of(r.Point);
                double px = Position(x, label) + nudge;
                bool isCategory = categorical || r.Point.BatchSize is null && x.Name == "batch_size";
                (isCategory ? apart : joined).Add((px, y));
                top = Math.Max(top, y);
                if (spread)
                {
                    double[] runs = metric.Runs!(r);
                    if (runs.Length < 2) continue;
                    top = Math.Max(top, runs.Max());
                    var range = plot.Add.ErrorBar([px], [y], [0.0]);
                    range.YErrorNegative = [y - runs.Min()];
                    range.YErrorPositive = [runs.Max() - y];
                    range.Color = color;
                    var dots = plot.Add.Markers(runs.Select(_ => px).ToArray(), runs, MarkerShape.OpenCircle, 5, color);
                    dots.LegendText = "";
                }
            }
            string? legend = others.Length > 0 ? series[si].Key : null;
            if (joined.Count > 0)
            {
                var s = plot.Add.Scatter(joined.Select(p => p.X).ToArray(), joined.Select(p => p.Y).ToArray(), color);
                s.LineWidth = 2;
                s.MarkerSize = 8;
                if (legend is not null) { s.LegendText = legend; legend = null; }
            }
            if (apart.Count > 0)
            {
                var m = plot.Add.Markers(apart.Select(p => p.X).ToArray(), apart.Select(p => p.Y).ToArray(), MarkerShape.FilledCircle, 10, color);
                if (legend is not null) m.LegendText = legend;
            }
        }
        double[] ticks = x.Values.Select(v => Position(x, v)).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, x.Values);
        plot.Axes.Bottom.Label.Text = x.Name == "batch_size" ? $"{x.Title} (log2 scale)" : x.Title;
        plot.Axes.Left.Label.Text = metric.Title;
        string runsNote = spread ? $" — median of {results.Max(r => metric.Runs!(r).Length)} runs, bars: min to max" : "";
        plot.Axes.Title.Label.Text = $"usemem: {metric.Title} vs {x.Title}{runsNote}";
        double left = ticks.Length > 0 ? ticks.Min() : 0, right = ticks.Length > 0 ? ticks.Max() : 1;
        double pad = Math.Max(0.4, (right - left) * 0.08);
        plot.Axes.SetLimitsX(left - pad, right + pad);
        plot.Axes.SetLimitsY(0, top > 0 ? top * 1.15 : 1); // magnitudes: from zero, so that ratios read true
        if (others.Length > 0) plot.ShowLegend(Edge.Bottom);
        return plot;
    }
}
