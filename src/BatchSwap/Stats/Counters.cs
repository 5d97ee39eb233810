using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BatchSwap.Stats;

/// <summary>
/// Striped event counters. Each thread adds to one of a few cache-line-separated stripes,
/// so that workers and engines do not fight over one line; a snapshot sums the stripes.
/// </summary>
internal sealed class Counters
{
    private const int Stripes = 8;

    // One row of Count longs per stripe, each row padded to whole cache lines.
    private readonly long[] _cells;
    // Longs per stripe row (counter count rounded up to a cache line).
    private readonly int _rowLength;

    public Counters()
    {
        _rowLength = (CounterNames.Count + 7) & ~7;
        _cells = GC.AllocateArray<long>(_rowLength * Stripes + 8, pinned: true);
    }

    /// <summary>Adds <paramref name="delta"/> to <paramref name="counter"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Counter counter, long delta = 1)
    {
        int stripe = Environment.CurrentManagedThreadId & (Stripes - 1);
        Interlocked.Add(ref _cells[stripe * _rowLength + (int)counter], delta);
    }

    /// <summary>The current total of one counter.</summary>
    public long Read(Counter counter)
    {
        long sum = 0;
        for (int s = 0; s < Stripes; s++) sum += Volatile.Read(ref _cells[s * _rowLength + (int)counter]);
        return sum;
    }

    /// <summary>Copies every counter's total into <paramref name="destination"/> (indexed by <see cref="Counter"/>).</summary>
    public void ReadAll(Span<long> destination)
    {
        destination.Clear();
        for (int s = 0; s < Stripes; s++)
        {
            ReadOnlySpan<long> row = MemoryMarshal.CreateReadOnlySpan(ref _cells[s * _rowLength], CounterNames.Count);
            for (int c = 0; c < row.Length; c++) destination[c] += Volatile.Read(ref Unsafe.AsRef(in row[c]));
        }
    }
}
