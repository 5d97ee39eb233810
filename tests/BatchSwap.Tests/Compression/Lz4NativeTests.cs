using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using K4os.Compression.LZ4;

namespace BatchSwap.Tests.Compression;

/// <summary>lz4 compressed by the system's liblz4: the same block format K4os reads, bounded output, and the fallback named.</summary>
public unsafe class Lz4NativeTests
{
    private const int Page = 4096;

    [Fact]
    public void TheBackendSaysWhoCompresses()
    {
        var codec = new Lz4Codec();
        if (Lz4Native.Available)
        {
            Assert.StartsWith("1.", Lz4Native.VersionString);
            Assert.Equal($"liblz4 {Lz4Native.VersionString} (liblz4.so.1)", codec.Backend);
        }
        else
        {
            Assert.Equal(Lz4Codec.ManagedBackend, codec.Backend);
        }
    }

    [Fact]
    public void WhatLibLz4WritesK4osReadsBack()
    {
        // Where liblz4 is not installed K4os writes too, and the same holds.
        using IPageCodecContext c = new Lz4Codec().CreateContext();
        byte[] page = new byte[Page], packed = new byte[LZ4Codec.MaximumOutputSize(Page)], back = new byte[Page];
        for (int i = 0; i < 200; i++)
        {
            TestPages.Fill(page, i);
            Assert.Equal(CodecStatus.Ok, c.Compress(page, packed, out int n));
            // Decoded by K4os directly, not through the codec: the format is LZ4's block format, whoever wrote it.
            Assert.Equal(Page, LZ4Codec.Decode(packed, 0, n, back, 0, Page));
            Assert.True(page.AsSpan().SequenceEqual(back), $"page {i}");
        }
    }

    [Fact]
    public void TheManagedFallbackRoundTripsAndIsNamed()
    {
        var codec = new Lz4Codec(native: false);
        Assert.Equal(Lz4Codec.ManagedBackend, codec.Backend);
        using IPageCodecContext c = codec.CreateContext();
        byte[] page = new byte[Page], packed = new byte[LZ4Codec.MaximumOutputSize(Page)], back = new byte[Page];
        for (int i = 0; i < 50; i++)
        {
            TestPages.Fill(page, i);
            Assert.Equal(CodecStatus.Ok, c.Compress(page, packed, out int n));
            Assert.Equal(CodecStatus.Ok, c.Decompress(packed.AsSpan(0, n), back));
            Assert.True(page.AsSpan().SequenceEqual(back), $"page {i}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ADestinationTooSmallIsDidNotFitNotAnOverrun(bool native)
    {
        using IPageCodecContext c = new Lz4Codec(native).CreateContext();
        byte[] page = new byte[Page];
        new Random(3).NextBytes(page); // incompressible: needs more than the page
        byte[] small = new byte[Page + 64];
        Assert.Equal(CodecStatus.DidNotFit, c.Compress(page, small.AsSpan(0, Page / 2), out int n));
        Assert.Equal(0, n);
        Assert.True(small.AsSpan(Page / 2).IndexOfAnyExcept((byte)0) < 0, "wrote past the destination");
    }
}
