using BatchSwap.Access;

namespace BatchSwap.Tests.Access;

/// <summary>Byte-range reads and writes cross page boundaries and stay within the region.</summary>
public sealed class RegionByteRangeTests
{
    [Fact]
    public void ARangeThatSpansPagesReadsBackAsWritten()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(64 << 10);
        byte[] data = new byte[3 * 4096 + 123];
        new Random(3).NextBytes(data);
        r.WriteAt(4096 - 7, data);
        byte[] back = new byte[data.Length];
        r.ReadAt(4096 - 7, back);
        Assert.Equal(data, back);
        // The bytes around it are untouched zeros, and each page holds its part.
        byte[] page = new byte[4096];
        r.Read(0, page);
        Assert.All(page[..^7], b => Assert.Equal(0, b));
        Assert.Equal(data[..7], page[^7..]);
        r.Read(1, page);
        Assert.Equal(data[7..4103], page);
    }

    [Fact]
    public void ARangeLargerThanTheTierComesBackAfterReclaim()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(40L << 20);
        byte[] chunk = new byte[100_003]; // not a whole number of pages: every write starts mid-page
        long offset = 0;
        for (int i = 0; offset + chunk.Length <= r.Length; i++, offset += chunk.Length)
        {
            Fill(chunk, i);
            r.WriteAt(offset, chunk);
        }
        Assert.True(tier.Snapshot()[BatchSwap.Stats.Counter.Zswpout] + tier.Snapshot()[BatchSwap.Stats.Counter.Pswpout] > 0);
        byte[] back = new byte[chunk.Length];
        offset = 0;
        for (int i = 0; offset + chunk.Length <= r.Length; i++, offset += chunk.Length)
        {
            Fill(chunk, i);
            r.ReadAt(offset, back);
            Assert.True(chunk.AsSpan().SequenceEqual(back), $"chunk {i} differs");
        }
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(0, 64 * 1024 + 1)]
    [InlineData(64 * 1024, 1)]
    [InlineData(64 * 1024 - 10, 11)]
    public void ARangeOutsideTheRegionIsRefused(long offset, int length)
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(64 << 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => r.ReadAt(offset, new byte[length]));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.WriteAt(offset, new byte[length]));
    }

    [Fact]
    public void AnEmptyRangeAtTheEndIsAllowed()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(4096);
        r.ReadAt(4096, Span<byte>.Empty);
        r.WriteAt(4096, ReadOnlySpan<byte>.Empty);
    }

    private static void Fill(byte[] chunk, int i)
    {
        // Compressible but distinct per chunk.
        for (int k = 0; k < chunk.Length; k++) chunk[k] = (byte)((k / 64 + i * 31) & 0x3f);
    }
}
