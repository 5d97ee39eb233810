using BatchSwap.Compression.Engines;

namespace BatchSwap.Tests.Engine;

/// <summary>
/// A compressor that cannot batch: it runs a batch's jobs one at a time in the submitting thread, with the batch's
/// own codec contexts, and says so (<see cref="MaxBatchFolios"/> = 1). It records the largest run it was given.
/// </summary>
internal sealed unsafe class InlineCompressor : IBatchCompressor
{
    /// <param name="maxJobs">The jobs one run must take (what the tier asks for).</param>
    public InlineCompressor(int maxJobs) => MaxJobs = maxJobs;

    /// <inheritdoc/>
    public string Name => "inline";
    /// <inheritdoc/>
    public int Engines => 0;
    /// <inheritdoc/>
    public int MaxJobs { get; }
    /// <inheritdoc/>
    public int MaxBatchFolios => 1;

    /// <summary>Runs so far.</summary>
    public int Runs;
    /// <summary>Compression jobs in the largest run so far.</summary>
    public int LargestCompressRun;

    /// <inheritdoc/>
    public void Run(JobBatch batch)
    {
        Interlocked.Increment(ref Runs);
        int compress = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            ref PageJob job = ref batch.Jobs[i];
            if (job.Kind == JobKind.Compress) compress++;
            PageWork.Run(ref job, batch.Context(job.CodecId), null);
        }
        if (compress > LargestCompressRun) LargestCompressRun = compress;
    }

    public void Dispose()
    {
    }
}
