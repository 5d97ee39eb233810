using System.Runtime.CompilerServices;

namespace BatchSwap.Memory;

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

    /// <summary>Id of the region in its tier (stored in the frame table).</summary>
    internal readonly int Id;
    /// <summary>The node its folios are allocated on first.</summary>
    internal readonly int Node;
    /// <summary>Frames that hold the page table, 512 entries each.</summary>
    internal readonly int[] PteFrames;
    /// <summary>Serializes first-touch population of folios.</summary>
    internal readonly Lock PopulateLock = new();
    /// <summary>Swap-in readahead state: the last faulting page and the current window (racy by design; a hint).</summary>
    internal long LastFaultPage = -1;
    /// <summary>Pages the next swap-in reads around the faulting page (1 = no readahead).</summary>
    internal int ReadaheadWindow = 1;

    // The engine.
    private readonly Mm _mm;
    // Threads using the region now (accesses, faults, and reclaim holding its folios); see TryEnterUse.
    private int _users;
    // Set when Dispose begins; no new use may start.
    private volatile bool _dying;
    // Set when Dispose has finished.
    private int _disposed;

    internal Region(Mm mm, int id, MemoryGroup group, long pages, int order, int node, int[] pteFrames)
    {
        _mm = mm;
        Id = id;
        Group = group;
        PageCount = pages;
        Order = order;
        Node = node;
        PteFrames = pteFrames;
    }

    /// <summary>Whether the region has been disposed.</summary>
    public bool IsDisposed => _dying;

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
        try { return Pte.IsPresent(Volatile.Read(ref *PteAddress(page))); }
        finally { ExitUse(); }
    }

    internal void ReleaseLease(int head)
    {
        _mm.Unpin(head);
        ExitUse();
    }

    /// <summary>The page table entry of a page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong* PteAddress(long page) =>
        (ulong*)_mm.Arena.PageAddress(PteFrames[(int)(page >> 9)]) + (page & 511);

    /// <summary>Starts a use; fails when the region is being disposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryEnterUse()
    {
        Interlocked.Increment(ref _users);
        if (!_dying) return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterUse()
    {
        if (!TryEnterUse()) ThrowDisposed();
    }

    /// <summary>Ends a use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ExitUse() => Interlocked.Decrement(ref _users);

    /// <summary>Marks the region dying and waits until no use is left.</summary>
    internal bool BeginDispose()
    {
        if (_dying) return false;
        lock (PopulateLock)
        {
            if (_dying) return false;
            _dying = true;
        }
        Interlocked.MemoryBarrier(); // _dying is visible before _users is read (pairs with TryEnterUse's increment)
        var spin = new SpinWait();
        while (Volatile.Read(ref _users) > 0) spin.SpinOnce();
        return true;
    }

    /// <summary>Closes the region to new uses because its tier is closing, and waits until no use is left.</summary>
    internal void Close()
    {
        lock (PopulateLock) _dying = true;
        Interlocked.MemoryBarrier(); // _dying is visible before _users is read (pairs with TryEnterUse's increment)
        var spin = new SpinWait();
        while (Volatile.Read(ref _users) > 0) spin.SpinOnce();
    }

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

/// <summary>
/// Direct access to one pinned page; the page stays resident until the lease is disposed.
/// </summary>
public unsafe ref struct PageLease
{
    // The region, to unpin and end the use.
    private Region? _region;
    // The folio head frame that is pinned.
    private readonly int _head;
    // The page's address.
    private readonly byte* _address;

    internal PageLease(Region region, int head, byte* address)
    {
        _region = region;
        _head = head;
        _address = address;
    }

    /// <summary>The page's 4096 bytes.</summary>
    public Span<byte> Span => _region is null ? throw new InvalidOperationException("an empty lease") : new Span<byte>(_address, PageSize.Bytes);

    /// <summary>Unpins the page. A second call does nothing.</summary>
    public void Dispose()
    {
        Region? r = _region;
        _region = null;
        r?.ReleaseLease(_head);
    }
}
