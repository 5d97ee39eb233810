using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Memory;

namespace BatchSwap.Benchmarks.Data;

/// <summary>How well a codec compresses a page set, measured the way zswap stores pages.</summary>
/// <param name="Pages">Pages compressed.</param>
/// <param name="StoredBytes">Bytes zswap would keep: the compressed size, or a whole page when the output is not below a page.</param>
/// <param name="DidNotFit">Pages whose compressed form was not below a page (kept as-is).</param>
internal readonly record struct CompressionStats(int Pages, long StoredBytes, int DidNotFit)
{
    /// <summary>Original bytes / stored bytes.</summary>
    public double Ratio => StoredBytes == 0 ? 0 : (double)Pages * PageSize.Bytes / StoredBytes;

    /// <summary>Results already measured in this process, by codec and set.</summary>
    private static readonly Dictionary<(string Codec, string Set, int Pages), CompressionStats> s_cache = new();

    /// <summary>
    /// Compresses the first <paramref name="pages"/> pages of the strided sample of <paramref name="set"/> (the very pages the
    /// benchmarks use) one at a time into a one-page buffer, as an engine does.
    /// </summary>
    public static unsafe CompressionStats Measure(string codecName, string set, int pages)
    {
        lock (s_cache)
        {
            if (s_cache.TryGetValue((codecName, set, pages), out CompressionStats cached)) return cached;
            using NativePages sample = PageSets.Sample(set, pages);
            using IPageCodecContext context = CodecRegistry.Get(codecName).CreateContext();
            byte[] output = new byte[PageSize.Bytes];
            long stored = 0;
            int didNotFit = 0;
            for (int i = 0; i < pages; i++)
            {
                CodecStatus s = context.Compress(sample.Span(i), output, out int written);
                if (s == CodecStatus.Ok && written < PageSize.Bytes)
                {
                    stored += written;
                }
                else
                {
                    stored += PageSize.Bytes;
                    didNotFit++;
                }
            }

            var result = new CompressionStats(pages, stored, didNotFit);
            s_cache.Add((codecName, set, pages), result);
            return result;
        }
    }
}
