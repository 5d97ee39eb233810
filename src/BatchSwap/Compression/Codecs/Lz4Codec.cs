using K4os.Compression.LZ4;

namespace BatchSwap.Compression.Codecs;

/// <summary>
/// LZ4 block format (fast mode, acceleration 1) through K4os.Compression.LZ4, the codec the kernel calls "lz4".
/// </summary>
/// <remarks>
/// <c>LZ4Codec.Encode</c> allocates no managed memory: its hash table
/// (<c>LZ4_stream_t</c>, 16 KiB) lives on the stack and is re-initialised per call, exactly like C's
/// <c>LZ4_compress_fast</c>. K4os' only reusable engine context (<c>Pubternal.FastContext</c>) implements
/// <c>LZ4_compress_fast_continue</c>, which chains blocks through a dictionary and cannot be reset through the
/// public API, so it would make pages depend on each other; the stateless block API is therefore used.
/// Both directions are bounded: encoding into a too-small destination fails cleanly (limitedOutput), and
/// decoding uses <c>LZ4_decompress_safe</c>, which never reads or writes out of bounds.
/// </remarks>
public sealed class Lz4Codec : ICodec
{
    /// <summary>The stable codec id stored with every entry.</summary>
    public const byte CodecId = 1;

    /// <inheritdoc />
    public string Name => "lz4";

    /// <inheritdoc />
    public byte Id => CodecId;

    /// <inheritdoc />
    public int MaxCompressedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        return LZ4Codec.MaximumOutputSize(inputLength);
    }

    /// <inheritdoc />
    public IPageCodecContext CreateContext() => new Context();

    /// <summary>LZ4 needs no per-engine state; the context only tracks disposal so misuse is reported consistently.</summary>
    private sealed class Context : IPageCodecContext
    {
        /// <summary>Set once <see cref="Dispose"/> has run.</summary>
        private bool _disposed;

        public unsafe CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            written = 0;
            if (source.IsEmpty)
            {
                return CodecStatus.Ok;
            }

            if (destination.IsEmpty)
            {
                return CodecStatus.DidNotFit;
            }

            int n;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                n = LZ4Codec.Encode(src, source.Length, dst, destination.Length, LZ4Level.L00_FAST);
            }

            if (n <= 0)
            {
                return CodecStatus.DidNotFit;
            }

            written = n;
            return CodecStatus.Ok;
        }

        public unsafe CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (source.IsEmpty || destination.IsEmpty)
            {
                return source.IsEmpty && destination.IsEmpty ? CodecStatus.Ok : CodecStatus.CorruptInput;
            }

            int n;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                n = LZ4Codec.Decode(src, source.Length, dst, destination.Length);
            }

            return n == destination.Length ? CodecStatus.Ok : CodecStatus.CorruptInput;
        }

        public void Dispose() => _disposed = true;
    }
}
