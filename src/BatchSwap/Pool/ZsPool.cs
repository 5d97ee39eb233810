using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchSwap.Memory;

namespace BatchSwap.Pool;

/// <summary>
/// The compressed pool, after zsmalloc.
///
/// The problem: compressed pages come in every size from a few bytes to a whole page, and a per-object
/// heap allocation (or a managed array per entry) costs more than the object. The answer: size classes
/// 16 bytes apart; each class packs equal-size objects into spans of 1–8 arena frames (chosen to waste
/// least), objects may straddle the frames of a span, and a handle (first frame, object index) names an
/// object without any per-object header. Free objects are linked through their own first 4 bytes.
///
/// Compaction (zs_compact): frees in random order leave spans partly empty. In every class with more than one
/// object per span, each object ends in a 4-byte owner word (the object is placed in the class of its length
/// plus 4) that names its owner (a global swap slot id), or -1 while the object is free; the word never
/// straddles frames (it ends a 16-byte-aligned block). <see cref="Compact"/> moves objects out of the sparsest spans of
/// a class into its fullest, through <see cref="IObjectOwners"/> that locks the owner and repoints its handle,
/// and frees the spans it empties.
///
/// Locking: each class has its own lock guarding its span list, its spans' free lists, owner tables and counts.
/// Handles are owned by exactly one slot, so reading or writing an object's bytes needs no lock; compaction
/// moves an object only while it holds both the class lock and (by <see cref="IObjectOwners.TryLock"/>) its owner.
/// </summary>
internal sealed unsafe class ZsPool
{
    /// <summary>Smallest object size.</summary>
    public const int MinSize = 32;
    /// <summary>Step between class sizes.</summary>
    public const int ClassDelta = 16;
    /// <summary>Largest frames per span.</summary>
    public const int MaxSpanPages = 8;
    /// <summary>Bytes of owner word at the end of each object (in classes that have one).</summary>
    public const int OwnerBytes = 4;
    /// <summary>The owner of a free object, in the owner table.</summary>
    public const int NoOwner = -1;
    private const int ObjBits = 16;
    private const int NoObject = 0xFFFF;

    // The arena the spans come from.
    private readonly PageArena _arena;
    // The classes, by index.
    private readonly SizeClass[] _classes;
    // Frames held by spans (pool_total_size / 4096).
    private long _pages;
    // Objects allocated.
    private long _objects;
    // Bytes asked for by live objects (the compressed size).
    private long _payloadBytes;
    // One compactor at a time; it owns the buffers below.
    private readonly Lock _compactLock = new();
    // A class's partial spans and their objects in use, sorted by compaction (grown as needed).
    private int[] _compactSpans = new int[64], _compactKeys = new int[64];

    public ZsPool(PageArena arena)
    {
        _arena = arena;
        int count = (PageSize.Bytes - MinSize) / ClassDelta + 1;
        _classes = new SizeClass[count];
        for (int i = 0; i < count; i++) _classes[i] = new SizeClass(MinSize + i * ClassDelta, s_hasOwners[i]);
    }

    /// <summary>Frames held by the pool.</summary>
    public long Pages => Volatile.Read(ref _pages);
    /// <summary>Bytes held by the pool (pool_total_size).</summary>
    public long TotalBytes => Pages << PageSize.Shift;
    /// <summary>Live objects.</summary>
    public long Objects => Volatile.Read(ref _objects);
    /// <summary>Bytes of compressed data in live objects.</summary>
    public long PayloadBytes => Volatile.Read(ref _payloadBytes);

    /// <summary>
    /// Where the pool's bytes go: bytes in objects in use (class-rounded), bytes in free objects of partly used
    /// spans, and span tails no object fits in. Takes each class lock in turn.
    /// </summary>
    public (long UsedObjectBytes, long FreeObjectBytes, long TailBytes) Usage()
    {
        long used = 0, free = 0, tail = 0;
        foreach (SizeClass cls in _classes)
        {
            lock (cls.Lock)
            {
                used += cls.Objects * cls.Size;
                free += cls.FreeObjects * cls.Size;
                tail += cls.Spans * ((long)cls.PagesPerSpan * PageSize.Bytes - (long)cls.ObjsPerSpan * cls.Size);
            }
        }
        return (used, free, tail);
    }

