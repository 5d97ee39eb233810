using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Codecs;

/// <summary>
/// Raw deflate (RFC 1951: no zlib or gzip wrapper), readable by any inflater, e.g.
/// <see cref="System.IO.Compression.DeflateStream"/> or zlib's inflateInit2(-15).
/// </summary>
/// <remarks>
/// .NET 10 has no span-based deflate API, and <see cref="System.IO.Compression.DeflateStream"/> must be created per page
/// (managed garbage plus a native deflateInit each time), so the codec calls the system zlib, <c>libz.so.1</c>, through
/// zlib's documented, versioned ABI (<c>deflateInit2_</c>/<c>inflateInit2_</c> with the library's own version string
/// and the <c>z_stream</c> size, checked by zlib; <c>deflate</c>, <c>deflateReset</c>, <c>inflate</c>, ...). Each
/// context owns one deflate and one inflate <c>z_stream</c> in native memory, created once and reset per page. The
/// runtime's private <c>CompressionNative_*</c> exports (its bundled zlib-ng) are not used: they are no contract and
/// change between runtime versions. When libz.so.1 cannot be loaded, creating a context throws
/// <see cref="PlatformNotSupportedException"/> naming the library (Debian/Ubuntu package zlib1g).
/// </remarks>
public sealed class DeflateCodec : ICodec
{
    /// <summary>The stable codec id stored with every entry of "deflate".</summary>
    public const byte CodecId = 4;

    /// <summary>The stable codec id of "deflate-fast" (the same format at <see cref="FastLevel"/>).</summary>
    public const byte FastCodecId = 5;

    /// <summary>
    /// The level of "deflate-fast": zlib's level 1 (deflate_fast, the shortest match search). Its output is plain raw
    /// deflate like any other level; it trades ratio for speed. With the system zlib it is about as fast as level 2
    /// (docs/dependencies.md: the runtime's zlib-ng, used before, had a "quick" level 1 three to four times
    /// faster per page, at a worse ratio).
    /// </summary>
    public const int FastLevel = 1;

    /// <summary>Lowest accepted level (0, "store", is rejected: it can never fit a page in less than a page).</summary>
    public const int MinLevel = 1;

    /// <summary>Highest accepted level.</summary>
    public const int MaxLevel = 9;

    /// <summary>
    /// The default level, 2: level 6 gained only 1-2% ratio for about half the compression speed, and deflate is the
    /// ratio-oriented choice (lz4/snappy/zstd cover speed).
    /// </summary>
    public const int DefaultLevel = 2;

    /// <summary>Creates a deflate codec.</summary>
    /// <param name="level">zlib level in [<see cref="MinLevel"/>, <see cref="MaxLevel"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="level"/> is outside [1, 9].</exception>
    public DeflateCodec(int level = DefaultLevel)
        : this(level, "deflate", CodecId)
    {
    }

    /// <summary>Creates a deflate codec registered under its own name and id (a level other than the default).</summary>
    /// <param name="level">zlib level in [<see cref="MinLevel"/>, <see cref="MaxLevel"/>].</param>
    /// <param name="name">The name selectable as zswap.compressor.</param>
    /// <param name="id">The codec id stored with entries (any deflate codec decompresses them; the id picks the level of the contexts).</param>
    internal DeflateCodec(int level, string name, byte id)
    {
        Name = name;
        Id = id;
        if (level < MinLevel || level > MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"deflate compression level must be in [{MinLevel}, {MaxLevel}]");
        }

