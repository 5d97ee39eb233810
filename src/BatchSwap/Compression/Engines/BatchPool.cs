using System.Collections.Concurrent;
using BatchSwap.Memory;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// A fixed set of job batches made at start-up (like the kernel's per-CPU compression contexts), so that their
/// memory is known in advance and counted in the tier's budget. A thread holds at most one batch at a time;
/// when all are taken, a renter waits for one to come back.
/// </summary>
internal sealed class BatchPool : IDisposable
{
    // Batches not rented now.
    private readonly ConcurrentBag<JobBatch> _free = new();
    // Every batch, to dispose.
    private readonly JobBatch[] _all;

    public BatchPool(int count, int jobsPerBatch)
    {
        _all = new JobBatch[count];
        for (int i = 0; i < count; i++) _free.Add(_all[i] = new JobBatch(jobsPerBatch));
    }

    /// <summary>Native bytes one batch of <paramref name="jobs"/> jobs holds.</summary>
    public static long BytesPerBatch(int jobs) => (long)jobs * (2 * PageSize.Bytes + 64);

    /// <summary>Takes a batch, waiting while none is free.</summary>
    public JobBatch Rent()
    {
        if (_free.TryTake(out JobBatch? b)) return b;
        var spin = new SpinWait();
        while (!_free.TryTake(out b)) spin.SpinOnce();
        return b;
    }

    /// <summary>Gives a batch back.</summary>
    public void Return(JobBatch batch) => _free.Add(batch);

    public void Dispose()
    {
        foreach (JobBatch b in _all) b.Dispose();
    }
}
