using BatchSwap.Memory;
using BatchSwap.Pool;

namespace BatchSwap.Tests.Pool;

/// <summary>The compressed pool alone: span layout, frees, and compaction through a fake owner table.</summary>
public sealed class ZsPoolTests
{
    /// <summary>Owners 0..n-1 whose handles live in an array; some may be held busy.</summary>
    private sealed class FakeOwners(int count) : IObjectOwners
    {
        public readonly ulong[] Handles = new ulong[count];
        public readonly bool[] Busy = new bool[count];
        public readonly bool[] Locked = new bool[count];
        public int Moves;

        public bool TryLock(int owner, ulong handle)
        {
            Assert.Equal(Handles[owner], handle);
            if (Busy[owner] || Locked[owner]) return false;
            Locked[owner] = true;
            return true;
        }

        public void Moved(int owner, ulong handle)
        {
            Assert.True(Locked[owner]);
            Handles[owner] = handle;
            Locked[owner] = false;
            Moves++;
        }
    }

    private static byte[] Payload(int owner, int length)
    {
        var b = new byte[length];
        var rng = new Random(owner * 7919 + length);
        rng.NextBytes(b);
        return b;
    }

    private static int LengthOf(int owner) => 40 + (int)((uint)(owner * 2654435761u) % 3000u);

    private static void AssertReadsBack(ZsPool pool, FakeOwners owners, IEnumerable<int> live)
    {
        var scratch = new byte[PageSize.Bytes];
        foreach (int o in live)
        {
            int len = LengthOf(o);
            Assert.True(pool.Map(owners.Handles[o], len, scratch).SequenceEqual(Payload(o, len)), $"object {o} changed");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(2000)]
    [InlineData(3300)]
    [InlineData(4000)]
    [InlineData(4096)]
    public void SpansWasteLittleAndOwnerTablesFit(int length)
    {
        var (size, pages, objs, owners) = ZsPool.Layout(length);
        // The object and, where the class has them, its owner word; at most one class step more.
        int need = owners ? length + ZsPool.OwnerBytes : length;
        Assert.True(size >= need && size - need < ZsPool.ClassDelta + ZsPool.MinSize, $"length {length} in class {size}");
        Assert.Equal(size, ZsPool.ClassSize(length));
        Assert.InRange(pages, 1, ZsPool.MaxSpanPages);
        Assert.True(objs * size <= pages * PageSize.Bytes);
        Assert.Equal(objs > 1, owners);
        // Spans of up to 8 frames waste at most 1/8 of a span for any class that holds more than one object.
        if (objs > 1) Assert.True((pages * PageSize.Bytes - objs * size) * 8 <= pages * PageSize.Bytes, $"class {size}: {pages} frames, {objs} objects");
    }

    [Fact]
    public void CompactionFreesSparseSpansAndKeepsEveryObject()
    {
        using var arena = new PageArena(64L << 20, 1);
        var pool = new ZsPool(arena);
        const int n = 6000;
        var owners = new FakeOwners(n);
        for (int o = 0; o < n; o++)
            Assert.True(pool.TryStore(Payload(o, LengthOf(o)), 0, o, out owners.Handles[o]));

        // Free three objects of four, scattered: every span keeps a few.
        var live = new List<int>();
        for (int o = 0; o < n; o++)
        {
            if (o % 4 == 1) live.Add(o);
            else pool.Free(owners.Handles[o], LengthOf(o));
        }
        long before = pool.Pages;
        var (_, freeBefore, _) = pool.Usage();
        Assert.True(pool.CompactablePages() > 0);

        ZsPool.CompactResult r = pool.Compact(owners);

        Assert.True(r.Objects > 0);
        Assert.Equal(0, r.Busy);
        Assert.Equal(before - r.Pages, pool.Pages);
        Assert.True(pool.Pages < before * 2 / 3, $"{before} -> {pool.Pages} frames");
        Assert.Equal(live.Count, pool.Objects);
        AssertReadsBack(pool, owners, live);

        // Each class is left with at most one partly used span: the pool is within what the sizes need.
        var perClass = new Dictionary<int, (int Pages, int Objs, int Count)>();
        foreach (int o in live)
        {
            var (size, pages, objs, _) = ZsPool.Layout(LengthOf(o));
            perClass[size] = (pages, objs, perClass.GetValueOrDefault(size).Count + 1);
        }
        long bound = 0;
        foreach ((int pages, int objs, int count) in perClass.Values) bound += (count + objs - 1) / objs * pages;
        Assert.True(pool.Pages <= bound, $"{pool.Pages} frames, sizes need {bound}");
        var (used, free, tail) = pool.Usage();
        Assert.Equal(pool.TotalBytes, used + free + tail);
        Assert.True(free < freeBefore);
        Assert.Equal(0, pool.CompactablePages());

        // The moved objects free as any other; a second compaction has nothing to do.
        Assert.Equal(0, pool.Compact(owners).Objects);
        foreach (int o in live) pool.Free(owners.Handles[o], LengthOf(o));
        Assert.Equal(0, pool.Pages);
        Assert.Equal(0, pool.PayloadBytes);
    }

    [Fact]
    public void CompactionSkipsBusyOwners()
    {
        using var arena = new PageArena(32L << 20, 1);
        var pool = new ZsPool(arena);
        const int n = 512;
        const int len = 1000;
        var owners = new FakeOwners(n);
        var data = new byte[len];
        for (int o = 0; o < n; o++)
        {
            data.AsSpan().Fill((byte)o);
            Assert.True(pool.TryStore(data, 0, o, out owners.Handles[o]));
        }
        var live = new List<int>();
        for (int o = 0; o < n; o++)
        {
            if (o % 5 == 0) live.Add(o);
            else pool.Free(owners.Handles[o], len);
        }
        // Hold every other survivor busy, as a slot being loaded or written back.
        var held = new Dictionary<int, ulong>();
        for (int i = 0; i < live.Count; i += 2)
        {
            owners.Busy[live[i]] = true;
            held[live[i]] = owners.Handles[live[i]];
        }

        ZsPool.CompactResult r = pool.Compact(owners);

        Assert.True(r.Busy > 0);
        Assert.True(r.Objects > 0);
        foreach ((int o, ulong h) in held) Assert.Equal(h, owners.Handles[o]);
        var scratch = new byte[PageSize.Bytes];
        foreach (int o in live)
        {
            ReadOnlySpan<byte> got = pool.Map(owners.Handles[o], len, scratch);
            Assert.True(got.IndexOfAnyExcept((byte)o) < 0, $"object {o} changed");
        }

        // Released, they move at the next compaction.
        Array.Clear(owners.Busy);
        pool.Compact(owners);
        var (_, pages, objs, _) = ZsPool.Layout(len);
        Assert.Equal((live.Count + objs - 1) / objs * pages, pool.Pages);
    }

    [Fact]
    public void ObjectsWithoutOwnerStayPut()
    {
        using var arena = new PageArena(16L << 20, 1);
        var pool = new ZsPool(arena);
        var owners = new FakeOwners(0);
        var handles = new ulong[200];
        for (int i = 0; i < handles.Length; i++) Assert.True(pool.TryStore(new byte[500], 0, out handles[i]));
        for (int i = 0; i < handles.Length; i++) if (i % 10 != 0) pool.Free(handles[i], 500);
        ZsPool.CompactResult r = pool.Compact(owners);
        Assert.Equal(0, r.Objects);
        Assert.Equal(0, r.Pages);
    }
}
