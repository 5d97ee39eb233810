using BatchSwap.Memory;

namespace BatchSwap.Access;

/// <summary>
/// Byte-addressed access to a <see cref="Region"/>: reads and writes of any length at any byte offset, split into
/// the region's per-page operations. Reads take the page read-only (a clean page keeps its retained compressed copy);
/// writes go through <see cref="Region.Write"/>, so the engine sees every page written.
/// </summary>
/// <remarks>
/// The names are <c>ReadAt</c>/<c>WriteAt</c> (after <see cref="RandomAccess"/>'s positional reads) because
/// <see cref="Region.Read"/> and <see cref="Region.Write"/> already take a page number in the same position. A range
/// that spans pages is not atomic: another thread may see some of its pages written and not yet the others.
/// </remarks>
public static class RegionByteRanges
{
    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of <paramref name="region"/>, starting at byte
    /// <paramref name="offset"/>, into <paramref name="destination"/>. Pages never written read as zeros.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the region.</exception>
    /// <exception cref="ObjectDisposedException">The region or its tier has been disposed.</exception>
    /// <exception cref="PageDataLostException">A page in the range could not be brought back.</exception>
    public static void ReadAt(this Region region, long offset, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(region);
        CheckRange(region, offset, destination.Length);
        while (!destination.IsEmpty)
        {
            long page = offset >> PageSize.Shift;
            int inPage = (int)(offset & (PageSize.Bytes - 1));
            int n = Math.Min(destination.Length, PageSize.Bytes - inPage);
            region.Read(page, destination[..n], inPage);
            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="region"/> starting at byte <paramref name="offset"/>;
    /// every page it touches is marked written.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the region.</exception>
    /// <exception cref="ObjectDisposedException">The region or its tier has been disposed.</exception>
    /// <exception cref="MemCg.MemoryGroupExhaustedException">The region's group is at its limit and nothing can be reclaimed.</exception>
    public static void WriteAt(this Region region, long offset, ReadOnlySpan<byte> source)
    {
        ArgumentNullException.ThrowIfNull(region);
        CheckRange(region, offset, source.Length);
        while (!source.IsEmpty)
        {
            long page = offset >> PageSize.Shift;
            int inPage = (int)(offset & (PageSize.Bytes - 1));
            int n = Math.Min(source.Length, PageSize.Bytes - inPage);
            region.Write(page, source[..n], inPage);
            source = source[n..];
            offset += n;
        }
    }

    /// <summary>
    /// A seekable <see cref="Stream"/> over <paramref name="region"/>'s bytes (see <see cref="RegionStream"/>). The stream
    /// does not own the region unless <paramref name="ownsRegion"/> is set.
    /// </summary>
    public static RegionStream AsStream(this Region region, bool writable = true, bool ownsRegion = false) =>
        new(region, writable, ownsRegion);

    private static void CheckRange(Region region, long offset, int length)
    {
        if (offset < 0 || offset > region.Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"bytes {offset} … {offset + length} do not lie within the region's {region.Length} bytes");
    }
}
