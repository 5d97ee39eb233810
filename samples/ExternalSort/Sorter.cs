using System.Diagnostics;
using BatchSwap;
using BatchSwap.Stats;

namespace ExternalSort;

/// <summary>What to sort and in how much memory.</summary>
/// <param name="Keys">How many 64-bit keys to sort.</param>
/// <param name="MemoryBytes">The memory tier's budget; the keys (twice: input and output) may be many times more.</param>
/// <param name="RunKeys">Keys sorted in one run in managed memory (phase 1), and so the working set of the sort.</param>
/// <param name="Seed">Seed of the keys.</param>
public sealed record SortOptions(long Keys, long MemoryBytes, int RunKeys = 1 << 20, int Seed = 1);

/// <summary>What a sort did.</summary>
/// <param name="Sorted">Whether the output is in order and holds the same keys as the input (by count, sum and xor).</param>
public sealed record SortReport(long Keys, int Runs, bool Sorted, TimeSpan Generate, TimeSpan RunPhase, TimeSpan MergePhase, CounterSnapshot Counters, long FrameBytes);

/// <summary>
/// An external merge sort whose "disk" is a <see cref="MemoryTier"/>: the keys live in a <see cref="PagedArray{T}"/>
/// several times larger than the tier's budget. Phase 1 sorts runs of <see cref="SortOptions.RunKeys"/> keys in a
/// managed buffer and writes them back in place; phase 2 merges the runs into a second paged array through one small
/// buffer per run. The tier compresses what is cold (runs not being read) and swaps out what does not compress.
/// </summary>
public static class Sorter
{
    /// <summary>Keys each run's merge buffer holds (8 KiB of longs: two pages).</summary>
    private const int MergeBufferKeys = 1024;

    /// <summary>Generates, sorts and checks <see cref="SortOptions.Keys"/> keys; prints progress to <paramref name="log"/>.</summary>
    public static SortReport Run(SortOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = options.MemoryBytes, Engines = Math.Min(2, Environment.ProcessorCount) });
        using var input = new PagedArray<long>(tier, options.Keys);
        using var output = new PagedArray<long>(tier, options.Keys);
        log.WriteLine($"sorting {options.Keys:N0} keys ({Mib(options.Keys * 8)} MiB, twice: input and output) in a {Mib(options.MemoryBytes)} MiB tier");

        var clock = Stopwatch.StartNew();
        (long sum, long xor) = Generate(input, options.Seed);
        TimeSpan generate = clock.Elapsed;

        clock.Restart();
        int runs = SortRuns(input, options.RunKeys);
        TimeSpan runPhase = clock.Elapsed;
        log.WriteLine($"phase 1: {runs} sorted runs of up to {options.RunKeys:N0} keys in {runPhase.TotalSeconds:F2} s");

        clock.Restart();
        Merge(input, output, options.RunKeys);
        TimeSpan mergePhase = clock.Elapsed;
        log.WriteLine($"phase 2: merged {runs} runs in {mergePhase.TotalSeconds:F2} s");

        bool sorted = Check(output, sum, xor);
        CounterSnapshot c = tier.Snapshot();
        log.WriteLine(sorted ? "output is sorted and holds every key" : "OUTPUT IS WRONG");
        log.WriteLine($"zswap: {c[Counter.Zswpout]:N0} pages compressed out, {c[Counter.Zswpin]:N0} back in; " +
                      $"swap file: {c[Counter.Pswpout]:N0} pages written, {c[Counter.Pswpin]:N0} read; " +
                      $"pool {Mib(c.Gauge("pool_total_size"))} MiB holds {c.Gauge("stored_pages"):N0} pages");
        return new SortReport(options.Keys, runs, sorted, generate, runPhase, mergePhase, c, tier.FrameBytes);
    }

    /// <summary>Fills the array with keys drawn from 2^40 values (compressible: the top bytes are zero); returns their sum and xor.</summary>
    private static (long Sum, long Xor) Generate(PagedArray<long> keys, int seed)
    {
        var rng = new Random(seed);
        var chunk = new long[64 << 10];
        long sum = 0, xor = 0;
        for (long start = 0; start < keys.Length; start += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, keys.Length - start);
            for (int i = 0; i < n; i++)
            {
                long k = rng.NextInt64(1L << 40);
                chunk[i] = k;
                sum += k;
                xor ^= k;
            }
            keys.CopyFrom(start, chunk.AsSpan(0, n));
        }
        return (sum, xor);
    }

    /// <summary>Phase 1: sorts each run of <paramref name="runKeys"/> keys in place; returns the number of runs.</summary>
    private static int SortRuns(PagedArray<long> keys, int runKeys)
    {
        var buffer = new long[runKeys];
        int runs = 0;
        for (long start = 0; start < keys.Length; start += runKeys, runs++)
        {
            Span<long> run = buffer.AsSpan(0, (int)Math.Min(runKeys, keys.Length - start));
            keys.CopyTo(start, run);
            run.Sort();
            keys.CopyFrom(start, run);
        }
        return runs;
    }

    /// <summary>Phase 2: a k-way merge of the sorted runs of <paramref name="input"/> into <paramref name="output"/>.</summary>
    private static void Merge(PagedArray<long> input, PagedArray<long> output, int runKeys)
    {
        int runs = (int)((input.Length + runKeys - 1) / runKeys);
        var readers = new RunReader[runs];
        var heap = new PriorityQueue<int, long>(runs);
        for (int r = 0; r < runs; r++)
        {
            long start = (long)r * runKeys;
            readers[r] = new RunReader(input, start, Math.Min(start + runKeys, input.Length));
            if (readers[r].TryPeek(out long first)) heap.Enqueue(r, first);
        }
        var outBuffer = new long[16 << 10];
        int filled = 0;
        long written = 0;
        while (heap.TryDequeue(out int r, out long key))
        {
            outBuffer[filled++] = key;
            if (filled == outBuffer.Length)
            {
                output.CopyFrom(written, outBuffer);
                written += filled;
                filled = 0;
            }
            readers[r].Advance();
            if (readers[r].TryPeek(out long next)) heap.Enqueue(r, next);
        }
        output.CopyFrom(written, outBuffer.AsSpan(0, filled));
    }

    /// <summary>Whether <paramref name="keys"/> is in order and has the given sum and xor (enumerated, as LINQ would).</summary>
    private static bool Check(PagedArray<long> keys, long sum, long xor)
    {
        long previous = long.MinValue, s = 0, x = 0;
        foreach (long k in keys)
        {
            if (k < previous) return false;
            previous = k;
            s += k;
            x ^= k;
        }
        return s == sum && x == xor;
    }

    private static long Mib(long bytes) => bytes >> 20;

    /// <summary>Reads one sorted run through a small buffer.</summary>
    private sealed class RunReader(PagedArray<long> keys, long start, long end)
    {
        private readonly long[] _buffer = new long[MergeBufferKeys];
        private long _next = start;   // the array index of the next key to buffer
        private int _at, _count;      // the current key in _buffer, and the keys buffered

        public bool TryPeek(out long key)
        {
            if (_at == _count)
            {
                _count = (int)Math.Min(_buffer.Length, end - _next);
                _at = 0;
                if (_count <= 0) { key = 0; return false; }
                keys.CopyTo(_next, _buffer.AsSpan(0, _count));
                _next += _count;
            }
            key = _buffer[_at];
            return true;
        }

        public void Advance() => _at++;
    }
}
