using System.Diagnostics;
using BatchSwap.Memory;
using BatchSwap.Pool;
using BatchSwap.Stats;
using BatchSwap.Swap;

namespace BatchSwap.Zswap;

/// <summary>Pool compaction started by stores when the pool's overhead grows.</summary>
internal sealed unsafe partial class ZswapCache
{
    // ================================================================ compaction

    /// <summary>
    /// Compacts the pool when its bytes beyond the compressed bytes exceed <see cref="CompactOverheadPercent"/> and
    /// compaction could free at least <see cref="CompactMinPerMille"/>/1024 of it (the zsmalloc shrinker's
    /// zs_compact, run from the reclaim path). Cheap when it has nothing to do.
    /// </summary>
    private void MaybeCompact()
    {
        long pages = _pool.Pages;
        long payload = _pool.PayloadBytes;
        if (pages < 64 || ((pages << PageSize.Shift) - payload) * 100 <= payload * CompactOverheadPercent) return;
        if (_pool.CompactablePages() < Math.Max(8, pages * CompactMinPerMille / 1024)) return;
        Compact();
    }

    /// <summary>Compacts the pool now; returns frames freed.</summary>
    public long Compact()
    {
        long t0 = Stopwatch.GetTimestamp();
        ZsPool.CompactResult r = _pool.Compact(this);
        _counters.Add(Counter.CompactNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        _counters.Add(Counter.ZswapCompactObjects, r.Objects);
        _counters.Add(Counter.PagesCompacted, r.Pages);
        _counters.Add(Counter.ZswapCompactBusy, r.Busy);
        return r.Pages;
    }

    /// <summary>Compaction: takes an entry's slot if it is free and still holds <paramref name="handle"/>.</summary>
    bool IObjectOwners.TryLock(int owner, ulong handle)
    {
        if ((uint)(owner >> SlotIdShift) >= (uint)_devices.Length) return false;
        SwapDevice dev = DeviceOf(owner);
        int slot = SlotOf(owner);
        if (!dev.TryLockSlot(slot, out ulong info)) return false;
        if ((SlotInfo.Flags(info) & (SlotFlags.Zswap | SlotFlags.SameFilled)) != SlotFlags.Zswap || dev.Handle(slot) != handle)
        {
            Debug.Fail("a pool object's owner does not hold it");
            dev.UnlockSlot(slot);
            return false;
        }
        return true;
    }

    /// <summary>Compaction: repoints a locked entry at its moved object and unlocks it.</summary>
    void IObjectOwners.Moved(int owner, ulong handle)
    {
        SwapDevice dev = DeviceOf(owner);
        int slot = SlotOf(owner);
        dev.Handle(slot) = handle;
        dev.UnlockSlot(slot);
    }
}
