namespace BatchSwap.Compression.Engines;

/// <summary>
/// The compression engines behind zswap: something that runs a batch of page jobs in parallel and returns
/// when every job has a result. The CPU implementation spreads jobs over engine threads; a hardware
/// offload (Intel IAA through a native library, a GPU) implements the same contract:
/// <list type="bullet">
/// <item><description><see cref="Run"/> gets a batch of up to <see cref="MaxJobs"/> jobs whose buffers stay valid until it returns;
/// it fills each job's <see cref="PageJob.Result"/> (and <see cref="PageJob.Written"/> for compression).</description></item>
/// <item><description>A failed page is a result (<see cref="JobResult.Failed"/>, <see cref="JobResult.Corrupt"/>), never an exception;
/// the caller sends the folio to the swap device.</description></item>
/// <item><description>Compression output must decompress with the software codec of the same id (for IAA: raw deflate),
/// so entries stay readable whatever engine is present.</description></item>
/// <item><description>It is called from many threads at once; it must not allocate per job.</description></item>
/// </list>
/// </summary>
internal interface IBatchCompressor : IDisposable
{
    /// <summary>A name for reports ("cpu x2").</summary>
    string Name { get; }

    /// <summary>Engines that work in parallel (not counting the submitting thread).</summary>
    int Engines { get; }

    /// <summary>The most jobs one <see cref="Run"/> takes.</summary>
    int MaxJobs { get; }

    /// <summary>
    /// The most folios worth gathering into one store for these engines: the upper bound of vm.compress-batchsize
    /// (the tier caps the tunable to it, in [1, <see cref="Tunables.TunableSet.MaxCompressBatchSize"/>]). Engines
    /// that run a batch's jobs in parallel say how many order-0 folios fill one run; engines that cannot batch (a
    /// synchronous compressor that takes one page at a time) say 1: gathering folios for them gains nothing and only
    /// delays each folio's outcome behind the others'. Whatever it says, <see cref="Run"/> must still take up to
    /// <see cref="MaxJobs"/> jobs (one large folio's pages go in one run).
    /// </summary>
    int MaxBatchFolios { get; }

    /// <summary>Runs every job of <paramref name="batch"/>; returns when all have a result.</summary>
    void Run(JobBatch batch);
}
