using System.Diagnostics;
using System.Globalization;
using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Memory;

namespace BatchSwap.Benchmarks.Reports;

/// <summary>
/// <c>--jitter [seconds]</c>: how much this machine alone stretches a short operation, to read a fault-in latency tail
/// against. It times, one by one, the same work done over and over on one thread with the cache warm: one lz4 page
/// decompress (the fault-in budget's unit), and runs of several decompresses as long as a whole fault-in. Nothing
/// else of BatchSwap runs, so any tail here (timer ticks, the hypervisor, other tenants) is the floor under the
/// tail of any operation of that length. Prints one markdown table; also counts units slower than 20 µs.
/// </summary>
internal static class JitterReport
{
    public static void Run(double seconds, TextWriter output)
    {
        string set = PageSets.Available().Contains("python-heap") ? "python-heap" : PageSets.Generated;
        using NativePages pages = PageSets.Sample(set, 64);
        ICodec lz4 = CodecRegistry.Get("lz4");
        using IPageCodecContext ctx = lz4.CreateContext();
        var compressed = new byte[pages.Count][];
        var buffer = new byte[2 * PageSize.Bytes];
        for (int i = 0; i < pages.Count; i++)
        {
            if (ctx.Compress(pages.Span(i), buffer, out int written) != CodecStatus.Ok) throw new InvalidOperationException("a sample page did not compress");
            compressed[i] = buffer.AsSpan(0, written).ToArray();
        }
        var target = new byte[PageSize.Bytes];
        int next = 0;
        void DecompressOne()
        {
            if (ctx.Decompress(compressed[next], target) != CodecStatus.Ok) throw new InvalidOperationException("decompress failed");
            next = (next + 1) % compressed.Length;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Jitter: lz4 decompress of {set} pages, warm cache, one thread, {seconds} s per row; each unit timed alone."));
        output.WriteLine();
        output.WriteLine("| unit | units timed | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | units > 20 µs |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int perUnit in new[] { 1, 2, 4 })
        {
            long[] ticks = Measure(() => { for (int k = 0; k < perUnit; k++) DecompressOne(); }, seconds);
            Array.Sort(ticks);
            double Us(long t) => t * 1e6 / Stopwatch.Frequency;
            double At(double q) => Us(ticks[Math.Min(ticks.Length - 1, (int)(q * ticks.Length))]);
            long slow = ticks.Count(t => t > 20 * Stopwatch.Frequency / 1_000_000);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {perUnit} decompress{(perUnit > 1 ? "es" : "")} | {ticks.Length} | {At(0.5):F2} | {At(0.9):F2} | {At(0.99):F2} | {At(0.999):F2} | {Us(ticks[^1]):F1} | {slow} ({100.0 * slow / ticks.Length:F2} %) |"));
            output.Flush();
        }
    }

    /// <summary>Warms <paramref name="unit"/> up, then times each call for <paramref name="seconds"/>.</summary>
    private static long[] Measure(Action unit, double seconds)
    {
        for (int i = 0; i < 20_000; i++) unit();
        var times = new long[1 << 22];
        int n = 0;
        long deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        while (n < times.Length)
        {
            long t0 = Stopwatch.GetTimestamp();
            unit();
            long t1 = Stopwatch.GetTimestamp();
            times[n++] = t1 - t0;
            if (t1 > deadline) break;
        }
        return times[..n];
    }
}
