using BatchSwap.Benchmarks.Data;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Compression.Engines;
using BatchSwap.Memory;
using BenchmarkDotNet.Attributes;

namespace BatchSwap.Benchmarks.Benchmarks;

/// <summary>
/// Benchmark 3: batch throughput against the raw limit. Each invocation compresses the same 256 pages (the next 256 of
/// a 1024-page strided sample, cycling) in one of these ways; one operation is one page, so MB/s compares directly:
/// <list type="bullet">
/// <item><description><c>CodecSingleThread</c> (baseline): the codec alone on the calling thread, one context.</description></item>
/// <item><description><c>CodecAllCores</c>: the codec alone on all cores, no engine: <c>Parallel.For</c> over one
/// partition per core, one context per partition (the raw limit; Parallel.For allocates a little, which is not the engine's).</description></item>
/// <item><description><c>PageWorkSingleThread</c>: the engine's per-page job (checksum, same-filled check, compress)
/// on the calling thread: what the engines add per page before any parallelism.</description></item>
/// <item><description><c>Engines1Batch32</c>, <c>Engines2Batch32</c>: eight batches of 32 through <see cref="CpuEngines"/>
/// with 1 or 2 engine threads plus the submitting thread.</description></item>
/// <item><description><c>Engines1DecompressBatch32</c>: the compressible pages decompressed back in batches of 32 through
/// <see cref="CpuEngines"/> with 1 engine thread plus the submitter, checksums verified (the swap-in readahead path).</description></item>
/// </list>
/// </summary>
public unsafe class BatchThroughputBenchmarks
{
    /// <summary>Pages per invocation.</summary>
    public const int Pages = 256;

    /// <summary>Pages per batch.</summary>
    private const int BatchPages = 32;

    /// <summary>Pages in the sample the invocations cycle through.</summary>
    private const int SamplePages = 1024;

    /// <summary>The codec, by <c>zswap.compressor</c> name.</summary>
    [ParamsSource(nameof(Codecs))]
    public string Codec { get; set; } = "lz4";

    /// <summary>The page set (generated; page images when present).</summary>
    [ParamsSource(nameof(Sources))]
    public string Source { get; set; } = PageSets.Generated;

    /// <summary>Every registered codec.</summary>
    public static IEnumerable<string> Codecs => CodecRegistry.Names;

    /// <summary>Every page set present.</summary>
    public static IEnumerable<string> Sources => PageSets.Available();

    // The sample pages.
    private NativePages _pages = null!;
    // Engines with one and two engine threads.
    private CpuEngines _engines1 = null!;
    private CpuEngines _engines2 = null!;
    // The batch, reused for every run.
    private JobBatch _batch = null!;
    // One context per core for the raw runs (index = partition); [0] is also the single-thread context.
    private IPageCodecContext[] _contexts = [];
    // One output page per core for the raw runs.
    private NativePages _outputs = null!;
    // The codec's id.
    private byte _codecId;
    // Next sample page to store.
    private int _cursor;
    // Compressed sample (one page-sized slot per page), lengths and checksums, and the compressible pages' indices.
    private NativePages _compressed = null!;
    private int[] _lengths = [];
    private uint[] _checksums = [];
    private int[] _compressible = [];
    // Frames the decompression batches fill.
    private NativePages _frames = null!;
    // Next compressible page to decompress.
    private int _decompressCursor;
    // The raw partition body, made once.
    private Action<int> _partition = null!;
    // First page of the current raw invocation (read by the partitions).
    private int _rawFirst;
    // Bytes written per partition by the current raw invocation.
    private long[] _rawWritten = [];

