using BatchSwap.Cli.Commands;
using BatchSwap.Cli.Output;
using ScottPlot;
using ScottPlot.Plottables;

namespace BatchSwap.Tests.Cli;

/// <summary>
/// The sweep's plots: batch sizes on a log2 axis, categories as points (never joined), magnitudes from zero, and
/// the spread of the runs when a point ran more than once.
/// </summary>
public sealed class SweepPlotTests
{
    private static readonly SweepAxes Axes = new([1, 4, 32, null], ["lz4", "zstd"], [0], [1], [12L << 20]);

    private static List<SweepPointResult> Results(int repeats)
    {
        var results = new List<SweepPointResult>();
        foreach (SweepPoint p in Axes.Points())
        {
            double median = 100 + (p.BatchSize ?? 40) * (p.Compressor == "lz4" ? 3 : 2);
            double[] runs = Enumerable.Range(0, repeats).Select(i => median + (i - (repeats - 1) / 2.0) * 10).ToArray();
            results.Add(new SweepPointResult(p, runs, median, 2.5, 100, 10, 5, 5, 50, 90, 120, 1000, 0, 1, p.BatchSize ?? 16, 0, null));
        }
        return results;
    }

    private static SweepParameter Param(string name) => SweepParameter.All(Axes).Single(p => p.Name == name);

    private static Plot Build(string parameter, string metric, int repeats) =>
        SweepPlots.Build(Axes, Param(parameter), SweepPlots.All.Single(m => m.Name == metric), Results(repeats));

    [Fact]
    public void BatchSizesLieOnALog2AxisWithAutoOneStepPastTheLargest()
    {
        SweepParameter b = Param("batch_size");
        Assert.Equal([0.0, 2.0, 5.0, 6.0], b.Values.Select(v => SweepPlots.Position(b, v)).ToArray());
    }

    [Fact]
    public void CategoriesAreDrawnAsPointsNotJoinedLines()
    {
        Plot plot = Build("compressor", "throughput", repeats: 1);
        Assert.DoesNotContain(plot.GetPlottables(), p => p is Scatter s && s.LineWidth > 0);
        Assert.NotEmpty(plot.GetPlottables().OfType<Markers>());
    }

    [Fact]
    public void AutoIsNotJoinedToTheFixedSizes()
    {
        Plot plot = Build("batch_size", "throughput", repeats: 1);
        foreach (Scatter s in plot.GetPlottables().OfType<Scatter>())
            Assert.All(s.Data.GetScatterPoints(), c => Assert.True(c.X < 6, "auto is on a line"));
        Assert.Contains(plot.GetPlottables().OfType<Markers>(), m => m.Data.GetScatterPoints().Any(c => c.X == 6));
    }

    [Theory]
    [InlineData("throughput")]
    [InlineData("fault_p99")]
    public void TheValueAxisStartsAtZero(string metric)
    {
        Plot plot = Build("batch_size", metric, repeats: 1);
        Assert.Equal(0, plot.Axes.GetLimits().Bottom);
    }

    [Fact]
    public void RepeatedRunsShowTheirSpread()
    {
        Assert.Empty(Build("batch_size", "throughput", repeats: 1).GetPlottables().OfType<ErrorBar>());
        Plot plot = Build("batch_size", "throughput", repeats: 3);
        ErrorBar[] bars = plot.GetPlottables().OfType<ErrorBar>().ToArray();
        Assert.Equal(8, bars.Length);
        Assert.All(bars, b => Assert.Equal(10, b.YErrorPositive![0], 6));
        Assert.Contains("median of 3 runs", plot.Axes.Title.Label.Text);
    }

    [Fact]
    public void ASweepWithRepeatsWritesThePlots()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bs-sweep-{Guid.NewGuid():N}");
        try
        {
            (int code, _, string e) = CliHarness.Run("sweep", "--workers", "1", "--size", "8MiB", "--limit", "12MiB", "--passes", "1", "--engines", "1",
                "--batch-sizes", "auto", "--repeat", "2", "--pages", TestPageFile.Create(256), "--out", dir);
            Assert.True(code == 0, e);
            byte[] png = File.ReadAllBytes(Path.Combine(dir, "throughput-vs-batch_size.png"));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
