using System.Diagnostics;
using BatchSwap.MemCg;
using BatchSwap.Swap;

namespace BatchSwap.Zswap;

/// <summary>The entry LRUs, one per memory group, linked through the slots' link words; guarded by <see cref="_lruLock"/>.</summary>
internal sealed unsafe partial class ZswapCache
{
    // ---- the entry LRUs, one per memory group (like the kernel's per-memcg list_lru): global slot ids
    // (type << 26 | offset), oldest at the head. Guarded by _lruLock. ----
    private readonly Lock _lruLock = new();
    // Global slot ids (the entry LRU's links, pool objects' owner words): swap type in the top bits, offset below.
    private const int SlotIdShift = SlotIds.Shift;
    private static int SlotId(int type, int slot) => SlotIds.Make(type, slot);
    private static int SlotOf(int id) => SlotIds.Offset(id);
    private SwapDevice DeviceOf(int id) => _devices[SlotIds.Type(id)];
    // List g is group g's entry LRU (writeback takes its head); list RetainedList + g holds group g's retained copies
    // of resident pages, oldest first (dropped first under pool pressure, never written back).
    private const int RetainedList = MemoryGroups.MaxGroups;
    private readonly int[] _lruHead = Enumerable.Repeat(-1, 2 * MemoryGroups.MaxGroups).ToArray(),
        _lruTail = Enumerable.Repeat(-1, 2 * MemoryGroups.MaxGroups).ToArray();

    private void AddToLru(int groupId, int type, int firstSlot, int count)
    {
        lock (_lruLock) AddToLruLocked(groupId, type, firstSlot, count);
    }

    private void AddToLruLocked(int groupId, int type, int firstSlot, int count)
    {
        Debug.Assert(_lruLock.IsHeldByCurrentThread);
        SwapDevice dev = _devices[type];
        for (int s = firstSlot; s < firstSlot + count; s++)
        {
            int id = SlotId(type, s);
            int tail = _lruTail[groupId];
            dev.Links(s) = (uint)tail | ((ulong)uint.MaxValue << 32);
            if (tail >= 0) SetNext(tail, id); else _lruHead[groupId] = id;
            _lruTail[groupId] = id;
        }
    }

    private void RemoveFromLru(int type, int slot, int groupId)
    {
        lock (_lruLock) UnlinkLocked(_devices[type], slot, SlotId(type, slot), groupId);
    }

    private void UnlinkLocked(SwapDevice dev, int slot, int id, int groupId)
    {
        Debug.Assert(_lruLock.IsHeldByCurrentThread);
        ulong links = dev.Links(slot);
        int prev = (int)(uint)links, next = (int)(links >> 32);
        if (prev >= 0) SetNext(prev, next); else if (_lruHead[groupId] == id) _lruHead[groupId] = next; else return; // not on the list
        if (next >= 0) SetPrev(next, prev); else _lruTail[groupId] = prev;
        dev.Links(slot) = ulong.MaxValue;
    }

    private void SetNext(int id, int next)
    {
        ref ulong l = ref DeviceOf(id).Links(SlotOf(id));
        l = (l & 0xFFFFFFFFUL) | ((ulong)(uint)next << 32);
    }

    private void SetPrev(int id, int prev)
    {
        ref ulong l = ref DeviceOf(id).Links(SlotOf(id));
        l = (l & 0xFFFFFFFF00000000UL) | (uint)prev;
    }
}
