using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Codecs;

/// <summary>zlib constants (zlib.h).</summary>
internal static class Zlib
{
    /// <summary>flush: finish the stream in this call.</summary>
    public const int Finish = 4;

    /// <summary>Return: progress made, stream not finished.</summary>
    public const int Ok = 0;

    /// <summary>Return: the stream is complete.</summary>
    public const int StreamEnd = 1;

    /// <summary>Return: a preset dictionary is needed (never valid for our raw streams).</summary>
    public const int NeedDict = 2;

    /// <summary>Return: invalid or inconsistent stream state.</summary>
    public const int StreamError = -2;

    /// <summary>Return: the input is not valid deflate data.</summary>
    public const int DataError = -3;

    /// <summary>Return: out of memory.</summary>
    public const int MemError = -4;

    /// <summary>Return: no progress possible (output full or input exhausted).</summary>
    public const int BufError = -5;

    /// <summary>The only compression method, Z_DEFLATED.</summary>
    public const int Deflated = 8;

    /// <summary>Z_DEFAULT_STRATEGY.</summary>
    public const int DefaultStrategy = 0;

    /// <summary>memLevel passed to deflateInit2 (zlib's default).</summary>
    public const int MemLevel = 8;

    /// <summary>Negative window bits select raw deflate (RFC 1951, no zlib/gzip wrapper); 15 = 32 KiB, accepts every stream.</summary>
    public const int RawWindowBits = -15;

    /// <summary>Maps an inflate return code and the stream's end state to a codec status.</summary>
    public static CodecStatus InflateStatus(int rc, uint availIn, uint availOut) => rc switch
    {
        // Complete stream that filled the page exactly and used all input.
        StreamEnd => availIn == 0 && availOut == 0 ? CodecStatus.Ok : CodecStatus.CorruptInput,

        // Not finished: either the output would exceed the page or the input is truncated.
        Ok or BufError or DataError or NeedDict => CodecStatus.CorruptInput,
        _ => CodecStatus.Failed,
    };

    /// <summary>Maps a deflate(Z_FINISH) return code to a codec status.</summary>
    public static CodecStatus DeflateStatus(int rc) => rc switch
    {
        StreamEnd => CodecStatus.Ok,
        Ok or BufError => CodecStatus.DidNotFit,
        _ => CodecStatus.Failed,
    };
}

/// <summary>
/// One zlib implementation as <see cref="DeflateCodec"/> drives it: the stream struct <typeparamref name="TSelf"/> and its
/// entry points. The codec's per-page deflate/inflate code is written once against this interface; the JIT specialises it
/// per struct, so a page costs no allocation and no virtual call. Open/Close run once per context, Start/Finish per page.
/// </summary>
/// <typeparam name="TSelf">The implementation's <c>z_stream</c> layout.</typeparam>
internal unsafe interface IZlibStream<TSelf>
    where TSelf : unmanaged, IZlibStream<TSelf>
{
    /// <summary>The native function <see cref="OpenDeflate"/> calls, for error messages.</summary>
    static abstract string OpenDeflateName { get; }

    /// <summary>The native function <see cref="OpenInflate"/> calls, for error messages.</summary>
    static abstract string OpenInflateName { get; }

    /// <summary>Prepares a zeroed stream for deflate, once per context.</summary>
    static abstract int OpenDeflate(TSelf* z, int level);

    /// <summary>Readies the deflate stream for a new page.</summary>
    static abstract int StartDeflate(TSelf* z, int level);

    /// <summary>deflate(z, flush).</summary>
    static abstract int Deflate(TSelf* z, int flush);

    /// <summary>Called after every page's deflate (whatever it returned).</summary>
    static abstract void FinishDeflate(TSelf* z);

    /// <summary>Releases the deflate stream's native state, once per context.</summary>
    static abstract void CloseDeflate(TSelf* z);

    /// <summary>Prepares a zeroed stream for raw inflate, once per context.</summary>
    static abstract int OpenInflate(TSelf* z);

    /// <summary>Readies the inflate stream for a new page.</summary>
    static abstract int StartInflate(TSelf* z);

    /// <summary>inflate(z, flush).</summary>
    static abstract int Inflate(TSelf* z, int flush);

    /// <summary>Releases the inflate stream's native state, once per context.</summary>
    static abstract void CloseInflate(TSelf* z);

    /// <summary>The stream's next_in.</summary>
    static abstract ref byte* NextIn(TSelf* z);

    /// <summary>The stream's avail_in.</summary>
    static abstract ref uint AvailIn(TSelf* z);

    /// <summary>The stream's next_out.</summary>
    static abstract ref byte* NextOut(TSelf* z);

    /// <summary>The stream's avail_out.</summary>
    static abstract ref uint AvailOut(TSelf* z);
}

