using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Codecs;

/// <summary>Which zlib implementation a <see cref="DeflateCodec"/> uses.</summary>
public enum DeflateBackend
{
    /// <summary>Pick the fastest available: <see cref="RuntimeZlibNg"/>, else <see cref="SystemZlib"/>.</summary>
    Auto = 0,

    /// <summary>zlib-ng inside the .NET runtime's libSystem.IO.Compression.Native, through its CompressionNative_* exports.</summary>
    RuntimeZlibNg = 1,

    /// <summary>The system zlib, libz.so.1.</summary>
    SystemZlib = 2,
}

/// <summary>
/// Raw deflate (RFC 1951: no zlib or gzip wrapper), readable by any inflater, e.g.
/// <see cref="System.IO.Compression.DeflateStream"/> or zlib's inflateInit2(-15).
/// </summary>
/// <remarks>
/// .NET 10 has no span-based deflate API, and <see cref="System.IO.Compression.DeflateStream"/> must be created per page
/// (about 200 bytes of managed garbage plus a native deflateInit each time; measured no faster than calling the same
/// zlib-ng directly), so the codec calls zlib directly with native <c>z_stream</c>s owned by the context. Two implementations are bound:
/// zlib-ng from the .NET runtime (fastest; its PAL has no deflateReset, so the deflate stream is re-initialised per
/// page, while inflate uses InflateReset2_) and the system libz.so.1 (z_streams created once, reset with
/// deflateReset/inflateReset). Both read each other's output. Note that zlib-ng's level 1 is its "quick" strategy
/// (static Huffman trees only), which is much faster but compresses noticeably worse than classic zlib's level 1;
/// from level 2 up both produce similar ratios.
/// </remarks>
public sealed class DeflateCodec : ICodec
{
    /// <summary>The stable codec id stored with every entry of "deflate".</summary>
    public const byte CodecId = 4;

    /// <summary>The stable codec id of "deflate-fast" (the same format at <see cref="FastLevel"/>).</summary>
    public const byte FastCodecId = 5;

    /// <summary>
    /// The level of "deflate-fast": zlib-ng's "quick" strategy (static Huffman codes). Its output is plain raw
    /// deflate like any other level; it trades ratio for speed, as IAA's own deflate does (IAA deflate 2.23 against
    /// zstd 2.96 in the seed's data). On the python heap image: ratio 4.16 against 5.03 at level 2, about twice the
    /// usemem throughput.
    /// </summary>
    public const int FastLevel = 1;

    /// <summary>Lowest accepted level (0, "store", is rejected: it can never fit a page in less than a page).</summary>
    public const int MinLevel = 1;

    /// <summary>Highest accepted level.</summary>
    public const int MaxLevel = 9;

    /// <summary>
    /// The default level, 2. With zlib-ng, level 1 is the "quick" strategy (static Huffman codes only): on 4 KiB pages
    /// it compressed text-like data 1.73x and pointer-like data 2.27x, against 2.47x and 2.76x at level 2, i.e. up to
    /// 43% more stored bytes for 2-4x the compression speed; level 6 gained only 1-2% ratio for about half the
    /// compression speed. Deflate is the ratio-oriented choice (lz4/snappy/zstd cover speed), so 2 is the best trade-off.
    /// With the system zlib, level 2 is about as fast as level 1 and slightly smaller.
    /// </summary>
    public const int DefaultLevel = 2;

    /// <summary>The backend actually used by contexts.</summary>
    private readonly DeflateBackend _backend;

    /// <summary>Creates a deflate codec.</summary>
    /// <param name="level">zlib level in [<see cref="MinLevel"/>, <see cref="MaxLevel"/>].</param>
    /// <param name="backend">The zlib implementation; <see cref="DeflateBackend.Auto"/> picks the fastest available.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="level"/> is outside [1, 9].</exception>
    /// <exception cref="PlatformNotSupportedException">The requested backend (or, for Auto, any backend) cannot be loaded.</exception>
    public DeflateCodec(int level = DefaultLevel, DeflateBackend backend = DeflateBackend.Auto)
        : this(level, backend, "deflate", CodecId)
    {
    }

    /// <summary>Creates a deflate codec registered under its own name and id (a level other than the default).</summary>
    /// <param name="level">zlib level in [<see cref="MinLevel"/>, <see cref="MaxLevel"/>].</param>
    /// <param name="backend">The zlib implementation.</param>
    /// <param name="name">The name selectable as zswap.compressor.</param>
    /// <param name="id">The codec id stored with entries (any deflate codec decompresses them; the id picks the level of the contexts).</param>
    internal DeflateCodec(int level, DeflateBackend backend, string name, byte id)
    {
        Name = name;
        Id = id;
        if (level < MinLevel || level > MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"deflate compression level must be in [{MinLevel}, {MaxLevel}]");
        }

        Level = level;
        _backend = backend switch
        {
            DeflateBackend.Auto when RuntimeZlib.Available => DeflateBackend.RuntimeZlibNg,
            DeflateBackend.Auto when SystemZlib.Available => DeflateBackend.SystemZlib,
            DeflateBackend.RuntimeZlibNg when RuntimeZlib.Available => backend,
            DeflateBackend.SystemZlib when SystemZlib.Available => backend,
            _ => throw new PlatformNotSupportedException($"deflate backend {backend} is not available (runtime zlib-ng: {RuntimeZlib.Available}, {SystemZlib.LibraryName}: {SystemZlib.Available})"),
        };
    }

    /// <summary>Whether <paramref name="backend"/> can be used in this process (Auto: any).</summary>
    public static bool IsAvailable(DeflateBackend backend) => backend switch
    {
        DeflateBackend.RuntimeZlibNg => RuntimeZlib.Available,
        DeflateBackend.SystemZlib => SystemZlib.Available,
        _ => RuntimeZlib.Available || SystemZlib.Available,
    };

    /// <summary>The zlib level.</summary>
    public int Level { get; }

    /// <summary>The backend in use (never <see cref="DeflateBackend.Auto"/>).</summary>
    public DeflateBackend BackendKind => _backend;

    /// <summary>"zlib-ng (runtime)" or "zlib (libz.so.1)".</summary>
    public string Backend => _backend == DeflateBackend.RuntimeZlibNg ? "zlib-ng (runtime)" : "zlib (libz.so.1)";

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public byte Id { get; }

    /// <inheritdoc />
    public int MaxCompressedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);

        // The most conservative deflateBound() of zlib and zlib-ng (zlib-ng's level-1 "quick" strategy emits static
        // Huffman codes of up to 9 bits per literal, so it can expand by 1/8), without any zlib/gzip wrapper.
        return inputLength + ((inputLength + 7) >> 3) + ((inputLength + 63) >> 6) + 11;
    }

    /// <inheritdoc />
    public IPageCodecContext CreateContext() =>
        _backend == DeflateBackend.RuntimeZlibNg ? new ZlibContext<PalZStream>(Level) : new ZlibContext<ZStream>(Level);

    /// <summary>
    /// One deflate and one inflate stream of <typeparamref name="TStream"/>'s zlib in native memory, opened once per
    /// context and started per page (system zlib: deflateReset/inflateReset; runtime zlib-ng: DeflateInit2_ and
    /// DeflateEnd around each page, InflateReset2_).
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
