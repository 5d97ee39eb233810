using System.Runtime.InteropServices;
using BatchSwap.Faults;
using BatchSwap.Memory;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.SwapIo;

/// <summary>The fault decorator injects every device fault that <c>--inject</c> knows, over any backend.</summary>
public sealed unsafe class FaultInjectingBackendTests
{
    private const int Slots = SwapDevice.ClusterSlots;

    private static (FaultInjectingBackend Backend, FaultInjector Faults) Make(FaultPlan plan)
    {
        var faults = new FaultInjector(plan);
        return (new FaultInjectingBackend(new MemorySwapBackend(Slots), faults), faults);
    }

    [Theory]
    [InlineData("swap-write")]
    [InlineData("short-write")]
    [InlineData("swap-read")]
    [InlineData("short-read")]
    public void EveryIoFaultFailsItsRun(string key)
    {
        var kind = (FaultKind)Array.IndexOf(FaultInjector.KindNames, key);
        (FaultInjectingBackend b, FaultInjector faults) = Make(FaultPlan.Parse($"{key}=1"));
        using (b)
        {
            byte* page = (byte*)NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);
            try
            {
                Assert.True(b.Reserve(0, 1));
                new Span<byte>(page, PageSize.Bytes).Fill(0x11);
                bool wrote = StoredEntries.Move(b, SwapIoKind.Write, 0, page);
                bool read = StoredEntries.Move(b, SwapIoKind.Read, 0, page);
                bool writeFault = kind is FaultKind.SwapWrite or FaultKind.ShortWrite;
                Assert.Equal(!writeFault, wrote);
                Assert.Equal(writeFault, read);
                Assert.Equal(1, faults.Struck(kind));
                if (kind == FaultKind.ShortRead)
                    Assert.Equal(0xA5, page[PageSize.Bytes / 4]); // the frame of a short read is never what was written
            }
            finally
            {
                NativeMemory.AlignedFree(page);
            }
        }
    }

    [Fact]
    public void SwapFullRefusesReservations()
    {
        (FaultInjectingBackend b, FaultInjector faults) = Make(new FaultPlan { SwapFullRate = 1 });
        using (b)
        {
            Assert.False(b.Reserve(0, 1));
            Assert.Equal(1, faults.Struck(FaultKind.SwapFull));
        }
        using var arena = new PageArena(8L << 20, 1);
        (FaultInjectingBackend b2, _) = Make(new FaultPlan { SwapFullRate = 1 });
        using var dev = new SwapDevice(0, 0, Slots, b2, arena);
        Assert.False(dev.TryAllocate(0, 0, out _));
        Assert.Equal(0, dev.UsedSlots);
    }

    [Fact]
    public void SlowIoDelaysEveryRunAndMovesTheData()
    {
        (FaultInjectingBackend b, FaultInjector faults) = Make(new FaultPlan { SlowIoMicros = 2000 });
        using (b)
        {
            byte* page = (byte*)NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);
            try
            {
                Assert.True(b.Reserve(0, 1));
                new Span<byte>(page, PageSize.Bytes).Fill(0x22);
                Assert.True(StoredEntries.Move(b, SwapIoKind.Write, 0, page));
                new Span<byte>(page, PageSize.Bytes).Clear();
                Assert.True(StoredEntries.Move(b, SwapIoKind.Read, 0, page));
                Assert.Equal(0x22, page[100]);
                Assert.Equal(2, faults.Struck(FaultKind.SlowIo));
            }
            finally
            {
                NativeMemory.AlignedFree(page);
            }
        }
    }
}
