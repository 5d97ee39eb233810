using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Tests.Cli;

/// <summary><c>batchswap pages</c> writes the built-in mix, page for page, as a .pages image.</summary>
public sealed class PagesCommandTests
{
    [Fact]
    public void TheImageHoldsTheBuiltInMixPageForPage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.pages");
        try
        {
            (int code, string o, string err) = CliHarness.Run("pages", "--out", path, "--seed", "3");
            Assert.True(code == 0, err);
            Assert.Contains("wrote", o);
            using IDisposablePageSource builtIn = PageSourceFactory.Open(null, 3);
            using IDisposablePageSource image = PageSourceFactory.Open(path, 0);
            Assert.Equal(builtIn.PageCount, image.PageCount);
            for (long i = 0; i < builtIn.PageCount; i++) Assert.True(builtIn.GetPage(i).SequenceEqual(image.GetPage(i)), $"page {i}");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void AnotherExtensionIsOneLineAndExitCode2()
    {
        (int code, _, string err) = CliHarness.Run("pages", "--out", Path.Combine(Path.GetTempPath(), "x.bin"));
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }
}
