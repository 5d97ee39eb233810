using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;

namespace BatchSwap.Benchmarks.Reports;

/// <summary>
/// <c>--dispatch [rounds [slice-ms]]</c>: the cost of the engine machinery itself. Every job is a zero page (checksum and
/// same-filled scan, ~0.3 µs, no codec), so a run of B jobs through <see cref="CpuEngines"/> costs mostly the offer,
/// the wake-up and the claims. Compared with the same B jobs run inline on the calling thread, interleaved in short
/// slices like <c>--targets</c>; optionally with a gap of busy work on the submitter between runs (what zswap does
/// between batches: storing the results), long enough that a spinning engine gives up and blocks.
/// Reports medians over rounds of wall and process CPU ns per run.
/// </summary>
internal static unsafe class DispatchReport
{
    public static void Run(int rounds, TextWriter output, double sliceMs = 25)
    {
        var slice = TimeSpan.FromMilliseconds(sliceMs);
        const int MaxJobs = 32;
        byte* pages = (byte*)NativeMemory.AlignedAlloc(MaxJobs * 4096, 4096);
        NativeMemory.Clear(pages, MaxJobs * 4096);
        byte lz4 = CodecRegistry.Get("lz4").Id;
        using var batch = new JobBatch(MaxJobs);
        using var e1 = new CpuEngines(1, maxJobs: MaxJobs);
        using var e2 = new CpuEngines(2, maxJobs: MaxJobs);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Dispatch: zero-page jobs, {rounds} rounds of {sliceMs} ms per variant; medians of wall / CPU ns per run (gap included)."));
        output.WriteLine();
        output.WriteLine("| jobs per run | gap between runs µs | inline (wall / CPU) | CpuEngines(1) (wall / CPU) | CpuEngines(2) (wall / CPU) | e(1) − inline wall | e(2) − inline wall | e(1) offers / wakes per run | e(2) offers / wakes per run |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---|---|");
        try
        {
            foreach (int gapUs in new[] { 0, 100 })
            {
                foreach (int jobs in new[] { 2, 8, 32 })
                {
                    long gapTicks = gapUs * Stopwatch.Frequency / 1_000_000;
                    void Fill()
                    {
                        batch.Clear();
                        for (int i = 0; i < jobs; i++) batch.AddCompress(pages + (long)i * 4096, lz4);
                    }

                    void Gap()
                    {
                        if (gapTicks == 0) return;
                        long until = Stopwatch.GetTimestamp() + gapTicks;
                        while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
                    }

                    Action[] variants =
                    [
                        () =>
                        {
                            Fill();
                            IPageCodecContext ctx = batch.Context(lz4);
                            for (int i = 0; i < jobs; i++) PageWork.Run(ref batch.Jobs[i], ctx, null);
                            Gap();
                        },
                        () => { Fill(); e1.Run(batch); Gap(); },
                        () => { Fill(); e2.Run(batch); Gap(); },
                    ];
                    var runs = new long[variants.Length];
                    var wall = new double[variants.Length][];
                    var cpu = new double[variants.Length][];
                    for (int v = 0; v < variants.Length; v++)
                    {
                        wall[v] = new double[rounds];
                        cpu[v] = new double[rounds];
                        long warm = 0;
                        Slice(variants[v], TimeSpan.FromMilliseconds(100), ref warm);
                    }

                    (long Offers, long Wakes) c1 = Counters(e1), c2 = Counters(e2);
                    for (int r = 0; r < rounds; r++)
                    {
                        for (int v = 0; v < variants.Length; v++) (wall[v][r], cpu[v][r]) = Slice(variants[v], slice, ref runs[v]);
                    }

                    (long Offers, long Wakes) n1 = Counters(e1), n2 = Counters(e2);
                    string PerRun((long Offers, long Wakes) before, (long Offers, long Wakes) after, long n) =>
                        after.Offers < 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture,
                            $"{(double)(after.Offers - before.Offers) / n:F2} / {(double)(after.Wakes - before.Wakes) / n:F2}");
                    double d1 = Medians.Of(wall[1].Zip(wall[0], (a, b) => a - b).ToArray());
                    double d2 = Medians.Of(wall[2].Zip(wall[0], (a, b) => a - b).ToArray());
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {jobs} | {gapUs} | {Medians.Of(wall[0]):F0} / {Medians.Of(cpu[0]):F0} | {Medians.Of(wall[1]):F0} / {Medians.Of(cpu[1]):F0} | {Medians.Of(wall[2]):F0} / {Medians.Of(cpu[2]):F0} | {d1:F0} | {d2:F0} | {PerRun(c1, n1, runs[1])} | {PerRun(c2, n2, runs[2])} |"));
                    output.Flush();
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(pages);
        }
    }

    /// <summary>Offers posted and wake-ups so far (internal counters, read by reflection: builds without them give -1).</summary>
    private static (long Offers, long Wakes) Counters(CpuEngines engines)
    {
        const System.Reflection.BindingFlags Flags = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        object? offers = typeof(CpuEngines).GetProperty("OffersPosted", Flags)?.GetValue(engines);
        object? wakes = typeof(CpuEngines).GetProperty("Wakes", Flags)?.GetValue(engines);
        return offers is long o && wakes is long w ? (o, w) : (-1, -1);
    }

    /// <summary>Runs a body for about <paramref name="length"/>; returns wall and process CPU ns per call.</summary>
    private static (double Wall, double Cpu) Slice(Action body, TimeSpan length, ref long total)
    {
        long calls = 0;
        TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
        long t0 = Stopwatch.GetTimestamp();
        long end = t0 + (long)(length.TotalSeconds * Stopwatch.Frequency);
        long now;
        do
        {
            body();
            calls++;
            now = Stopwatch.GetTimestamp();
        }
        while (now < end);

        double cpu = (Environment.CpuUsage.TotalTime - cpu0).TotalNanoseconds;
        total += calls;
        return (Stopwatch.GetElapsedTime(t0, now).TotalNanoseconds / calls, cpu / calls);
    }
}
