namespace BatchSwap.Swap;

/// <summary>How a zswap or swap-device load ended.</summary>
internal enum LoadResult : byte
{
    /// <summary>The page is in the frame.</summary>
    Ok,
    /// <summary>The compressed data did not decompress (decompress_fail).</summary>
    DecompressFailed,
    /// <summary>The data did not match its checksum.</summary>
    ChecksumMismatch,
    /// <summary>The swap device could not read the slot.</summary>
    ReadError,
    /// <summary>
    /// Between the page-I/O layer and zswap only: the frame holds the slot's compressed object as read from a device
    /// that stores them (<see cref="PageIo.IsCompressedOnDevice"/>); the load decompresses it and gives the final result.
    /// </summary>
    DeviceCompressed,
}
