using BatchSwap.Memory;

namespace BatchSwap.Access;

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
