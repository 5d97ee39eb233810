using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Compression.Codecs;
using BatchSwap.Memory;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// A reusable batch: the job array, one output buffer and one scratch buffer per job, and the submitting
/// thread's own codec contexts. A submitter rents one for the duration of a store or load and returns it;
/// nothing in it is allocated per page.
/// </summary>
internal sealed unsafe class JobBatch : IDisposable
{
    /// <summary>Jobs a batch holds.</summary>
    public readonly int Capacity;
    /// <summary>The jobs.</summary>
    public readonly PageJob* Jobs;
    /// <summary>Jobs filled in for this run.</summary>
    public int Count;

    // One page-sized output buffer per job (compressed data), then one scratch page per job.
    private readonly byte* _buffers;
    // The submitting thread's codec contexts, by codec id.
    private readonly IPageCodecContext?[] _contexts = new IPageCodecContext?[8];
    // The claim word, the unfinished-job count and the generation, each alone on its own 128-byte block (the
    // adjacent-line prefetcher pairs 64-byte lines), so that claiming and finishing jobs does not bounce the
    // line holding the batch's read-mostly fields (Jobs, Count, the buffers) between the submitter and the engines.
    private ClaimCounters _counters;
    /// <summary>The claim word: run generation (high 32 bits) and next job to claim (low 32 bits). An engine that
    /// picks this batch up late sees another generation and leaves it alone.</summary>
    internal ref long Claim => ref _counters.Claim;
    /// <summary>Jobs of the current run not finished yet.</summary>
    internal ref int Remaining => ref _counters.Remaining;
    /// <summary>Generation of the current run (written by the submitter only).</summary>
    internal ref int Generation => ref _counters.Generation;
    /// <summary>The submitting thread's contexts as a delegate (made once, so a run does not allocate).</summary>
    public readonly Func<byte, IPageCodecContext> ContextOf;

    public JobBatch(int capacity)
    {
        Capacity = capacity;
        // Jobs are one cache line each (PageJob is 64 bytes), line-aligned: an engine writing one job's result does
        // not invalidate the line of the job the submitter or another engine is running.
        Jobs = (PageJob*)NativeMemory.AlignedAlloc((nuint)(capacity * sizeof(PageJob)), 64);
        NativeMemory.Clear(Jobs, (nuint)(capacity * sizeof(PageJob)));
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)(2 * capacity * PageSize.Bytes), PageSize.Bytes); // 4 KiB aligned: writeback writes them with direct I/O
        ContextOf = Context;
    }

    /// <summary>The output buffer of job <paramref name="i"/> (one page).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Output(int i) => _buffers + (long)i * PageSize.Bytes;

    /// <summary>The scratch page of job <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Scratch(int i) => _buffers + (long)(Capacity + i) * PageSize.Bytes;

    /// <summary>Empties the batch for a new run.</summary>
    public void Clear()
    {
        // Close the previous run to late engines before its jobs are overwritten.
        Volatile.Write(ref Claim, (long)(uint)(Generation + 1) << 32 | int.MaxValue);
        Count = 0;
    }

    /// <summary>Opens a run of the jobs added since <see cref="Clear"/>; returns its generation.</summary>
    internal int Open()
    {
        int gen = ++Generation;
        Volatile.Write(ref Remaining, Count);
        Volatile.Write(ref Claim, (long)(uint)gen << 32);
        return gen;
    }

    /// <summary>Jobs of the current run not claimed yet (0 when the run is over or closed); for tests and reports.</summary>
    internal int Unclaimed
    {
        get
        {
            long cur = Volatile.Read(ref Claim);
            return (int)(cur >> 32) != Generation ? 0 : Math.Max(0, Volatile.Read(ref Count) - (int)cur);
        }
    }

    /// <summary>
    /// Claims the next jobs of run <paramref name="generation"/>: a quarter of those left (at least one), so that early
    /// claims take several jobs and the last ones take one each (guided self-scheduling: few claims, each one a
    /// cache-line transfer between cores, and still an even finish). Returns the first job's index and sets
    /// <paramref name="claimed"/>; -1 when there is none (or the run is over).
    /// </summary>
    internal int TryClaim(int generation, out int claimed)
    {
        while (true)
        {
            long cur = Volatile.Read(ref Claim);
            claimed = 0;
            if ((int)(cur >> 32) != generation) return -1;
            int count = Volatile.Read(ref Count);
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

    /// <summary>Adds a compression job for one page; the output goes to the job's own buffer.</summary>
    public ref PageJob AddCompress(byte* page, byte codecId)
    {
        int i = Count++;
        ref PageJob j = ref Jobs[i];
        j = PageJob.Compress(page, Output(i), codecId);
        return ref j;
    }

    /// <summary>Adds a decompression job into <paramref name="frame"/>.</summary>
    public ref PageJob AddDecompress(byte* source, int length, byte codecId, byte* frame)
    {
        int i = Count++;
        ref PageJob j = ref Jobs[i];
        j = PageJob.Decompress(source, length, codecId, frame);
        return ref j;
    }

    /// <summary>The submitting thread's context for a codec (made once).</summary>
    public IPageCodecContext Context(byte codecId) => _contexts[codecId] ??= CreateContext(codecId);

    internal static IPageCodecContext CreateContext(byte codecId) =>
        CodecRegistry.GetById(codecId).CreateContext();

    public void Dispose()
    {
        foreach (IPageCodecContext? c in _contexts) c?.Dispose();
        NativeMemory.AlignedFree(Jobs);
        NativeMemory.AlignedFree(_buffers);
    }
}

/// <summary>
/// The words a run's claimers write, each alone in a 128-byte block: <see cref="Claim"/> (every claim),
/// <see cref="Remaining"/> (every finished job; the submitter polls it at the end), <see cref="Generation"/>
/// (submitter only). 128 bytes of nothing before the first and after the last keep them off the neighbouring
/// fields of the batch object too, whatever the object's alignment.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 4 * Padding)]
internal struct ClaimCounters
{
    /// <summary>Bytes between two hot words (two cache lines).</summary>
    public const int Padding = 128;

    /// <summary>See <see cref="JobBatch.Claim"/>.</summary>
    [FieldOffset(Padding)] public long Claim;
    /// <summary>See <see cref="JobBatch.Remaining"/>.</summary>
    [FieldOffset(2 * Padding)] public int Remaining;
    /// <summary>See <see cref="JobBatch.Generation"/>.</summary>
    [FieldOffset(3 * Padding)] public int Generation;
}
