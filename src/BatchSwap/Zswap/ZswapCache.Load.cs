using BatchSwap.Compression.Engines;
using BatchSwap.Memory;
using BatchSwap.Stats;
using BatchSwap.Swap;

namespace BatchSwap.Zswap;

/// <summary>zswap's load and invalidate: swap-in of a readahead window as one batch (zswap_load).</summary>
internal sealed unsafe partial class ZswapCache
{
    // ================================================================ load and invalidate

    /// <summary>
    /// Loads the pages of locked slots into their frames, as one batch: pages on a swap device are read by the
    /// page-I/O layer (runs of consecutive slots, one submission), compressed pages are decompressed together on the engines
    /// (swap-in readahead's batched decompression). Each request gets its own result; no slot is freed.
    /// </summary>
    public void LoadBatch(Span<LoadRequest> requests)
    {
        bool verify = _tunables.VerifyChecksums;
        // Pages on the swap devices: the page-I/O layer.
        _pageIo.Read(requests);

        // Pages in zswap: fill words and as-is pages here, compressed pages on the engines.
        JobBatch batch = Rent();
        try
        {
            batch.Clear();
            Span<short> jobOf = stackalloc short[requests.Length];
            for (int i = 0; i < requests.Length; i++)
            {
                ref LoadRequest r = ref requests[i];
                jobOf[i] = -1;
                SlotFlags flags = SlotInfo.Flags(r.Info);
                if (r.Result == LoadResult.DeviceCompressed)
                {
                    // Read still compressed from a remote device: decompressed with the rest.
                    if (batch.Count == batch.Capacity) FinishDecompress(batch, requests, jobOf, i);
                    jobOf[i] = (short)batch.Count;
                    QueueDeviceCompressed(batch, ref r, verify);
                    continue;
                }
                if ((flags & SlotFlags.Zswap) == 0) continue;
                ulong handle = _devices[r.Type].Handle(r.Slot);
                if ((flags & SlotFlags.SameFilled) != 0)
                {
                    // The fill word lives in the slot table: check it like any other copy of the page.
                    PageWork.Fill(r.Frame, handle);
                    r.Result = verify && PageWork.Checksum(r.Frame) != SlotInfo.Checksum(r.Info) ? LoadResult.ChecksumMismatch : LoadResult.Ok;
                }
                else if ((flags & SlotFlags.Raw) != 0)
                {
                    _pool.Map(handle, PageSize.Bytes, new Span<byte>(batch.Scratch(batch.Count), PageSize.Bytes)).CopyTo(new Span<byte>(r.Frame, PageSize.Bytes));
                    r.Result = verify && PageWork.Checksum(r.Frame) != SlotInfo.Checksum(r.Info) ? LoadResult.ChecksumMismatch : LoadResult.Ok;
                }
                else
                {
                    if (batch.Count == batch.Capacity) FinishDecompress(batch, requests, jobOf, i);
                    int len = SlotInfo.Length(r.Info);
                    ReadOnlySpan<byte> src = _pool.Map(handle, len, new Span<byte>(batch.Scratch(batch.Count), PageSize.Bytes));
                    fixed (byte* s = src)
                    {
                        // The pointer outlives fixed safely: pool memory and scratch pages are native.
                        jobOf[i] = (short)batch.Count;
                        ref PageJob job = ref batch.AddDecompress(s, len, SlotInfo.CodecId(r.Info), r.Frame);
                        job.Checksum = SlotInfo.Checksum(r.Info);
                        job.Verify = verify;
                    }
                }
            }
            FinishDecompress(batch, requests, jobOf, requests.Length);
        }
        finally
        {
            Return(batch);
        }

        foreach (ref LoadRequest r in requests)
        {
            if ((SlotInfo.Flags(r.Info) & SlotFlags.Zswap) == 0)
            {
                CountDeviceCompressed(in r);
                continue;
            }
            if (r.Result == LoadResult.Ok) _counters.Add(Counter.Zswpin);
            else _counters.Add(Counter.DecompressFail);
        }
    }

    /// <summary>Runs the decompression jobs gathered so far and gives their requests (before <paramref name="upTo"/>) their results.</summary>
    private void FinishDecompress(JobBatch batch, Span<LoadRequest> requests, Span<short> jobOf, int upTo)
    {
        if (batch.Count == 0) return;
        RunJobs(batch, Counter.ZswapDecompressJobs);
        for (int i = 0; i < upTo; i++)
        {
            if (jobOf[i] < 0) continue;
            requests[i].Result = batch.Jobs[jobOf[i]].Result switch
            {
                JobResult.Decompressed => LoadResult.Ok,
                JobResult.ChecksumMismatch => LoadResult.ChecksumMismatch,
                _ => LoadResult.DecompressFailed,
            };
            jobOf[i] = -1;
        }
        batch.Clear();
    }

    /// <summary>Drops a locked slot's zswap entry, if it has one (zswap_invalidate). The slot itself stays allocated.</summary>
    public void Invalidate(SwapDevice dev, int slot, ulong info)
    {
        SlotFlags flags = SlotInfo.Flags(info);
        if ((flags & SlotFlags.Zswap) == 0) return;
        bool retained = (flags & SlotFlags.Retained) != 0;
        RemoveFromLru(dev.Type, slot, SlotInfo.Group(info) + (retained ? RetainedList : 0));
        if (retained) Interlocked.Decrement(ref _retainedPages);
        Interlocked.Decrement(ref _storedPages);
        DropEntry(dev.Handle(slot), info);
    }
}
