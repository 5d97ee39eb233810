using System.IO.Compression;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;

namespace BatchSwap.Tests.Compression;

/// <summary>Deflate through the system zlib's public ABI: loading, version check, format and bad data.</summary>
public unsafe class SystemZlibTests
{
    private const int Page = 4096;

    [Fact]
    public void BindsTheSystemZlibNotTheRuntimesPrivateExports()
    {
        Assert.True(DeflateCodec.IsAvailable, SystemZlib.LoadError);
        Assert.Equal("", SystemZlib.LoadError);
        Assert.StartsWith("1.", SystemZlib.VersionString);
        Assert.Equal($"zlib {SystemZlib.VersionString} (libz.so.1)", new DeflateCodec().Backend);
    }

    [Fact]
    public void ALibraryThatCannotLoadIsAClearError()
    {
        Span<nint> f = stackalloc nint[16];
        string? error = SystemZlib.Bind("libz-not-here.so.1", f, out _);
        Assert.Equal("deflate needs the system zlib, libz-not-here.so.1, which could not be loaded (on Debian or Ubuntu: apt-get install zlib1g)", error);
    }

    [Fact]
    public void ALibraryThatIsNotZlibOneIsRefused()
    {
        Assert.Null(SystemZlib.CheckVersion("libz.so.1", "1.3.1"));
        Assert.Equal("libz.so.1 reports zlib version '2.0.0'; deflate needs zlib 1.x", SystemZlib.CheckVersion("libz.so.1", "2.0.0"));
        Assert.Contains("needs zlib 1.x", SystemZlib.CheckVersion("libz.so.1", null));
    }

    [Theory]
    [InlineData("deflate")]
    [InlineData("deflate-fast")]
    public void RoundTripsAndReadsWhatDeflateStreamWrites(string name)
    {
        ICodec codec = CodecRegistry.Get(name);
        using IPageCodecContext ctx = codec.CreateContext();
        byte[] page = TextPage();
        var packed = new byte[codec.MaxCompressedLength(Page)];
        Assert.Equal(CodecStatus.Ok, ctx.Compress(page, packed, out int n));
        Assert.InRange(n, 1, Page - 1);
        var back = new byte[Page];
        Assert.Equal(CodecStatus.Ok, ctx.Decompress(packed.AsSpan(0, n), back));
        Assert.Equal(page, back);

        // Entries written before (the runtime's zlib-ng, as DeflateStream uses it) still load.
        var ms = new MemoryStream();
        using (var ds = new DeflateStream(ms, new ZLibCompressionOptions { CompressionLevel = 1 }, leaveOpen: true)) ds.Write(page);
        Array.Clear(back);
        Assert.Equal(CodecStatus.Ok, ctx.Decompress(ms.ToArray(), back));
        Assert.Equal(page, back);
    }

    [Fact]
    public void CorruptInputIsRejectedNotThrown()
    {
        ICodec codec = CodecRegistry.Get("deflate");
        using IPageCodecContext ctx = codec.CreateContext();
        byte[] page = TextPage();
        var packed = new byte[codec.MaxCompressedLength(Page)];
        Assert.Equal(CodecStatus.Ok, ctx.Compress(page, packed, out int n));
        var back = new byte[Page];

        Assert.Equal(CodecStatus.CorruptInput, ctx.Decompress(packed.AsSpan(0, n / 2), back)); // truncated
        byte[] bad = packed.AsSpan(0, n).ToArray();
        bad[0] = 0xff; // block type 3: reserved, invalid
        Assert.Equal(CodecStatus.CorruptInput, ctx.Decompress(bad, back));
        Assert.Equal(CodecStatus.CorruptInput, ctx.Decompress(packed.AsSpan(0, n), new byte[Page - 1])); // longer than the frame

        // The context is still good afterwards.
        Assert.Equal(CodecStatus.Ok, ctx.Decompress(packed.AsSpan(0, n), back));
        Assert.Equal(page, back);
    }

    private static byte[] TextPage()
    {
        var page = new byte[Page];
        var words = "the quick brown fox jumps over the lazy dog and keeps on running through the field "u8;
        for (int i = 0; i < Page; i++) page[i] = words[(i * 7 + i / 13) % words.Length];
        return page;
    }
}
