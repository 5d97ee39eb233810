namespace BatchSwap.Workloads.PageSources;

/// <summary>
/// A finite set of page images that a workload writes into its regions. Page <c>k</c> always has the same
/// contents, so a workload can verify what it reads back by asking the source again.
/// Implementations are safe for concurrent readers.
/// </summary>
public interface IPageSource
{
    /// <summary>Number of distinct pages (N in workloads.md).</summary>
    long PageCount { get; }

    /// <summary>A short description for reports ("built-in mix, seed 1", "python-heap-64m.pages.zst").</summary>
    string Description { get; }

    /// <summary>The contents of page <paramref name="index"/> (0 ≤ index &lt; PageCount), exactly 4096 bytes. Does not allocate.</summary>
    ReadOnlySpan<byte> GetPage(long index);
}
