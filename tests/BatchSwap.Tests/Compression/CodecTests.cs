using System.IO.Compression;
using System.Runtime.InteropServices;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;

namespace BatchSwap.Tests.Compression;

public sealed class CodecTests
{
    private const int Page = 4096;

    /// <summary>Bytes of canary around every destination, to catch out-of-bounds writes by native code.</summary>
    private const int Guard = 64;

    private const byte Canary = 0xCC;

    private static readonly Dictionary<string, Func<ICodec>> Factories = BuildFactories();

    public static TheoryData<string> CodecNames => new(Factories.Keys);

    /// <summary>Codec variants whose contexts must not allocate (everything but Snappier's public-API fallback).</summary>
    public static TheoryData<string> AllocationFreeCodecNames => new(Factories.Keys.Where(k => k != "snappy-public"));

    public static TheoryData<string, string> CodecAndPageNames
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string codec in Factories.Keys)
            {
                foreach (string page in PageKinds)
                {
                    data.Add(codec, page);
                }
            }

            return data;
        }
    }

    private static readonly string[] PageKinds = ["zero", "same-filled", "random", "text", "pointers"];

    private static Dictionary<string, Func<ICodec>> BuildFactories()
    {
        var f = new Dictionary<string, Func<ICodec>>
        {
            ["lz4"] = () => new Lz4Codec(),
            ["zstd"] = () => new ZstdCodec(),
            ["zstd-managed"] = () => new ZstdCodec(ZstdCodec.DefaultLevel, preferNative: false),
            ["snappy"] = () => new SnappyCodec(),
            ["snappy-public"] = () => new SnappyCodec(preferReusable: false),
        };
        if (DeflateCodec.IsAvailable)
        {
            f["deflate-libz"] = () => new DeflateCodec();
        }

        return f;
    }

    // ---- pages ---------------------------------------------------------------------------------------------

    private static readonly string[] Words =
        ("the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were " +
         "her she there been one all we their has would when if so no will more about can said out up into them what some time " +
         "only these other then do could may than first any like my now over such our man me even most made after also did " +
         "many before must through back years where much your way well down should because each just those people how too " +
         "little state good very make world still own see men work long get here between both life being under never day " +
         "same another know while last might us great old year off come since against go came right used take three").Split(' ');

    internal static byte[] MakePage(string kind, int seed = 1)
    {
        var page = new byte[Page];
        var rng = new Random(seed);
        switch (kind)
        {
            case "zero":
                break;
            case "same-filled":
                MemoryMarshal.Cast<byte, ulong>(page.AsSpan()).Fill(0xDEADBEEF_CAFEF00DUL);
                break;
            case "random":
                rng.NextBytes(page);
                break;
            case "text":
                for (int i = 0; i < Page;)
                {
                    foreach (char c in Words[rng.Next(Words.Length)])
                    {
                        if (i < Page)
                        {
                            page[i++] = (byte)c;
                        }
                    }

                    if (i < Page)
                    {
                        page[i++] = (byte)(rng.Next(12) == 0 ? '\n' : ' ');
                    }
                }

                break;
            case "pointers":
                Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(page.AsSpan());
                for (int i = 0; i < words.Length; i++)
                {
                    int k = rng.Next(10);
                    words[i] = k < 5 ? 0x00007F3A_12340000UL + ((ulong)rng.Next(1 << 16) * 16)
                        : k < 7 ? 0
                        : k < 9 ? (ulong)rng.Next(1000)
                        : 0x00005566_00000000UL + ((ulong)rng.Next(1 << 12) * 8);
                }

                break;
            default:
                throw new ArgumentException(kind);
        }

        return page;
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static byte[] CompressOk(IPageCodecContext ctx, ICodec codec, byte[] page)
    {
        var dst = new byte[codec.MaxCompressedLength(page.Length)];
        Assert.Equal(CodecStatus.Ok, ctx.Compress(page, dst, out int n));
        Assert.InRange(n, 1, dst.Length);
        return dst[..n];
    }

    /// <summary>Decompresses into a guarded buffer and checks nothing was written outside the destination.</summary>
    private static CodecStatus DecompressGuarded(IPageCodecContext ctx, ReadOnlySpan<byte> input, byte[] buffer, int length)
    {
        buffer.AsSpan().Fill(Canary);
        CodecStatus status = ctx.Decompress(input, buffer.AsSpan(Guard, length));
        Assert.True(buffer.AsSpan(0, Guard).IndexOfAnyExcept(Canary) < 0, "wrote before destination");
        Assert.True(buffer.AsSpan(Guard + length).IndexOfAnyExcept(Canary) < 0, "wrote after destination");
        return status;
    }

    // ---- round trips ---------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(CodecAndPageNames))]
    public void RoundTripsEveryPageKind(string codecName, string pageKind)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        var buffer = new byte[Page + (2 * Guard)];
        for (int seed = 1; seed <= 3; seed++)
        {
            byte[] page = MakePage(pageKind, seed);
            byte[] packed = CompressOk(ctx, codec, page);
            if (pageKind != "random")
            {
                Assert.True(packed.Length < Page * 3 / 4, $"{codecName} compressed a {pageKind} page to only {packed.Length} bytes");
            }

            Assert.Equal(CodecStatus.Ok, DecompressGuarded(ctx, packed, buffer, Page));
            Assert.True(buffer.AsSpan(Guard, Page).SequenceEqual(page));
        }
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void CompressiblePageFitsExactPageDestination(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        byte[] page = MakePage("text");
        var dst = new byte[Page + Guard];
        dst.AsSpan().Fill(Canary);
        Assert.Equal(CodecStatus.Ok, ctx.Compress(page, dst.AsSpan(0, Page), out int n));
        Assert.InRange(n, 1, Page - 1);
        Assert.True(dst.AsSpan(Page).IndexOfAnyExcept(Canary) < 0);
        var back = new byte[Page];
        Assert.Equal(CodecStatus.Ok, ctx.Decompress(dst.AsSpan(0, n), back));
        Assert.Equal(page, back);
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void IncompressiblePageDoesNotFitInOnePage(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        var dst = new byte[Page + Guard];
        for (int seed = 1; seed <= 5; seed++)
        {
            dst.AsSpan().Fill(Canary);
            Assert.Equal(CodecStatus.DidNotFit, ctx.Compress(MakePage("random", seed), dst.AsSpan(0, Page), out int n));
            Assert.Equal(0, n);
            Assert.True(dst.AsSpan(Page).IndexOfAnyExcept(Canary) < 0, "wrote past the destination");
        }

        // Tiny and empty destinations are DidNotFit too, never an exception.
        Assert.Equal(CodecStatus.DidNotFit, ctx.Compress(MakePage("text"), dst.AsSpan(0, 16), out _));
        Assert.Equal(CodecStatus.DidNotFit, ctx.Compress(MakePage("text"), Span<byte>.Empty, out _));

        // The context is still usable afterwards.
        byte[] page = MakePage("pointers");
        byte[] packed = CompressOk(ctx, codec, page);
        var back = new byte[Page];
        Assert.Equal(CodecStatus.Ok, ctx.Decompress(packed, back));
        Assert.Equal(page, back);
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void MaxCompressedLengthHoldsForIncompressibleInput(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        Assert.InRange(codec.MaxCompressedLength(Page), Page, 2 * Page);
        for (int seed = 0; seed < 8; seed++)
        {
            var dst = new byte[codec.MaxCompressedLength(Page)];
            Assert.Equal(CodecStatus.Ok, ctx.Compress(MakePage("random", seed), dst, out int n));
            Assert.InRange(n, Page - 64, dst.Length);
        }
    }

    // ---- corrupt input -------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void WrongDestinationLengthIsCorrupt(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        byte[] page = MakePage("text");
        byte[] packed = CompressOk(ctx, codec, page);
        var buffer = new byte[(2 * Page) + (2 * Guard)];
        foreach (int length in new[] { 0, 1, Page - 1, Page + 1, 2 * Page })
        {
            Assert.Equal(CodecStatus.CorruptInput, DecompressGuarded(ctx, packed, buffer, length));
        }

        Assert.Equal(CodecStatus.Ok, DecompressGuarded(ctx, packed, buffer, Page));
        Assert.True(buffer.AsSpan(Guard, Page).SequenceEqual(page));
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void TruncatedInputIsNeverOk(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        var buffer = new byte[Page + (2 * Guard)];
        foreach (string kind in PageKinds)
        {
            byte[] packed = CompressOk(ctx, codec, MakePage(kind));
            int step = Math.Max(1, packed.Length / 150);
            for (int len = 0; len < packed.Length; len += len < 32 || len > packed.Length - 32 ? 1 : step)
            {
                CodecStatus status = DecompressGuarded(ctx, packed.AsSpan(0, len), buffer, Page);
                Assert.True(status == CodecStatus.CorruptInput, $"{kind}: prefix of {len}/{packed.Length} bytes gave {status}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void FuzzedInputNeverThrowsOrWritesOutOfBounds(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        var rng = new Random(12345);
        byte[][] valid = PageKinds.Select(k => CompressOk(ctx, codec, MakePage(k, 7))).ToArray();
        var buffer = new byte[Page + (2 * Guard)];
        var input = new byte[codec.MaxCompressedLength(Page) + 64];
        int ok = 0;
        for (int i = 0; i < 3000; i++)
        {
            byte[] src = valid[rng.Next(valid.Length)];
            int len = src.Length;
            src.CopyTo(input, 0);
            switch (i % 6)
            {
                case 0: // flip one to three bits
                case 1:
                    for (int k = rng.Next(1, 4); k > 0; k--)
                    {
                        input[rng.Next(len)] ^= (byte)(1 << rng.Next(8));
                    }

                    break;
                case 2: // overwrite a byte (often a header byte)
                    input[rng.Next(Math.Min(len, rng.Next(2) == 0 ? 16 : len))] = (byte)rng.Next(256);
                    break;
                case 3: // truncate and flip
                    len = rng.Next(len);
                    if (len > 0)
                    {
                        input[rng.Next(len)] ^= (byte)(1 << rng.Next(8));
                    }

                    break;
                case 4: // append garbage
                    int extra = rng.Next(1, 64);
                    rng.NextBytes(input.AsSpan(len, extra));
                    len += extra;
                    break;
                default: // pure garbage
                    len = rng.Next(input.Length);
                    rng.NextBytes(input.AsSpan(0, len));
                    break;
            }

            CodecStatus status = DecompressGuarded(ctx, input.AsSpan(0, len), buffer, Page);
            Assert.True(status is CodecStatus.Ok or CodecStatus.CorruptInput, $"iteration {i}: {status}");
            ok += status == CodecStatus.Ok ? 1 : 0;
        }

        // Bad data must not poison the context.
        byte[] page = MakePage("text", 99);
        byte[] packed = CompressOk(ctx, codec, page);
        Assert.Equal(CodecStatus.Ok, DecompressGuarded(ctx, packed, buffer, Page));
        Assert.True(buffer.AsSpan(Guard, Page).SequenceEqual(page));
        Assert.True(ok < 1500, $"{ok} of 3000 corrupt inputs decoded as Ok");
    }

    // ---- allocation ----------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(AllocationFreeCodecNames))]
    public void SteadyStateAllocatesNothing(string codecName)
    {
        ICodec codec = Factories[codecName]();
        using IPageCodecContext ctx = codec.CreateContext();
        byte[][] pages = PageKinds.Select(k => MakePage(k, 3)).ToArray();
        byte[] random = MakePage("random", 4);
        var big = new byte[codec.MaxCompressedLength(Page)];
        var fit = new byte[Page];
        var back = new byte[Page];

        void Cycle()
        {
            foreach (byte[] page in pages)
            {
                if (ctx.Compress(page, big, out int n) != CodecStatus.Ok || ctx.Decompress(big.AsSpan(0, n), back) != CodecStatus.Ok)
                {
                    throw new InvalidOperationException("round trip failed");
                }

                ctx.Compress(page, fit, out _);
            }

            if (ctx.Compress(random, fit, out _) != CodecStatus.DidNotFit)
            {
                throw new InvalidOperationException("random page fit");
            }
        }

        for (int i = 0; i < 20; i++)
        {
            Cycle();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Cycle();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    // ---- format compatibility ------------------------------------------------------------------------------

    [Fact]
    public void DeflateIsRawRfc1951()
    {
        Assert.True(DeflateCodec.IsAvailable, new DeflateCodec().Backend);
        foreach (int level in new[] { 1, 2, 6, 9 })
        {
            var codec = new DeflateCodec(level);
            Assert.StartsWith("zlib 1.", codec.Backend);
            using IPageCodecContext ctx = codec.CreateContext();
            foreach (string kind in PageKinds)
            {
                byte[] page = MakePage(kind, level);
                byte[] packed = CompressOk(ctx, codec, page);

                // Any inflater reads it: DeflateStream is raw RFC 1951.
                using (var inflater = new DeflateStream(new MemoryStream(packed), CompressionMode.Decompress))
                {
                    var back = new byte[Page];
                    inflater.ReadExactly(back);
                    Assert.Equal(page, back);
                    Assert.Equal(-1, inflater.ReadByte());
                }

                // And we read any raw deflate stream.
                foreach (CompressionLevel dsLevel in new[] { CompressionLevel.Fastest, CompressionLevel.SmallestSize })
                {
                    var ms = new MemoryStream();
                    using (var deflater = new DeflateStream(ms, dsLevel, leaveOpen: true))
                    {
                        deflater.Write(page);
                    }

                    var back = new byte[Page];
                    Assert.Equal(CodecStatus.Ok, ctx.Decompress(ms.ToArray(), back));
                    Assert.Equal(page, back);
                }
            }
        }
    }

    [Fact]
    public void DeflateAndDeflateFastReadEachOther() =>
        AssertReadEachOther(CodecRegistry.Get("deflate"), CodecRegistry.Get("deflate-fast"));

    /// <summary>Each codec decompresses what the other compressed, for every page kind.</summary>
    private static void AssertReadEachOther(ICodec a, ICodec b)
    {
        using IPageCodecContext ca = a.CreateContext();
        using IPageCodecContext cb = b.CreateContext();
        var back = new byte[Page];
        foreach (string kind in PageKinds)
        {
            byte[] page = MakePage(kind);
            Assert.Equal(CodecStatus.Ok, cb.Decompress(CompressOk(ca, a, page), back));
            Assert.Equal(page, back);
            Assert.Equal(CodecStatus.Ok, ca.Decompress(CompressOk(cb, b, page), back));
            Assert.Equal(page, back);
        }
    }

    [Fact]
    public void ZstdBackendsReadEachOther()
    {
        var auto = new ZstdCodec();
        Assert.Equal(ZstdCodec.NativeAvailable ? "native" : "managed", auto.Backend);
        Assert.Equal("managed", new ZstdCodec(ZstdCodec.DefaultLevel, preferNative: false).Backend);
        AssertReadEachOther(new ZstdCodec(3), new ZstdCodec(3, preferNative: false));
    }

    [Fact]
    public void SnappyIsStandardSnappy()
    {
        var codec = new SnappyCodec();
        Assert.Equal(SnappyCodec.ReusableBackend, codec.Backend);
        using IPageCodecContext ctx = codec.CreateContext();
        var back = new byte[Page];
        foreach (string kind in PageKinds)
        {
            byte[] page = MakePage(kind);
            Assert.Equal(page, Snappier.Snappy.DecompressToArray(CompressOk(ctx, codec, page)));
            Assert.Equal(CodecStatus.Ok, ctx.Decompress(Snappier.Snappy.CompressToArray(page), back));
            Assert.Equal(page, back);
        }
    }

    [Fact]
    public void Lz4IsStandardLz4Block()
    {
        var codec = new Lz4Codec();
        using IPageCodecContext ctx = codec.CreateContext();
        foreach (string kind in PageKinds)
        {
            byte[] page = MakePage(kind);
            var back = new byte[Page];
            Assert.Equal(Page, K4os.Compression.LZ4.LZ4Codec.Decode(CompressOk(ctx, codec, page), back));
            Assert.Equal(page, back);
        }
    }

    // ---- levels --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(ZstdCodec.MinLevel - 1)]
    [InlineData(ZstdCodec.MaxLevel + 1)]
    [InlineData(int.MaxValue)]
    public void ZstdRejectsLevelsOutsideItsRange(int level)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ZstdCodec(level));
        Assert.Contains("[-131072, 22]", e.Message);
    }

    [Theory]
    [InlineData(-5, true)]
    [InlineData(0, true)]
    [InlineData(3, true)]
    [InlineData(19, true)]
    [InlineData(-5, false)]
    [InlineData(19, false)]
    public void ZstdLevelsRoundTrip(int level, bool preferNative)
    {
        var codec = new ZstdCodec(level, preferNative);
        Assert.Equal(level, codec.Level);
        using IPageCodecContext ctx = codec.CreateContext();
        byte[] page = MakePage("text");
        var back = new byte[Page];
        Assert.Equal(CodecStatus.Ok, ctx.Decompress(CompressOk(ctx, codec, page), back));
        Assert.Equal(page, back);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(-1)]
    public void DeflateRejectsLevelsOutsideOneToNine(int level)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DeflateCodec(level));
        Assert.Contains("[1, 9]", e.Message);
    }

    // ---- registry ------------------------------------------------------------------------------------------

    [Fact]
    public void RegistryListsNamesInOrder() =>
        Assert.Equal(["lz4", "zstd", "snappy", "deflate", "deflate-fast"], CodecRegistry.Names);

    [Theory]
    [InlineData("lz4", 1, typeof(Lz4Codec))]
    [InlineData("LZ4", 1, typeof(Lz4Codec))]
    [InlineData("Zstd", 2, typeof(ZstdCodec))]
    [InlineData("snappy", 3, typeof(SnappyCodec))]
    [InlineData("DEFLATE", 4, typeof(DeflateCodec))]
    [InlineData("deflate-fast", 5, typeof(DeflateCodec))]
    public void RegistryFindsByNameAndId(string name, byte id, Type type)
    {
        Assert.True(CodecRegistry.TryGet(name, out ICodec? codec));
        Assert.IsType(type, codec);
        Assert.Same(codec, CodecRegistry.Get(name));
        Assert.Equal(id, codec.Id);
        Assert.Equal(name.ToLowerInvariant(), codec.Name);
        Assert.Same(codec, CodecRegistry.GetById(id));
        Assert.True(CodecRegistry.TryGetById(id, out ICodec? byId));
        Assert.Same(codec, byId);
    }

    [Fact]
    public void RegistryRejectsUnknownNamesAndIds()
    {
        Assert.False(CodecRegistry.TryGet("foo", out ICodec? none));
        Assert.Null(none);
        Assert.False(CodecRegistry.TryGet(null, out _));
        Assert.False(CodecRegistry.TryGet("", out _));
        var e = Assert.Throws<ArgumentException>(() => CodecRegistry.Get("foo"));
        Assert.Equal("unknown compressor 'foo'; accepted: lz4, zstd, snappy, deflate, deflate-fast", e.Message);
        Assert.Throws<ArgumentNullException>(() => CodecRegistry.Get(null!));
        Assert.False(CodecRegistry.TryGetById(0, out _));
        Assert.False(CodecRegistry.TryGetById(255, out _));
        Assert.Throws<ArgumentException>(() => CodecRegistry.GetById(6));
    }

    [Fact]
    public void RegistryDefaults()
    {
        Assert.Equal(ZstdCodec.DefaultLevel, Assert.IsType<ZstdCodec>(CodecRegistry.Get("zstd")).Level);
        Assert.Equal(DeflateCodec.DefaultLevel, Assert.IsType<DeflateCodec>(CodecRegistry.Get("deflate")).Level);
        Assert.Equal(DeflateCodec.FastLevel, Assert.IsType<DeflateCodec>(CodecRegistry.Get("deflate-fast")).Level);
        Assert.Equal(CodecRegistry.Names, CodecRegistry.All.Select(c => c.Name));
    }

    // ---- lifetime ------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void DisposedContextThrowsObjectDisposed(string codecName)
    {
        IPageCodecContext ctx = Factories[codecName]().CreateContext();
        ctx.Dispose();
        ctx.Dispose();
        var buffer = new byte[Page];
        Assert.Throws<ObjectDisposedException>(() => ctx.Compress(MakePage("text"), buffer, out _));
        Assert.Throws<ObjectDisposedException>(() => ctx.Decompress(new byte[] { 1, 2, 3 }, buffer));
    }

    [Theory]
    [MemberData(nameof(CodecNames))]
    public void ContextsAreIndependent(string codecName)
    {
        // Two contexts of one codec, interleaved, each decoding the other's output: no hidden shared state.
        ICodec codec = Factories[codecName]();
        using IPageCodecContext a = codec.CreateContext();
        using IPageCodecContext b = codec.CreateContext();
        var back = new byte[Page];
        for (int seed = 0; seed < 4; seed++)
        {
            byte[] p1 = MakePage("text", seed);
            byte[] p2 = MakePage("pointers", seed);
            byte[] c1 = CompressOk(a, codec, p1);
            byte[] c2 = CompressOk(b, codec, p2);
            Assert.Equal(CodecStatus.Ok, b.Decompress(c1, back));
            Assert.Equal(p1, back);
            Assert.Equal(CodecStatus.Ok, a.Decompress(c2, back));
            Assert.Equal(p2, back);
        }
    }
}
