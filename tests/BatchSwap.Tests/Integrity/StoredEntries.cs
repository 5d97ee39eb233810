using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Memory;
using BatchSwap.Swap;

namespace BatchSwap.Tests.Integrity;

/// <summary>A test hook: reaches a swapped-out page's slot and stored bytes through its page-table entry.</summary>
internal static unsafe class StoredEntries
{
    /// <summary>The slot of a swapped-out page; false when the page is resident or never touched.</summary>
    public static bool TryGetSlot(MemoryTier tier, Region r, long page, out SwapDevice dev, out int slot, out ulong info)
    {
        ulong e = Volatile.Read(ref *r.PteAddress(page));
        if (!Pte.IsSwap(e))
        {
            dev = null!;
            slot = -1;
            info = 0;
            return false;
        }
        dev = tier.Mm.Devices[Pte.SwapType(e)];
        slot = Pte.SwapOffset(e);
        info = dev.Info(slot);
        return true;
    }

    /// <summary>Whether a slot holds a compressed (or as-is) zswap entry in the pool.</summary>
    public static bool InPool(ulong info) =>
        (SlotInfo.Flags(info) & (SlotFlags.Zswap | SlotFlags.SameFilled)) == SlotFlags.Zswap;

    /// <summary>Whether a slot's page is on the swap device.</summary>
    public static bool OnDisk(ulong info) => (SlotInfo.Flags(info) & SlotFlags.OnDisk) != 0;

    /// <summary>The pool object's bytes in place, or null when the object straddles frames (then it is only ever copied).</summary>
    public static byte* PoolObject(MemoryTier tier, SwapDevice dev, int slot, ulong info, out int length)
    {
        length = SlotInfo.Length(info);
        var scratch = new byte[4096];
        ReadOnlySpan<byte> s = tier.Mm.Zswap.Pool.Map(dev.Handle(slot), length, scratch);
        ref byte first = ref MemoryMarshal.GetReference(s);
        if (Unsafe.AreSame(ref first, ref scratch[0])) return null;
        return (byte*)Unsafe.AsPointer(ref first);
    }

    /// <summary>Flips one byte of a page in the swap file, through the device's own file handle.</summary>
    public static void CorruptOnDisk(SwapDevice dev, int slot, int at)
    {
        var page = new byte[4096];
        Assert.True(dev.Read(slot, page));
        page[at] ^= 0x5A;
        Assert.True(dev.Write(slot, page));
    }
}
