using System.Globalization;
using System.Text.Json;
using BatchSwap.Cli.Commands;
using BatchSwap.Stats;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Output;

/// <summary>The text and JSON sections every workload report (and <c>batchswap stat</c>) shares.</summary>
internal static class ReportSections
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The summary line, then the pages and engines lines.</summary>
    public static void WriteHeader(TextWriter w, string summaryLine, IPageSource source, MemoryTier tier)
    {
        w.WriteLine(summaryLine);
        w.WriteLine(string.Create(Inv, $"  pages       {source.Description}"));
        w.WriteLine(string.Create(Inv, $"  engines     {tier.EnginesDescription}, batch size {BatchSize(tier)}"));
    }

    /// <summary>vm.compress-batchsize for a report: the size in force, "auto (now N)" when automatic.</summary>
    public static string BatchSize(MemoryTier tier) => tier.Tunables.CompressBatchSizeAuto
        ? string.Create(Inv, $"auto (now {tier.Tunables.CompressBatchSize})")
        : tier.Tunables.CompressBatchSize.ToString(Inv);

    /// <summary>
    /// The zswap, swap and memory lines; then every counter when <paramref name="counters"/>, else one line saying
    /// where they are.
    /// </summary>
    public static void WriteTier(TextWriter w, CounterSnapshot c, MemoryTier tier, long peakRss, bool counters)
    {
        long stored = c.Gauge("stored_pages"), pool = c.Gauge("pool_total_size");
        w.WriteLine(string.Create(Inv, $"  zswap       zswpout {c[Counter.Zswpout]}, zswpin {c[Counter.Zswpin]}, zswpwb {c[Counter.Zswpwb]}, stored {stored} pages in {ByteSize.Format(pool)} (ratio {Ratio(stored, pool):F2})"));
        w.WriteLine(string.Create(Inv, $"  swap        pswpout {c[Counter.Pswpout]}, pswpin {c[Counter.Pswpin]}, I/O depth max {c.Gauge("swap_io_depth_max")}, page cache {ByteSize.Format(tier.SwapPageCacheBytes)}"));
        w.WriteLine(string.Create(Inv, $"  swap device {string.Join("; ", tier.SwapDescriptions.Distinct())}{(tier.SwapDirectIo ? "" : " — swapped pages are cached in RAM outside the limit")}"));
        w.WriteLine(string.Create(Inv, $"  memory      peak RSS {ByteSize.Format(peakRss)}, peak charged {ByteSize.Format(tier.DefaultGroup.PeakChargedBytes)} of {ByteSize.Format(tier.DefaultGroup.LimitBytes)}"));
        if (!counters)
        {
            w.WriteLine(string.Create(Inv, $"  counters    {c.All().Count()} more with --counters (and in --json)"));
            return;
        }
        w.WriteLine("counters:");
        foreach (KeyValuePair<string, long> kv in c.All())
            w.WriteLine(string.Create(Inv, $"  {kv.Key,-30} {kv.Value,16}"));
    }

    /// <summary>The swap counters, pool, peak RSS, batch size and compressor as JSON numbers and strings.</summary>
    public static void WriteTierJson(Utf8JsonWriter j, CounterSnapshot c, MemoryTier tier, RunSettings run, long peakRss)
    {
        j.WriteNumber("zswpout", c[Counter.Zswpout]);
        j.WriteNumber("zswpin", c[Counter.Zswpin]);
        j.WriteNumber("pswpout", c[Counter.Pswpout]);
        j.WriteNumber("pswpin", c[Counter.Pswpin]);
        j.WriteNumber("zswpwb", c[Counter.Zswpwb]);
        j.WriteNumber("stored_pages", c.Gauge("stored_pages"));
        j.WriteNumber("pool_total_size", c.Gauge("pool_total_size"));
        j.WriteNumber("peak_rss_bytes", peakRss);
        j.WriteNumber("page_cache_bytes", tier.SwapPageCacheBytes);
        j.WriteBoolean("direct_io", tier.SwapDirectIo);
        j.WriteNumber("swap_io_depth_max", c.Gauge("swap_io_depth_max"));
        j.WriteNumber("batch_size", tier.Tunables.CompressBatchSize);
        j.WriteBoolean("batch_size_auto", tier.Tunables.CompressBatchSizeAuto);
        j.WriteString("compressor", run.Compressor);
    }

    /// <summary>Writes <see cref="WriteJsonObject"/> to a new indented JSON file at <paramref name="path"/>.</summary>
    public static void WriteJsonFile(string path, CounterSnapshot c, MemoryTier tier, Action<Utf8JsonWriter> writeResults)
    {
        using FileStream f = File.Create(path);
        using var j = new Utf8JsonWriter(f, new JsonWriterOptions { Indented = true });
        WriteJsonObject(j, c, tier, writeResults);
    }

    /// <summary>One JSON object: what <paramref name="writeResults"/> writes, then the "counters" and "tunables" objects.</summary>
    public static void WriteJsonObject(Utf8JsonWriter j, CounterSnapshot c, MemoryTier tier, Action<Utf8JsonWriter>? writeResults = null)
    {
        j.WriteStartObject();
        writeResults?.Invoke(j);
        j.WriteStartObject("counters");
        foreach (KeyValuePair<string, long> kv in c.All()) j.WriteNumber(kv.Key, kv.Value);
        j.WriteEndObject();
        j.WriteStartObject("tunables");
        foreach (KeyValuePair<string, string> kv in tier.Tunables.All()) j.WriteString(kv.Key, kv.Value);
        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static double Ratio(long pages, long poolBytes) => poolBytes == 0 ? 0 : (double)pages * 4096 / poolBytes;
}
