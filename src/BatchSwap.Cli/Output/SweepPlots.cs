using BatchSwap.Cli.Commands;
using ScottPlot;

namespace BatchSwap.Cli.Output;

/// <summary>
/// PNG plots of a sweep: for each swept parameter, one plot per figure (throughput, compression ratio, pages written
/// back, fault-in p99) with the parameter's values along x and one line per combination of the other parameters.
/// </summary>
internal static class SweepPlots
{
    // The figures plotted: file-name part, axis title, value.
    private static readonly (string Name, string Title, Func<SweepPointResult, double> Of)[] Metrics =
    [
        ("throughput", "throughput (MiB/s)", r => r.ThroughputMiBps),
        ("compression_ratio", "compression ratio (stored / pool)", r => r.CompressionRatio),
        ("zswpwb", "pages written back (zswpwb)", r => r.Error is null ? r.Zswpwb : double.NaN),
        ("fault_p99", "fault-in latency p99 (µs)", r => r.FaultP99Us),
    ];

    /// <summary>Writes the plots into <paramref name="dir"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string dir, SweepAxes axes, IReadOnlyList<SweepPointResult> results)
    {
        var written = new List<string>();
        SweepParameter[] all = SweepParameter.All(axes).ToArray();
        foreach (SweepParameter x in axes.Swept())
        {
            SweepParameter[] others = all.Where(p => p.Name != x.Name && p.Values.Length > 1).ToArray();
            foreach ((string name, string title, Func<SweepPointResult, double> of) in Metrics)
            {
                var plot = new Plot();
                plot.Font.Set(Fonts.Sans);
                foreach (IGrouping<string, SweepPointResult> line in results.GroupBy(r => string.Join(", ", others.Select(o => $"{o.Title} {o.Of(r.Point)}"))))
                {
                    var xs = new List<double>();
                    var ys = new List<double>();
                    foreach (SweepPointResult r in line.OrderBy(r => Array.IndexOf(x.Values, x.Of(r.Point))))
                    {
                        double y = of(r);
                        if (double.IsNaN(y)) continue;
                        xs.Add(Array.IndexOf(x.Values, x.Of(r.Point)));
                        ys.Add(y);
                    }
                    if (xs.Count == 0) continue;
                    var s = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
                    s.LineWidth = 2;
                    s.MarkerSize = 8;
                    if (others.Length > 0) s.LegendText = line.Key;
                }
                plot.Axes.Bottom.SetTicks(Enumerable.Range(0, x.Values.Length).Select(i => (double)i).ToArray(), x.Values);
                plot.Axes.Bottom.Label.Text = x.Title;
                plot.Axes.Left.Label.Text = title;
                plot.Axes.Title.Label.Text = $"usemem: {title} vs {x.Title}";
                plot.Axes.AutoScale();
                plot.Axes.Margins(0.08, 0.15);
                if (others.Length > 0) plot.ShowLegend(Edge.Bottom);
                string path = Path.Combine(dir, $"{name}-vs-{x.Name}.png");
                plot.SavePng(path, 900, 540);
                written.Add(path);
            }
        }
        return written;
    }
}
