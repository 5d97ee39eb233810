using BatchSwap.Swap;

namespace BatchSwap.Access;

/// <summary>
/// A page could not be brought back: its only copy failed to decompress, did not match its checksum, or could
/// not be read from the swap device. The data is never returned wrong; the page stays swapped out.
/// </summary>
public sealed class PageDataLostException : IOException
{
    internal PageDataLostException(Region region, long page, LoadResult reason)
        : base($"page {page} of a {region.Length >> 20} MiB region could not be brought back: " + reason switch
        {
            LoadResult.DecompressFailed => "its compressed data is corrupt (decompress_fail)",
            LoadResult.ChecksumMismatch => "its data does not match its checksum (data corruption)",
            _ => "the swap device could not read it",
        })
    {
        Page = page;
    }

    /// <summary>The page that was lost.</summary>
    public long Page { get; }
}
