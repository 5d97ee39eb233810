using System.Runtime.CompilerServices;

namespace BatchSwap.Memory;

/// <summary>
/// The tier's physical memory: one native block of 4 KiB frames split into nodes, each with a buddy
/// allocator, and a frame table (the memmap, 32 bytes a frame). Application folios, compressed-pool spans
/// and the engine's page tables and swap-slot tables all come from here, so the block's size is the memory
/// the engine uses. Both blocks come from <see cref="ArenaMemory"/>: 2 MiB-aligned mappings, optionally backed by
/// transparent huge pages and populated at creation (then the process's resident set holds the whole arena from
/// the start: the arena is the budget); otherwise pages become resident only when first used.
/// </summary>
internal sealed unsafe class PageArena : IDisposable
{
    /// <summary>Bytes of frame table per frame.</summary>
    public static readonly int FrameInfoBytes = sizeof(PageFrame);

    /// <summary>Base of the page memory.</summary>
    public readonly byte* Base;
    /// <summary>The frame table (one entry per frame).</summary>
    public readonly PageFrame* Frames;
    /// <summary>Total frames.</summary>
    public readonly int FrameCount;
    /// <summary>The nodes, each a contiguous range of frames.</summary>
    public readonly MemoryNode[] Nodes;

    // Set once disposed.
    private int _disposed;

    /// <summary>
    /// Creates an arena whose page memory plus frame table fit in <paramref name="memoryBytes"/>. With
    /// <paramref name="populate"/> every page of both is made resident now (see <see cref="TierOptions.PopulateMemory"/>);
    /// with <paramref name="hugePages"/> both are advised MADV_HUGEPAGE (see <see cref="TierOptions.HugePages"/>).
    /// </summary>
    public PageArena(long memoryBytes, int nodeCount, bool populate = false, bool hugePages = false)
    {
        long frames = memoryBytes / (PageSize.Bytes + FrameInfoBytes);
        int perNode = (int)(frames / nodeCount);
        if (perNode < 64) throw new ArgumentOutOfRangeException(nameof(memoryBytes), "too little memory for the node count");
        FrameCount = perNode * nodeCount;
        Base = ArenaMemory.Allocate(PageMemoryBytes, populate, hugePages);
        try
        {
            Frames = (PageFrame*)ArenaMemory.Allocate(FrameTableBytes, populate, hugePages);
        }
        catch
        {
            ArenaMemory.Free(Base, PageMemoryBytes);
            throw;
        }
        Nodes = new MemoryNode[nodeCount];
        for (int n = 0; n < nodeCount; n++)
        {
            // The min watermark: enough for a pmd-mappable folio's compressed pages and swap tables.
            int reserve = Math.Max(64, Math.Min(perNode / 32, 1024));
            Nodes[n] = new MemoryNode(n, Frames, n * perNode, perNode, reserve);
        }
    }

    /// <summary>Bytes of page memory (frames × 4 KiB).</summary>
    public long PageBytes => (long)FrameCount * PageSize.Bytes;

    // Sizes of the two blocks.
    private nuint PageMemoryBytes => (nuint)FrameCount * PageSize.Bytes;
    private nuint FrameTableBytes => (nuint)FrameCount * (nuint)FrameInfoBytes;

    /// <summary>Bytes of page memory resident now (exact, by mincore); -1 where that cannot be asked. For tests: it allocates.</summary>
    internal long ResidentPageBytes() => ArenaMemory.ResidentBytes(Base, PageMemoryBytes);

    /// <summary>Bytes of the frame table resident now (exact, by mincore); -1 where that cannot be asked. For tests: it allocates.</summary>
    internal long ResidentFrameTableBytes() => ArenaMemory.ResidentBytes((byte*)Frames, FrameTableBytes);

    /// <summary>Free pages in all nodes (racy).</summary>
    public long FreePages
    {
        get { long s = 0; foreach (MemoryNode n in Nodes) s += n.FreePages; return s; }
    }

    /// <summary>The node that owns <paramref name="frame"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MemoryNode NodeOf(int frame) => Nodes[frame / Nodes[0].FrameCount];

    /// <summary>Address of a frame's memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* PageAddress(int frame) => Base + ((long)frame << PageSize.Shift);

    /// <summary>A frame's table entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref PageFrame Frame(int frame) => ref Frames[frame];

    /// <summary>A span over one frame's 4 KiB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Page(int frame) => new(PageAddress(frame), PageSize.Bytes);

    /// <summary>Takes one frame for engine metadata (page tables, slot tables), zeroed. -1 when none.</summary>
    public int AllocMeta(int node, bool mayUseReserve)
    {
        int f = Nodes[node].Alloc(0, mayUseReserve);
        if (f < 0) return -1;
        ref PageFrame pf = ref Frames[f];
        pf.Kind = FrameKind.Meta;
        pf.Head = f;
        pf.Pin = PageFrame.Frozen;
        pf.Order = 0;
        new Span<byte>(PageAddress(f), PageSize.Bytes).Clear();
        return f;
    }

    /// <summary>Returns a metadata frame.</summary>
    public void FreeMeta(int frame) => NodeOf(frame).Free(frame, 0);

    /// <summary>
    /// Pins a folio head for an access: a compare-and-swap that fails while reclaim has the folio frozen. The pin
    /// protocol: a reader loads the PTE, pins the head, then loads the PTE again (and unpins and starts over if it
    /// changed); reclaim freezes the folio (pin count 0 to frozen) before it stores it, rewrites the PTEs, and only then
    /// frees the frames. So a pinned page is never reclaimed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPin(int head)
    {
        ref int pin = ref Frames[head].Pin;
        int v = Volatile.Read(ref pin);
        return v >= 0 && Interlocked.CompareExchange(ref pin, v + 1, v) == v;
    }

    /// <summary>Drops a pin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unpin(int head) => Interlocked.Decrement(ref Frames[head].Pin);

    /// <summary>Freezes an unpinned folio for reclaim or teardown; false if someone holds a pin.</summary>
    public bool TryFreeze(int head) => Interlocked.CompareExchange(ref Frames[head].Pin, PageFrame.Frozen, 0) == 0;

    /// <summary>A frame's fields in one line, for the message of an error that names it.</summary>
    public string Describe(int frame)
    {
        ref PageFrame f = ref Frames[frame];
        string pin = f.Pin == PageFrame.Frozen ? "frozen" : f.Pin.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"frame {frame}: kind {f.Kind}, head {f.Head}, pin {pin}, owner {f.Owner}, index {f.Index}, order {f.Order}, flags {f.Flags}, link {f.Link}";
    }

    /// <summary>Unfreezes a folio that reclaim kept.</summary>
    public void Unfreeze(int head) => Volatile.Write(ref Frames[head].Pin, 0);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        ArenaMemory.Free(Base, PageMemoryBytes);
        ArenaMemory.Free((byte*)Frames, FrameTableBytes);
    }
}