    /// <summary>The class size used for an object of <paramref name="length"/> bytes.</summary>
    public static int ClassSize(int length) => MinSize + ClassFor(length) * ClassDelta;

    // Whether each class's objects end in an owner word: the classes that hold more than one object a span.
    private static readonly bool[] s_hasOwners = BuildHasOwners();

    private static bool[] BuildHasOwners()
    {
        var owners = new bool[(PageSize.Bytes - MinSize) / ClassDelta + 1];
        for (int i = 0; i < owners.Length; i++) owners[i] = SizeClass.Layout(MinSize + i * ClassDelta).Objects > 1;
        return owners;
    }

    /// <summary>The class of an object of <paramref name="length"/> bytes: room for its owner word where the class has them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ClassFor(int length)
    {
        int c = ClassIndex(Math.Min(length + OwnerBytes, PageSize.Bytes));
        return s_hasOwners[c] ? c : ClassIndex(length);
    }

    /// <summary>The layout of the class an object of <paramref name="length"/> bytes goes to: object size, frames and objects per span, and whether its spans have an owner table (so compaction can move them).</summary>
    public static (int Size, int PagesPerSpan, int ObjsPerSpan, bool HasOwners) Layout(int length)
    {
        var cls = new SizeClass(ClassSize(length), s_hasOwners[ClassFor(length)]);
        return (cls.Size, cls.PagesPerSpan, cls.ObjsPerSpan, cls.HasOwners);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ClassIndex(int length) => length <= MinSize ? 0 : (length - MinSize + ClassDelta - 1) / ClassDelta;

    /// <summary>
    /// Allocates an object of data.Length bytes (1..4096) and copies <paramref name="data"/> into it.
    /// Returns false when no frame could be had (reject_alloc_fail).
    /// </summary>
    public bool TryStore(ReadOnlySpan<byte> data, int node, out ulong handle) => TryStore(data, node, NoOwner, out handle);

    /// <summary>
    /// Allocates an object of data.Length bytes (1..4096) owned by <paramref name="owner"/> (a non-negative id
    /// that <see cref="IObjectOwners"/> understands, or <see cref="NoOwner"/> for an object compaction must not move)
    /// and copies <paramref name="data"/> into it. Returns false when no frame could be had (reject_alloc_fail).
    /// </summary>
    public bool TryStore(ReadOnlySpan<byte> data, int node, int owner, out ulong handle)
    {
        Debug.Assert(data.Length is > 0 and <= PageSize.Bytes);
        SizeClass cls = _classes[ClassFor(data.Length)];
        Debug.Assert(!cls.HasOwners || data.Length + OwnerBytes <= cls.Size);
        int first, obj;
        lock (cls.Lock)
        {
            first = cls.Partial;
            if (first < 0)
            {
                first = NewSpan(cls, node);
                if (first < 0) { handle = 0; return false; }
            }
            ref PageFrame head = ref _arena.Frame(first);
            obj = head.Owner >>> 16;
            Debug.Assert(obj != NoObject);
            int next = *(int*)ObjectAddress(first, obj * cls.Size);
            head.Owner = (head.Owner & 0xFFFF) | (next << 16);
            head.Index++;
            cls.Objects++;
            if (cls.HasOwners) *OwnerAddress(cls, first, obj) = owner;
            if (next == NoObject) UnlinkSpan(cls, first);
        }
        handle = ((ulong)(uint)first << ObjBits) | (uint)obj;
        Interlocked.Increment(ref _objects);
        Interlocked.Add(ref _payloadBytes, data.Length);
        Write(first, obj * cls.Size, data);
        return true;
    }

    /// <summary>
    /// The object's bytes: a span into the pool when the object lies in one frame, else a copy in
    /// <paramref name="scratch"/> (at least <paramref name="length"/> bytes).
    /// </summary>
    public ReadOnlySpan<byte> Map(ulong handle, int length, Span<byte> scratch)
    {
        int first = (int)(handle >> ObjBits);
        int obj = (int)(handle & NoObject);
        int size = _classes[_arena.Frame(first).Owner & 0xFFFF].Size;
        int offset = obj * size;
        int inPage = offset & (PageSize.Bytes - 1);
        if (inPage + length <= PageSize.Bytes) return new ReadOnlySpan<byte>(ObjectAddress(first, offset), length);
        int firstPart = PageSize.Bytes - inPage;
        new ReadOnlySpan<byte>(ObjectAddress(first, offset), firstPart).CopyTo(scratch);
        new ReadOnlySpan<byte>(ObjectAddress(first, offset + firstPart), length - firstPart).CopyTo(scratch[firstPart..]);
        return scratch[..length];
    }

    /// <summary>Frees an object of <paramref name="length"/> payload bytes.</summary>
    public void Free(ulong handle, int length)
    {
        int first = (int)(handle >> ObjBits);
        int obj = (int)(handle & NoObject);
        int freeFirst = -1;
        SizeClass cls = _classes[_arena.Frame(first).Owner & 0xFFFF];
        lock (cls.Lock)
        {
            ref PageFrame head = ref _arena.Frame(first);
            int oldHead = head.Owner >>> 16;
            *(int*)ObjectAddress(first, obj * cls.Size) = oldHead;
            head.Owner = (head.Owner & 0xFFFF) | (obj << 16);
            head.Index--;
            cls.Objects--;
            if (cls.HasOwners) *OwnerAddress(cls, first, obj) = NoOwner;
            if (head.Index == 0)
            {
                if (oldHead != NoObject) UnlinkSpan(cls, first);
                freeFirst = first;
                cls.Spans--;
            }
            else if (oldHead == NoObject)
            {
                LinkSpan(cls, first);
            }
        }
        Interlocked.Decrement(ref _objects);
        Interlocked.Add(ref _payloadBytes, -length);
        if (freeFirst >= 0) FreeSpan(freeFirst);
    }

    /// <summary>
    /// Frames that compaction could free now: per class, whole spans' worth of free objects (racy, cheap).
    /// </summary>
    public long CompactablePages()
    {
        long pages = 0;
        foreach (SizeClass cls in _classes)
        {
            if (cls.Compactable) pages += cls.FreeObjects / cls.ObjsPerSpan * cls.PagesPerSpan;
        }
        return pages;
    }

    /// <summary>
    /// Compacts every class that has at least a span's worth of free objects (zs_compact): objects move from the
    /// class's sparsest spans into its fullest, each while <paramref name="owners"/> holds its owner; objects whose
    /// owner is busy stay. Emptied spans are freed. One compactor runs at a time (a second caller returns at once).
    /// Allocates nothing per object.
    /// </summary>
    public CompactResult Compact(IObjectOwners owners)
    {
        var result = new CompactResult();
        if (!_compactLock.TryEnter()) return result;
        try
        {
            Span<byte> copy = stackalloc byte[PageSize.Bytes];
            foreach (SizeClass cls in _classes)
            {
                if (!cls.Compactable) continue;
                lock (cls.Lock) CompactClass(cls, owners, copy, ref result);
            }
        }
        finally
        {
            _compactLock.Exit();
        }
        return result;
    }

    private void CompactClass(SizeClass cls, IObjectOwners owners, Span<byte> copy, ref CompactResult result)
    {
        // The partial spans, sparsest first. They leave the list while objects move and come back in order of
        // fullness, fullest at the head, where allocation looks first.
        int n = 0;
        for (int f = cls.Partial; f >= 0; f = _arena.Frame(f).Next)
        {
            if (n == _compactSpans.Length)
            {
                Array.Resize(ref _compactSpans, n * 2);
                Array.Resize(ref _compactKeys, n * 2);
            }
            _compactSpans[n] = f;
            _compactKeys[n] = _arena.Frame(f).Index;
            n++;
        }
        if (n < 2) return;
        Array.Sort(_compactKeys, _compactSpans, 0, n);
        cls.Partial = -1;

        int lo = 0, hi = n - 1;
        while (lo < hi)
        {
            int src = _compactSpans[lo];
            for (int o = 0; o < cls.ObjsPerSpan && _arena.Frame(src).Index > 0; o++)
            {
                int owner = *OwnerAddress(cls, src, o);
                if (owner == NoOwner) continue;
                while (hi > lo && (_arena.Frame(_compactSpans[hi]).Owner >>> 16) == NoObject) hi--;
                if (hi == lo) break;
                ulong oldHandle = ((ulong)(uint)src << ObjBits) | (uint)o;
                if (owner < 0 || !owners.TryLock(owner, oldHandle))
                {
                    result.Busy++;
                    continue;
                }
                int dst = _compactSpans[hi];
                ref PageFrame dhead = ref _arena.Frame(dst);
                int d = dhead.Owner >>> 16;
                int next = *(int*)ObjectAddress(dst, d * cls.Size);
                dhead.Owner = (dhead.Owner & 0xFFFF) | (next << 16);
                dhead.Index++;
                ReadOnlySpan<byte> bytes = Map(oldHandle, cls.Size, copy);
                Write(dst, d * cls.Size, bytes);
                *OwnerAddress(cls, dst, d) = owner;
                owners.Moved(owner, ((ulong)(uint)dst << ObjBits) | (uint)d);

                ref PageFrame shead = ref _arena.Frame(src);
                *(int*)ObjectAddress(src, o * cls.Size) = shead.Owner >>> 16;
                shead.Owner = (shead.Owner & 0xFFFF) | (o << 16);
                shead.Index--;
                *OwnerAddress(cls, src, o) = NoOwner;
                result.Objects++;
            }
            if (hi == lo) break;
            lo++;
        }

        for (int i = 0; i < n; i++)
        {
            int f = _compactSpans[i];
            ref PageFrame head = ref _arena.Frame(f);
            head.Prev = head.Next = -1;
            if (head.Index == 0)
            {
                cls.Spans--;
                FreeSpan(f);
                result.Pages += cls.PagesPerSpan;
            }
            else if ((head.Owner >>> 16) != NoObject)
            {
                LinkSpan(cls, f);
            }
        }
    }

    private int NewSpan(SizeClass cls, int node)
    {
        int first = -1, prev = -1;
        for (int i = 0; i < cls.PagesPerSpan; i++)
        {
            int f = AllocFrame(node);
            if (f < 0)
            {
                if (first >= 0) FreeSpan(first);
                return -1;
            }
            ref PageFrame pf = ref _arena.Frame(f);
            pf.Kind = FrameKind.Pool;
            pf.Pin = PageFrame.Frozen;
            pf.Link = -1;
            pf.Order = 0;
            if (first < 0) first = f; else _arena.Frame(prev).Link = f;
            pf.Head = first;
            prev = f;
        }
        Interlocked.Add(ref _pages, cls.PagesPerSpan);
        // Thread the free list through the objects.
        for (int o = 0; o < cls.ObjsPerSpan; o++)
        {
            *(int*)ObjectAddress(first, o * cls.Size) = o + 1 < cls.ObjsPerSpan ? o + 1 : NoObject;
            if (cls.HasOwners) *OwnerAddress(cls, first, o) = NoOwner;
        }
        ref PageFrame head = ref _arena.Frame(first);
        head.Owner = cls.Index(ClassDelta, MinSize) | (0 << 16);
        head.Index = 0;
        cls.Spans++;
        LinkSpan(cls, first);
        return first;
    }

    private int AllocFrame(int node)
    {
        MemoryNode[] nodes = _arena.Nodes;
        for (int i = 0; i < nodes.Length; i++)
        {
            int f = nodes[(node + i) % nodes.Length].Alloc(0, mayUseReserve: true);
            if (f >= 0) return f;
        }
        return -1;
    }

    private void FreeSpan(int first)
    {
        int f = first, n = 0;
        while (f >= 0)
        {
            int next = _arena.Frame(f).Link;
            _arena.Frame(f).Link = -1;
            _arena.NodeOf(f).Free(f, 0);
            f = next;
            n++;
        }
        Interlocked.Add(ref _pages, -n);
    }

    private void LinkSpan(SizeClass cls, int first)
    {
        ref PageFrame head = ref _arena.Frame(first);
        head.Prev = -1;
        head.Next = cls.Partial;
        if (cls.Partial >= 0) _arena.Frame(cls.Partial).Prev = first;
        cls.Partial = first;
    }

    private void UnlinkSpan(SizeClass cls, int first)
    {
        ref PageFrame head = ref _arena.Frame(first);
        if (head.Prev >= 0) _arena.Frame(head.Prev).Next = head.Next; else cls.Partial = head.Next;
        if (head.Next >= 0) _arena.Frame(head.Next).Prev = head.Prev;
        head.Prev = head.Next = -1;
    }

    /// <summary>Address of an object's owner word, its last 4 bytes (never across frames: sizes are multiples of 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* OwnerAddress(SizeClass cls, int first, int obj) => (int*)ObjectAddress(first, obj * cls.Size + cls.Size - OwnerBytes);

    /// <summary>Address of byte <paramref name="offset"/> of a span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* ObjectAddress(int first, int offset)
    {
        int f = first;
        for (int p = offset >> PageSize.Shift; p > 0; p--) f = _arena.Frame(f).Link;
        return _arena.PageAddress(f) + (offset & (PageSize.Bytes - 1));
    }

    private void Write(int first, int offset, ReadOnlySpan<byte> data)
    {
        int inPage = offset & (PageSize.Bytes - 1);
        int firstPart = Math.Min(data.Length, PageSize.Bytes - inPage);
        data[..firstPart].CopyTo(new Span<byte>(ObjectAddress(first, offset), firstPart));
        if (firstPart < data.Length)
            data[firstPart..].CopyTo(new Span<byte>(ObjectAddress(first, offset + firstPart), data.Length - firstPart));
    }

    /// <summary>What one compaction did.</summary>
    public struct CompactResult
    {
        /// <summary>Objects moved.</summary>
        public long Objects;
        /// <summary>Frames freed.</summary>
        public long Pages;
        /// <summary>Objects left in place because their owner was busy.</summary>
        public long Busy;
    }

    /// <summary>One size class.</summary>
    private sealed class SizeClass
    {
        /// <summary>Object size in bytes.</summary>
        public readonly int Size;
        /// <summary>Frames per span.</summary>
        public readonly int PagesPerSpan;
        /// <summary>Objects per span.</summary>
        public readonly int ObjsPerSpan;
        /// <summary>Whether objects end in an owner word (every class with more than one object per span), so that compaction can move them.</summary>
        public readonly bool HasOwners;
        /// <summary>Guards the span list and the spans' free lists.</summary>
        public readonly Lock Lock = new();
        /// <summary>First span with a free object (linked through the frame table), or -1.</summary>
        public int Partial = -1;
        /// <summary>Spans of this class.</summary>
        public long Spans;
        /// <summary>Objects in use in this class.</summary>
        public long Objects;

        /// <summary>Free object places in the class's spans (a racy read outside <see cref="Lock"/>).</summary>
        public long FreeObjects => Volatile.Read(ref Spans) * ObjsPerSpan - Volatile.Read(ref Objects);

        /// <summary>Whether compaction could free at least one span of this class (a racy read outside <see cref="Lock"/>).</summary>
        public bool Compactable => HasOwners && FreeObjects >= ObjsPerSpan;

        public SizeClass(int size, bool hasOwners)
        {
            Size = size;
            (PagesPerSpan, ObjsPerSpan) = Layout(size);
            HasOwners = hasOwners;
        }

        /// <summary>Chooses 1–8 frames per span to waste the least (zsmalloc's get_pages_per_zspage, with its chain size of 8); ties go to the shorter span.</summary>
        public static (int Pages, int Objects) Layout(int size)
        {
            int best = 1, bestObjs = PageSize.Bytes / size;
            for (int k = 2; k <= MaxSpanPages; k++)
            {
                int objs = Math.Min(k * PageSize.Bytes / size, NoObject - 1);
                // objs*size/(k*page) > bestObjs*size/(best*page)
                if ((long)objs * best > (long)bestObjs * k) { best = k; bestObjs = objs; }
            }
            return (best, Math.Max(bestObjs, 1));
        }

        public int Index(int delta, int min) => (Size - min) / delta;
    }
}

/// <summary>The owners of pool objects, for compaction: locks an owner and repoints its handle.</summary>
internal interface IObjectOwners
{
    /// <summary>
    /// Takes <paramref name="owner"/> without waiting if it is free and its handle is <paramref name="handle"/>.
    /// Called under a class lock: must not block.
    /// </summary>
    bool TryLock(int owner, ulong handle);

    /// <summary>Gives a locked owner its object's new handle and releases it.</summary>
    void Moved(int owner, ulong handle);
}
