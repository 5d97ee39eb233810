using System.Buffers.Binary;

namespace BatchSwap.Tests;

/// <summary>Deterministic page contents of several kinds for tests (no dependency on ../shared).</summary>
internal static class TestPages
{
    /// <summary>Fills <paramref name="page"/> with the content of (seed, index): a mix of zero, same-filled, text-like, pointer-like and random pages.</summary>
    public static void Fill(Span<byte> page, long index, int seed = 1)
    {
        ulong x = (ulong)(index * 2654435761L) ^ (ulong)seed * 0x9E3779B97F4A7C15UL ^ 0xDEADBEEFUL;
        int kind = (int)((ulong)(index + seed) % 5);
        switch (kind)
        {
            case 0: page.Clear(); break;
            case 1:
                for (int i = 0; i < page.Length; i += 8) BinaryPrimitives.WriteUInt64LittleEndian(page[i..], x);
                break;
            case 2:
                for (int i = 0; i < page.Length; i++) page[i] = (byte)("the quick brown fox jumps "[(int)((i + (int)(x % 7)) % 26)]);
                BinaryPrimitives.WriteInt64LittleEndian(page, index);
                break;
            case 3:
                for (int i = 0; i < page.Length; i += 8)
                    BinaryPrimitives.WriteUInt64LittleEndian(page[i..], 0x00007f0000000000UL + (x & 0xFFFF) * 64 + (ulong)i);
                break;
            default:
                for (int i = 0; i < page.Length; i += 8)
                {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    BinaryPrimitives.WriteUInt64LittleEndian(page[i..], x);
                }
                break;
        }
    }
}
