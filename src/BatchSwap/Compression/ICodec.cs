namespace BatchSwap.Compression;

/// <summary>Outcome of compressing or decompressing one page. Bad data is a result, never an exception.</summary>
public enum CodecStatus : byte
{
    /// <summary>The operation succeeded.</summary>
    Ok = 0,
    /// <summary>The compressed form did not fit in the destination (the page is incompressible at this size).</summary>
    DidNotFit = 1,
    /// <summary>The codec failed for another reason (an internal error of the codec or its native library).</summary>
    Failed = 2,
    /// <summary>The compressed input was corrupt or truncated, or did not decompress to exactly one page.</summary>
    CorruptInput = 3,
}

/// <summary>
/// A compression algorithm selectable by name as <c>zswap.compressor</c>. A codec is stateless;
/// all state lives in the <see cref="IPageCodecContext"/> each engine creates once and reuses.
/// </summary>
public interface ICodec
{
    /// <summary>The name used by <c>zswap.compressor</c> ("lz4", "zstd", "snappy", "deflate").</summary>
    string Name { get; }

    /// <summary>A small stable number stored with every compressed entry so that it is decompressed by the codec it was written with.</summary>
    byte Id { get; }

    /// <summary>The largest compressed size of one page; destination buffers are at least this large.</summary>
    int MaxCompressedLength(int inputLength);

    /// <summary>Creates a context (native state, scratch buffers) for one engine. Created once and reused for every page.</summary>
    IPageCodecContext CreateContext();
}

/// <summary>
/// Per-engine codec state. Not thread-safe: one engine (thread) uses it at a time.
/// Neither method allocates managed memory at steady state.
/// </summary>
public interface IPageCodecContext : IDisposable
{
    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/>.
    /// Returns <see cref="CodecStatus.DidNotFit"/> when the output would not fit in <paramref name="destination"/>.</summary>
    CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written);

    /// <summary>Decompresses <paramref name="source"/> into <paramref name="destination"/>, which it must fill exactly.
    /// Returns <see cref="CodecStatus.CorruptInput"/> for corrupt, truncated or wrongly sized data; never throws for bad data.</summary>
    CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination);
}
