using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Memory;
using BenchmarkDotNet.Attributes;

namespace BatchSwap.Benchmarks.Benchmarks;

/// <summary>
/// Benchmark 1: each codec alone on one thread, through one reused context, compressing each page into a one-page
/// buffer (as an engine does) and decompressing into a frame. One operation is one page; the sample is 1024 pages
/// strided over the whole set. The compression ratio is the CompRatio column (measured on the same sample).
/// </summary>
public unsafe class CodecBenchmarks
{
    /// <summary>Pages per invocation (the whole sample).</summary>
    public const int Pages = 1024;

    /// <summary>The codec, by <c>zswap.compressor</c> name.</summary>
    [ParamsSource(nameof(Codecs))]
    public string Codec { get; set; } = "lz4";

    /// <summary>The page set (generated; page images when present).</summary>
    [ParamsSource(nameof(Sources))]
    public string Source { get; set; } = PageSets.Generated;

    /// <summary>Every registered codec.</summary>
    public static IEnumerable<string> Codecs => CodecRegistry.Names;

    /// <summary>Every page set present.</summary>
    public static IEnumerable<string> Sources => PageSets.Available();

    // The sample pages.
    private NativePages _pages = null!;
    // The compressed pages, one page-sized slot each (only the ones that compressed below a page are decompressed).
    private NativePages _compressed = null!;
    // Compressed length per page (0 when the page did not fit).
    private int[] _lengths = [];
    // Indices of the pages that compressed, in order.
    private int[] _compressible = [];
    // The context, reused for every page.
    private IPageCodecContext _context = null!;
    // Output of Compress (one page, reused) and frame of Decompress.
    private NativePages _scratch = null!;

    [GlobalSetup]
    public void Setup()
    {
        _pages = PageSets.Sample(Source, Pages);
        _compressed = new NativePages(Pages);
        _scratch = new NativePages(2);
        _context = CodecRegistry.Get(Codec).CreateContext();
        _lengths = new int[Pages];
        var compressible = new List<int>();
        for (int i = 0; i < Pages; i++)
        {
            if (_context.Compress(_pages.Span(i), _compressed.Span(i), out int n) == CodecStatus.Ok && n < PageSize.Bytes)
            {
                _lengths[i] = n;
                compressible.Add(i);
                if (_context.Decompress(new ReadOnlySpan<byte>(_compressed.Page(i), n), _scratch.Span(1)) != CodecStatus.Ok
                    || !_scratch.Span(1).SequenceEqual(_pages.Span(i)))
                {
                    throw new InvalidOperationException($"{Codec} round trip failed on page {i} of {Source}");
                }
            }
        }

        _compressible = compressible.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _context.Dispose();
        _pages.Dispose();
        _compressed.Dispose();
        _scratch.Dispose();
    }

    /// <summary>Compresses every page of the sample; returns the bytes written (so nothing is optimised away).</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long Compress()
    {
        long total = 0;
        Span<byte> output = _scratch.Span(0);
        for (int i = 0; i < Pages; i++)
        {
            _context.Compress(_pages.Span(i), output, out int written);
            total += written;
        }

        return total;
    }

    /// <summary>
    /// Decompresses <see cref="Pages"/> compressed pages, cycling over the pages that compressed (incompressible pages are
    /// stored as-is and never decompressed). Zero when none compressed.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public int Decompress()
    {
        int[] compressible = _compressible;
        if (compressible.Length == 0) return 0;
        int ok = 0;
        Span<byte> frame = _scratch.Span(1);
        for (int k = 0, j = 0; k < Pages; k++)
        {
            int i = compressible[j];
            if (++j == compressible.Length) j = 0;
            if (_context.Decompress(new ReadOnlySpan<byte>(_compressed.Page(i), _lengths[i]), frame) == CodecStatus.Ok) ok++;
        }

        return ok;
    }
}
