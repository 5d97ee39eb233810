using System.Diagnostics;
using BatchSwap.Memory;

namespace BatchSwap.Lru;

/// <summary>
/// The active and inactive folio lists of one memory group on one node, linked through the frame table
/// (head frames only). New and faulted-in folios enter at the inactive head; reclaim takes from the
/// inactive tail and gives referenced folios a second chance on the active list.
/// Locking: every method requires the node's lock (<see cref="MemoryNode.Lock"/>).
/// </summary>
internal sealed unsafe class LruVec
{
    /// <summary>Id of the memory group these lists belong to.</summary>
    public readonly int GroupId;
    /// <summary>The node these lists belong to.</summary>
    public readonly MemoryNode Node;

    // The frame table.
    private readonly PageFrame* _frames;
    // Head (most recent) and tail (oldest) of each list: [0] inactive, [1] active.
    private readonly int[] _head = [-1, -1], _tail = [-1, -1];
    // Pages (not folios) on each list.
    private readonly long[] _pages = new long[2];

    public LruVec(int groupId, MemoryNode node, PageFrame* frames)
    {
        GroupId = groupId;
        Node = node;
        _frames = frames;
    }

    /// <summary>Pages on the inactive list.</summary>
    public long InactivePages => _pages[0];
    /// <summary>Pages on the active list.</summary>
    public long ActivePages => _pages[1];

    /// <summary>Adds a folio at the head of the active or inactive list.</summary>
    public void AddHead(int head, bool active)
    {
        Debug.Assert(Node.Lock.IsHeldByCurrentThread, "the LRU lists are guarded by the node lock");
        ref PageFrame f = ref _frames[head];
        int l = active ? 1 : 0;
        f.Flags = (f.Flags & (FolioFlags.Referenced | FolioFlags.Readahead | FolioFlags.Incompressible)) | FolioFlags.Lru | (active ? FolioFlags.Active : FolioFlags.None);
        f.Prev = -1;
        f.Next = _head[l];
        if (f.Next >= 0) _frames[f.Next].Prev = head; else _tail[l] = head;
        _head[l] = head;
        _pages[l] += 1L << f.Order;
    }

    /// <summary>Takes a folio off whichever list it is on.</summary>
    public void Remove(int head)
    {
        Debug.Assert(Node.Lock.IsHeldByCurrentThread, "the LRU lists are guarded by the node lock");
        ref PageFrame f = ref _frames[head];
        int l = (f.Flags & FolioFlags.Active) != 0 ? 1 : 0;
        if (f.Prev >= 0) _frames[f.Prev].Next = f.Next; else _head[l] = f.Next;
        if (f.Next >= 0) _frames[f.Next].Prev = f.Prev; else _tail[l] = f.Prev;
        f.Prev = f.Next = -1;
        f.Flags &= ~(FolioFlags.Lru | FolioFlags.Active);
        _pages[l] -= 1L << f.Order;
    }

    /// <summary>The oldest folio of a list, or -1.</summary>
    public int Tail(bool active) => _tail[active ? 1 : 0];

    /// <summary>The next older folio after <paramref name="head"/> on its list, or -1.</summary>
    public int Older(int head) => _frames[head].Prev;

    /// <summary>
    /// Moves folios from the active tail to the inactive head until the inactive list holds at least a third
    /// of the pages (the kernel's inactive_is_low for anon), clearing their referenced bit. Returns pages moved.
    /// </summary>
    public int Balance(int maxFolios)
    {
        Debug.Assert(Node.Lock.IsHeldByCurrentThread, "the LRU lists are guarded by the node lock");
        int moved = 0;
        while (maxFolios-- > 0 && _pages[0] * 2 < _pages[1])
        {
            int t = _tail[1];
            if (t < 0) break;
            Remove(t);
            _frames[t].Referenced = 0;
            _frames[t].Flags &= ~FolioFlags.Referenced;
            AddHead(t, active: false);
            moved += 1 << _frames[t].Order;
        }
        return moved;
    }
}
