using System.Diagnostics;
using BatchSwap.Compression.Engines;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Swap;
using BatchSwap.Threading;

namespace BatchSwap.Zswap;

/// <summary>Writeback of the oldest entries to the swap devices: the pool shrinker, the limit-hit shrink worker, and the memcg-aware writeback.</summary>
internal sealed unsafe partial class ZswapCache
{
    // ================================================================ writeback (the shrinker)

    // Next group the pool shrinker writes back from.
    private int _shrinkRotor;

    /// <summary>
    /// Writes the oldest entries back to their swap devices until the pool is under its accept threshold,
    /// a bounded amount per call, decompressing each run of entries as one batch on the engines.
    /// </summary>
    private int ShrinkToThreshold()
    {
        int written = 0;
        long target = AcceptThresholdPages;
        // Copies of resident pages go first: dropping them frees pool memory without any I/O.
        DropRetainedTo(target);
        int groups = _groups.All.Count; // groups are made in id order, never removed
        int idle = 0;
        for (int rounds = 0; rounds < 8 && _pool.Pages > target && idle < groups; rounds++)
        {
            int g = (int)((uint)Interlocked.Increment(ref _shrinkRotor) % (uint)groups);
            MemoryGroup? group = _groups.ById(g);
            int n = group is null || !group.WritebackEnabled ? 0 : WritebackBatch(g);
            if (n == 0) { idle++; rounds--; continue; }
            written += n;
            idle = 0;
        }
        return written;
    }

    // ================================================================ the limit-hit shrink worker

    // The worker (null: a full pool is shrunk in the storing thread).
    private BackgroundWorker? _shrinkWorker;

    /// <summary>
    /// Starts mainline zswap's shrink worker: when a store finds the pool at its cap, stores are rejected (those
    /// folios go to the swap device uncompressed) while this thread writes the oldest entries back until the pool
    /// is under the accept threshold. Without it, the storing thread writes back itself before the next batch.
    /// </summary>
    public void StartShrinkWorker() => _shrinkWorker = new BackgroundWorker("batchswap-zswap-shrink", ShrinkWork, _busy);

    /// <summary>The shrink worker's thread, or null when there is none.</summary>
    public Thread? ShrinkWorkerThread => _shrinkWorker?.Thread;

    /// <summary>Stops the shrink worker and waits for it (before the pool and devices go away).</summary>
    public void StopShrinkWorker() => _shrinkWorker?.Dispose();

    private void WakeShrinkWorker() => _shrinkWorker?.Wake();

    /// <summary>One wake's work: write back until the pool is under its accept threshold.</summary>
    private void ShrinkWork()
    {
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            while (_shrinkWorker?.IsStopping == false && _pool.Pages > AcceptThresholdPages && ShrinkToThreshold() > 0) { }
        }
        finally
        {
            _counters.Add(Counter.WritebackNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        }
    }

    /// <summary>
    /// Writes back one batch of a group's oldest entries, for reclaim when the group's own pool objects fill its
    /// limit (the memcg-aware zswap shrinker). Returns entries written back.
    /// </summary>
    public int WritebackForGroup(MemoryGroup group)
    {
        // Copies of resident pages go first: they free the group's pool charge without any I/O.
        int dropped = DropRetained(group.Id, 32);
        if (dropped > 0 || !group.WritebackEnabled) return dropped;
        long t0 = Stopwatch.GetTimestamp();
        int n = WritebackBatch(group.Id);
        _counters.Add(Counter.WritebackNs, (long)Stopwatch.GetElapsedTime(t0).TotalNanoseconds);
        return n;
    }

