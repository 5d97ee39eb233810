using System.Text.Json;
using BatchSwap.Access;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Tests.Cli;
using BatchSwap.Workloads.Metrics;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Workloads;

/// <summary>
/// The codec limit: the engines count every job they are given (zswap_compress_jobs, zswap_decompress_jobs), the
/// tier prices a job on sample pages, and usemem reports the fraction of wall time × cores the codec alone needed.
/// No timing is asserted, only that the figures exist, are sane, and agree with the counters.
/// </summary>
public sealed class CodecLimitTests
{
    private static byte[] Pages(int count, Action<Span<byte>, int> fill)
    {
        var buf = new byte[count * PageSize.Bytes];
        for (int i = 0; i < count; i++) fill(buf.AsSpan(i * PageSize.Bytes, PageSize.Bytes), i);
        return buf;
    }

    private static void Text(Span<byte> page, long index)
    {
        for (int i = 0; i < page.Length; i++) page[i] = (byte)"compressible text, "[(int)((i + index) % 19)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(page, index + 1);
    }

    public static TheoryData<string> Codecs() => [.. CodecRegistry.Names];

    [Theory]
    [MemberData(nameof(Codecs))]
    public void EveryCodecIsPricedOnAMixedSample(string codec)
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Compressor = codec, Engines = 1 });
        byte[] pages = Pages(64, (p, i) => TestPages.Fill(p, i));
        CodecPrice price = tier.PriceCodec(pages);
        Assert.Equal(64, price.Pages);
        // Zero and same-filled pages are not compressed, random ones do not fit: only text and pointer pages decompress.
        Assert.InRange(price.CompressedPages, 1, 63);
        Assert.InRange(price.Repetitions, 1, 3);
        Assert.True(double.IsFinite(price.CompressNsPerPage) && price.CompressNsPerPage > 0, $"compress {price.CompressNsPerPage}");
        Assert.True(double.IsFinite(price.DecompressNsPerPage) && price.DecompressNsPerPage > 0, $"decompress {price.DecompressNsPerPage}");
    }

    [Fact]
    public void SameFilledPagesCostTheirCheckButNoDecompression()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1 });
        CodecPrice price = tier.PriceCodec(new byte[16 * PageSize.Bytes], repetitions: 1);
        Assert.Equal(0, price.CompressedPages);
        Assert.Equal(0, price.DecompressNsPerPage);
        Assert.True(price.CompressNsPerPage > 0);
        Assert.Equal(1, price.Repetitions);
    }

    [Fact]
    public void PricingTakesOnlyWholePages()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, Engines = 1 });
        Assert.Throws<ArgumentException>(() => tier.PriceCodec(ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => tier.PriceCodec(new byte[PageSize.Bytes + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tier.PriceCodec(new byte[PageSize.Bytes], repetitions: 0));
    }

    [Fact]
    public void FractionIsTheCodecTimeOverWallTimesCores()
    {
        var c = new CodecLimit(Compressions: 1000, Decompressions: 500, CompressNsPerPage: 2000, DecompressNsPerPage: 1000, WallSeconds: 0.5, Cores: 2);
        Assert.Equal(0.0025, c.CodecSeconds, 12);
        Assert.Equal(0.0025, c.Fraction, 12);
        Assert.Equal(0, (c with { WallSeconds = 0 }).Fraction);
    }

    [Fact]
    public void EveryCompressionJobIsCountedWhateverItsOutcome()
    {
        // Writeback off: incompressible pages are rejected (reject_compress_poor), yet the engines compressed them.
        using MemoryTier tier = Engine.IncompressibleSkipTests.NoWritebackTier("no-writeback", out MemoryGroup g);
        using Region r = tier.Allocate(12L << 20, group: g);
        Span<byte> page = stackalloc byte[PageSize.Bytes];
        for (long i = 0; i < r.PageCount; i++)
        {
            TestPages.Fill(page, i);
            r.Write(i, page);
        }
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.RejectCompressPoor] > 0, "no page was rejected as incompressible");
        Assert.True(s[Counter.Zswpout] > 0);
        // Order-0 folios: every job ends as exactly one stored page or one rejected store.
        Assert.Equal(s[Counter.Zswpout] + s[Counter.RejectCompressPoor] + s[Counter.RejectAllocFail] + s[Counter.RejectCompressFail],
            s[Counter.ZswapCompressJobs]);
    }

    [Fact]
    public void EveryDecompressionJobIsCounted()
    {
        // Only compressible, not same-filled pages: every load and every writeback of one is a decompression job.
        // Reclaim and writeback run in this thread, so that none is half-counted when the counters are read.
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 12L << 20, Engines = 1, BackgroundReclaim = false, ZswapShrinkWorker = false });
        using Region r = tier.Allocate(24L << 20);
        Span<byte> page = stackalloc byte[PageSize.Bytes];
        for (long i = 0; i < r.PageCount; i++)
        {
            Text(page, i);
            r.Write(i, page);
        }
        Span<byte> got = stackalloc byte[PageSize.Bytes];
        for (long i = 0; i < r.PageCount; i++)
        {
            r.Read(i, got);
            Text(page, i);
            Assert.True(page.SequenceEqual(got), $"page {i} read back wrong");
        }
        CounterSnapshot s = tier.Snapshot();
        Assert.True(s[Counter.Zswpin] > 0, "nothing was loaded from zswap");
        Assert.Equal(0, s[Counter.DecompressFail]);
        Assert.Equal(s[Counter.Zswpin] + s[Counter.Zswpwb], s[Counter.ZswapDecompressJobs]);
        Assert.True(s[Counter.ZswapCompressJobs] >= s[Counter.Zswpout]);
    }

    [Theory]
    [InlineData(256, 12)] // each worker writes the whole source
    [InlineData(4096, 6)] // each worker writes a window of it
    public void UsememReportsASaneFraction(int sourcePages, int sizeMiB)
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 12L << 20, Compressor = "lz4", Engines = 1 });
        using IDisposablePageSource source = PageSourceFactory.Open(null, 1, sourcePages);
        var opts = new UsememOptions { Workers = 2, SizePerWorker = (long)sizeMiB << 20, Passes = 1 };
        UsememResult r = Usemem.Run(tier, source, opts);
        CodecLimit c = Usemem.MeasureCodecLimit(tier, source, opts, r);
        Assert.Equal(r.Counters[Counter.ZswapCompressJobs], c.Compressions);
        Assert.Equal(r.Counters[Counter.ZswapDecompressJobs], c.Decompressions);
        Assert.True(c.Compressions >= r.Counters[Counter.Zswpout]);
        // (No upper bound from zswpin + zswpwb here: kswapd may be between a writeback's decompression and its
        // zswpwb when the run's counters are read. The synchronous test above checks it exactly.)
        Assert.Equal(Environment.ProcessorCount, c.Cores);
        Assert.Equal(r.WallSeconds, c.WallSeconds);
        Assert.True(c.CompressNsPerPage > 0 && c.DecompressNsPerPage > 0);
        Assert.True(double.IsFinite(c.Fraction) && c.Fraction > 0 && c.Fraction <= 2.0 * c.Cores, $"fraction {c.Fraction}");
    }

    [Fact]
    public void UsememCommandPrintsTheLineAndWritesTheJson()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
        try
        {
            (int code, string o, string err) = CliHarness.Run("usemem", "--workers", "1", "--size", "24MiB", "--limit", "12MiB", "--passes", "1",
                "--pages", TestPageFile.Create(256), "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("  codec limit ", o);
            Assert.Contains($"of {Environment.ProcessorCount} cores (compress ", o);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement root = doc.RootElement;
            foreach (string key in new[] { "codec_limit_fraction", "codec_compress_ns_per_page", "codec_decompress_ns_per_page", "codec_compressions", "codec_decompressions" })
                Assert.True(root.TryGetProperty(key, out _), $"JSON lacks {key}");
            JsonElement counters = root.GetProperty("counters");
            Assert.Equal(counters.GetProperty("zswap_compress_jobs").GetInt64(), root.GetProperty("codec_compressions").GetInt64());
            Assert.Equal(counters.GetProperty("zswap_decompress_jobs").GetInt64(), root.GetProperty("codec_decompressions").GetInt64());
            Assert.True(root.GetProperty("codec_compressions").GetInt64() >= root.GetProperty("zswpout").GetInt64());
            double f = root.GetProperty("codec_limit_fraction").GetDouble();
            Assert.True(f > 0 && f <= 2.0 * Environment.ProcessorCount, $"fraction {f}");
        }
        finally { File.Delete(json); }
    }
}
