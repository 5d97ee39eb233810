using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Memory;

namespace BatchSwap;

/// <summary>
/// A fixed-length array of <typeparamref name="T"/> that may be larger than memory: its elements live in a
/// <see cref="Region"/> of a <see cref="MemoryTier"/>, so cold parts are compressed or swapped out and come back when
/// touched. Elements start as <c>default(T)</c>. Dispose frees the region.
/// </summary>
/// <remarks>
/// <para>
/// Element <c>i</c> is at byte <c>i * sizeof(T)</c>. When sizeof(T) divides 4096 every element lies in one page;
/// otherwise some elements span two pages, and the array reads and writes those in two parts.
/// </para>
/// <para>
/// Reads take pages read-only, so a page that was only read keeps its retained compressed copy and costs nothing
/// to reclaim again; writes go through <see cref="Region.Write"/>. Prefer <see cref="CopyTo"/>/<see cref="CopyFrom"/>
/// over the indexer for runs of elements: one call moves a page at a time.
/// </para>
/// <para>
/// Thread-safety: as for <typeparamref name="T"/>[] — threads may read and write different elements at once; an
/// element written by one thread while another reads it may be seen torn.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// using var tier = new MemoryTier(new TierOptions { MemoryBytes = 64L &lt;&lt; 20 });
/// using var keys = new PagedArray&lt;long&gt;(tier, 32L &lt;&lt; 20);   // 256 MiB of longs in 64 MiB of memory
/// keys[12345] = 42;
/// long sum = 0;
/// foreach (long k in keys) sum += k;
/// </code>
/// </example>
/// <typeparam name="T">An unmanaged element type.</typeparam>
public sealed class PagedArray<T> : IEnumerable<T>, IDisposable
    where T : unmanaged
{
    // Bytes per element.
    private static readonly int ElementSize = Unsafe.SizeOf<T>();
    // Whether every element lies within one page (sizeof(T) divides the page size).
    private static readonly bool NoneSpan = PageSize.Bytes % ElementSize == 0;

    // The pages that hold the elements.
    private readonly Region _region;

    /// <summary>
    /// Allocates an array of <paramref name="length"/> elements in <paramref name="tier"/>, in folios of
    /// <paramref name="order"/>, charged to <paramref name="group"/> (default: the tier's default group).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not positive, or the array would be larger than a region can be.</exception>
    public PagedArray(MemoryTier tier, long length, int order = 0, MemoryGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (length > (1L << 43) / ElementSize)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"{length} elements of {ElementSize} bytes are more than a region holds (8 TiB)");
        _region = tier.Allocate(length * ElementSize, order, group);
        Length = length;
    }

    /// <summary>Elements in the array.</summary>
    public long Length { get; }

    /// <summary>The region that holds the elements (for <see cref="Region.IsResident"/> and the like).</summary>
    public Region Region => _region;

    /// <summary>Element <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Length"/>).</exception>
    public T this[long index]
    {
        get
        {
            if ((ulong)index >= (ulong)Length) ThrowIndex(index);
            long offset = index * ElementSize;
            int inPage = (int)(offset & (PageSize.Bytes - 1));
            if (NoneSpan || inPage <= PageSize.Bytes - ElementSize)
            {
                using ReadOnlyPageLease lease = _region.PinReadOnly(offset >> PageSize.Shift);
                return MemoryMarshal.Read<T>(lease.Span[inPage..]);
            }
            return ReadSpanning(offset);
        }
        set
        {
            if ((ulong)index >= (ulong)Length) ThrowIndex(index);
            long offset = index * ElementSize;
            ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
            int inPage = (int)(offset & (PageSize.Bytes - 1));
            if (NoneSpan || inPage <= PageSize.Bytes - ElementSize) _region.Write(offset >> PageSize.Shift, bytes, inPage);
            else _region.WriteAt(offset, bytes);
        }
    }

    /// <summary>Copies elements <paramref name="start"/> … <paramref name="start"/> + <paramref name="destination"/>.Length − 1 into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the array.</exception>
    public void CopyTo(long start, Span<T> destination)
    {
        CheckRange(start, destination.Length);
        _region.ReadAt(start * ElementSize, MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Copies <paramref name="source"/> into the array, starting at element <paramref name="start"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the array.</exception>
    public void CopyFrom(long start, ReadOnlySpan<T> source)
    {
        CheckRange(start, source.Length);
        _region.WriteAt(start * ElementSize, MemoryMarshal.AsBytes(source));
    }

    /// <summary>
    /// Enumerates the elements in order, reading a few pages' worth at a time into one buffer (allocated once per
    /// enumeration, never per element). Writes made while enumerating may or may not be seen.
    /// </summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Frees the region and with it every element's frame, pool entry and swap slot. A second call does nothing.</summary>
    public void Dispose() => _region.Dispose();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private T ReadSpanning(long offset)
    {
        T value = default;
        _region.ReadAt(offset, MemoryMarshal.AsBytes(new Span<T>(ref value)));
        return value;
    }

    private void CheckRange(long start, int count)
    {
        if (start < 0 || start > Length - count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"elements {start} … {start + count} do not lie within the array's {Length}");
    }

    private void ThrowIndex(long index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"index {index} is outside the array (0 … {Length - 1})");

    /// <summary>Enumerates a <see cref="PagedArray{T}"/> through a buffer of a few pages' worth of elements.</summary>
    public struct Enumerator : IEnumerator<T>
    {
        // Bytes the buffer holds: four pages' worth of elements (at least one element).
        private const int BufferBytes = 4 * PageSize.Bytes;

        // The array enumerated.
        private readonly PagedArray<T> _array;
        // Elements copied from the array; null until the first MoveNext.
        private T[]? _buffer;
        // Index in the array of _buffer[0].
        private long _bufferStart;
        // Valid elements in _buffer.
        private int _count;
        // Index of the current element in _buffer (−1 before the first).
        private int _i;

        internal Enumerator(PagedArray<T> array)
        {
            _array = array;
            _i = -1;
        }

        /// <inheritdoc/>
        public readonly T Current => _buffer![_i];

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            if (++_i < _count) return true;
            long next = _bufferStart + _count;
            if (next >= _array.Length) { _i = _count; return false; }
            _buffer ??= new T[Math.Max(1, BufferBytes / ElementSize)];
            _count = (int)Math.Min(_buffer.Length, _array.Length - next);
            _array.CopyTo(next, _buffer.AsSpan(0, _count));
            _bufferStart = next;
            _i = 0;
            return true;
        }

        /// <inheritdoc/>
        public void Reset()
        {
            _bufferStart = 0;
            _count = 0;
            _i = -1;
        }

        /// <summary>Does nothing (the buffer is garbage-collected).</summary>
        public readonly void Dispose()
        {
        }
    }
}