    /// <summary>Writes back one batch of the oldest entries of a group. Returns entries written back.</summary>
    private int WritebackBatch(int groupId)
    {
        JobBatch batch = Rent();
        try
        {
            Span<int> ids = stackalloc int[batch.Capacity];
            Span<ulong> infos = stackalloc ulong[batch.Capacity];
            int n = TakeOldest(groupId, ids, infos);
            if (n == 0) return 0;

            batch.Clear();
            Span<int> jobOf = stackalloc int[n];
            // Bytes each entry sends: a page, or its compressed object where the device stores them as they are.
            Span<int> lengths = stackalloc int[n];
            for (int i = 0; i < n; i++)
            {
                SwapDevice dev = DeviceOf(ids[i]);
                int slot = SlotOf(ids[i]);
                ulong info = infos[i];
                ulong handle = dev.Handle(slot);
                byte* dst = batch.Output(i);
                jobOf[i] = -1;
                lengths[i] = PageSize.Bytes;
                SlotFlags f = SlotInfo.Flags(info);
                if ((f & SlotFlags.SameFilled) != 0) PageWork.Fill(dst, handle);
                else if ((f & SlotFlags.Raw) != 0) _pool.Map(handle, PageSize.Bytes, new Span<byte>(batch.Scratch(i), PageSize.Bytes)).CopyTo(new Span<byte>(dst, PageSize.Bytes));
                else if (dev.Backend.StoresCompressed) lengths[i] = StageCompressed(handle, info, batch, i);
                else
                {
                    int len = SlotInfo.Length(info);
                    ReadOnlySpan<byte> src = _pool.Map(handle, len, new Span<byte>(batch.Scratch(i), PageSize.Bytes));
                    fixed (byte* s = src)
                    {
                        // The span stays valid after fixed: pool memory and scratch are native.
                        jobOf[i] = batch.Count;
                        ref PageJob job = ref batch.AddDecompress(s, len, SlotInfo.CodecId(info), dst);
                        job.Checksum = SlotInfo.Checksum(info);
                        job.Verify = _tunables.VerifyChecksums;
                    }
                }
            }
            RunJobs(batch, Counter.ZswapDecompressJobs);

            // Entries whose pages decompressed go out through the page-I/O layer (runs of consecutive slots); a damaged
            // entry is kept, so that its load fails loudly too.
            Span<int> types = stackalloc int[n], slots = stackalloc int[n], at = stackalloc int[n], sent = stackalloc int[n];
            Span<nint> pages = stackalloc nint[n];
            Span<bool> ok = stackalloc bool[n];
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                if (jobOf[i] >= 0 && batch.Jobs[jobOf[i]].Result != JobResult.Decompressed)
                {
                    _counters.Add(Counter.DecompressFail);
                    _counters.Add(Counter.RejectReclaimFail);
                    KeepEntry(ids[i], infos[i]);
                    continue;
                }
                types[m] = ids[i] >> SlotIdShift;
                slots[m] = SlotOf(ids[i]);
                pages[m] = (nint)batch.Output(i);
                sent[m] = lengths[i];
                at[m++] = i;
            }
            _pageIo.WritePages(types[..m], slots[..m], pages[..m], ok[..m], sent[..m]);
            int written = 0;
            for (int k = 0; k < m; k++)
            {
                int i = at[k];
                if (!ok[k])
                {
                    _counters.Add(Counter.RejectReclaimFail);
                    KeepEntry(ids[i], infos[i]);
                    continue;
                }
                SwapDevice dev = DeviceOf(ids[i]);
                int slot = slots[k];
                ulong info = infos[i];
                DropEntry(dev.Handle(slot), info);
                Interlocked.Decrement(ref _storedPages);
                dev.Handle(slot) = 0;
                dev.SetInfo(slot, WrittenBackInfo(info, sent[k]));
                written++;
            }
            _counters.Add(Counter.Zswpwb, written);
            _counters.Add(Counter.WrittenBackPages, written);
            return written;
        }
        finally
        {
            Return(batch);
        }
    }

    /// <summary>Puts an entry that could not be written back where it was: unlocked, at the LRU tail.</summary>
    private void KeepEntry(int id, ulong info)
    {
        SwapDevice dev = DeviceOf(id);
        int slot = SlotOf(id);
        dev.UnlockSlot(slot);
        AddToLru(SlotInfo.Group(info), dev.Type, slot, 1);
    }

    /// <summary>Takes up to ids.Length of the oldest entries (the newest with <paramref name="newest"/>) off the list, locking each slot. Returns how many.</summary>
    private int TakeOldest(int groupId, Span<int> ids, Span<ulong> infos, bool newest = false)
    {
        int n = 0;
        lock (_lruLock)
        {
            int id = newest ? _lruTail[groupId] : _lruHead[groupId];
            int skipped = 0;
            while (id >= 0 && n < ids.Length && skipped < 64)
            {
                SwapDevice dev = DeviceOf(id);
                int slot = SlotOf(id);
                ulong links = dev.Links(slot);
                int next = newest ? (int)(uint)links : (int)(links >> 32);
                if (!dev.TryLockSlot(slot, out ulong locked))
                {
                    skipped++; // a fault or free holds it; it will leave the LRU itself
                }
                else
                {
                    Debug.Assert((SlotInfo.Flags(locked) & SlotFlags.Zswap) != 0, "only zswap entries are on the entry LRU");
                    UnlinkLocked(dev, slot, id, groupId);
                    ids[n] = id;
                    infos[n] = locked;
                    n++;
                }
                id = next;
            }
        }
        return n;
    }
}
