using BatchSwap.Benchmarks.Data;
using BatchSwap.Memory;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace BatchSwap.Benchmarks.Config;

/// <summary>Base for the custom columns: read-only, always shown, numeric.</summary>
internal abstract class BenchColumn : IColumn
{
    public abstract string Id { get; }
    public abstract string ColumnName { get; }
    public abstract string Legend { get; }
    public abstract string GetValue(Summary summary, BenchmarkCase benchmarkCase);
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public virtual bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <summary>A parameter's value as text, or null when the case has no such parameter.</summary>
    protected static string? Param(BenchmarkCase c, string name) =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value?.ToString();

    /// <summary>Mean time per operation in ns, or null when the case did not run.</summary>
    protected static double? MeanNs(Summary summary, BenchmarkCase c) => summary[c]?.ResultStatistics?.Mean;
}

/// <summary>
/// Page throughput: every benchmark here counts one operation per 4 KiB page (OperationsPerInvoke), so MB/s is
/// 4096 bytes / mean time per page, in uncompressed bytes (10^6 bytes per MB) for compression and decompression alike.
/// </summary>
internal sealed class PageThroughputColumn : BenchColumn
{
    public override string Id => "PageMBps";
    public override string ColumnName => "MB/s";
    public override string Legend => "Uncompressed MB (10^6 B) per second: 4096 B / mean time per page";

    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        MeanNs(summary, benchmarkCase) is double ns and > 0 ? (PageSize.Bytes / ns * 1000).ToString("F0") : "-";
}

/// <summary>
/// Compression ratio of the case's codec on its page set, measured in the host (not timed) on the same strided sample
/// the benchmark uses, the way zswap stores pages: pages that do not compress below 4096 B count as 4096 B.
/// </summary>
internal sealed class CompressionRatioColumn : BenchColumn
{
    /// <summary>Pages of the sample the ratio is measured on.</summary>
    private readonly int _pages;

    public CompressionRatioColumn(int pages) => _pages = pages;

    public override string Id => "CompRatio";
    public override string ColumnName => "CompRatio";
    public override string Legend => "Original / stored bytes on the benchmark's page sample (incompressible pages stored as 4096 B)";

    public override bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => Param(c, "Codec") is not null && Param(c, "Source") is not null);

    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        string? codec = Param(benchmarkCase, "Codec");
        string? source = Param(benchmarkCase, "Source");
        if (codec is null || source is null) return "-";
        CompressionStats s = CompressionStats.Measure(codec, source, _pages);
        return s.Ratio.ToString("F2");
    }
}

/// <summary>
/// For the per-page latency benchmark: this case's per-page time divided by the one-at-a-time time (Batch = 0) of the
/// same codec and engine count, from the same run.
/// </summary>
internal sealed class VersusOneAtATimeColumn : BenchColumn
{
    public override string Id => "VsOneAtATime";
    public override string ColumnName => "vs 1-at-a-time";
    public override string Legend => "Per-page time / per-page time of Batch=0 (one page at a time, no engines), same codec and engines";

    public override bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => Param(c, "Batch") is not null);

    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (Param(benchmarkCase, "Batch") is null) return "-";
        BenchmarkCase? baseline = summary.BenchmarksCases.FirstOrDefault(c =>
            Param(c, "Batch") == "0" && Param(c, "Codec") == Param(benchmarkCase, "Codec")
            && Param(c, "Engines") == Param(benchmarkCase, "Engines") && Param(c, "Source") == Param(benchmarkCase, "Source"));
        if (baseline is null || MeanNs(summary, baseline) is not double b || MeanNs(summary, benchmarkCase) is not double m || b <= 0) return "-";
        return (m / b).ToString("F2");
    }
}
