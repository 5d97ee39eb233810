using BatchSwap.Memory;

namespace BatchSwap.Access;

/// <summary>
/// A page pinned for reading only (<see cref="Region.PinReadOnly"/>): its 4 KiB as a read-only span. Unlike a
/// <see cref="PageLease"/>, it leaves the page clean, so a copy retained on swap stays valid and reclaiming the page
/// later costs no compression and no I/O. Dispose it promptly: a pinned page cannot be reclaimed.
/// </summary>
public unsafe ref struct ReadOnlyPageLease
{
    // The region, to unpin and end the use.
    private Region? _region;
    // The folio head frame that is pinned.
    private readonly int _head;
    // The page's address.
    private readonly byte* _address;

    internal ReadOnlyPageLease(Region region, int head, byte* address)
    {
        _region = region;
        _head = head;
        _address = address;
    }

    /// <summary>The page's 4096 bytes, read-only.</summary>
    public ReadOnlySpan<byte> Span => _region is null ? throw new InvalidOperationException("an empty lease") : new ReadOnlySpan<byte>(_address, PageSize.Bytes);

    /// <summary>Unpins the page. A second call does nothing.</summary>
    public void Dispose()
    {
        Region? r = _region;
        _region = null;
        r?.ReleaseLease(_head);
    }
}
