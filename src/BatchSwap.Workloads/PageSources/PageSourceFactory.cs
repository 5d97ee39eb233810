namespace BatchSwap.Workloads.PageSources;

/// <summary>Opens the page source a workload was asked for: the built-in generator, or a page image file.</summary>
public static class PageSourceFactory
{
    /// <summary>
    /// The built-in generator (<see cref="GeneratedPageSource"/>, default mix and <see cref="GeneratedPageSource.DefaultPageCount"/>
    /// pages) when <paramref name="path"/> is null; otherwise the page image at <paramref name="path"/>
    /// (<see cref="PageImageFile"/>, <c>.pages</c> or <c>.pages.zst</c>). The caller disposes the result.
    /// </summary>
    /// <param name="path">A page image, or null for the built-in generator.</param>
    /// <param name="seed">The generator's seed; ignored for a file.</param>
    /// <exception cref="PageSourceException">The file cannot be loaded (see <see cref="PageImageFile.Load"/>).</exception>
    public static IDisposablePageSource Open(string? path, int seed) => Open(path, seed, GeneratedPageSource.DefaultPageCount);

    /// <summary>As <see cref="Open(string?, int)"/>, with the number of pages the generator makes.</summary>
    /// <param name="path">A page image, or null for the built-in generator.</param>
    /// <param name="seed">The generator's seed; ignored for a file.</param>
    /// <param name="generatedPageCount">Pages the generator makes (at least 1); ignored for a file.</param>
    /// <exception cref="PageSourceException">The file cannot be loaded (see <see cref="PageImageFile.Load"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="generatedPageCount"/> is less than 1 and no path was given.</exception>
    public static IDisposablePageSource Open(string? path, int seed, int generatedPageCount) =>
        path is null ? new GeneratedPageSource(seed, generatedPageCount) : PageImageFile.Load(path);
}
