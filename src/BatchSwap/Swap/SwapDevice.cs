using System.Diagnostics;
using System.Runtime.CompilerServices;
using BatchSwap.Memory;
using BatchSwap.Swap.Backends;

namespace BatchSwap.Swap;

/// <summary>
/// One swap type (swap_info_struct): 4 KiB slots, allocated in clusters of 512 (as the kernel's swap clusters), whose
/// pages live in an <see cref="ISwapBackend"/> (a file, memory, a remote store). Each cluster's slot table (handle, info word and zswap-LRU links, 24 bytes a slot)
/// lives in three arena frames taken when the cluster is first used and given back when it empties.
/// Locking: <see cref="_lock"/> guards allocation state; <see cref="Free"/> changes the used counts with atomics and
/// takes the lock only to release a cluster or queue it as partial. A slot's info word is changed by compare-and-swap;
/// its other fields belong to whoever holds the slot (the allocator, or the holder of its Locked bit).
/// </summary>
internal sealed unsafe class SwapDevice : IDisposable
{
    /// <summary>Slots per cluster.</summary>
    public const int ClusterSlots = 512;
    private const int ClusterShift = 9;

    /// <summary>The swap type (index among the tier's devices).</summary>
    public readonly int Type;
    /// <summary>Priority: higher is used first.</summary>
    public readonly int Priority;
    /// <summary>Capacity in slots.</summary>
    public readonly int SlotCount;

    // The arena, for cluster slot tables.
    private readonly PageArena _arena;
    // Where the pages live.
    private readonly ISwapBackend _backend;
    // Guards the cluster lists and the current cluster (the used counts change under it or atomically).
    private readonly Lock _lock = new();
    // Used slots per cluster.
    private readonly int[] _clusterUsed;
    // Slot-table frames per cluster: [3c] handles, [3c+1] info words, [3c+2] LRU links; -1 when not set up.
    private readonly int[] _clusterMeta;
    // Clusters never used or emptied (a stack).
    private readonly int[] _freeClusters;
    // Entries in _freeClusters.
    private int _freeClusterCount;
    // Clusters with free slots that are not the current one, to scan when no free cluster is left.
    private readonly Queue<int> _partial = new();
    // Whether a cluster is in _partial.
    private readonly bool[] _inPartial;
    // The cluster each allocation stream is filling (-1: none), and the next free offset in it.
    private readonly int[] _current = [.. Enumerable.Repeat(-1, Streams)];
    private readonly int[] _currentNext = new int[Streams];
    // Whether a cluster is some stream's current one (read without the lock by Free).
    private readonly bool[] _isCurrent;
    // Used slots on the device.
    private long _usedSlots;

