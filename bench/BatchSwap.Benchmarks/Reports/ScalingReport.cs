using System.Diagnostics;
using System.Globalization;
using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;
using BatchSwap.Memory;

namespace BatchSwap.Benchmarks.Reports;

/// <summary>
/// <c>--scaling [seconds [rounds]]</c>: what the cores give a codec with no coordination at all. Each thread compresses
/// its own copy of the sample in a loop, with its own context and output buffer, and never waits for the other: one
/// thread alone, then one thread per core at once, alternated for a few rounds. The ratio (all threads' pages per
/// second) / (cores × one thread's) is the hardware's own ceiling for issue 3's target (a), which compares batches on
/// the engines with twice the single-thread codec; no dispatcher can beat it. It also runs the engines' own per-page
/// work (<see cref="PageWork"/>: checksum, same-filled check, compress) the same way, which is what a batch spreads
/// over the engines, so that its cost over the bare codec can be read apart from the scaling.
/// </summary>
internal static unsafe class ScalingReport
{
    public static void Run(double seconds, int rounds, TextWriter output)
    {
        int cores = Environment.ProcessorCount;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Free-running compression, {cores} cores: 1 thread, then {cores} threads at once, {seconds} s each, {rounds} rounds alternated; medians."));
        output.WriteLine();
        output.WriteLine($"| Set | Codec | work | 1 thread ns/page | {cores} threads ns/page (wall, all threads) | {cores} threads / ({cores} × 1 thread) | {cores} threads / ({cores} × bare codec, 1 thread) |");
        output.WriteLine("|---|---|---|---:|---:|---:|---:|");
        foreach (string set in PageSets.Available())
        {
            using NativePages sample = PageSets.Sample(set, SamplePages);
            foreach (string codec in CodecRegistry.Names)
            {
                var one = new List<double>[2];
                var all = new List<double>[2];
                var ratio = new List<double>[2];
                var toBare = new List<double>();
                for (int w = 0; w < 2; w++) (one[w], all[w], ratio[w]) = ([], [], []);
                for (int r = 0; r < rounds; r++)
                {
                    double bare = 0;
                    for (int w = 0; w < 2; w++)
                    {
                        bool pageWork = w == 1;
                        double single = PagesPerSecond(sample, codec, 1, seconds, pageWork);
                        double many = PagesPerSecond(sample, codec, cores, seconds, pageWork);
                        if (!pageWork) bare = single;
                        one[w].Add(1e9 / single);
                        all[w].Add(1e9 / many);
                        ratio[w].Add(many / (cores * single));
                        if (pageWork) toBare.Add(many / (cores * bare));
                    }
                }
                for (int w = 0; w < 2; w++)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {set} | {codec} | {(w == 0 ? "bare codec" : "PageWork")} | {Medians.Of(one[w]):F0} | {Medians.Of(all[w]):F0} | {Medians.Of(ratio[w]):F2} | {Medians.Of(w == 0 ? ratio[0] : toBare):F2} |"));
                }
                output.Flush();
            }
        }
    }

    /// <summary>Pages of the sample each thread compresses, over and over.</summary>
    private const int SamplePages = 256;

    /// <summary>
    /// Pages compressed per second by <paramref name="threads"/> threads running free for <paramref name="seconds"/>,
    /// each on its own copy of <paramref name="sample"/>.
    /// </summary>
    private static double PagesPerSecond(NativePages sample, string codec, int threads, double seconds, bool pageWork)
    {
        var counts = new long[threads];
        var elapsed = new long[threads];
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                using var pages = new NativePages(SamplePages);
                for (int i = 0; i < SamplePages; i++) sample.Span(i).CopyTo(pages.Span(i));
                using IPageCodecContext ctx = CodecRegistry.Get(codec).CreateContext();
                using var batch = new JobBatch(1);
                byte id = CodecRegistry.Get(codec).Id;
                var output = new byte[2 * PageSize.Bytes];
                void One(int i)
                {
                    if (!pageWork)
                    {
                        ctx.Compress(pages.Span(i), output, out _);
                        return;
                    }
                    batch.Clear();
                    PageWork.Run(ref batch.AddCompress(pages.Page(i), id), ctx, faults: null);
                }

                for (int i = 0; i < SamplePages; i++) One(i); // warm
                start.SignalAndWait();
                long n = 0;
                long t0 = Stopwatch.GetTimestamp();
                long deadline = t0 + (long)(seconds * Stopwatch.Frequency);
                long now;
                do
                {
                    for (int i = 0; i < 16; i++, n++) One((int)(n % SamplePages));
                    now = Stopwatch.GetTimestamp();
                } while (now < deadline);
                counts[index] = n;
                elapsed[index] = now - t0;
            });
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        double total = 0;
        for (int t = 0; t < threads; t++) total += counts[t] * (double)Stopwatch.Frequency / elapsed[t];
        return total;
    }
}
