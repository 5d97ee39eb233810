using System.Diagnostics;
using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Memory;

namespace BatchSwap.Benchmarks.Reports;

/// <summary>
/// <c>--codec-backends [rounds]</c>: the implementations behind one codec name side by side (zstd's native libzstd
/// against the managed ZstdSharp.Port fallback; deflate through the system zlib at the levels the registry uses), one
/// thread, one reused context each, on 1024 pages strided over each page set. The variants take turns in every round
/// (the order alternating), so a shared machine's drifting load falls on all of them alike; the figures are medians
/// over the rounds, in nanoseconds per page, compression over every page and decompression over the pages that
/// compressed below a page.
/// </summary>
internal static unsafe class CodecBackendReport
{
    /// <summary>Pages per sample.</summary>
    private const int Pages = 1024;

    /// <summary>The variants: a label and the codec.</summary>
    private static (string Label, Func<ICodec> Codec)[] Variants() =>
    [
        ("zstd-1 native", () => new ZstdCodec(1)),
        ("zstd-1 managed", () => new ZstdCodec(1, preferNative: false)),
        ("deflate-1 libz", () => new DeflateCodec(1)),
        ("deflate-2 libz", () => new DeflateCodec(2)),
    ];

    /// <summary>Runs the report on every page set present.</summary>
    public static void Run(int rounds, TextWriter output)
    {
        (string Label, Func<ICodec> Codec)[] variants = Variants();
        output.WriteLine($"# codec backends: {rounds} interleaved rounds of {Pages} pages, one thread, median ns/page");
        output.WriteLine();
        output.WriteLine("| pages | variant | compress ns/page | decompress ns/page | ratio |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: |");
        foreach (string set in PageSets.Available())
        {
            using NativePages pages = PageSets.Sample(set, Pages);
            var contexts = variants.Select(v => v.Codec().CreateContext()).ToArray();
            var comp = variants.Select(_ => new List<double>()).ToArray();
            var decomp = variants.Select(_ => new List<double>()).ToArray();
            var ratio = new double[variants.Length];
            using var compressed = new NativePages(Pages);
            using var frame = new NativePages(1);
            var lengths = new int[Pages];
            for (int r = 0; r < rounds + 1; r++)
            {
                for (int k = 0; k < variants.Length; k++)
                {
                    int v = r % 2 == 0 ? k : variants.Length - 1 - k;
                    (double c, double d, double q) = Measure(contexts[v], pages, compressed, frame, lengths);
                    if (r == 0) continue; // warm-up
                    comp[v].Add(c);
                    decomp[v].Add(d);
                    ratio[v] = q;
                }
            }

            for (int v = 0; v < variants.Length; v++)
            {
                output.WriteLine($"| {set} | {variants[v].Label} | {Median(comp[v]):F0} | {Median(decomp[v]):F0} | {ratio[v]:F2} |");
                contexts[v].Dispose();
            }
        }
    }

    /// <summary>One pass: compresses every page, decompresses (and checks) the ones that fit; ns/page each, and the ratio.</summary>
    private static (double Compress, double Decompress, double Ratio) Measure(IPageCodecContext context, NativePages pages, NativePages compressed, NativePages frame, int[] lengths)
    {
        long stored = 0;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < Pages; i++)
        {
            bool ok = context.Compress(pages.Span(i), compressed.Span(i), out int n) == CodecStatus.Ok && n < PageSize.Bytes;
            lengths[i] = ok ? n : 0;
            stored += ok ? n : PageSize.Bytes;
        }

        double compress = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / Pages;
        int count = 0;
        long t1 = Stopwatch.GetTimestamp();
        for (int i = 0; i < Pages; i++)
        {
            if (lengths[i] == 0) continue;
            count++;
            if (context.Decompress(new ReadOnlySpan<byte>(compressed.Page(i), lengths[i]), frame.Span(0)) != CodecStatus.Ok)
                throw new InvalidOperationException($"page {i} did not decompress");
        }

        double decompress = count == 0 ? 0 : Stopwatch.GetElapsedTime(t1).TotalNanoseconds / count;
        return (compress, decompress, (double)Pages * PageSize.Bytes / stored);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n == 0 ? 0 : n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
