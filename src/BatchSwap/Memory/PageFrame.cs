using System.Runtime.InteropServices;

namespace BatchSwap.Memory;

/// <summary>What a physical page frame is used for.</summary>
internal enum FrameKind : byte
{
    /// <summary>On a buddy free list (only the block's first frame says so; the rest are Tail).</summary>
    Free = 0,
    /// <summary>Part of an application folio.</summary>
    Folio = 1,
    /// <summary>Part of a compressed-pool span.</summary>
    Pool = 2,
    /// <summary>Engine metadata: page tables, swap-slot tables.</summary>
    Meta = 3,
}

/// <summary>
/// LRU state bits of a folio head frame. Guarded by the node lock, except on a folio that reclaim has isolated and
/// frozen (no access can pin it then): its flags are that reclaimer's alone until it unfreezes it.
/// </summary>
[Flags]
internal enum FolioFlags : byte
{
    None = 0,
    /// <summary>On an LRU list.</summary>
    Lru = 1,
    /// <summary>On the active list (else inactive).</summary>
    Active = 2,
    /// <summary>Taken off the LRU by a reclaimer that now owns it.</summary>
    Isolated = 4,
    /// <summary>Brought in by readahead and not yet seen by reclaim.</summary>
    Readahead = 16,
    /// <summary>Seen referenced at one scan already (PG_referenced): referenced again at the next, it is activated.</summary>
    Referenced = 8,
    /// <summary>
    /// Kept in memory by reclaim because a page did not compress below a page and its group may not write back
    /// (so zswap could not keep it as-is either). Compressing the same data again would only be rejected again, so
    /// reclaim skips the folio without compressing it (counted as reject_compress_poor_skipped) until it is
    /// written: every write and every pin (a lease may write) clears the bit. Also cleared when reclaim finds the
    /// group may write back again.
    /// </summary>
    Incompressible = 32,
}

/// <summary>
/// The "struct page" of one 4 KiB frame (32 bytes). Which fields mean what depends on <see cref="Kind"/>;
/// each field says so. Frames live in one native array indexed by frame number.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PageFrame
{
    /// <summary>The value of <see cref="Pin"/> for a frame nobody may pin (free, frozen by reclaim, pool, metadata).</summary>
    public const int Frozen = int.MinValue;

    /// <summary>List links (frame numbers, -1 for none): the LRU for a folio head, the buddy free list for a free block, the class span list for a pool span's first page.</summary>
    public int Prev, Next;
    /// <summary>Folio: the head frame. Pool: the span's first frame. Free/Meta: itself.</summary>
    public int Head;
    /// <summary>Folio head: pin count of readers and writers, or <see cref="Frozen"/> while reclaim moves it out; negative for every other kind.</summary>
    public int Pin;
    /// <summary>Folio head: id of the owning region. Pool span first page: size class (low 16 bits) and free-object list head (high 16 bits).</summary>
    public int Owner;
    /// <summary>Folio head: first virtual page of the folio in its region. Pool span first page: objects in use.</summary>
    public int Index;
    /// <summary>
    /// Pool: the next frame of the span (-1 at the end). Order-0 folio head: the slot id (<see cref="Swap.SlotIds"/>)
    /// whose copy of the page is retained because it came back from swap and has only been read since, or -1.
    /// </summary>
    public int Link;
    /// <summary>Order of the folio or free block (head/first frame only).</summary>
    public byte Order;
    /// <summary>What the frame is used for.</summary>
    public FrameKind Kind;
    /// <summary>Folio head: LRU state, guarded by the node lock.</summary>
    public FolioFlags Flags;
    /// <summary>Folio head: set by every access, cleared by reclaim (the referenced bit). Written without a lock.</summary>
    public byte Referenced;
}
