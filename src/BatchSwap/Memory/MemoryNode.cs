using System.Diagnostics;
using BatchSwap.Pageout;

namespace BatchSwap.Memory;

/// <summary>
/// One NUMA-like node: a contiguous range of frames with its own buddy allocator (orders 0–9).
/// Locking: <see cref="Lock"/> guards the free lists and counts, and also every LRU list of this node.
/// </summary>
internal sealed unsafe class MemoryNode
{
    /// <summary>Node number.</summary>
    public readonly int Id;
    /// <summary>First frame of the node (aligned to the largest order).</summary>
    public readonly int FirstFrame;
    /// <summary>Frames in the node.</summary>
    public readonly int FrameCount;
    /// <summary>Guards free lists, free counts and the LRU lists of this node.</summary>
    public readonly Lock Lock = new();
    /// <summary>Free pages below which only reclaim's own allocations (pool, metadata) may take pages: the min watermark.</summary>
    public readonly int ReservePages;

    // The arena's frame table.
    private readonly PageFrame* _frames;
    // Heads of the free lists, one per order (-1 when empty).
    private readonly int[] _freeHead = new int[PageSize.MaxOrder + 1];
    // Free pages in the node (all orders, in pages). Written under Lock, read racily.
    private int _freePages;

    public MemoryNode(int id, PageFrame* frames, int firstFrame, int frameCount, int reservePages)
    {
        Id = id;
        _frames = frames;
        FirstFrame = firstFrame;
        FrameCount = frameCount;
        ReservePages = reservePages;
        Array.Fill(_freeHead, -1);
        for (int f = firstFrame; f < firstFrame + frameCount; f++)
        {
            _frames[f] = new PageFrame { Prev = -1, Next = -1, Head = f, Pin = PageFrame.Frozen, Link = -1 };
        }
        // Carve the range into the largest aligned blocks.
        int frame = firstFrame;
        int end = firstFrame + frameCount;
        while (frame < end)
        {
            int order = PageSize.MaxOrder;
            while (order > 0 && (((frame - firstFrame) & ((1 << order) - 1)) != 0 || frame + (1 << order) > end)) order--;
            PushFree(frame, order);
            _freePages += 1 << order;
            frame += 1 << order;
        }
    }

    /// <summary>Free pages now (racy read).</summary>
    public int FreePages => Volatile.Read(ref _freePages);

    /// <summary>
    /// Takes a block of 2^order frames, or returns -1. Unless <paramref name="mayUseReserve"/>, leaves
    /// <see cref="ReservePages"/> free for reclaim's own allocations.
    /// </summary>
    public int Alloc(int order, bool mayUseReserve)
    {
        lock (Lock)
        {
            int need = 1 << order;
            if (_freePages - need < (mayUseReserve ? 0 : ReservePages)) return -1;
            int o = order;
            while (o <= PageSize.MaxOrder && _freeHead[o] < 0) o++;
            if (o > PageSize.MaxOrder) return -1;
            int block = PopFree(o);
            while (o > order)
            {
                o--;
                PushFree(block + (1 << o), o); // keep the lower half, free the upper
            }
            _freePages -= need;
            return block;
        }
    }

    /// <summary>Returns a block of 2^order frames, merging it with its free buddies.</summary>
    public void Free(int block, int order)
    {
        lock (Lock) FreeLocked(block, order);
    }

    /// <summary>Returns the folios of a reclaim batch that went out, under one lock hold.</summary>
    public void FreeFolios(ReadOnlySpan<PageoutFolio> folios)
    {
        lock (Lock)
        {
            foreach (ref readonly PageoutFolio f in folios)
                if (f.Outcome.IsPagedOut())
                {
                    Debug.Assert(_frames[f.Head].Pin == PageFrame.Frozen, "reclaim frees only the folios it froze");
                    FreeLocked(f.Head, f.Order);
                }
        }
    }

    private void FreeLocked(int block, int order)
    {
        Debug.Assert(Lock.IsHeldByCurrentThread);
        _freePages += 1 << order;
        while (order < PageSize.MaxOrder)
        {
            int rel = block - FirstFrame;
            int buddy = FirstFrame + (rel ^ (1 << order));
            if (buddy + (1 << order) > FirstFrame + FrameCount) break;
            ref PageFrame b = ref _frames[buddy];
            if (b.Kind != FrameKind.Free || b.Order != order || b.Head != buddy || !IsOnFreeList(buddy)) break;
            Unlink(buddy, order);
            block = Math.Min(block, buddy);
            order++;
        }
        PushFree(block, order);
    }

    private bool IsOnFreeList(int frame) => _frames[frame].Pin == FreeMarker;

    // Pin value that marks the first frame of a block on a free list (distinct from Frozen).
    private const int FreeMarker = PageFrame.Frozen + 1;

    private void PushFree(int block, int order)
    {
        ref PageFrame f = ref _frames[block];
        f.Kind = FrameKind.Free;
        f.Order = (byte)order;
        f.Head = block;
        f.Pin = FreeMarker;
        f.Flags = FolioFlags.None;
        f.Prev = -1;
        f.Next = _freeHead[order];
        if (f.Next >= 0) _frames[f.Next].Prev = block;
        _freeHead[order] = block;
    }

    private int PopFree(int order)
    {
        int block = _freeHead[order];
        Debug.Assert(block >= 0);
        Unlink(block, order);
        return block;
    }

    private void Unlink(int block, int order)
    {
        ref PageFrame f = ref _frames[block];
        if (f.Prev >= 0) _frames[f.Prev].Next = f.Next; else _freeHead[order] = f.Next;
        if (f.Next >= 0) _frames[f.Next].Prev = f.Prev;
        f.Prev = f.Next = -1;
        f.Pin = PageFrame.Frozen;
    }
}
