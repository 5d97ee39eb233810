using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;
using BenchmarkDotNet.Attributes;

namespace BatchSwap.Benchmarks.Benchmarks;

/// <summary>
/// Benchmark 2: per-page compress cost, one page at a time against batched through <see cref="CpuEngines"/>.
/// Every invocation stores the same 32 pages (the next 32 of a 1024-page sample of the generated set, cycling), so the
/// mean per operation is the per-page cost for every batch size: 32/B runs of a batch of B pages.
/// Batch = 0 is the one-at-a-time reference: each page's job (<see cref="PageWork.Run"/>: checksum, same-filled check,
/// compress) run on the calling thread with no engines, which is what a batch of one costs without the engine machinery.
/// Engines is <see cref="CpuEngines"/>' engine-thread count, not counting the submitting thread that works too
/// (the tier's default is one engine per core: 2 here).
/// </summary>
public unsafe class BatchLatencyBenchmarks
{
    /// <summary>Pages per invocation (one batch of the largest size).</summary>
    public const int Pages = 32;

    /// <summary>Pages in the sample the invocations cycle through.</summary>
    private const int SamplePages = 1024;

    /// <summary>The codec, by <c>zswap.compressor</c> name.</summary>
    [ParamsSource(nameof(Codecs))]
    public string Codec { get; set; } = "lz4";

    /// <summary>Pages per batch; 0 = one page at a time on the calling thread, no engines.</summary>
    [Params(0, 1, 2, 4, 8, 16, 32)]
    public int Batch { get; set; }

    /// <summary>Engine threads besides the submitting thread.</summary>
    [Params(1, 2)]
    public int Engines { get; set; }

    /// <summary>Every registered codec.</summary>
    public static IEnumerable<string> Codecs => CodecRegistry.Names;

    // The sample pages.
    private NativePages _pages = null!;
    // The engines (none for Batch = 0).
    private CpuEngines? _engines;
    // The batch, reused for every run.
    private JobBatch _batch = null!;
    // The codec's id.
    private byte _codecId;
    // Next sample page to store.
    private int _cursor;

    [GlobalSetup]
    public void Setup()
    {
        _pages = PageSets.Sample(PageSets.Generated, SamplePages);
        _codecId = CodecRegistry.Get(Codec).Id;
        _batch = new JobBatch(Pages);
        if (Batch > 0) _engines = new CpuEngines(Engines, faults: null, maxJobs: Pages);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engines?.Dispose();
        _batch.Dispose();
        _pages.Dispose();
    }

    /// <summary>Stores 32 pages in runs of <see cref="Batch"/> (or one at a time); returns the compressed bytes.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long StorePages()
    {
        JobBatch batch = _batch;
        int first = _cursor;
        _cursor = (first + Pages) % SamplePages;
        long written = 0;
        if (_engines is null)
        {
            for (int i = 0; i < Pages; i++)
            {
                batch.Clear();
                ref PageJob job = ref batch.AddCompress(_pages.Page(first + i), _codecId);
                PageWork.Run(ref job, batch.Context(_codecId), faults: null);
                written += job.Written;
            }

            return written;
        }

        for (int run = 0; run < Pages; run += Batch)
        {
            batch.Clear();
            for (int i = 0; i < Batch; i++) batch.AddCompress(_pages.Page(first + run + i), _codecId);
            _engines.Run(batch);
            for (int i = 0; i < Batch; i++) written += batch.Jobs[i].Written;
        }

        return written;
    }
}
