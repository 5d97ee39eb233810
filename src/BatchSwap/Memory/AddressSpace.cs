using System.Runtime.CompilerServices;

namespace BatchSwap.Memory;

/// <summary>
/// A region's page table and its life: the bottom-layer half of a region, which reclaim and zswap may use without
/// knowing the access layer (<c>Access.Region</c>) above. Its id is what the frame table stores as a folio's owner.
/// <list type="bullet">
/// <item><description>A use (<see cref="TryEnterUse"/>) keeps the page table alive: accesses, faults, and reclaim
/// holding one of its folios each hold one; <see cref="BeginDispose"/> waits until none is left.</description></item>
/// <item><description><see cref="PopulateLock"/> serializes first-touch population; it is also what closes the space
/// to new uses, so a fault that has taken it sees a live space.</description></item>
/// </list>
/// </summary>
internal sealed unsafe class AddressSpace
{
    /// <summary>Id in its tier (stored in the frame table as a folio's owner).</summary>
    public readonly int Id;
    /// <summary>Pages in the space.</summary>
    public readonly long PageCount;
    /// <summary>Folio order that pages are first allocated in.</summary>
    public readonly int Order;
    /// <summary>The node its folios are allocated on first.</summary>
    public readonly int Node;
    /// <summary>Frames that hold the page table, 512 entries each.</summary>
    public readonly int[] PteFrames;
    /// <summary>Serializes first-touch population of folios, and closing.</summary>
    public readonly Lock PopulateLock = new();
    /// <summary>Swap-in readahead state: the last faulting page (racy by design; a hint).</summary>
    public long LastFaultPage = -1;
    /// <summary>Pages the next swap-in reads around the faulting page (1 = no readahead).</summary>
    public int ReadaheadWindow = 1;

    // Where the page-table frames are.
    private readonly PageArena _arena;
    // Threads using the space now; see TryEnterUse.
    private int _users;
    // Set when disposal or the tier's close begins; no new use may start.
    private volatile bool _dying;

    public AddressSpace(PageArena arena, int id, long pages, int order, int node, int[] pteFrames)
    {
        _arena = arena;
        Id = id;
        PageCount = pages;
        Order = order;
        Node = node;
        PteFrames = pteFrames;
    }

    /// <summary>Whether the space is being (or has been) torn down.</summary>
    public bool IsDying => _dying;

    /// <summary>The page table entry of a page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong* PteAddress(long page) =>
        (ulong*)_arena.PageAddress(PteFrames[(int)(page >> 9)]) + (page & 511);

    /// <summary>Starts a use; fails when the space is being torn down.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnterUse()
    {
        Interlocked.Increment(ref _users);
        if (!_dying) return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    /// <summary>Ends a use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ExitUse() => Interlocked.Decrement(ref _users);

    /// <summary>Marks the space dying and waits until no use is left; false when it was dying already.</summary>
    public bool BeginDispose()
    {
        if (_dying) return false;
        lock (PopulateLock)
        {
            if (_dying) return false;
            _dying = true;
        }
        WaitForUses();
        return true;
    }

    /// <summary>Closes the space to new uses because its tier is closing, and waits until no use is left.</summary>
    public void Close()
    {
        lock (PopulateLock) _dying = true;
        WaitForUses();
    }

    private void WaitForUses()
    {
        Interlocked.MemoryBarrier(); // _dying is visible before _users is read (pairs with TryEnterUse's increment)
        var spin = new SpinWait();
        while (Volatile.Read(ref _users) > 0) spin.SpinOnce();
    }
}
