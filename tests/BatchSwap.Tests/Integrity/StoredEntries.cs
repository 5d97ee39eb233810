using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Access;
using BatchSwap.Memory;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;

namespace BatchSwap.Tests.Integrity;

/// <summary>A test hook: reaches a swapped-out page's slot and stored bytes through its page-table entry.</summary>
internal static unsafe class StoredEntries
{
    /// <summary>The slot of a swapped-out page; false when the page is resident or never touched.</summary>
    public static bool TryGetSlot(MemoryTier tier, Region r, long page, out SwapDevice dev, out int slot, out ulong info)
    {
        ulong e = Volatile.Read(ref *r.Space.PteAddress(page));
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
        ReadOnlySpan<byte> s = tier.Zswap.Pool.Map(dev.Handle(slot), length, scratch);
        ref byte first = ref MemoryMarshal.GetReference(s);
        if (Unsafe.AreSame(ref first, ref scratch[0])) return null;
        return (byte*)Unsafe.AsPointer(ref first);
    }

    /// <summary>Flips one byte of a page on the swap device, through the device's own backend.</summary>
    public static void CorruptOnDisk(SwapDevice dev, int slot, int at)
    {
        byte* page = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            Assert.True(Move(dev.Backend, SwapIoKind.Read, slot, page));
            page[at] ^= 0x5A;
            Assert.True(Move(dev.Backend, SwapIoKind.Write, slot, page));
        }
        finally
        {
            NativeMemory.AlignedFree(page);
        }
    }

    /// <summary>Moves one page between <paramref name="page"/> (4 KiB aligned) and a slot of a backend, and waits.</summary>
    public static bool Move(ISwapBackend backend, SwapIoKind kind, int slot, byte* page)
    {
        using var io = new SwapIoBatch();
        io.Reset(kind, 0);
        io.BeginRun(slot, 0);
        io.AddPage((nint)page);
        io.Start(null);
        backend.Submit(io);
        io.Wait();
        return io.Runs[0].Ok;
    }
}
