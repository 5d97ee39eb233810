using BatchSwap.Transparent;

namespace BatchSwap.Tests.Transparent;

/// <summary>The held frames' discard: one vector call for many ranges, each range reads as zeros after it, the rest keeps its bytes.</summary>
public sealed unsafe class DiscardRangesTests
{
    [Fact]
    public void DiscardedRangesReadAsZerosAndTheOthersKeepTheirBytes()
    {
        const int pages = 8;
        nuint bytes = pages * 4096;
        nint block = Userfaultfd.Mmap(0, bytes, Userfaultfd.ProtRead | Userfaultfd.ProtWrite, Userfaultfd.MapPrivate | Userfaultfd.MapAnonymous, -1, 0);
        Assert.NotEqual(-1, block);
        try
        {
            byte* b = (byte*)block;
            for (int p = 0; p < pages; p++) new Span<byte>(b + p * 4096, 4096).Fill((byte)(p + 1));
            Userfaultfd.PrepareDiscards();
            Userfaultfd.Iovec* ranges = stackalloc Userfaultfd.Iovec[2];
            ranges[0] = new Userfaultfd.Iovec { Base = block + 4096, Length = 4096 };          // page 1
            ranges[1] = new Userfaultfd.Iovec { Base = block + 3 * 4096, Length = 2 * 4096 };  // pages 3 and 4

            Assert.Equal(0, Userfaultfd.DiscardRanges(ranges, 2));

            for (int p = 0; p < pages; p++)
            {
                byte expected = p is 1 or 3 or 4 ? (byte)0 : (byte)(p + 1);
                Assert.True(new ReadOnlySpan<byte>(b + p * 4096, 4096).IndexOfAnyExcept(expected) < 0, $"page {p}");
            }
        }
        finally { Userfaultfd.Munmap(block, bytes); }
    }
}
