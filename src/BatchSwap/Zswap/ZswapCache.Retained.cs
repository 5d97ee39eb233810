using BatchSwap.Pool;
using BatchSwap.Stats;
using BatchSwap.Swap;

namespace BatchSwap.Zswap;

/// <summary>Retained copies of resident clean pages (the clean-page rule): kept until the page is written, dropped first under pressure.</summary>
internal sealed unsafe partial class ZswapCache
{
    // ================================================================ retained copies (the clean-page rule)

    /// <summary>
    /// Keeps a loaded slot's copy for the resident page it now backs (the slot is locked by the caller; this publishes
    /// it unlocked): a zswap entry moves to its group's retained list, where pool pressure drops it before anything is
    /// written back; a page on disk just stays there. Reclaiming the page again, unwritten, only remaps it
    /// (<see cref="ReuseRetained"/>); a write drops the copy (<see cref="Invalidate"/>).
    /// </summary>
    public void Retain(SwapDevice dev, int slot, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & SlotFlags.Zswap) != 0)
        {
            int group = SlotInfo.Group(info);
            lock (_lruLock)
            {
                UnlinkLocked(dev, slot, SlotId(dev.Type, slot), group);
                AddToLruLocked(RetainedList + group, dev.Type, slot, 1);
            }
            Interlocked.Increment(ref _retainedPages);
        }
        dev.SetInfo(slot, SlotInfo.WithFlags(info, (flags | SlotFlags.Retained) & ~SlotFlags.Locked));
    }

    /// <summary>
    /// Reclaim of a clean resident page whose copy was retained (the slot is locked by the caller): when the copy is
    /// still there, the slot becomes the page's swap entry again — a zswap entry goes back on its group's LRU — and is
    /// published unlocked; true. False when pool pressure dropped the copy: the slot is left locked and empty
    /// (<c>Used | Locked</c>), for the caller to store the page into as a fresh one.
    /// </summary>
    public bool ReuseRetained(SwapDevice dev, int slot, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & (SlotFlags.Zswap | SlotFlags.OnDisk)) == 0)
        {
            dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked, 0, 0, 0, 0));
            return false;
        }
        if ((flags & SlotFlags.Zswap) != 0)
        {
            int group = SlotInfo.Group(info);
            lock (_lruLock)
            {
                UnlinkLocked(dev, slot, SlotId(dev.Type, slot), RetainedList + group);
                AddToLruLocked(group, dev.Type, slot, 1);
            }
            Interlocked.Decrement(ref _retainedPages);
        }
        dev.SetInfo(slot, SlotInfo.WithFlags(info, flags & ~(SlotFlags.Retained | SlotFlags.Locked)));
        return true;
    }

    /// <summary>
    /// Drops up to <paramref name="max"/> of a group's retained copies, newest first: their pool objects are freed at
    /// once, with no I/O (the pages are resident). Each slot stays with its folio, empty. Returns copies dropped.
    /// </summary>
    private int DropRetained(int groupId, int max)
    {
        Span<int> ids = stackalloc int[32];
        Span<ulong> infos = stackalloc ulong[32];
        int dropped = 0;
        while (dropped < max)
        {
            // Newest first: the pages loaded longest ago are the next that reclaim takes, and their copies save the most.
            int n = TakeOldest(RetainedList + groupId, ids[..Math.Min(ids.Length, max - dropped)], infos, newest: true);
            if (n == 0) break;
            for (int i = 0; i < n; i++)
            {
                SwapDevice dev = DeviceOf(ids[i]);
                int slot = SlotOf(ids[i]);
                DropEntry(dev.Handle(slot), infos[i]);
                dev.Handle(slot) = 0;
                dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used | SlotFlags.Retained, SlotInfo.Group(infos[i]), 0, 0, 0));
            }
            Interlocked.Add(ref _retainedPages, -n);
            Interlocked.Add(ref _storedPages, -n);
            dropped += n;
        }
        if (dropped > 0) _counters.Add(Counter.ZswapRetainedDropped, dropped);
        return dropped;
    }

    /// <summary>Drops retained copies of every group, newest first per group, until the pool is at most <paramref name="targetPages"/>.</summary>
    private void DropRetainedTo(long targetPages)
    {
        if (Volatile.Read(ref _retainedPages) == 0) return;
        for (int g = 0; g < _groups.All.Count && _pool.Pages > targetPages; g++)
            while (_pool.Pages > targetPages && DropRetained(g, 32) > 0) { }
    }

    /// <summary>Frees an entry's pool object and its charge (not its LRU place or stored count).</summary>
    private void DropEntry(ulong handle, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & SlotFlags.Zswap) == 0) return;
        if ((flags & SlotFlags.SameFilled) != 0)
        {
            Interlocked.Decrement(ref _sameFilledPages);
            return;
        }
        if ((flags & SlotFlags.Raw) != 0) Interlocked.Decrement(ref _incompressiblePages);
        int len = SlotInfo.Length(info);
        _pool.Free(handle, len);
        _groups.ById(SlotInfo.Group(info))?.UnchargePool(ZsPool.ClassSize(len));
    }
}
