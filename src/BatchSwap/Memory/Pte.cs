using System.Runtime.CompilerServices;

namespace BatchSwap.Memory;

/// <summary>
/// A page table entry (8 bytes): 0 when the page was never touched; bit 63 and a frame number when present;
/// bit 62, a swap type (bits 32–39) and a slot offset (bits 0–31) when swapped out.
/// </summary>
internal static class Pte
{
    private const ulong PresentBit = 1UL << 63;
    private const ulong SwapBit = 1UL << 62;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPresent(ulong pte) => (pte & PresentBit) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsSwap(ulong pte) => (pte & SwapBit) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Frame(ulong pte) => (int)(uint)pte;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SwapType(ulong pte) => (int)((pte >> 32) & 0xFF);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SwapOffset(ulong pte) => (int)(uint)pte;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MakePresent(int frame) => PresentBit | (uint)frame;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MakeSwap(int type, int offset) => SwapBit | ((ulong)(uint)type << 32) | (uint)offset;
}
