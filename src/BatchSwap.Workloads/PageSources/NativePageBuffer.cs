using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Memory;

namespace BatchSwap.Workloads.PageSources;

/// <summary>
/// Page-aligned native memory holding whole 4 KiB pages back to back. Owned by one page source; outside the GC heap,
/// so a large image adds nothing to GC work. Reading is thread-safe; <see cref="Dispose"/> is not concurrent-safe.
/// There is deliberately no finalizer: a finalizer could free the memory while a span returned by
/// <see cref="GetPage"/> is still in use after its owner became unreachable.
/// </summary>
internal sealed unsafe class NativePageBuffer : IDisposable
{
    // Start of the buffer; null after Dispose.
    private byte* _pages;

    // Bytes allocated (capacity), a multiple of the page size.
    private nuint _capacityBytes;

    // Whole pages currently held (valid bytes = PageCount * 4096).
    private long _pageCount;

    /// <summary>Allocates room for <paramref name="capacityPages"/> pages (at least one); contents are undefined until written.</summary>
    /// <exception cref="OutOfMemoryException">The memory could not be allocated.</exception>
    public NativePageBuffer(long capacityPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityPages);
        _capacityBytes = checked((nuint)Math.Max(1, capacityPages) * PageSize.Bytes);
        _pages = (byte*)NativeMemory.AlignedAlloc(_capacityBytes, PageSize.Bytes);
    }

    /// <summary>Whole pages held.</summary>
    public long PageCount => _pageCount;

    /// <summary>Pages that fit without growing.</summary>
    public long CapacityPages => (long)(_capacityBytes / PageSize.Bytes);

    /// <summary>Page <paramref name="index"/>; bounds-checked, no allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetPage(long index)
    {
        byte* pages = _pages;
        if (pages == null)
        {
            ThrowDisposed();
        }

        if ((ulong)index >= (ulong)_pageCount)
        {
            ThrowIndex(index, _pageCount);
        }

        return new ReadOnlySpan<byte>(pages + (index << PageSize.Shift), PageSize.Bytes);
    }

    /// <summary>Writable view of page <paramref name="index"/> (below capacity), for filling during construction.</summary>
    public Span<byte> GetWritablePage(long index)
    {
        if (_pages == null)
        {
            ThrowDisposed();
        }

        if ((ulong)index >= (ulong)CapacityPages)
        {
            ThrowIndex(index, CapacityPages);
        }

        return new Span<byte>(_pages + (index << PageSize.Shift), PageSize.Bytes);
    }

    /// <summary>Writable view from byte <paramref name="byteOffset"/> to the end of capacity, at most <paramref name="maxLength"/> bytes.</summary>
    public Span<byte> GetWritableBytes(nuint byteOffset, int maxLength)
    {
        if (_pages == null)
        {
            ThrowDisposed();
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(byteOffset, _capacityBytes);
        nuint available = _capacityBytes - byteOffset;
        int length = (int)Math.Min((nuint)Math.Max(0, maxLength), available);
        return new Span<byte>(_pages + byteOffset, length);
    }

    /// <summary>Bytes of capacity.</summary>
    public nuint CapacityBytes => _capacityBytes;

    /// <summary>Grows the capacity to at least <paramref name="capacityPages"/> pages, keeping the first <paramref name="keepBytes"/> bytes.</summary>
    /// <exception cref="OutOfMemoryException">The memory could not be allocated.</exception>
    public void Grow(long capacityPages, nuint keepBytes)
    {
        nuint newBytes = checked((nuint)capacityPages * PageSize.Bytes);
        if (newBytes <= _capacityBytes)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(keepBytes, _capacityBytes);
        byte* grown = (byte*)NativeMemory.AlignedAlloc(newBytes, PageSize.Bytes);
        Buffer.MemoryCopy(_pages, grown, newBytes, keepBytes);
        NativeMemory.AlignedFree(_pages);
        _pages = grown;
        _capacityBytes = newBytes;
    }

    /// <summary>Marks the first <paramref name="pageCount"/> pages (at most the capacity) as the valid contents.</summary>
    public void SetPageCount(long pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageCount, CapacityPages);
        _pageCount = pageCount;
    }

    /// <summary>Frees the memory. Idempotent.</summary>
    public void Dispose()
    {
        byte* pages = _pages;
        _pages = null;
        _pageCount = 0;
        _capacityBytes = 0;
        if (pages != null)
        {
            NativeMemory.AlignedFree(pages);
        }
    }

    [DoesNotReturn]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(IPageSource), "The page source has been disposed.");

    [DoesNotReturn]
    private static void ThrowIndex(long index, long count) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"Page index must be in [0, {count}).");
}
