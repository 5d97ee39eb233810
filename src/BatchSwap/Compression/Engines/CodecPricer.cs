using System.Diagnostics;
using System.Runtime.InteropServices;
using BatchSwap.Memory;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// Times the engines' per-page work single-threaded: the same <see cref="PageWork.Run"/> an engine runs, on jobs
/// shaped as zswap shapes them (a page-sized destination, so incompressible pages stop where the engines' do), so
/// that the price is the engines' and not a codec benchmark's.
/// </summary>
internal static unsafe class CodecPricer
{
    /// <summary>Pages compressed, then decompressed, per timed chunk: small enough to stay in cache, large enough
    /// that reading the clock is noise.</summary>
    private const int ChunkPages = 32;

    /// <summary>
    /// Prices <paramref name="codec"/> on <paramref name="pages"/> (whole 4 KiB pages back to back): up to
    /// <paramref name="repetitions"/> timed passes, fewer when they would run past <paramref name="budget"/> (at least
    /// one), after an untimed warm-up chunk. Allocates two small native buffers and one codec context.
    /// </summary>
    public static CodecPrice Price(ICodec codec, bool verifyChecksums, ReadOnlySpan<byte> pages, int repetitions, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(codec);
        if (pages.Length == 0 || pages.Length % PageSize.Bytes != 0)
            throw new ArgumentException($"pages must be a non-empty whole number of {PageSize.Bytes}-byte pages, got {pages.Length} bytes", nameof(pages));
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        int count = pages.Length / PageSize.Bytes;
        repetitions = Math.Min(repetitions, 15);
        Span<long> compressTicks = stackalloc long[repetitions], decompressTicks = stackalloc long[repetitions];
        Span<PageJob> jobs = stackalloc PageJob[ChunkPages];
        byte* outputs = (byte*)NativeMemory.AlignedAlloc((nuint)(ChunkPages * PageSize.Bytes), PageSize.Bytes);
        byte* frame = (byte*)NativeMemory.AlignedAlloc((nuint)PageSize.Bytes, PageSize.Bytes);
        try
        {
            using IPageCodecContext context = codec.CreateContext();
            fixed (byte* source = pages)
            {
                var chunk = new Chunk(source, outputs, frame, codec.Id, verifyChecksums);
                chunk.Run(jobs, context, 0, Math.Min(ChunkPages, count), out _, out _, out _); // warm-up: context state, caches

                int compressed = 0, done = 0;
                long start = Stopwatch.GetTimestamp();
                while (done < repetitions)
                {
                    long c = 0, d = 0;
                    compressed = 0;
                    for (int first = 0; first < count; first += ChunkPages)
                    {
                        chunk.Run(jobs, context, first, Math.Min(ChunkPages, count - first), out long ct, out long dt, out int n);
                        c += ct;
                        d += dt;
                        compressed += n;
                    }
                    compressTicks[done] = c;
                    decompressTicks[done] = d;
                    done++;
                    // Stop before a repetition that would pass the budget: slow codecs get fewer, never none.
                    long elapsed = Stopwatch.GetTimestamp() - start;
                    if (elapsed + elapsed / done > budget.TotalSeconds * Stopwatch.Frequency) break;
                }
                double nsPerTick = 1e9 / Stopwatch.Frequency;
                return new CodecPrice(
                    Median(compressTicks[..done]) * nsPerTick / count,
                    compressed == 0 ? 0 : Median(decompressTicks[..done]) * nsPerTick / compressed,
                    count, compressed, done);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(outputs);
            NativeMemory.AlignedFree(frame);
        }
    }

    /// <summary>The median of a few values (sorts them in place).</summary>
    private static double Median(Span<long> values)
    {
        values.Sort();
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
    }

    /// <summary>The buffers one chunk's jobs point into.</summary>
    private readonly struct Chunk(byte* source, byte* outputs, byte* frame, byte codecId, bool verify)
    {
        /// <summary>
        /// Compresses pages [<paramref name="first"/>, +<paramref name="n"/>) as compression jobs, then decompresses
        /// those that compressed as decompression jobs into one frame; gives the ticks of each phase and how many
        /// compressed.
        /// </summary>
        public void Run(Span<PageJob> jobs, IPageCodecContext context, int first, int n, out long compressTicks, out long decompressTicks, out int compressed)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                ref PageJob j = ref jobs[i];
                j = PageJob.Compress(source + (long)(first + i) * PageSize.Bytes, outputs + (long)i * PageSize.Bytes, codecId);
                PageWork.Run(ref j, context, null);
            }
            long t1 = Stopwatch.GetTimestamp();
            compressed = 0;
            for (int i = 0; i < n; i++)
            {
                ref PageJob j = ref jobs[i];
                if (j.Result != JobResult.Compressed) continue; // only codec output becomes a decompression job
                compressed++;
                uint checksum = j.Checksum;
                byte* data = j.Destination;
                int length = j.Written;
                j = PageJob.Decompress(data, length, codecId, frame);
                j.Checksum = checksum;
                j.Verify = verify;
                PageWork.Run(ref j, context, null);
            }
            long t2 = Stopwatch.GetTimestamp();
            compressTicks = t1 - t0;
            decompressTicks = t2 - t1;
        }
    }
}
