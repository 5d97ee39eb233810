using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Compression.Codecs;
using BatchSwap.Memory;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// A reusable batch of page jobs, what an <see cref="IBatchCompressor"/> sees: the job array, one output buffer and
/// one scratch buffer per job, and the submitting thread's own codec contexts. A submitter rents one for the duration
/// of a store or load and returns it; nothing in it is allocated per page. How engines share out its jobs is theirs
/// (<see cref="RunClaim"/> for the CPU engines).
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

    /// <summary>Empties the batch for a new run. It must not be running.</summary>
    public void Clear() => Count = 0;

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
