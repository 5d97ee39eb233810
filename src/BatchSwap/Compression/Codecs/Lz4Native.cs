using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Codecs;

/// <summary>
/// The system's liblz4 (<c>liblz4.so.1</c>, 1.9 or later), bound by its stable public ABI: the compressor of
/// <see cref="Lz4Codec"/> where it loads. It writes the same LZ4 block format as K4os (any conforming decoder reads
/// either), about a quarter faster on this project's pages (5.3–5.8 against 6.7–8.1 µs a 4 KiB page, measured on the
/// built-in mix and the python heap image). Decoding stays in K4os, which is as fast and bounds-checked.
/// Where the library is missing or older, <see cref="Available"/> is false and K4os compresses too.
/// </summary>
internal static unsafe class Lz4Native
{
    /// <summary>The library's file name.</summary>
    public const string Library = "liblz4.so.1";

    /// <summary>1.9.0 as LZ4_versionNumber() gives it (major × 10000 + minor × 100 + release).</summary>
    private const int MinVersion = 10900;

    /// <summary>Whether the library and both exports below were found, and the library is 1.9 or later.</summary>
    public static readonly bool Available;

    /// <summary>LZ4_versionString() ("1.9.4"), empty when not loaded.</summary>
    public static readonly string VersionString = "";

    /// <summary>LZ4_sizeofState(): the bytes of the state <see cref="CompressFastExtState"/> works in.</summary>
    public static readonly int StateSize;

    /// <summary>int LZ4_compress_fast_extState(void* state, const char* src, char* dst, int srcSize, int dstCapacity, int acceleration).</summary>
    public static readonly delegate* unmanaged<void*, byte*, byte*, int, int, int, int> CompressFastExtState;

    static Lz4Native()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(Library, typeof(Lz4Native).Assembly, null, out nint lib)) return;
        if (!NativeLibrary.TryGetExport(lib, "LZ4_versionNumber", out nint version)
            || !NativeLibrary.TryGetExport(lib, "LZ4_sizeofState", out nint sizeofState)
            || !NativeLibrary.TryGetExport(lib, "LZ4_compress_fast_extState", out nint compress))
            return;
        if (((delegate* unmanaged<int>)version)() < MinVersion) return;
        if (NativeLibrary.TryGetExport(lib, "LZ4_versionString", out nint text))
            VersionString = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)text)()) ?? "";
        StateSize = ((delegate* unmanaged<int>)sizeofState)();
        CompressFastExtState = (delegate* unmanaged<void*, byte*, byte*, int, int, int, int>)compress;
        Available = StateSize > 0;
    }
}