    /// <summary>Slots a device of <paramref name="capacityBytes"/> has: whole clusters, at most 2^26.</summary>
    public static int SlotsFor(long capacityBytes)
    {
        long slots = capacityBytes / PageSize.Bytes / ClusterSlots * ClusterSlots;
        if (slots < ClusterSlots) throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes, "a swap device needs at least one 2 MiB cluster");
        return (int)Math.Min(slots, MaxSlots);
    }

    /// <summary>Most slots one device has (a slot id keeps the swap type above 26 bits of offset).</summary>
    public const int MaxSlots = 1 << SlotIds.Shift;

    /// <summary>A device of <paramref name="slots"/> slots (see <see cref="SlotsFor"/>) over <paramref name="backend"/>, which it owns.</summary>
    public SwapDevice(int type, int priority, int slots, ISwapBackend backend, PageArena arena)
    {
        Type = type;
        Priority = priority;
        _arena = arena;
        if (slots < ClusterSlots || slots % ClusterSlots != 0 || slots > MaxSlots)
            throw new ArgumentOutOfRangeException(nameof(slots), slots, "a swap device has whole 512-slot clusters, at most 2^26 slots");
        SlotCount = slots;
        _backend = backend;
        int clusters = SlotCount >> ClusterShift;
        _clusterUsed = new int[clusters];
        _clusterMeta = new int[clusters * 3];
        Array.Fill(_clusterMeta, -1);
        _inPartial = new bool[clusters];
        _isCurrent = new bool[clusters];
        _freeClusters = new int[clusters];
        for (int c = 0; c < clusters; c++) _freeClusters[c] = clusters - 1 - c;
        _freeClusterCount = clusters;

    }

    /// <summary>Slots in use.</summary>
    public long UsedSlots => Volatile.Read(ref _usedSlots);

    /// <summary>Frames held by slot tables.</summary>
    public long MetaFrames { get; private set; }

    // ---------------------------------------------------------------- slot table

    /// <summary>The slot's handle: a pool handle, a fill pattern, or unused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref ulong Handle(int offset) => ref Table(offset, 0)[offset & (ClusterSlots - 1)];

    /// <summary>The slot's info word (see <see cref="SlotInfo"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref ulong Info(int offset) => ref Table(offset, 1)[offset & (ClusterSlots - 1)];

    /// <summary>The slot's zswap-LRU links (prev in the low 32 bits, next in the high 32 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref ulong Links(int offset) => ref Table(offset, 2)[offset & (ClusterSlots - 1)];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong* Table(int offset, int which)
    {
        int f = Volatile.Read(ref _clusterMeta[(offset >> ClusterShift) * 3 + which]);
        Debug.Assert(f >= 0, "slot table of an unused cluster");
        return (ulong*)_arena.PageAddress(f);
    }

    /// <summary>
    /// Sets the Locked bit of a used slot, waiting while someone else holds it; gives the info word as locked.
    /// False when the slot is free (the caller's swap entry is stale).
    /// </summary>
    public bool LockSlot(int offset, out ulong locked)
    {
        ref ulong info = ref Info(offset);
        var spin = new SpinWait();
        while (true)
        {
            ulong cur = Volatile.Read(ref info);
            SlotFlags f = SlotInfo.Flags(cur);
            if ((f & SlotFlags.Used) == 0) { locked = 0; return false; }
            if ((f & SlotFlags.Locked) == 0)
            {
                locked = SlotInfo.WithFlags(cur, f | SlotFlags.Locked);
                if (Interlocked.CompareExchange(ref info, locked, cur) == cur) return true;
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Tries to set the Locked bit without waiting.</summary>
    public bool TryLockSlot(int offset, out ulong locked)
    {
        ref ulong info = ref Info(offset);
        ulong cur = Volatile.Read(ref info);
        SlotFlags f = SlotInfo.Flags(cur);
        locked = SlotInfo.WithFlags(cur, f | SlotFlags.Locked);
        return (f & (SlotFlags.Locked | SlotFlags.Used)) == SlotFlags.Used
            && Interlocked.CompareExchange(ref info, locked, cur) == cur;
    }

    /// <summary>Clears the Locked bit, leaving the rest of the info word as it is now.</summary>
    public void UnlockSlot(int offset)
    {
        ref ulong info = ref Info(offset);
        while (true)
        {
            ulong cur = Volatile.Read(ref info);
            ulong next = SlotInfo.WithFlags(cur, SlotInfo.Flags(cur) & ~SlotFlags.Locked);
            if (cur == next || Interlocked.CompareExchange(ref info, next, cur) == cur) return;
        }
    }

    /// <summary>Publishes a new info word for a slot the caller holds (the Locked bit is cleared unless kept in <paramref name="info"/>).</summary>
    public void SetInfo(int offset, ulong info) => Volatile.Write(ref Info(offset), info);

    // ---------------------------------------------------------------- allocation

    /// <summary>
    /// Allocation streams: each fills a cluster of its own, as the kernel's per-CPU swap clusters do. Reclaim allocates
    /// on the stream of the folio's address space, so that one region's folios, reclaimed in LRU order, take
    /// consecutive slots even while other regions are reclaimed in between: a sequential region then reads back in
    /// long runs instead of runs of one or two slots. Spaces share a stream modulo this count.
    /// </summary>
    public const int Streams = 16;

    /// <summary>
    /// Allocates 2^order contiguous, aligned slots, from the cluster of allocation stream <paramref name="stream"/>
    /// (any int; see <see cref="Streams"/>). Returns false when the device is full or its slot table could not be given
    /// memory. Slots come back Used and Locked by the caller.
    /// </summary>
    public bool TryAllocate(int order, int node, out int offset, int stream = 0)
    {
        int n = 1 << order;
        int st = (int)((uint)stream % Streams);
        lock (_lock)
        {
            int cur = _current[st];
            if (cur >= 0)
            {
                int start = (_currentNext[st] + n - 1) & ~(n - 1);
                if (start + n <= ClusterSlots && RunIsFree(cur, start, n))
                {
                    _currentNext[st] = start + n;
                    return Take(cur, start, n, out offset);
                }
                RetireCurrent(st);
            }
            while (_freeClusterCount > 0)
            {
                int c = _freeClusters[--_freeClusterCount];
                if (!SetUpCluster(c, node)) { _freeClusters[_freeClusterCount++] = c; break; }
                _current[st] = c;
                Volatile.Write(ref _isCurrent[c], true);
                _currentNext[st] = n;
                return Take(c, 0, n, out offset);
            }
            // Scan clusters that have free slots.
            for (int tries = _partial.Count; tries > 0; tries--)
            {
                int c = _partial.Dequeue();
                _inPartial[c] = false;
                Interlocked.MemoryBarrier(); // against Free: see it there
                if (_clusterMeta[c * 3] < 0) continue; // released since it was queued
                int start = FirstFreeRun(c, n);
                if (start < 0) continue;
                if (Volatile.Read(ref _clusterUsed[c]) + n < ClusterSlots) { _partial.Enqueue(c); _inPartial[c] = true; }
                return Take(c, start, n, out offset);
            }
            // Last: the free slots of other streams' current clusters (a nearly full device).
            for (int k = 0; k < Streams; k++)
            {
                int c = _current[k];
                if (c < 0 || k == st) continue;
                int start = FirstFreeRun(c, n);
                if (start >= 0) return Take(c, start, n, out offset);
            }
            offset = -1;
            return false;
        }
    }

    private void RetireCurrent(int stream)
    {
        int c = _current[stream];
        _current[stream] = -1;
        Volatile.Write(ref _isCurrent[c], false);
        Interlocked.MemoryBarrier(); // against Free: see it there
        if (Volatile.Read(ref _clusterUsed[c]) < ClusterSlots && !_inPartial[c]) { _partial.Enqueue(c); _inPartial[c] = true; }
    }

    /// <summary>The first free aligned run of <paramref name="n"/> slots in a cluster, or -1.</summary>
    private int FirstFreeRun(int cluster, int n)
    {
        for (int start = 0; start + n <= ClusterSlots; start += n)
            if (RunIsFree(cluster, start, n)) return start;
        return -1;
    }

    private bool RunIsFree(int cluster, int start, int n)
    {
        ulong* info = (ulong*)_arena.PageAddress(_clusterMeta[cluster * 3 + 1]);
        for (int i = start; i < start + n; i++)
            if (SlotInfo.Flags(Volatile.Read(ref info[i])) != SlotFlags.None) return false;
        return true;
    }

    private bool Take(int cluster, int start, int n, out int offset)
    {
        offset = (cluster << ClusterShift) + start;
        if (!_backend.Reserve(offset, n))
        {
            // No room behind the slots (a full filesystem, an injected swap-full): swap full. The slots stay free.
            offset = -1;
            return false;
        }
        ulong* info = (ulong*)_arena.PageAddress(_clusterMeta[cluster * 3 + 1]);
        ulong* handle = (ulong*)_arena.PageAddress(_clusterMeta[cluster * 3]);
        ulong* links = (ulong*)_arena.PageAddress(_clusterMeta[cluster * 3 + 2]);
        for (int i = start; i < start + n; i++)
        {
            handle[i] = 0;
            links[i] = ulong.MaxValue;
            // Born locked: the reclaimer owns the slot until it publishes an entry or frees it, so a fault or
            // readahead that read a stale swap entry cannot take it meanwhile.
            Volatile.Write(ref info[i], SlotInfo.Make(SlotFlags.Used | SlotFlags.Locked, 0, 0, 0, 0));
        }
        Interlocked.Add(ref _clusterUsed[cluster], n);
        Interlocked.Add(ref _usedSlots, n);
        return true;
    }

    private bool SetUpCluster(int c, int node)
    {
        if (_clusterMeta[c * 3] >= 0) return true;
        Span<int> got = stackalloc int[3];
        for (int i = 0; i < 3; i++)
        {
            got[i] = _arena.AllocMeta(node, mayUseReserve: true);
            if (got[i] < 0)
            {
                for (int j = 0; j < i; j++) _arena.FreeMeta(got[j]);
                return false;
            }
        }
        for (int i = 0; i < 3; i++) Volatile.Write(ref _clusterMeta[c * 3 + i], got[i]);
        MetaFrames += 3;
        return true;
    }

    /// <summary>
    /// Frees <paramref name="count"/> slots from <paramref name="offset"/>, all in one cluster (the caller has dropped
    /// their data). Takes no lock unless the cluster empties or must join the partial list: a fault frees its slot
    /// while reclaim allocates on the other core (the kernel frees under the cluster's own lock for the same reason).
    /// </summary>
    public void Free(int offset, int count)
    {
        int c = offset >> ClusterShift;
        Debug.Assert((offset + count - 1) >> ClusterShift == c, "a freed run spans clusters");
        for (int s = offset; s < offset + count; s++)
        {
            // The handle before the info word: once the word says free, an allocator may take the slot.
            Handle(s) = 0;
            Volatile.Write(ref Info(s), 0);
        }
        Interlocked.Add(ref _usedSlots, -count);
        // A full fence: the allocator, which clears _isCurrent or _inPartial before it looks at the slots, either
        // sees the slots free or we see its change below (and put the cluster on the partial list ourselves).
        int left = Interlocked.Add(ref _clusterUsed[c], -count);
        if (Volatile.Read(ref _isCurrent[c]) || (left > 0 && Volatile.Read(ref _inPartial[c]))) return;
        lock (_lock)
        {
            if (_isCurrent[c]) return;
            if (Volatile.Read(ref _clusterUsed[c]) == 0)
            {
                if (_clusterMeta[c * 3] >= 0) ReleaseCluster(c);
            }
            else if (!_inPartial[c])
            {
                _partial.Enqueue(c);
                _inPartial[c] = true;
            }
        }
    }

    private void ReleaseCluster(int c)
    {
        for (int i = 0; i < 3; i++)
        {
            int f = _clusterMeta[c * 3 + i];
            Volatile.Write(ref _clusterMeta[c * 3 + i], -1);
            _arena.FreeMeta(f);
        }
        MetaFrames -= 3;
        _freeClusters[_freeClusterCount++] = c;
        // A stale entry in _partial is skipped when dequeued.
    }

    // ---------------------------------------------------------------- the backend

    /// <summary>Where the slots' pages live; every transfer goes through <see cref="PageIo"/>.</summary>
    public ISwapBackend Backend => _backend;

    public void Dispose() => _backend.Dispose();
}
