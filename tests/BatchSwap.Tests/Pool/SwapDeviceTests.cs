using System.Collections.Concurrent;
using BatchSwap.Memory;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;

namespace BatchSwap.Tests.Pool;

/// <summary>
/// The swap device's slot allocator alone: frees take no lock in the common case (a fault frees its slot while
/// reclaim allocates on another core), so allocation and frees race here on purpose.
/// </summary>
public sealed class SwapDeviceTests
{
    private const int Clusters = 8;

    [Fact]
    public void SlotsFreedOnAnotherThreadAreReusedAndNeverHandedOutTwice()
    {
        using var arena = new PageArena(8L << 20, 1);
        using var dev = new SwapDevice(0, 0, Clusters * SwapDevice.ClusterSlots, new MemorySwapBackend(Clusters * SwapDevice.ClusterSlots), arena);
        long freeFramesBefore = arena.FreePages;
        var owned = new int[dev.SlotCount]; // 1 while a slot is handed out
        // At most 1,024 queued and 2,000 held: with the 511 freed slots the cluster being filled may hide until it is
        // retired, fewer than the device's 4,096 slots are ever out of reach, so every allocation must succeed.
        var toFree = new BlockingCollection<int>(boundedCapacity: 1024);
        const int Allocations = 200_000;
        int full = 0;

        void FreeInRandomOrder()
        {
            var rng = new Random(7);
            var held = new List<int>();
            foreach (int slot in toFree.GetConsumingEnumerable())
            {
                held.Add(slot);
                // Free in random order, keeping a few thousand in use, so clusters go partial, empty and come back.
                while (held.Count > 2000 || (held.Count > 0 && rng.Next(4) == 0))
                {
                    int i = rng.Next(held.Count);
                    FreeOne(held[i]);
                    held[i] = held[^1];
                    held.RemoveAt(held.Count - 1);
                }
            }
            foreach (int s in held) FreeOne(s);
        }

        void FreeOne(int slot)
        {
            Assert.Equal(1, Interlocked.Exchange(ref owned[slot], 0));
            dev.Free(slot, 1);
        }

        Exception? failed = null;
        var freer = new Thread(() =>
        {
            try { FreeInRandomOrder(); }
            catch (Exception e)
            {
                failed = e;
                foreach (int _ in toFree.GetConsumingEnumerable()) { } // let the allocating thread finish
            }
        });
        freer.Start();

        for (int i = 0; i < Allocations; i++)
        {
            if (!dev.TryAllocate(0, 0, out int slot)) { full++; continue; }
            Assert.Equal(0, Interlocked.Exchange(ref owned[slot], 1)); // nobody else holds it
            dev.SetInfo(slot, SlotInfo.Make(SlotFlags.Used, 0, 0, 0, 0)); // published (unlocked), as reclaim does
            toFree.Add(slot);
        }
        toFree.CompleteAdding();
        freer.Join();
        Assert.Null(failed);

        Assert.Equal(0, full);
        Assert.Equal(0, dev.UsedSlots);
        // Every cluster emptied, so every slot table went back to the arena, except perhaps the one being filled.
        Assert.True(dev.MetaFrames <= 3, $"{dev.MetaFrames} slot-table frames still held");
        Assert.Equal(freeFramesBefore - dev.MetaFrames, arena.FreePages);
    }

    [Fact]
    public void AFullDeviceTakesSlotsFreedOutOfOrderAgain()
    {
        using var arena = new PageArena(8L << 20, 1);
        using var dev = new SwapDevice(0, 0, 2 * SwapDevice.ClusterSlots, new MemorySwapBackend(2 * SwapDevice.ClusterSlots), arena);
        var slots = new List<int>();
        while (dev.TryAllocate(0, 0, out int s)) slots.Add(s);
        Assert.Equal(dev.SlotCount, slots.Count);

        // Free every third slot from another thread: no cluster empties, both become partial.
        var freed = slots.Where((_, i) => i % 3 == 0).ToHashSet();
        var freer = new Thread(() => { foreach (int s in freed) dev.Free(s, 1); });
        freer.Start();
        freer.Join();
        Assert.Equal(slots.Count - freed.Count, dev.UsedSlots);

        var again = new HashSet<int>();
        while (dev.TryAllocate(0, 0, out int s)) Assert.True(again.Add(s));
        Assert.Equal(freed, again);
        Assert.Equal(dev.SlotCount, dev.UsedSlots);
    }

    [Fact]
    public void EachAllocationStreamFillsAClusterOfItsOwn()
    {
        using var arena = new PageArena(8L << 20, 1);
        using var dev = new SwapDevice(0, 0, 4 * SwapDevice.ClusterSlots, new MemorySwapBackend(4 * SwapDevice.ClusterSlots), arena);
        var a = new List<int>();
        var b = new List<int>();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(dev.TryAllocate(0, 0, out int sa, stream: 1));
            a.Add(sa);
            Assert.True(dev.TryAllocate(0, 0, out int sb, stream: 2));
            b.Add(sb);
        }
        Assert.Equal(Enumerable.Range(a[0], 100), a);
        Assert.Equal(Enumerable.Range(b[0], 100), b);
        Assert.NotEqual(a[0] / SwapDevice.ClusterSlots, b[0] / SwapDevice.ClusterSlots);
        // Streams that are the same modulo the stream count share a cluster.
        Assert.True(dev.TryAllocate(0, 0, out int again, stream: 1 + SwapDevice.Streams));
        Assert.Equal(a[^1] + 1, again);
    }

    [Fact]
    public void AStreamTakesTheFreeSlotsOfAnotherStreamsClusterWhenNothingElseIsLeft()
    {
        using var arena = new PageArena(8L << 20, 1);
        using var dev = new SwapDevice(0, 0, 2 * SwapDevice.ClusterSlots, new MemorySwapBackend(2 * SwapDevice.ClusterSlots), arena);
        Assert.True(dev.TryAllocate(0, 0, out _, stream: 1)); // stream 1's cluster, nearly empty
        var taken = new HashSet<int>();
        while (dev.TryAllocate(0, 0, out int s, stream: 2)) Assert.True(taken.Add(s));
        Assert.Equal(dev.SlotCount - 1, taken.Count);
        Assert.Equal(dev.SlotCount, dev.UsedSlots);
    }
}