        Level = level;
    }

    /// <summary>Whether the system zlib (libz.so.1, version 1.x) loaded in this process.</summary>
    public static bool IsAvailable => SystemZlib.Available;

    /// <summary>The zlib level.</summary>
    public int Level { get; }

    /// <summary>The implementation, with its version: "zlib 1.2.13 (libz.so.1)", or why it did not load.</summary>
    public string Backend => SystemZlib.Available ? $"zlib {SystemZlib.VersionString} ({SystemZlib.LibraryName})" : SystemZlib.LoadError;

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public byte Id { get; }

    /// <inheritdoc />
    public int MaxCompressedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);

        // More than zlib's deflateBound() (kept from when zlib-ng's level-1 "quick" strategy, whose static Huffman codes
        // can expand by 1/8, was also used, so entry sizes stay as they were), without any zlib/gzip wrapper.
        return inputLength + ((inputLength + 7) >> 3) + ((inputLength + 63) >> 6) + 11;
    }

    /// <inheritdoc />
    /// <exception cref="PlatformNotSupportedException">libz.so.1 could not be loaded, or is not zlib 1.x.</exception>
    public IPageCodecContext CreateContext() =>
        SystemZlib.Available ? new ZlibContext<ZStream>(Level) : throw new PlatformNotSupportedException(SystemZlib.LoadError);

    /// <summary>
    /// One deflate and one inflate stream of <typeparamref name="TStream"/>'s zlib in native memory, opened once per
    /// context and reset per page (deflateReset/inflateReset).
    /// </summary>
    private sealed unsafe class ZlibContext<TStream> : IPageCodecContext
        where TStream : unmanaged, IZlibStream<TStream>
    {
        /// <summary>The deflate level.</summary>
        private readonly int _level;

        /// <summary>The deflate stream.</summary>
        private TStream* _deflate;

        /// <summary>The inflate stream.</summary>
        private TStream* _inflate;

        public ZlibContext(int level)
        {
            _level = level;
            _deflate = (TStream*)NativeMemory.AllocZeroed((nuint)sizeof(TStream));
            _inflate = (TStream*)NativeMemory.AllocZeroed((nuint)sizeof(TStream));
            int rc = TStream.OpenDeflate(_deflate, level);
            if (rc != Zlib.Ok)
            {
                NativeMemory.Free(_deflate);
                _deflate = null;
                Free();
                throw new InvalidOperationException($"{TStream.OpenDeflateName} failed: {rc}");
            }

            rc = TStream.OpenInflate(_inflate);
            if (rc != Zlib.Ok)
            {
                NativeMemory.Free(_inflate);
                _inflate = null;
                Free();
                throw new InvalidOperationException($"{TStream.OpenInflateName} failed: {rc}");
            }
        }

        ~ZlibContext() => Free();

        public CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            ObjectDisposedException.ThrowIf(_deflate == null, this);
            written = 0;
            TStream* z = _deflate;
            if (TStream.StartDeflate(z, _level) != Zlib.Ok)
            {
                return CodecStatus.Failed;
            }

            int rc = Run(z, &TStream.Deflate, source, destination, out _, out uint availOut);
            TStream.FinishDeflate(z);
            CodecStatus status = Zlib.DeflateStatus(rc);
            if (status == CodecStatus.Ok)
            {
                written = destination.Length - (int)availOut;
            }

            return status;
        }

        public CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_inflate == null, this);
            TStream* z = _inflate;
            if (TStream.StartInflate(z) != Zlib.Ok)
            {
                return CodecStatus.Failed;
            }

            int rc = Run(z, &TStream.Inflate, source, destination, out uint availIn, out uint availOut);
            return Zlib.InflateStatus(rc, availIn, availOut);
        }

        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        /// <summary>One deflate or inflate call with Z_FINISH over the whole page; returns its code and the unused input and output.</summary>
        private static int Run(TStream* z, delegate*<TStream*, int, int> code, ReadOnlySpan<byte> source, Span<byte> destination, out uint availIn, out uint availOut)
        {
            int rc;
            byte empty;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                TStream.NextIn(z) = src;
                TStream.AvailIn(z) = (uint)source.Length;
                TStream.NextOut(z) = dst != null ? dst : &empty; // zlib rejects a null next_out even with avail_out == 0
                TStream.AvailOut(z) = (uint)destination.Length;
                rc = code(z, Zlib.Finish);
                TStream.NextIn(z) = null;
                TStream.NextOut(z) = null;
            }

            availIn = TStream.AvailIn(z);
            availOut = TStream.AvailOut(z);
            return rc;
        }

        /// <summary>Closes and frees both streams; idempotent.</summary>
        private void Free()
        {
            if (_deflate != null)
            {
                TStream.CloseDeflate(_deflate);
                NativeMemory.Free(_deflate);
                _deflate = null;
            }

            if (_inflate != null)
            {
                TStream.CloseInflate(_inflate);
                NativeMemory.Free(_inflate);
                _inflate = null;
            }
        }
    }
}
