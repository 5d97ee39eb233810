using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// The claim state of one run of a <see cref="JobBatch"/> on <see cref="CpuEngines"/>: which batch, the claim word,
/// the unfinished-job count and the generation. Only the CPU engines need it — a batch itself is neutral, what any
/// <see cref="IBatchCompressor"/> sees. One per submitting thread, reused run after run; an engine that picks up an
/// offer late sees another generation and leaves it alone.
/// </summary>
internal sealed class RunClaim
{
    // The claim word, the unfinished-job count and the generation, each alone on its own 128-byte block (the
    // adjacent-line prefetcher pairs 64-byte lines), so that claiming and finishing jobs does not bounce the
    // line holding the batch's read-mostly fields (Jobs, Count, the buffers) between the submitter and the engines.
    private ClaimCounters _counters;

    /// <summary>The batch of the current run (written by the submitter before it offers the run).</summary>
    public JobBatch? Batch;

    /// <summary>The claim word: run generation (high 32 bits) and next job to claim (low 32 bits).</summary>
    public ref long Claim => ref _counters.Claim;
    /// <summary>Jobs of the current run not finished yet.</summary>
    public ref int Remaining => ref _counters.Remaining;
    /// <summary>Generation of the current run (written by the submitter only).</summary>
    public ref int Generation => ref _counters.Generation;

    /// <summary>Opens a run of the jobs of <paramref name="batch"/>; returns its generation.</summary>
    public int Open(JobBatch batch)
    {
        Batch = batch;
        int gen = ++Generation;
        Volatile.Write(ref Remaining, batch.Count);
        Volatile.Write(ref Claim, (long)(uint)gen << 32);
        return gen;
    }

    /// <summary>Closes the current run to late claimers (before the batch's jobs are overwritten by the next run).</summary>
    public void Close() => Volatile.Write(ref Claim, (long)(uint)(Generation + 1) << 32 | int.MaxValue);

    /// <summary>Jobs of the current run not claimed yet (0 when the run is over or closed); for tests and reports.</summary>
    public int Unclaimed
    {
        get
        {
            long cur = Volatile.Read(ref Claim);
            JobBatch? b = Batch;
            return b is null || (int)(cur >> 32) != Generation ? 0 : Math.Max(0, Volatile.Read(ref b.Count) - (int)cur);
        }
    }

    /// <summary>
    /// Claims the next jobs of run <paramref name="generation"/>: a quarter of those left (at least one), so that early
    /// claims take several jobs and the last ones take one each (guided self-scheduling: few claims, each one a
    /// cache-line transfer between cores, and still an even finish). Returns the first job's index and sets
    /// <paramref name="claimed"/>; -1 when there is none (or the run is over).
    /// </summary>
    public int TryClaim(JobBatch batch, int generation, out int claimed)
    {
        while (true)
        {
            long cur = Volatile.Read(ref Claim);
            claimed = 0;
            if ((int)(cur >> 32) != generation) return -1;
            int count = Volatile.Read(ref batch.Count);
            int index = (int)cur;
            if (index >= count) return -1;
            int take = Math.Max(1, (count - index) >> 2);
            // Success proves Claim did not change since it was read, so count belonged to this run.
            if (Interlocked.CompareExchange(ref Claim, cur + take, cur) == cur)
            {
                claimed = take;
                return index;
            }
        }
    }
}

/// <summary>
/// The words a run's claimers write, each alone in a 128-byte block: <see cref="Claim"/> (every claim),
/// <see cref="Remaining"/> (every finished job; the submitter polls it at the end), <see cref="Generation"/>
/// (submitter only). 128 bytes of nothing before the first and after the last keep them off the neighbouring
/// fields of the claim object too, whatever the object's alignment.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 4 * Padding)]
internal struct ClaimCounters
{
    /// <summary>Bytes between two hot words (two cache lines).</summary>
    public const int Padding = 128;

    /// <summary>See <see cref="RunClaim.Claim"/>.</summary>
    [FieldOffset(Padding)] public long Claim;
    /// <summary>See <see cref="RunClaim.Remaining"/>.</summary>
    [FieldOffset(2 * Padding)] public int Remaining;
    /// <summary>See <see cref="RunClaim.Generation"/>.</summary>
    [FieldOffset(3 * Padding)] public int Generation;
}
