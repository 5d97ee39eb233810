using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BatchSwap.Memory;
using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Workloads.Workloads;

/// <summary>
/// The contents a read/write load keeps in page <c>i</c> of worker <c>w</c> at version <c>v</c>, derived from the page
/// source so that verification needs no copy of the data. Version 0 is exactly usemem's fill, page
/// <c>(w * 7919 + i) mod N</c>. Version v ≥ 1 is page <c>(w * 7919 + i + v) mod N</c> with its first 16 bytes replaced by
/// a stamp (<c>i</c>, <c>v</c>, <c>w</c>, a marker), so that a stale version never reads back as the current one even when
/// the source repeats pages.
/// </summary>
public static class VersionedPage
{
    /// <summary>Bytes at the start of a written page (version ≥ 1) that hold the stamp.</summary>
    public const int StampBytes = 16;

    // Marks a stamped page (the last 4 bytes of the stamp).
    private const uint StampMarker = 0xB5_57_A9_01;

    /// <summary>The source page behind version <paramref name="version"/> of page <paramref name="page"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SourcePage(int worker, long page, int version, long sourcePageCount) =>
        AccessPattern.FillSourcePage(worker, page + version, sourcePageCount);

    /// <summary>Writes the 4096 bytes of (worker, page, version) into <paramref name="destination"/>.</summary>
    public static void Build(IPageSource source, int worker, long page, int version, Span<byte> destination)
    {
        source.GetPage(SourcePage(worker, page, version, source.PageCount)).CopyTo(destination);
        if (version > 0) WriteStamp(destination, worker, page, version);
    }

    /// <summary>True when <paramref name="actual"/> holds (worker, page, version).</summary>
    public static bool Matches(ReadOnlySpan<byte> actual, IPageSource source, int worker, long page, int version)
    {
        ReadOnlySpan<byte> expected = source.GetPage(SourcePage(worker, page, version, source.PageCount));
        if (version == 0) return actual.SequenceEqual(expected);
        Span<byte> stamp = stackalloc byte[StampBytes];
        WriteStamp(stamp, worker, page, version);
        return actual[..StampBytes].SequenceEqual(stamp) && actual[StampBytes..PageSize.Bytes].SequenceEqual(expected[StampBytes..]);
    }

    private static void WriteStamp(Span<byte> d, int worker, long page, int version)
    {
        BinaryPrimitives.WriteInt64LittleEndian(d, page);
        BinaryPrimitives.WriteInt32LittleEndian(d[8..], version);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], StampMarker ^ (uint)worker);
    }
}
