using System.Runtime.InteropServices;
using K4os.Compression.LZ4;

namespace BatchSwap.Compression.Codecs;

/// <summary>
/// LZ4 block format (fast mode, acceleration 1), the codec the kernel calls "lz4": compressed by the system's liblz4
/// where it loads (<see cref="Lz4Native"/>, in a state made once per engine), else by K4os.Compression.LZ4;
/// decompressed by K4os.
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

    /// <summary>Whether the contexts compress with liblz4.</summary>
    private readonly bool _native;

    /// <summary>A codec that compresses with liblz4 where it loads, else with K4os.</summary>
    public Lz4Codec() : this(native: true) { }

    /// <summary>A codec that compresses with K4os when <paramref name="native"/> is false (for tests of the fallback).</summary>
    internal Lz4Codec(bool native) => _native = native && Lz4Native.Available;

    /// <summary>The <see cref="Backend"/> value when K4os compresses (liblz4 did not load).</summary>
    public const string ManagedBackend = "k4os";

    /// <summary>Who compresses: <c>liblz4 1.9.4 (liblz4.so.1)</c>, or <see cref="ManagedBackend"/>.</summary>
    public string Backend => _native ? $"liblz4 {Lz4Native.VersionString} ({Lz4Native.Library})" : ManagedBackend;

    /// <inheritdoc />
    public int MaxCompressedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        return LZ4Codec.MaximumOutputSize(inputLength);
    }

    /// <inheritdoc />
    public IPageCodecContext CreateContext() => new Context(_native);

    /// <summary>One engine's codec: liblz4's compression state when the library is there (made once, reused).</summary>
    private sealed unsafe class Context : IPageCodecContext
    {
        /// <summary>Set once <see cref="Dispose"/> has run.</summary>
        private bool _disposed;

        /// <summary>liblz4's state (LZ4_sizeofState bytes), or null when K4os compresses.</summary>
        private void* _state;

        public Context(bool native) => _state = native ? NativeMemory.AlignedAlloc((nuint)Lz4Native.StateSize, 64) : null;

        ~Context() => Free();

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
                n = _state is not null
                    ? Lz4Native.CompressFastExtState(_state, src, dst, source.Length, destination.Length, 1)
                    : LZ4Codec.Encode(src, source.Length, dst, destination.Length, LZ4Level.L00_FAST);
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

        public void Dispose()
        {
            _disposed = true;
            Free();
            GC.SuppressFinalize(this);
        }

        private void Free()
        {
            NativeMemory.AlignedFree(_state);
            _state = null;
        }
    }
}
