using BatchSwap.Workloads.PageSources;
using ZstdSharp;

namespace BatchSwap.Tests.Workloads;

public sealed class PageImageFileTests : IDisposable
{
    // A fresh directory per test, removed afterwards.
    private readonly string _dir = Directory.CreateTempSubdirectory("batchswap-pages-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Deterministic page contents: page k is filled with a pattern derived from k (compressible, distinct).
    private static byte[] MakePages(int count)
    {
        byte[] data = new byte[count * 4096];
        for (int k = 0; k < count; k++)
        {
            for (int b = 0; b < 4096; b++)
            {
                data[(k * 4096) + b] = (byte)((k * 31) + (b / 16));
            }
        }

        return data;
    }

    private static byte[] Zstd(ReadOnlySpan<byte> data)
    {
        var output = new MemoryStream();
        using (var zstd = new CompressionStream(output, level: 3, leaveOpen: true))
        {
            zstd.Write(data);
        }

        return output.ToArray();
    }

    private string Write(string name, byte[] contents)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, contents);
        return path;
    }

    private static void AssertPages(IPageSource source, byte[] expected)
    {
        Assert.Equal(expected.Length / 4096, source.PageCount);
        for (int k = 0; k < source.PageCount; k++)
        {
            Assert.True(source.GetPage(k).SequenceEqual(expected.AsSpan(k * 4096, 4096)), $"page {k} differs");
        }
    }

    private static string LoadError(string path) => Assert.Throws<PageSourceException>(() => PageImageFile.Load(path)).Message;

    [Fact]
    public void LoadsRawPages()
    {
        byte[] data = MakePages(3);
        using PageImageFile image = PageImageFile.Load(Write("three.pages", data));
        AssertPages(image, data);
        Assert.Equal("three.pages", image.Description);
        Assert.False(image.IsCompressed);
        Assert.Equal(3 * 4096, image.ByteLength);
    }

    [Fact]
    public void LoadsZstdPages()
    {
        byte[] data = MakePages(5);
        using PageImageFile image = PageImageFile.Load(Write("five.pages.zst", Zstd(data)));
        AssertPages(image, data);
        Assert.Equal("five.pages.zst", image.Description);
        Assert.True(image.IsCompressed);
    }

    [Fact]
    public void ExtensionIsCaseInsensitive()
    {
        byte[] data = MakePages(1);
        using PageImageFile image = PageImageFile.Load(Write("ONE.PAGES.ZST", Zstd(data)));
        AssertPages(image, data);
    }

    [Fact]
    public void LoadsMultiFrameZstdThatOutgrowsTheHeaderSize()
    {
        // The first frame records its content size (one page), so the loader starts with a one-page buffer and
        // must grow it while the second frame streams in.
        byte[] data = MakePages(40);
        byte[] first;
        using (var compressor = new Compressor(3))
        {
            first = compressor.Wrap(data.AsSpan(0, 4096)).ToArray();
        }

        Assert.Equal(4096UL, PageImageFile.TryReadFrameContentSize(first));
        byte[] file = [.. first, .. Zstd(data.AsSpan(4096))];
        using PageImageFile image = PageImageFile.Load(Write("frames.pages.zst", file));
        AssertPages(image, data);
    }

    [Fact]
    public void ReadsFrameContentSizeOfAStreamedFrame()
    {
        // A streamed frame does not record its size; the loader then starts from a default.
        Assert.Equal(0UL, PageImageFile.TryReadFrameContentSize(Zstd(MakePages(1))));
        Assert.Equal(0UL, PageImageFile.TryReadFrameContentSize([1, 2, 3, 4, 5, 6]));
        Assert.Equal(0UL, PageImageFile.TryReadFrameContentSize([]));
    }

    [Fact]
    public void RejectsLengthNotAMultipleOfAPage()
    {
        string path = Write("odd.pages", new byte[12345]);
        Assert.Equal(
            $"Page image '{path}' is 12345 bytes, not a multiple of 4096; a .pages file holds whole 4 KiB pages.",
            LoadError(path));
    }

    [Fact]
    public void RejectsZstdThatDecompressesToPartialPages()
    {
        string path = Write("odd.pages.zst", Zstd(new byte[5000]));
        Assert.Contains("decompresses to 5000 bytes, not a multiple of 4096", LoadError(path), StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsEmptyFiles()
    {
        Assert.Contains("is empty", LoadError(Write("empty.pages", [])), StringComparison.Ordinal);
        Assert.Contains("is empty", LoadError(Write("empty.pages.zst", [])), StringComparison.Ordinal);
        Assert.Contains("decompresses to 0 bytes", LoadError(Write("nothing.pages.zst", Zstd([]))), StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsTruncatedZstd()
    {
        byte[] compressed = Zstd(MakePages(8));
        string path = Write("cut.pages.zst", compressed[..(compressed.Length / 2)]);
        PageSourceException e = Assert.Throws<PageSourceException>(() => PageImageFile.Load(path));
        Assert.Equal($"Page image '{path}' is a truncated zstd stream: it ends in the middle of a frame.", e.Message);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void RejectsCorruptZstd()
    {
        string path = Write("junk.pages.zst", [.. Enumerable.Range(0, 100).Select(i => (byte)(i * 7))]);
        Assert.StartsWith($"Page image '{path}' is not a valid zstd stream", LoadError(path), StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsMissingFile()
    {
        string path = Path.Combine(_dir, "absent.pages.zst");
        Assert.Equal($"Page image '{path}' does not exist.", LoadError(path));
        string inMissingDir = Path.Combine(_dir, "no-such-dir", "absent.pages");
        Assert.Equal($"Page image '{inMissingDir}' does not exist.", LoadError(inMissingDir));
    }

    [Fact]
    public void RejectsUnknownExtensionAndDirectories()
    {
        string bin = Write("image.bin", MakePages(1));
        Assert.Contains("unknown extension; expected .pages", LoadError(bin), StringComparison.Ordinal);
        Assert.Contains("unknown extension", LoadError(Write("image.zst", Zstd(MakePages(1)))), StringComparison.Ordinal);
        string dir = Directory.CreateDirectory(Path.Combine(_dir, "folder.pages")).FullName;
        Assert.Contains("is a directory", LoadError(dir), StringComparison.Ordinal);
        Assert.Throws<PageSourceException>(() => PageImageFile.Load(string.Empty));
        Assert.Throws<ArgumentNullException>(() => PageImageFile.Load(null!));
    }

    [Fact]
    public void GetPageChecksBoundsAndDisposal()
    {
        PageImageFile image = PageImageFile.Load(Write("two.pages", MakePages(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.GetPage(2).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => image.GetPage(-1).Length);
        image.Dispose();
        Assert.Throws<ObjectDisposedException>(() => image.GetPage(0).Length);
        image.Dispose();
    }

    [Fact]
    public void FactoryOpensGeneratorOrFile()
    {
        using (IDisposablePageSource generated = PageSourceFactory.Open(null, seed: 9))
        {
            GeneratedPageSource generator = Assert.IsType<GeneratedPageSource>(generated);
            Assert.Equal(9, generator.Seed);
            Assert.Equal(GeneratedPageSource.DefaultPageCount, generated.PageCount);
        }

        using (IDisposablePageSource small = PageSourceFactory.Open(null, seed: 9, generatedPageCount: 16))
        {
            Assert.Equal(16, small.PageCount);
        }

        byte[] data = MakePages(2);
        using (IDisposablePageSource file = PageSourceFactory.Open(Write("f.pages", data), seed: 9))
        {
            Assert.IsType<PageImageFile>(file);
            AssertPages(file, data);
        }

        Assert.Throws<PageSourceException>(() => PageSourceFactory.Open(Path.Combine(_dir, "missing.pages"), seed: 9));
    }
}
