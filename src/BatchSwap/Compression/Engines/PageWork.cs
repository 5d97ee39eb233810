using System.Runtime.CompilerServices;
using BatchSwap.Memory;

namespace BatchSwap.Compression.Engines;

/// <summary>The work of one job, the same on every engine.</summary>
internal static unsafe class PageWork
{
    /// <summary>Runs one job with the given codec context.</summary>
    public static void Run(ref PageJob job, IPageCodecContext context, Faults.FaultInjector? faults)
    {
        try
        {
            if (job.Kind == JobKind.Compress)
            {
                job.Checksum = Checksum(job.Source);
                if (IsSameFilled(job.Source, out ulong pattern))
                {
                    job.Pattern = pattern;
                    job.Result = JobResult.SameFilled;
                    return;
                }
                CodecStatus s = context.Compress(new ReadOnlySpan<byte>(job.Source, job.SourceLength),
                    new Span<byte>(job.Destination, job.DestinationCapacity), out int written);
                job.Written = written;
                if (faults is not null && faults.CompressFails(job.Source)) s = CodecStatus.Failed;
                job.Result = s switch
                {
                    CodecStatus.Ok when written < PageSize.Bytes => JobResult.Compressed,
                    CodecStatus.Ok or CodecStatus.DidNotFit => JobResult.DidNotFit,
                    _ => JobResult.Failed,
                };
            }
            else
            {
                CodecStatus s = context.Decompress(new ReadOnlySpan<byte>(job.Source, job.SourceLength),
                    new Span<byte>(job.Destination, job.DestinationCapacity));
                job.Result = s != CodecStatus.Ok ? JobResult.Corrupt
                    : job.Verify && Checksum(job.Destination) != job.Checksum ? JobResult.ChecksumMismatch
                    : JobResult.Decompressed;
            }
        }
        catch (Exception) when (job.Kind == JobKind.Compress)
        {
            job.Result = JobResult.Failed;
        }
        catch (Exception)
        {
            job.Result = JobResult.Corrupt;
        }
    }

    /// <summary>The 32-bit checksum kept per entry and per slot: the low half of XXH3-64 of the page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Checksum(byte* page) =>
        (uint)System.IO.Hashing.XxHash3.HashToUInt64(new ReadOnlySpan<byte>(page, PageSize.Bytes));

    /// <summary>True when every 8-byte word of the page is the same; gives that word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSameFilled(byte* page, out ulong pattern)
    {
        ReadOnlySpan<ulong> words = new(page, PageSize.Bytes / sizeof(ulong));
        pattern = words[0];
        // Check the last word first: most pages differ somewhere, usually early or late.
        if (words[^1] != pattern) return false;
        return words.IndexOfAnyExcept(pattern) < 0;
    }

    /// <summary>Fills a page with an 8-byte word.</summary>
    public static void Fill(byte* page, ulong pattern) =>
        new Span<ulong>(page, PageSize.Bytes / sizeof(ulong)).Fill(pattern);
}