/// <summary>zlib's <c>z_stream</c> (zlib.h). <c>uLong</c> is <see cref="CULong"/>, so the layout is right on LP64 and LLP64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZStream : IZlibStream<ZStream>
{
    /// <summary>Next input byte.</summary>
    public byte* NextIn;

    /// <summary>Bytes available at <see cref="NextIn"/>.</summary>
    public uint AvailIn;

    /// <summary>Total input read so far.</summary>
    public CULong TotalIn;

    /// <summary>Next output byte.</summary>
    public byte* NextOut;

    /// <summary>Free space at <see cref="NextOut"/>.</summary>
    public uint AvailOut;

    /// <summary>Total output written so far.</summary>
    public CULong TotalOut;

    /// <summary>Last error message or null.</summary>
    public sbyte* Msg;

    /// <summary>zlib's internal state.</summary>
    public void* State;

    /// <summary>Allocator (null: malloc).</summary>
    public void* ZAlloc;

    /// <summary>Deallocator (null: free).</summary>
    public void* ZFree;

    /// <summary>Allocator cookie.</summary>
    public void* Opaque;

    /// <summary>Data type guess.</summary>
    public int DataType;

    /// <summary>Checksum of the uncompressed data (unused for raw streams).</summary>
    public CULong Adler;

    /// <summary>Reserved.</summary>
    public CULong Reserved;

    /// <inheritdoc />
    public static string OpenDeflateName => "deflateInit2_";

    /// <inheritdoc />
    public static string OpenInflateName => "inflateInit2_";

    /// <summary>deflateInit2_: the stream lives as long as the context.</summary>
    public static int OpenDeflate(ZStream* z, int level) =>
        SystemZlib.DeflateInit2(z, level, Zlib.Deflated, Zlib.RawWindowBits, Zlib.MemLevel, Zlib.DefaultStrategy, SystemZlib.Version, sizeof(ZStream));

    /// <summary>deflateReset.</summary>
    public static int StartDeflate(ZStream* z, int level) => SystemZlib.DeflateReset(z);

    /// <inheritdoc />
    public static int Deflate(ZStream* z, int flush) => SystemZlib.Deflate(z, flush);

    /// <summary>Nothing: the stream is reset before the next page.</summary>
    public static void FinishDeflate(ZStream* z)
    {
    }

    /// <summary>deflateEnd.</summary>
    public static void CloseDeflate(ZStream* z) => SystemZlib.DeflateEnd(z);

    /// <summary>inflateInit2_ with raw window bits.</summary>
    public static int OpenInflate(ZStream* z) => SystemZlib.InflateInit2(z, Zlib.RawWindowBits, SystemZlib.Version, sizeof(ZStream));

    /// <summary>inflateReset.</summary>
    public static int StartInflate(ZStream* z) => SystemZlib.InflateReset(z);

    /// <inheritdoc />
    public static int Inflate(ZStream* z, int flush) => SystemZlib.Inflate(z, flush);

    /// <summary>inflateEnd.</summary>
    public static void CloseInflate(ZStream* z) => SystemZlib.InflateEnd(z);

    static ref byte* IZlibStream<ZStream>.NextIn(ZStream* z) => ref z->NextIn;

    static ref uint IZlibStream<ZStream>.AvailIn(ZStream* z) => ref z->AvailIn;

    static ref byte* IZlibStream<ZStream>.NextOut(ZStream* z) => ref z->NextOut;

    static ref uint IZlibStream<ZStream>.AvailOut(ZStream* z) => ref z->AvailOut;
}

/// <summary>
/// The system zlib (<c>libz.so.1</c>), bound once per process through function pointers. zlib's ABI is versioned: the
/// soname's major 1, and the *Init2_ entry points check the version string and <c>sizeof(z_stream)</c> the caller was
/// built for; this binding passes the loaded library's own version and requires a 1.x library.
/// </summary>
internal static unsafe class SystemZlib
{
    /// <summary>The library's soname.</summary>
    public const string LibraryName = "libz.so.1";

