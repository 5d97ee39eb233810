using BatchSwap.Memory;
using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Benchmarks.Data;

/// <summary>
/// The page contents the benchmarks run on, by name: <c>generated</c> (the built-in <see cref="GeneratedPageSource"/>,
/// seed 42) and, when their files are present, the real page images <c>python-heap</c> and <c>media-blobs</c>
/// (<c>shared/data/pages/*.pages.zst</c>). Absent images are skipped, never an error.
/// </summary>
internal static class PageSets
{
    /// <summary>The built-in generator's name.</summary>
    public const string Generated = "generated";

    /// <summary>Environment variable that overrides the page-image directory; the host sets it for its child processes.</summary>
    public const string DirectoryVariable = "BATCHSWAP_PAGES_DIR";

    /// <summary>Seed of the built-in source (any fixed value: its pages depend only on it).</summary>
    private const int GeneratorSeed = 42;

    /// <summary>Page images by set name.</summary>
    private static readonly (string Name, string File)[] s_images =
    [
        ("python-heap", "python-heap-64m.pages.zst"),
        ("media-blobs", "media-blobs-64m.pages.zst"),
    ];

    /// <summary>Opened sources, by name; one per process (loading a 64 MiB image takes a moment).</summary>
    private static readonly Dictionary<string, IDisposablePageSource> s_open = new();

    /// <summary>The page-image directory, or null when none is found.</summary>
    public static string? ImageDirectory { get; } = FindImageDirectory();

    /// <summary>The sets present on this machine: always <c>generated</c>, then each image whose file exists.</summary>
    public static IEnumerable<string> Available()
    {
        yield return Generated;
        foreach ((string name, string file) in s_images)
        {
            if (ImageDirectory is not null && File.Exists(Path.Combine(ImageDirectory, file))) yield return name;
        }
    }

    /// <summary>The source of a set (opened once per process).</summary>
    public static IDisposablePageSource Open(string name)
    {
        lock (s_open)
        {
            if (s_open.TryGetValue(name, out IDisposablePageSource? source)) return source;
            source = name == Generated
                ? new GeneratedPageSource(GeneratorSeed)
                : PageImageFile.Load(Path.Combine(ImageDirectory ?? throw new FileNotFoundException($"page set '{name}': no page-image directory"),
                    s_images.Single(i => i.Name == name).File));
            s_open.Add(name, source);
            return source;
        }
    }

    /// <summary>
    /// Copies <paramref name="count"/> pages of a set into native memory, evenly strided over the whole source so that
    /// a sample of a large image has the image's mix of contents (zero, text, pointers, incompressible).
    /// </summary>
    public static NativePages Sample(string name, int count)
    {
        IDisposablePageSource source = Open(name);
        var pages = new NativePages(count);
        long stride = Math.Max(1, source.PageCount / count);
        for (int i = 0; i < count; i++)
        {
            source.GetPage(i * stride % source.PageCount).CopyTo(pages.Span(i));
        }

        return pages;
    }

    /// <summary>The file a set was loaded from, for reports ("built-in generator" for <c>generated</c>).</summary>
    public static string Describe(string name) =>
        name == Generated ? $"built-in generator (GeneratedPageSource, seed {GeneratorSeed}, {GeneratedPageSource.DefaultPageCount} pages)"
            : $"{s_images.Single(i => i.Name == name).File} ({Open(name).PageCount} pages of {PageSize.Bytes} B)";

    /// <summary>
    /// <see cref="DirectoryVariable"/> when set; otherwise the first <c>shared/data/pages</c> found beside the working
    /// directory, the program, or any of their ancestors (the repository's sibling <c>../shared</c>).
    /// </summary>
    private static string? FindImageDirectory()
    {
        string? fromEnv = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return Directory.Exists(fromEnv) ? fromEnv : null;
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "shared", "data", "pages");
                if (Directory.Exists(candidate)) return candidate;
            }
        }

        return null;
    }
}
