using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Engines;

/// <summary>What an engine does with a job.</summary>
internal enum JobKind : byte
{
    /// <summary>Detect a same-filled page, else compress the page.</summary>
    Compress,
    /// <summary>Decompress into a frame.</summary>
    Decompress,
}

/// <summary>How a job ended.</summary>
internal enum JobResult : byte
{
    /// <summary>Not run yet.</summary>
    Pending,
    /// <summary>Compressed; <see cref="PageJob.Written"/> bytes in the destination.</summary>
    Compressed,
    /// <summary>Every 8-byte word of the page is <see cref="PageJob.Pattern"/>; nothing was compressed.</summary>
    SameFilled,
    /// <summary>The page does not compress below a page.</summary>
    DidNotFit,
    /// <summary>The codec failed.</summary>
    Failed,
    /// <summary>Decompressed into the destination.</summary>
    Decompressed,
    /// <summary>The compressed data was corrupt.</summary>
    Corrupt,
    /// <summary>The data decompressed, but not to the page that was stored (checksum mismatch).</summary>
    ChecksumMismatch,
}

/// <summary>
/// One page of work in a batch. A plain struct in native memory: the batch is made once and reused,
/// and neither submission nor completion allocates. Padded to one cache line (<see cref="BatchPool.BytesPerBatch"/>
/// counts 64 bytes a job), so that engines finishing neighbouring jobs do not share a line.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct PageJob
{
    /// <summary>Compress: the page. Decompress: the compressed bytes.</summary>
    public byte* Source;
    /// <summary>Compress: the output buffer. Decompress: the frame to fill.</summary>
    public byte* Destination;
    /// <summary>Bytes at <see cref="Source"/>.</summary>
    public int SourceLength;
    /// <summary>Bytes available at <see cref="Destination"/>.</summary>
    public int DestinationCapacity;
    /// <summary>Compressed bytes written.</summary>
    public int Written;
    /// <summary>The codec to use (the entry's codec for decompression).</summary>
    public byte CodecId;
    /// <summary>What to do.</summary>
    public JobKind Kind;
    /// <summary>How it ended; written by the engine that ran it.</summary>
    public JobResult Result;
    /// <summary>The fill word of a same-filled page.</summary>
    public ulong Pattern;
    /// <summary>Compress: the page's checksum, computed by the engine. Decompress: the checksum to verify.</summary>
    public uint Checksum;
    /// <summary>Decompress: verify <see cref="Checksum"/> against the output.</summary>
    public bool Verify;

    /// <summary>A job that compresses one page into a page-sized <paramref name="output"/>.</summary>
    public static PageJob Compress(byte* page, byte* output, byte codecId) => new()
    {
        Kind = JobKind.Compress,
        Source = page,
        SourceLength = Memory.PageSize.Bytes,
        Destination = output,
        DestinationCapacity = Memory.PageSize.Bytes,
        CodecId = codecId,
    };

    /// <summary>A job that decompresses <paramref name="length"/> bytes at <paramref name="source"/> into <paramref name="frame"/>.</summary>
    public static PageJob Decompress(byte* source, int length, byte codecId, byte* frame) => new()
    {
        Kind = JobKind.Decompress,
        Source = source,
        SourceLength = length,
        Destination = frame,
        DestinationCapacity = Memory.PageSize.Bytes,
        CodecId = codecId,
    };
}
