using System.Runtime.CompilerServices;

namespace BatchSwap.Swap;

/// <summary>
/// The tier-wide id of a swap slot: swap type above 26 bits of offset, in one int (the zswap LRU's links, pool
/// objects' owner words, a resident folio's retained copy).
/// </summary>
internal static class SlotIds
{
    /// <summary>Bits of offset.</summary>
    public const int Shift = 26;

    /// <summary>The id of slot <paramref name="offset"/> of swap type <paramref name="type"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Make(int type, int offset) => (type << Shift) | offset;

    /// <summary>The swap type of an id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Type(int id) => id >> Shift;

    /// <summary>The slot offset of an id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Offset(int id) => id & ((1 << Shift) - 1);
}
