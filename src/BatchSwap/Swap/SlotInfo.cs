using System.Runtime.CompilerServices;

namespace BatchSwap.Swap;

/// <summary>State bits of a swap slot, the low 8 bits of its info word.</summary>
[Flags]
internal enum SlotFlags : byte
{
    /// <summary>Slot is free.</summary>
    None = 0,
    /// <summary>Slot is allocated to a page (swap_map count 1).</summary>
    Used = 1,
    /// <summary>Someone is loading, writing back or freeing this slot; others wait (the swap-cache lock).</summary>
    Locked = 2,
    /// <summary>The page is in zswap: the handle names its pool object (or its fill pattern).</summary>
    Zswap = 4,
    /// <summary>The zswap entry is a same-filled page; the handle holds the 8-byte pattern.</summary>
    SameFilled = 8,
    /// <summary>The zswap entry holds the page as-is (it did not compress below a page).</summary>
    Raw = 16,
    /// <summary>The page is on the swap device.</summary>
    OnDisk = 32,
    /// <summary>The device reported an error for this slot's data; loads fail loudly.</summary>
    Lost = 64,
    /// <summary>
    /// The checksum field holds the page's checksum though the page is not stored yet: the engines computed it while
    /// trying to compress a folio that zswap then rejected, and the page-I/O layer writes it without hashing again.
    /// </summary>
    Summed = 128,
    /// <summary>
    /// The same bit on a published slot (never in a pageout): a resident folio still holds this slot's copy of its page
    /// (it came back and has only been read), so reclaiming it again only remaps it. With neither Zswap nor OnDisk, the
    /// copy was dropped under pool pressure and only the slot is left for the folio.
    /// </summary>
    Retained = 128,
}

/// <summary>
/// The 8-byte info word of a slot: flags (bits 0–7), memory group id (8–15), compressed length (16–28), codec id (29–31), checksum (32–63).
/// </summary>
internal static class SlotInfo
{
    /// <summary>Memory groups a slot can name: the group id has 8 bits.</summary>
    public const int MaxGroups = 256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SlotFlags Flags(ulong info) => (SlotFlags)(byte)info;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Group(ulong info) => (byte)(info >> 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Length(ulong info) => (int)((info >> 16) & 0x1FFF);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte CodecId(ulong info) => (byte)((info >> 29) & 0x7);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Checksum(ulong info) => (uint)(info >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Make(SlotFlags flags, int group, int length, byte codecId, uint checksum) =>
        (ulong)(byte)flags | ((ulong)(byte)group << 8) | ((ulong)(uint)length << 16) | ((ulong)(codecId & 7u) << 29) | ((ulong)checksum << 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong WithFlags(ulong info, SlotFlags flags) => (info & ~0xFFUL) | (byte)flags;
}
