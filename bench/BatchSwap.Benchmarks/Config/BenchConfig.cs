using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace BatchSwap.Benchmarks.Config;

/// <summary>The configuration every benchmark runs with: memory diagnoser, threading diagnoser, the page columns.</summary>
internal static class BenchConfig
{
    /// <summary>Pages in the sample the ratio column measures (the codec benchmark's sample).</summary>
    public const int RatioSamplePages = 1024;

    /// <summary>Builds the configuration; <paramref name="quick"/> selects the short job (about 2–3 s per case).</summary>
    public static IConfig Create(bool quick)
    {
        Job job = quick
            ? Job.Default.WithId("Quick").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(7)
                .WithIterationTime(TimeInterval.FromMilliseconds(150))
            : Job.Default.WithId("Default");
        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(new PageThroughputColumn(), new CompressionRatioColumn(RatioSamplePages), new VersusOneAtATimeColumn())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(24))
            .WithOptions(ConfigOptions.DisableLogFile)
            .HideColumns(Column.StdDev, Column.Median, Column.Job, Column.Gen0, Column.Gen1, Column.Gen2)
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
    }
}
