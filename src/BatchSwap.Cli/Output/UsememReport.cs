using System.Globalization;
using BatchSwap.Cli.Commands;
using BatchSwap.Stats;
using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Output;

/// <summary>A usemem run's results as a usemem-style summary, a counter table, and JSON.</summary>
/// <param name="codec">The run's codec limit, priced after the run (<see cref="Usemem.MeasureCodecLimit"/>).</param>
/// <param name="mapping">The transparent mappings' handler figures (summed), or null for a run on regions.</param>
internal sealed class UsememReport(UsememOptions options, RunSettings run, MemoryTier tier, IPageSource source, UsememResult result, CodecLimit codec,
    BatchSwap.Transparent.TransparentStats? mapping = null)
{
    private readonly long _peakRss = ProcessMemory.PeakRssBytes();
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The one-line summary.</summary>
    public string SummaryLine() => string.Create(Inv,
        $"{(result.Interrupted ? "interrupted " : "")}usemem{(mapping is null ? "" : " --transparent")}: {options.Workers} x {ByteSize.Format(options.SizePerWorker)}, limit {ByteSize.Format(run.LimitBytes)}, {options.Passes} passes, {AccessPattern.FormatOrder(options.Access)}, order {options.Order}, {run.Compressor}, batch {ReportSections.BatchSize(tier)}: " +
        $"{result.ThroughputMiBps:F1} MiB/s, {result.WallSeconds:F2} s, mismatches {result.Mismatches}");

    /// <summary>The summary, the key figures, and every counter when <paramref name="counters"/>.</summary>
    public void WriteText(TextWriter w, bool counters = false)
    {
        CounterSnapshot c = result.Counters;
        ReportSections.WriteHeader(w, SummaryLine(), source, tier);
        w.WriteLine(string.Create(Inv, $"  time        fill {result.FillSeconds:F2} s, passes {result.PassSeconds:F2} s, wall {result.WallSeconds:F2} s"));
        w.WriteLine(string.Create(Inv, $"  throughput  {result.ThroughputMiBps:F1} MiB/s"));
        w.WriteLine($"  fault-in    {result.FaultLatency.Format()}");
        if (c[Counter.SwapRemoteRoundTrips] > 0) w.WriteLine(RemoteLine(c, result.WallSeconds));
        w.WriteLine(CodecLine(codec));
        if (mapping is { } m)
            w.WriteLine(string.Create(Inv, $"  mapping     faults {m.MissingFaults:N0} (zero {m.ZeroFills:N0}, swap-in {m.SwapInFills:N0}, lru {m.LruFills:N0}), wp {m.WpFaults:N0}, evicted {m.Evictions:N0}, refaults {m.Refaults:N0} (hot {m.RefaultsHot:N0}), second chances {m.SecondChances:N0}, readahead {m.Readahead:N0}"));
        ReportSections.WriteTier(w, c, tier, _peakRss, counters);
    }

    /// <summary>The far-memory line: remote pages a second, round trips and bytes on the wire per page.</summary>
    internal static string RemoteLine(CounterSnapshot c, double wallSeconds)
    {
        long pages = c[Counter.Pswpout] + c[Counter.Pswpin];
        double per = Math.Max(1, pages);
        return string.Create(Inv,
            $"  remote      {pages / Math.Max(wallSeconds, 1e-9):F0} pages/s, {c[Counter.SwapRemoteRoundTrips] / per:F3} round trips/page, " +
            $"{(c[Counter.SwapRemoteBytesSent] + c[Counter.SwapRemoteBytesReceived]) / per:F0} B/page on the wire ({c[Counter.ZswpwbCompressed]:N0} written back compressed)");
    }

    /// <summary>
    /// The codec-limit line: the fraction of wall time × cores the codec alone needed, then the jobs and their
    /// single-threaded prices it is made of.
    /// </summary>
    internal static string CodecLine(CodecLimit c) => string.Create(Inv,
        $"  codec limit {c.Fraction:F2} of {c.Cores} cores (compress {c.Compressions:N0} × {c.CompressNsPerPage / 1000:F2} µs, decompress {c.Decompressions:N0} × {c.DecompressNsPerPage / 1000:F2} µs)");

    /// <summary>Writes one JSON object with the results and every counter.</summary>
    public void WriteJson(string path)
    {
        CounterSnapshot c = result.Counters;
        ReportSections.WriteJsonFile(path, c, tier, j =>
        {
            j.WriteString("workload", "usemem");
            j.WriteBoolean("interrupted", result.Interrupted);
            j.WriteString("mode", mapping is null ? "explicit" : "transparent");
            if (mapping is { } m)
            {
                j.WriteNumber("uffd_missing_faults", m.MissingFaults);
                j.WriteNumber("uffd_wp_faults", m.WpFaults);
                j.WriteNumber("uffd_zero_fills", m.ZeroFills);
                j.WriteNumber("uffd_swapin_fills", m.SwapInFills);
                j.WriteNumber("uffd_lru_fills", m.LruFills);
                j.WriteNumber("uffd_evictions", m.Evictions);
                j.WriteNumber("uffd_refaults", m.Refaults);
                j.WriteNumber("uffd_refaults_hot", m.RefaultsHot);
                j.WriteNumber("uffd_second_chances", m.SecondChances);
                j.WriteNumber("uffd_duplicate_faults", m.DuplicateFaults);
                j.WriteNumber("uffd_readahead", m.Readahead);
            }
            j.WriteNumber("throughput_mibps", Math.Round(result.ThroughputMiBps, 2));
            j.WriteNumber("wall_s", Math.Round(result.WallSeconds, 4));
            j.WriteNumber("fill_s", Math.Round(result.FillSeconds, 4));
            j.WriteNumber("pass_s", Math.Round(result.PassSeconds, 4));
            j.WriteNumber("mismatches", result.Mismatches);
            j.WriteNumber("faults_timed", result.FaultLatency.Count);
            LatencyJson.Write(j, "fault_latency_us", result.FaultLatency);
            j.WriteNumber("codec_limit_fraction", Math.Round(codec.Fraction, 4));
            j.WriteNumber("codec_compress_ns_per_page", Math.Round(codec.CompressNsPerPage, 1));
            j.WriteNumber("codec_decompress_ns_per_page", Math.Round(codec.DecompressNsPerPage, 1));
            j.WriteNumber("codec_compressions", codec.Compressions);
            j.WriteNumber("codec_decompressions", codec.Decompressions);
            ReportSections.WriteTierJson(j, c, tier, run, _peakRss);
            j.WriteNumber("workers", options.Workers);
            j.WriteNumber("size_per_worker_bytes", options.SizePerWorker);
            j.WriteNumber("limit_bytes", run.LimitBytes);
            j.WriteNumber("passes", options.Passes);
            j.WriteNumber("order", options.Order);
            j.WriteString("access", AccessPattern.FormatOrder(options.Access));
            j.WriteString("pages", source.Description);
            j.WriteNumber("engines", run.Engines);
            j.WriteNumber("nodes", run.Nodes);
            j.WriteNumber("swap_devices", run.Devices?.Count ?? run.SwapDevices);
            j.WriteNumber("peak_charged_bytes", tier.DefaultGroup.PeakChargedBytes);
        });
    }
}
