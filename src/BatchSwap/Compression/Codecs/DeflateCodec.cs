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
    /// <summary>The stable codec id stored with every entry.</summary>
    public const byte CodecId = 4;

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

    /// <summary>memLevel passed to deflateInit2 (zlib's default).</summary>
    private const int MemLevel = 8;

    /// <summary>The backend actually used by contexts.</summary>
    private readonly DeflateBackend _backend;

    /// <summary>Creates a deflate codec.</summary>
    /// <param name="level">zlib level in [<see cref="MinLevel"/>, <see cref="MaxLevel"/>].</param>
    /// <param name="backend">The zlib implementation; <see cref="DeflateBackend.Auto"/> picks the fastest available.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="level"/> is outside [1, 9].</exception>
    /// <exception cref="PlatformNotSupportedException">The requested backend (or, for Auto, any backend) cannot be loaded.</exception>
    public DeflateCodec(int level = DefaultLevel, DeflateBackend backend = DeflateBackend.Auto)
    {
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
    public string Name => "deflate";

    /// <inheritdoc />
    public byte Id => CodecId;

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
        _backend == DeflateBackend.RuntimeZlibNg ? new RuntimeContext(Level) : new SystemContext(Level);

    /// <summary>System zlib: one deflate and one inflate z_stream in native memory, reset per page.</summary>
    private sealed unsafe class SystemContext : IPageCodecContext
    {
        /// <summary>The deflate stream; initialised once, deflateReset per page.</summary>
        private ZStream* _deflate;

        /// <summary>The inflate stream; initialised once, inflateReset per page.</summary>
        private ZStream* _inflate;

        public SystemContext(int level)
        {
            _deflate = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            _inflate = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            int rc = SystemZlib.DeflateInit2(_deflate, level, Zlib.Deflated, Zlib.RawWindowBits, MemLevel, Zlib.DefaultStrategy, SystemZlib.Version, sizeof(ZStream));
            if (rc != Zlib.Ok)
            {
                NativeMemory.Free(_deflate);
                _deflate = null;
                Free();
                throw new InvalidOperationException($"deflateInit2_ failed: {rc}");
            }

            rc = SystemZlib.InflateInit2(_inflate, Zlib.RawWindowBits, SystemZlib.Version, sizeof(ZStream));
            if (rc != Zlib.Ok)
            {
                NativeMemory.Free(_inflate);
                _inflate = null;
                Free();
                throw new InvalidOperationException($"inflateInit2_ failed: {rc}");
            }
        }

        ~SystemContext() => Free();

        public CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            ObjectDisposedException.ThrowIf(_deflate == null, this);
            written = 0;
            ZStream* z = _deflate;
            if (SystemZlib.DeflateReset(z) != Zlib.Ok)
            {
                return CodecStatus.Failed;
            }

            int rc;
            byte empty;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                z->NextIn = src;
                z->AvailIn = (uint)source.Length;
                z->NextOut = dst != null ? dst : &empty; // zlib rejects a null next_out even with avail_out == 0
                z->AvailOut = (uint)destination.Length;
                rc = SystemZlib.Deflate(z, Zlib.Finish);
                z->NextIn = null;
                z->NextOut = null;
            }

            CodecStatus status = Zlib.DeflateStatus(rc);
            if (status == CodecStatus.Ok)
            {
                written = destination.Length - (int)z->AvailOut;
            }

            return status;
        }

        public CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_inflate == null, this);
            ZStream* z = _inflate;
            if (SystemZlib.InflateReset(z) != Zlib.Ok)
            {
                return CodecStatus.Failed;
            }

            int rc;
            byte empty;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                z->NextIn = src;
                z->AvailIn = (uint)source.Length;
                z->NextOut = dst != null ? dst : &empty; // zlib rejects a null next_out even with avail_out == 0
                z->AvailOut = (uint)destination.Length;
                rc = SystemZlib.Inflate(z, Zlib.Finish);
                z->NextIn = null;
                z->NextOut = null;
            }

            return Zlib.InflateStatus(rc, z->AvailIn, z->AvailOut);
        }

        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        /// <summary>Ends and frees both streams; idempotent.</summary>
        private void Free()
        {
            if (_deflate != null)
            {
                SystemZlib.DeflateEnd(_deflate);
                NativeMemory.Free(_deflate);
                _deflate = null;
            }

            if (_inflate != null)
            {
                SystemZlib.InflateEnd(_inflate);
                NativeMemory.Free(_inflate);
                _inflate = null;
            }
        }
    }

    /// <summary>Runtime zlib-ng: deflate stream initialised per page (no DeflateReset export), inflate stream reset per page.</summary>
    private sealed unsafe class RuntimeContext : IPageCodecContext
    {
        /// <summary>The deflate level passed to every DeflateInit2_.</summary>
        private readonly int _level;

        /// <summary>PAL stream for deflate; its native state exists only during <see cref="Compress"/>.</summary>
        private PalZStream* _deflate;

        /// <summary>PAL stream for inflate; initialised once, InflateReset2_ per page.</summary>
        private PalZStream* _inflate;

        public RuntimeContext(int level)
        {
            _level = level;
            _deflate = (PalZStream*)NativeMemory.AllocZeroed((nuint)sizeof(PalZStream));
            _inflate = (PalZStream*)NativeMemory.AllocZeroed((nuint)sizeof(PalZStream));
            int rc = RuntimeZlib.InflateInit2(_inflate, Zlib.RawWindowBits);
            if (rc != Zlib.Ok)
            {
                NativeMemory.Free(_inflate);
                _inflate = null;
                Free();
                throw new InvalidOperationException($"CompressionNative_InflateInit2_ failed: {rc}");
            }
        }

        ~RuntimeContext() => Free();

        public CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            ObjectDisposedException.ThrowIf(_deflate == null, this);
            written = 0;
            PalZStream* z = _deflate;
            if (RuntimeZlib.DeflateInit2(z, _level, Zlib.Deflated, Zlib.RawWindowBits, MemLevel, Zlib.DefaultStrategy) != Zlib.Ok)
            {
                *z = default;
                return CodecStatus.Failed;
            }

            int rc;
            byte empty;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                z->NextIn = src;
                z->AvailIn = (uint)source.Length;
                z->NextOut = dst != null ? dst : &empty; // zlib rejects a null next_out even with avail_out == 0
                z->AvailOut = (uint)destination.Length;
                rc = RuntimeZlib.Deflate(z, Zlib.Finish);
            }

            uint availOut = z->AvailOut;
            RuntimeZlib.DeflateEnd(z);
            *z = default;

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
            PalZStream* z = _inflate;
            if (RuntimeZlib.InflateReset2(z, Zlib.RawWindowBits) != Zlib.Ok)
            {
                return CodecStatus.Failed;
            }

            int rc;
            byte empty;
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                z->NextIn = src;
                z->AvailIn = (uint)source.Length;
                z->NextOut = dst != null ? dst : &empty; // zlib rejects a null next_out even with avail_out == 0
                z->AvailOut = (uint)destination.Length;
                rc = RuntimeZlib.Inflate(z, Zlib.Finish);
                z->NextIn = null;
                z->NextOut = null;
            }

            return Zlib.InflateStatus(rc, z->AvailIn, z->AvailOut);
        }

        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        /// <summary>Ends and frees both streams; idempotent.</summary>
        private void Free()
        {
            if (_deflate != null)
            {
                NativeMemory.Free(_deflate);
                _deflate = null;
            }

            if (_inflate != null)
            {
                RuntimeZlib.InflateEnd(_inflate);
                NativeMemory.Free(_inflate);
                _inflate = null;
            }
        }
    }
}
