using System.Runtime.InteropServices;
using BatchSwap.Compression;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Workloads.Metrics;

/// <summary>
/// The codec-limit fraction of a run: the time the codec alone needed for the compression and decompression jobs the
/// run really submitted (<c>zswap_compress_jobs</c>, <c>zswap_decompress_jobs</c>), priced single-threaded on the
/// run's pages after the run, divided by wall time × cores. Near 1, the run was codec-bound on every core: nothing
/// but a faster codec (or fewer compressions) would make it faster. Well below 1, the time went elsewhere (faults,
/// reclaim, locks, I/O, idle cores).
/// </summary>
/// <param name="Compressions">Compression jobs the run submitted (every page the engines hashed and compressed or found same-filled).</param>
/// <param name="Decompressions">Decompression jobs the run submitted (loads and writebacks of compressed entries).</param>
/// <param name="CompressNsPerPage">Single-threaded nanoseconds of one compression job.</param>
/// <param name="DecompressNsPerPage">Single-threaded nanoseconds of one decompression job.</param>
/// <param name="WallSeconds">The run's wall time (without the pricing).</param>
/// <param name="Cores">Cores the run could use (<see cref="Environment.ProcessorCount"/>).</param>
public sealed record CodecLimit(long Compressions, long Decompressions, double CompressNsPerPage, double DecompressNsPerPage, double WallSeconds, int Cores)
{
    /// <summary>Most pages <see cref="Price"/> samples by default: 16 MiB, a few tens of milliseconds with LZ4.</summary>
    public const int DefaultSamplePages = 4096;

    /// <summary>Seconds the codec alone needed for the run's jobs, on one core.</summary>
    public double CodecSeconds => (Compressions * CompressNsPerPage + Decompressions * DecompressNsPerPage) / 1e9;

    /// <summary><see cref="CodecSeconds"/> / (<see cref="WallSeconds"/> × <see cref="Cores"/>); 0 for a run of no time.</summary>
    public double Fraction => WallSeconds > 0 && Cores > 0 ? CodecSeconds / (WallSeconds * Cores) : 0;

    /// <summary>The limit of a run whose counters (deltas over the run) are <paramref name="counters"/>, at <paramref name="price"/>.</summary>
    public static CodecLimit Of(CounterSnapshot counters, CodecPrice price, double wallSeconds, int cores)
    {
        ArgumentNullException.ThrowIfNull(counters);
        return new CodecLimit(counters[Counter.ZswapCompressJobs], counters[Counter.ZswapDecompressJobs],
            price.CompressNsPerPage, price.DecompressNsPerPage, wallSeconds, cores);
    }

    /// <summary>
    /// Prices the tier's compressor (<see cref="MemoryTier.PriceCodec"/>) on <paramref name="count"/> pages of
    /// <paramref name="source"/>: sample <c>k</c> is source page <paramref name="sourcePageOf"/>(k). The pages are copied
    /// into one native buffer first, so that the codec reads them as the engines read frames.
    /// </summary>
    public static unsafe CodecPrice Price(MemoryTier tier, IPageSource source, int count, Func<int, long> sourcePageOf, int repetitions = 3)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sourcePageOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        nuint bytes = (nuint)count * PageSize.Bytes;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc(bytes, PageSize.Bytes);
        try
        {
            for (int k = 0; k < count; k++)
                source.GetPage(sourcePageOf(k)).CopyTo(new Span<byte>(buffer + (long)k * PageSize.Bytes, PageSize.Bytes));
            return tier.PriceCodec(new ReadOnlySpan<byte>(buffer, checked((int)bytes)), repetitions);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }
}