    /// <summary>The exports bound, in <see cref="Bind"/>'s order.</summary>
    private static readonly string[] s_exports = ["zlibVersion", "deflateInit2_", "deflate", "deflateReset", "deflateEnd", "inflateInit2_", "inflate", "inflateReset", "inflateEnd"];

    /// <summary>Whether the library and every export below were found, and the library is zlib 1.x.</summary>
    public static readonly bool Available;

    /// <summary>Why the library is not available (empty when it is).</summary>
    public static readonly string LoadError = "";

    /// <summary>zlibVersion() as text ("1.2.13"), empty when not loaded.</summary>
    public static readonly string VersionString = "";

    /// <summary>zlibVersion() result, passed to the *Init2_ functions as the header version.</summary>
    public static readonly byte* Version;

    /// <summary>int deflateInit2_(z_streamp, int level, int method, int windowBits, int memLevel, int strategy, const char* version, int stream_size).</summary>
    public static readonly delegate* unmanaged<ZStream*, int, int, int, int, int, byte*, int, int> DeflateInit2;

    /// <summary>int deflate(z_streamp, int flush).</summary>
    public static readonly delegate* unmanaged<ZStream*, int, int> Deflate;

    /// <summary>int deflateReset(z_streamp).</summary>
    public static readonly delegate* unmanaged<ZStream*, int> DeflateReset;

    /// <summary>int deflateEnd(z_streamp).</summary>
    public static readonly delegate* unmanaged<ZStream*, int> DeflateEnd;

    /// <summary>int inflateInit2_(z_streamp, int windowBits, const char* version, int stream_size).</summary>
    public static readonly delegate* unmanaged<ZStream*, int, byte*, int, int> InflateInit2;

    /// <summary>int inflate(z_streamp, int flush).</summary>
    public static readonly delegate* unmanaged<ZStream*, int, int> Inflate;

    /// <summary>int inflateReset(z_streamp).</summary>
    public static readonly delegate* unmanaged<ZStream*, int> InflateReset;

    /// <summary>int inflateEnd(z_streamp).</summary>
    public static readonly delegate* unmanaged<ZStream*, int> InflateEnd;

    static SystemZlib()
    {
        Span<nint> f = stackalloc nint[s_exports.Length];
        LoadError = Bind(LibraryName, f, out byte* version) ?? "";
        if (LoadError.Length != 0)
        {
            return;
        }

        Version = version;
        VersionString = Marshal.PtrToStringUTF8((nint)version) ?? "";
        DeflateInit2 = (delegate* unmanaged<ZStream*, int, int, int, int, int, byte*, int, int>)f[1];
        Deflate = (delegate* unmanaged<ZStream*, int, int>)f[2];
        DeflateReset = (delegate* unmanaged<ZStream*, int>)f[3];
        DeflateEnd = (delegate* unmanaged<ZStream*, int>)f[4];
        InflateInit2 = (delegate* unmanaged<ZStream*, int, byte*, int, int>)f[5];
        Inflate = (delegate* unmanaged<ZStream*, int, int>)f[6];
        InflateReset = (delegate* unmanaged<ZStream*, int>)f[7];
        InflateEnd = (delegate* unmanaged<ZStream*, int>)f[8];
        Available = true;
    }

    /// <summary>
    /// Loads <paramref name="library"/>, binds every export into <paramref name="addresses"/> and checks the version;
    /// null on success, else the reason, worded for a user. (Tests call it with a library that does not exist.)
    /// </summary>
    internal static string? Bind(string library, Span<nint> addresses, out byte* version)
    {
        version = null;
        if (!NativeLibrary.TryLoad(library, typeof(Zlib).Assembly, null, out nint lib))
        {
            return $"deflate needs the system zlib, {library}, which could not be loaded (on Debian or Ubuntu: apt-get install zlib1g)";
        }

        for (int i = 0; i < s_exports.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(lib, s_exports[i], out addresses[i]))
            {
                return $"{library} has no export {s_exports[i]}: it is not zlib";
            }
        }

        version = ((delegate* unmanaged<byte*>)addresses[0])();
        return CheckVersion(library, Marshal.PtrToStringUTF8((nint)version));
    }

    /// <summary>Null when <paramref name="version"/> is a zlib 1.x version string, else the reason.</summary>
    internal static string? CheckVersion(string library, string? version) =>
        version is not null && version.StartsWith("1.", StringComparison.Ordinal)
            ? null
            : $"{library} reports zlib version '{version}'; deflate needs zlib 1.x";
}