    [GlobalSetup]
    public void Setup()
    {
        _pages = PageSets.Sample(Source, SamplePages);
        ICodec codec = CodecRegistry.Get(Codec);
        _codecId = codec.Id;
        _batch = new JobBatch(BatchPages);
        _engines1 = new CpuEngines(1, faults: null, maxJobs: BatchPages);
        _engines2 = new CpuEngines(2, faults: null, maxJobs: BatchPages);
        int cores = Environment.ProcessorCount;
        _contexts = new IPageCodecContext[cores];
        for (int i = 0; i < cores; i++) _contexts[i] = codec.CreateContext();
        _outputs = new NativePages(cores);
        _rawWritten = new long[cores];
        _partition = RawPartition;

        _compressed = new NativePages(SamplePages);
        _lengths = new int[SamplePages];
        _checksums = new uint[SamplePages];
        var compressible = new List<int>();
        for (int i = 0; i < SamplePages; i++)
        {
            _checksums[i] = PageWork.Checksum(_pages.Page(i));
            if (_contexts[0].Compress(_pages.Span(i), _compressed.Span(i), out int n) == CodecStatus.Ok && n < PageSize.Bytes)
            {
                _lengths[i] = n;
                compressible.Add(i);
            }
        }

        _compressible = compressible.ToArray();
        _frames = new NativePages(BatchPages);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engines1.Dispose();
        _engines2.Dispose();
        _batch.Dispose();
        foreach (IPageCodecContext c in _contexts) c.Dispose();
        _outputs.Dispose();
        _compressed.Dispose();
        _frames.Dispose();
        _pages.Dispose();
    }

    /// <summary>The first page of this invocation's 256.</summary>
    private int Next()
    {
        int first = _cursor;
        _cursor = (first + Pages) % SamplePages;
        return first;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public long CodecSingleThread()
    {
        int first = Next();
        IPageCodecContext context = _contexts[0];
        Span<byte> output = _outputs.Span(0);
        long total = 0;
        for (int i = 0; i < Pages; i++)
        {
            context.Compress(_pages.Span(first + i), output, out int written);
            total += written;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public long CodecAllCores()
    {
        _rawFirst = Next();
        Parallel.For(0, _contexts.Length, _partition);
        long total = 0;
        foreach (long w in _rawWritten) total += w;
        return total;
    }

    /// <summary>Partition <paramref name="p"/> of a raw run: pages p, p + cores, ... with context p.</summary>
    private void RawPartition(int p)
    {
        IPageCodecContext context = _contexts[p];
        Span<byte> output = _outputs.Span(p);
        int step = _contexts.Length;
        long total = 0;
        for (int i = p; i < Pages; i += step)
        {
            context.Compress(_pages.Span(_rawFirst + i), output, out int written);
            total += written;
        }

        _rawWritten[p] = total;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public long PageWorkSingleThread()
    {
        int first = Next();
        JobBatch batch = _batch;
        IPageCodecContext context = batch.Context(_codecId);
        long total = 0;
        for (int i = 0; i < Pages; i++)
        {
            batch.Clear();
            ref PageJob job = ref batch.AddCompress(_pages.Page(first + i), _codecId);
            PageWork.Run(ref job, context, faults: null);
            total += job.Written;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public long Engines1Batch32() => StoreBatches(_engines1);

    [Benchmark(OperationsPerInvoke = Pages)]
    public long Engines2Batch32() => StoreBatches(_engines2);

    /// <summary>Compresses this invocation's pages in batches of 32.</summary>
    private long StoreBatches(CpuEngines engines)
    {
        int first = Next();
        JobBatch batch = _batch;
        long total = 0;
        for (int run = 0; run < Pages; run += BatchPages)
        {
            batch.Clear();
            for (int i = 0; i < BatchPages; i++) batch.AddCompress(_pages.Page(first + run + i), _codecId);
            engines.Run(batch);
            for (int i = 0; i < BatchPages; i++) total += batch.Jobs[i].Written;
        }

        return total;
    }

    /// <summary>Decompresses 256 compressible pages in batches of 32, verifying checksums (0 when none compressed).</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public int Engines1DecompressBatch32()
    {
        int[] compressible = _compressible;
        if (compressible.Length == 0) return 0;
        JobBatch batch = _batch;
        int ok = 0;
        int j = _decompressCursor;
        for (int run = 0; run < Pages; run += BatchPages)
        {
            batch.Clear();
            for (int k = 0; k < BatchPages; k++)
            {
                int i = compressible[j];
                if (++j == compressible.Length) j = 0;
                ref PageJob job = ref batch.AddDecompress(_compressed.Page(i), _lengths[i], _codecId, _frames.Page(k));
                job.Checksum = _checksums[i];
                job.Verify = true;
            }

            _engines1.Run(batch);
            for (int k = 0; k < BatchPages; k++) ok += batch.Jobs[k].Result == JobResult.Decompressed ? 1 : 0;
        }

        _decompressCursor = j;
        return ok;
    }
}
