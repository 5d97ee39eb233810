using BatchSwap.Compression.Engines;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Swap;

namespace BatchSwap.Zswap;

/// <summary>
/// Writeback that keeps entries compressed. Linux's writeback always decompresses an entry before it writes the page;
/// a device that stores compressed objects (<see cref="Swap.Backends.ISwapBackend.StoresCompressed"/>: a remote store,
/// where the bytes on the wire are the cost) is sent the pool object as it is, and its slot records the object's
/// length and codec (<see cref="PageIo.OnDeviceCompressedInfo"/>). Swap-in reads the object into the frame and the
/// load decompresses it on the engines with the other compressed pages of its batch, checking the page's checksum.
/// Local files are untouched by this: they never store compressed objects.
/// </summary>
internal sealed unsafe partial class ZswapCache
{
    /// <summary>
    /// Copies entry <paramref name="handle"/>'s compressed object into job <paramref name="i"/>'s output page (4 KiB
    /// aligned, as the page-I/O layer wants) for writeback as it is. Returns its length.
    /// </summary>
    private int StageCompressed(ulong handle, ulong info, JobBatch batch, int i)
    {
        int len = SlotInfo.Length(info);
        _pool.Map(handle, len, new Span<byte>(batch.Scratch(i), PageSize.Bytes)).CopyTo(new Span<byte>(batch.Output(i), len));
        return len;
    }

    /// <summary>
    /// The info word of a slot whose entry was written back with <paramref name="sentBytes"/>: on disk as a page, or
    /// still compressed (counted in zswpwb_compressed).
    /// </summary>
    private ulong WrittenBackInfo(ulong info, int sentBytes)
    {
        if (sentBytes == PageSize.Bytes) return PageIo.OnDiskInfo(SlotInfo.Group(info), SlotInfo.Checksum(info));
        _counters.Add(Counter.ZswpwbCompressed);
        return PageIo.OnDeviceCompressedInfo(SlotInfo.Group(info), sentBytes, SlotInfo.CodecId(info), SlotInfo.Checksum(info));
    }

    /// <summary>
    /// Queues the decompression of a page read still compressed (<see cref="LoadResult.DeviceCompressed"/>): the
    /// object is copied out of the frame into a scratch page, and decompressed back into the frame.
    /// </summary>
    private static void QueueDeviceCompressed(JobBatch batch, ref LoadRequest r, bool verify)
    {
        int len = SlotInfo.Length(r.Info);
        byte* src = batch.Scratch(batch.Count);
        new ReadOnlySpan<byte>(r.Frame, len).CopyTo(new Span<byte>(src, len));
        ref PageJob job = ref batch.AddDecompress(src, len, SlotInfo.CodecId(r.Info), r.Frame);
        job.Checksum = SlotInfo.Checksum(r.Info);
        job.Verify = verify;
    }

    /// <summary>Counts a device page read compressed whose decompression or checksum failed (decompress_fail).</summary>
    private void CountDeviceCompressed(in LoadRequest r)
    {
        if (PageIo.IsCompressedOnDevice(r.Info) && r.Result is LoadResult.DecompressFailed or LoadResult.ChecksumMismatch)
            _counters.Add(Counter.DecompressFail);
    }
}
