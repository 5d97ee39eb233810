using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Codecs;

/// <summary>zlib constants shared by both zlib backends (zlib.h; the runtime's PAL uses the same values).</summary>
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

    /// <summary>Binds one export or reports failure.</summary>
    public static bool TryExport(nint library, string name, out nint address) =>
        NativeLibrary.TryGetExport(library, name, out address);
}

/// <summary>zlib's <c>z_stream</c> (zlib.h). <c>uLong</c> is <see cref="CULong"/>, so the layout is right on LP64 and LLP64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZStream
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
}

/// <summary>The system zlib (<c>libz.so.1</c>), bound once per process through function pointers.</summary>
internal static unsafe class SystemZlib
{
    /// <summary>The library's soname.</summary>
    public const string LibraryName = "libz.so.1";

    /// <summary>Whether the library and every export below were found.</summary>
    public static readonly bool Available;

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
        if (!NativeLibrary.TryLoad(LibraryName, typeof(SystemZlib).Assembly, null, out nint lib))
        {
            return;
        }

        if (!Zlib.TryExport(lib, "zlibVersion", out nint version)
            || !Zlib.TryExport(lib, "deflateInit2_", out nint deflateInit2)
            || !Zlib.TryExport(lib, "deflate", out nint deflate)
            || !Zlib.TryExport(lib, "deflateReset", out nint deflateReset)
            || !Zlib.TryExport(lib, "deflateEnd", out nint deflateEnd)
            || !Zlib.TryExport(lib, "inflateInit2_", out nint inflateInit2)
            || !Zlib.TryExport(lib, "inflate", out nint inflate)
            || !Zlib.TryExport(lib, "inflateReset", out nint inflateReset)
            || !Zlib.TryExport(lib, "inflateEnd", out nint inflateEnd))
        {
            return;
        }

        Version = ((delegate* unmanaged<byte*>)version)();
        DeflateInit2 = (delegate* unmanaged<ZStream*, int, int, int, int, int, byte*, int, int>)deflateInit2;
        Deflate = (delegate* unmanaged<ZStream*, int, int>)deflate;
        DeflateReset = (delegate* unmanaged<ZStream*, int>)deflateReset;
        DeflateEnd = (delegate* unmanaged<ZStream*, int>)deflateEnd;
        InflateInit2 = (delegate* unmanaged<ZStream*, int, byte*, int, int>)inflateInit2;
        Inflate = (delegate* unmanaged<ZStream*, int, int>)inflate;
        InflateReset = (delegate* unmanaged<ZStream*, int>)inflateReset;
        InflateEnd = (delegate* unmanaged<ZStream*, int>)inflateEnd;
        Available = Version != null && Version[0] == (byte)'1';
    }
}

/// <summary>
/// The runtime's <c>PAL_ZStream</c> (dotnet/runtime pal_zlib.h): the PAL copies these fields into the zlib-ng
/// <c>z_stream</c> it keeps behind <see cref="InternalState"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PalZStream
{
    /// <summary>Next input byte.</summary>
    public byte* NextIn;

    /// <summary>Next output byte.</summary>
    public byte* NextOut;

    /// <summary>Last error message or null.</summary>
    public sbyte* Msg;

    /// <summary>The PAL's z_stream; owned by the PAL.</summary>
    public void* InternalState;

    /// <summary>Bytes available at <see cref="NextIn"/>.</summary>
    public uint AvailIn;

    /// <summary>Free space at <see cref="NextOut"/>.</summary>
    public uint AvailOut;
}

/// <summary>
/// zlib-ng as statically linked into the .NET runtime's <c>libSystem.IO.Compression.Native</c> (the engine behind
/// <see cref="System.IO.Compression.DeflateStream"/>), called through its exported <c>CompressionNative_*</c> PAL.
/// The PAL exports no DeflateReset, so deflate state must be re-initialised per stream; inflate has InflateReset2_.
/// </summary>
internal static unsafe class RuntimeZlib
{
    /// <summary>The runtime's native compression shim.</summary>
    public const string LibraryName = "libSystem.IO.Compression.Native";

    /// <summary>Whether the library and every export below were found.</summary>
    public static readonly bool Available;

    /// <summary>int32_t CompressionNative_DeflateInit2_(PAL_ZStream*, int32_t level, int32_t method, int32_t windowBits, int32_t memLevel, int32_t strategy).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int, int, int, int, int, int> DeflateInit2;

    /// <summary>int32_t CompressionNative_Deflate(PAL_ZStream*, int32_t flush).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int, int> Deflate;

    /// <summary>int32_t CompressionNative_DeflateEnd(PAL_ZStream*).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int> DeflateEnd;

    /// <summary>int32_t CompressionNative_InflateInit2_(PAL_ZStream*, int32_t windowBits).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int, int> InflateInit2;

    /// <summary>int32_t CompressionNative_InflateReset2_(PAL_ZStream*, int32_t windowBits).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int, int> InflateReset2;

    /// <summary>int32_t CompressionNative_Inflate(PAL_ZStream*, int32_t flush).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int, int> Inflate;

    /// <summary>int32_t CompressionNative_InflateEnd(PAL_ZStream*).</summary>
    public static readonly delegate* unmanaged<PalZStream*, int> InflateEnd;

    static RuntimeZlib()
    {
        if (!NativeLibrary.TryLoad(LibraryName, typeof(RuntimeZlib).Assembly, null, out nint lib))
        {
            return;
        }

        if (!Zlib.TryExport(lib, "CompressionNative_DeflateInit2_", out nint deflateInit2)
            || !Zlib.TryExport(lib, "CompressionNative_Deflate", out nint deflate)
            || !Zlib.TryExport(lib, "CompressionNative_DeflateEnd", out nint deflateEnd)
            || !Zlib.TryExport(lib, "CompressionNative_InflateInit2_", out nint inflateInit2)
            || !Zlib.TryExport(lib, "CompressionNative_InflateReset2_", out nint inflateReset2)
            || !Zlib.TryExport(lib, "CompressionNative_Inflate", out nint inflate)
            || !Zlib.TryExport(lib, "CompressionNative_InflateEnd", out nint inflateEnd))
        {
            return;
        }

        DeflateInit2 = (delegate* unmanaged<PalZStream*, int, int, int, int, int, int>)deflateInit2;
        Deflate = (delegate* unmanaged<PalZStream*, int, int>)deflate;
        DeflateEnd = (delegate* unmanaged<PalZStream*, int>)deflateEnd;
        InflateInit2 = (delegate* unmanaged<PalZStream*, int, int>)inflateInit2;
        InflateReset2 = (delegate* unmanaged<PalZStream*, int, int>)inflateReset2;
        Inflate = (delegate* unmanaged<PalZStream*, int, int>)inflate;
        InflateEnd = (delegate* unmanaged<PalZStream*, int>)inflateEnd;
        Available = true;
    }
}
