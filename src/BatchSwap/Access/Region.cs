using System.Runtime.CompilerServices;
using BatchSwap.MemCg;
using BatchSwap.Memory;

namespace BatchSwap.Access;

/// <summary>
/// A range of virtual pages that an application owns, held in folios of a chosen order. Reading or writing a
/// page that is not resident faults it back in (from zswap or the swap file) without the caller doing anything.
/// Thread-safe: any number of threads may read, write and pin pages of one region at once.
/// Dispose frees the region's frames, pool entries and swap slots.
/// </summary>
public sealed unsafe class Region : IDisposable
{
    /// <summary>Pages in the region.</summary>
    public long PageCount { get; }

    /// <summary>Bytes in the region.</summary>
    public long Length => PageCount << PageSize.Shift;

    /// <summary>Folio order that pages are first allocated in (0 = 4 KiB … 9 = 2 MiB).</summary>
    public int Order { get; }

    /// <summary>The memory group the region is charged to.</summary>
    public MemoryGroup Group { get; }

    /// <summary>The region's page table and its uses (the part reclaim sees).</summary>
    internal readonly AddressSpace Space;

    // The engine.
    private readonly Mm _mm;
    // Set when Dispose has finished.
    private int _disposed;

    internal Region(Mm mm, MemoryGroup group, AddressSpace space)
    {
        _mm = mm;
        Group = group;
        Space = space;
        PageCount = space.PageCount;
        Order = space.Order;
    }

    /// <summary>Whether the region has been disposed.</summary>
    public bool IsDisposed => Space.IsDying;

    /// <summary>Copies <paramref name="destination"/>.Length bytes of page <paramref name="page"/>, from byte <paramref name="offset"/> of the page.</summary>
    public void Read(long page, Span<byte> destination, int offset = 0)
    {
        CheckRange(page, offset, destination.Length);
        EnterUse();
        try
        {
            int head = _mm.PinPage(this, page, out byte* address);
            new ReadOnlySpan<byte>(address + offset, destination.Length).CopyTo(destination);
            _mm.Unpin(head);
        }
        finally { ExitUse(); }
    }

    /// <summary>Copies <paramref name="source"/> into page <paramref name="page"/> at byte <paramref name="offset"/>.</summary>
    public void Write(long page, ReadOnlySpan<byte> source, int offset = 0)
    {
        CheckRange(page, offset, source.Length);
        EnterUse();
        try
        {
            int head = _mm.PinPage(this, page, out byte* address);
            source.CopyTo(new Span<byte>(address + offset, source.Length));
            _mm.NoteWrite(head);
            _mm.Unpin(head);
        }
        finally { ExitUse(); }
    }

    /// <summary>
    /// Pins page <paramref name="page"/> in memory for reading: its 4 KiB as a read-only span, without copying. The page
    /// stays clean (a copy retained on swap stays valid), which a writable <see cref="Pin"/> cannot promise.
    /// </summary>
    public ReadOnlyPageLease PinReadOnly(long page)
    {
        int head = PinForLease(page, writable: false, out byte* address);
        return new ReadOnlyPageLease(this, head, address);
    }

    /// <summary>
    /// Pins page <paramref name="page"/> in memory and gives direct access to its 4 KiB. Reclaim never takes a
    /// pinned page. Dispose the lease promptly: a pinned page cannot be reclaimed.
    /// </summary>
    public PageLease Pin(long page)
    {
        int head = PinForLease(page, writable: true, out byte* address);
        return new PageLease(this, head, address);
    }

    /// <summary>Pins a page for a lease, holding a use of the region until the lease is disposed; a writable lease marks the page written.</summary>
    private int PinForLease(long page, bool writable, out byte* address)
    {
        CheckRange(page, 0, 0);
        EnterUse();
        try
        {
            int head = _mm.PinPage(this, page, out address);
            if (writable) _mm.NoteWrite(head); // the lease's span is writable
            return head;
        }
        catch
        {
            ExitUse();
            throw;
        }
    }

    /// <summary>Whether page <paramref name="page"/> is resident now (a racy answer, for diagnostics and tests).</summary>
    public bool IsResident(long page)
    {
        CheckRange(page, 0, 0);
        EnterUse();
        try { return Pte.IsPresent(Volatile.Read(ref *Space.PteAddress(page))); }
        finally { ExitUse(); }
    }

    internal void ReleaseLease(int head)
    {
        _mm.Unpin(head);
        ExitUse();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterUse()
    {
        if (!Space.TryEnterUse()) ThrowDisposed();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExitUse() => Space.ExitUse();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckRange(long page, int offset, int length)
    {
        if ((ulong)page >= (ulong)PageCount) ThrowPage(page);
        if ((uint)offset > PageSize.Bytes || (uint)length > (uint)(PageSize.Bytes - offset)) ThrowSpan(offset, length);
    }

    private void ThrowPage(long page) =>
        throw new ArgumentOutOfRangeException(nameof(page), $"page {page} is outside the region (0 … {PageCount - 1})");

    private static void ThrowSpan(int offset, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"bytes {offset} … {offset + length} do not lie within one 4096-byte page");

    private void ThrowDisposed() => throw (_mm.IsClosed
        ? new ObjectDisposedException(nameof(MemoryTier), "the memory tier has been disposed; its regions cannot be used")
        : new ObjectDisposedException(nameof(Region), "the region has been freed"));

    /// <summary>Frees the region's frames, pool entries and swap slots. A second call does nothing, nor does a call after the tier was disposed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _mm.FreeRegion(this);
    }
}
