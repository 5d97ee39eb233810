namespace BatchSwap.Stats;

/// <summary>
/// Every outcome the engine counts, named after the kernel's vmstat and zswap debugfs counters
/// where one exists. The snake_case kernel name of each is given by <see cref="CounterNames"/>.
/// </summary>
public enum Counter
{
    // ---- vmstat: swap traffic ----
    /// <summary>Pages stored in zswap (vmstat zswpout).</summary>
    Zswpout,
    /// <summary>Pages loaded back from zswap (vmstat zswpin).</summary>
    Zswpin,
    /// <summary>Pages written back from zswap to the swap device (vmstat zswpwb).</summary>
    Zswpwb,
    /// <summary>Pages written to a swap device by reclaim or writeback (vmstat pswpout).</summary>
    Pswpout,
    /// <summary>Pages read from a swap device on fault (vmstat pswpin).</summary>
    Pswpin,

    // ---- vmstat: reclaim ----
    /// <summary>Pages scanned by reclaim on the inactive list (pgscan).</summary>
    Pgscan,
    /// <summary>Pages scanned by direct reclaim (pgscan_direct).</summary>
    PgscanDirect,
    /// <summary>Pages scanned by the background reclaimer (pgscan_kswapd).</summary>
    PgscanKswapd,
    /// <summary>Pages reclaimed, freed from memory (pgsteal).</summary>
    Pgsteal,
    /// <summary>Pages reclaimed by direct reclaim (pgsteal_direct).</summary>
    PgstealDirect,
    /// <summary>Pages reclaimed by the background reclaimer (pgsteal_kswapd).</summary>
    PgstealKswapd,
    /// <summary>
    /// Pages reclaimed without compressing or writing anything: they came back from swap, were only read, and their
    /// copy was still there (pgsteal_clean; the swap cache's clean-page rule).
    /// </summary>
    PgstealClean,
    /// <summary>Retained copies dropped because their resident page was written (swap_retained_invalidated).</summary>
    SwapRetainedInvalidated,
    /// <summary>Pages moved to the active list (pgactivate).</summary>
    Pgactivate,
    /// <summary>Pages moved from the active to the inactive list (pgdeactivate).</summary>
    Pgdeactivate,
    /// <summary>Pages sent to pageout by reclaim (nr_vmscan_write).</summary>
    NrVmscanWrite,
    /// <summary>Times a thread entered direct reclaim (allocstall).</summary>
    Allocstall,
    /// <summary>Page faults: accesses that found a page not resident (pgfault).</summary>
    Pgfault,
    /// <summary>Faults that had to load a page from zswap or the swap device (pgmajfault).</summary>
    Pgmajfault,
    /// <summary>Large folios that could not be had contiguously and fell back to order 0 (thp_fault_fallback).</summary>
    ThpFallback,
    /// <summary>Folios that reclaim had to keep because no swap slot was free (swap full).</summary>
    SwapFull,
    /// <summary>Pages brought in by swap-in readahead besides the faulting page (swap_ra).</summary>
    SwapRa,
    /// <summary>Readahead pages that were used before reclaim came for them (swap_ra_hit).</summary>
    SwapRaHit,
    /// <summary>Readahead pages that reclaim found unused (swap_ra_miss).</summary>
    SwapRaMiss,
    /// <summary>Slots read only to join two runs of a swap-in into one transfer, their contents dropped (swap_read_gap_pages).</summary>
    SwapReadGapPages,

    // ---- zswap debugfs ----
    /// <summary>Entries written back to the swap device by the zswap shrinker (written_back_pages).</summary>
    WrittenBackPages,
    /// <summary>Stores rejected because the compressor failed (reject_compress_fail).</summary>
    RejectCompressFail,
    /// <summary>Stores rejected because the page did not compress below a page and could not be stored as-is (reject_compress_poor).</summary>
    RejectCompressPoor,
    /// <summary>
    /// Pages reclaim skipped without compressing them because they were rejected as reject_compress_poor before,
    /// their group may not write back, and they have not been written since (this engine's own counter; the
    /// kernel compresses such pages again at every scan). Each skip is a compression not done.
    /// </summary>
    RejectCompressPoorSkipped,
    /// <summary>Stores rejected because the pool could not allocate memory (reject_alloc_fail).</summary>
    RejectAllocFail,
    /// <summary>Retained copies of resident pages dropped to shrink the pool, before anything was written back (zswap_retained_dropped).</summary>
    ZswapRetainedDropped,
    /// <summary>Writeback attempts that failed (reject_reclaim_fail).</summary>
    RejectReclaimFail,
    /// <summary>Stores rejected because the pool was at its limit (pool_limit_hit).</summary>
    PoolLimitHit,
    /// <summary>Loads whose decompression failed or whose checksum did not match (decompress_fail).</summary>
    DecompressFail,
    /// <summary>Swap-device reads whose checksum did not match (checksum_fail).</summary>
    SwapChecksumFail,
    /// <summary>Pages whose write to a swap device failed: reclaim kept the folio, writeback kept the entry (swap_write_fail).</summary>
    SwapWriteFail,
    /// <summary>Pages whose read from a swap device failed; the page stays swapped out (swap_read_fail).</summary>
    SwapReadFail,

    // ---- pool compaction (zsmalloc's zs_compact) ----
    /// <summary>Pool frames freed by compaction (zsmalloc pages_compacted).</summary>
    PagesCompacted,
    /// <summary>Pool objects moved by compaction.</summary>
    ZswapCompactObjects,
    /// <summary>Pool objects compaction left in place because their slot was busy.</summary>
    ZswapCompactBusy,

    // ---- engine work (what the codecs really ran) ----
    /// <summary>
    /// Compression jobs submitted to the engines (zswap_compress_jobs): every page of every stored batch, whatever its
    /// outcome — stored, same-filled (hashed and checked, not compressed), rejected as reject_compress_poor, or failing
    /// its folio afterwards (reject_alloc_fail, an earlier page's failure). Counted once per engine run.
    /// </summary>
    ZswapCompressJobs,
    /// <summary>
    /// Decompression jobs submitted to the engines (zswap_decompress_jobs): compressed entries loaded or written back,
    /// failed ones included. Same-filled and as-is entries are filled or copied without the codec and are not counted.
    /// Counted once per engine run.
    /// </summary>
    ZswapDecompressJobs,

    // ---- the seed's plug ----
    /// <summary>Batches stored by reclaim (one per plug flush).</summary>
    ReclaimBatches,
    /// <summary>Folios that went through a reclaim batch.</summary>
    ReclaimBatchFolios,
    /// <summary>Plug flushes because it held vm.compress-batchsize folios.</summary>
    PlugFlushFull,
    /// <summary>Plug flushes because the next folio had another swap type.</summary>
    PlugFlushSwapType,
    /// <summary>Plug flushes because the next folio was on another node.</summary>
    PlugFlushNode,
    /// <summary>Plug flushes for a pmd-mappable folio (before it, and for it alone).</summary>
    PlugFlushPmd,
    /// <summary>Plug flushes because the folio list ran dry.</summary>
    PlugFlushEnd,
    /// <summary>Times the automatic vm.compress-batchsize moved to another size (see the compress_batchsize gauge).</summary>
    CompressBatchsizeChanges,

    // ---- pressure stall information (kept by the memory groups, summed at each snapshot; open stalls count to now) ----
    /// <summary>Nanoseconds during which at least one thread was stalled on reclaim (psi memory some).</summary>
    PsiSomeNs,
    /// <summary>Nanoseconds during which every thread using the group was stalled (psi memory full).</summary>
    PsiFullNs,

    // ---- where the time goes (nanoseconds, summed over threads) ----
    /// <summary>Time in direct reclaim, whole (isolate, shrink, store, write, free).</summary>
    ReclaimNs,
    /// <summary>Time compressing and storing batches in zswap (part of ReclaimNs).</summary>
    ZswapStoreNs,
    /// <summary>Time writing zswap entries back to the swap device.</summary>
    WritebackNs,
    /// <summary>Time in swap-in faults, whole (allocation, load, map).</summary>
    SwapInNs,
    /// <summary>Time compacting the pool.</summary>
    CompactNs,

    // ---- zswpout per folio order (mTHP stats) ----
    /// <summary>Order-0 folios stored in zswap.</summary>
    ZswpoutOrder0,
    /// <summary>Order-1 folios stored in zswap.</summary>
    ZswpoutOrder1,
    /// <summary>Order-2 folios stored in zswap.</summary>
    ZswpoutOrder2,
    /// <summary>Order-3 folios stored in zswap.</summary>
    ZswpoutOrder3,
    /// <summary>Order-4 folios stored in zswap.</summary>
    ZswpoutOrder4,
    /// <summary>Order-5 folios stored in zswap.</summary>
    ZswpoutOrder5,
    /// <summary>Order-6 folios stored in zswap.</summary>
    ZswpoutOrder6,
    /// <summary>Order-7 folios stored in zswap.</summary>
    ZswpoutOrder7,
    /// <summary>Order-8 folios stored in zswap.</summary>
    ZswpoutOrder8,
    /// <summary>Order-9 (pmd-mappable) folios stored in zswap.</summary>
    ZswpoutOrder9,

    // ---- swap-ins per folio order (mTHP stats' swpin) ----
    /// <summary>Order-0 folios swapped in.</summary>
    SwpinOrder0,
    /// <summary>Order-1 folios swapped in whole.</summary>
    SwpinOrder1,
    /// <summary>Order-2 folios swapped in whole.</summary>
    SwpinOrder2,
    /// <summary>Order-3 folios swapped in whole.</summary>
    SwpinOrder3,
    /// <summary>Order-4 folios swapped in whole.</summary>
    SwpinOrder4,
    /// <summary>Order-5 folios swapped in whole.</summary>
    SwpinOrder5,
    /// <summary>Order-6 folios swapped in whole.</summary>
    SwpinOrder6,
    /// <summary>Order-7 folios swapped in whole.</summary>
    SwpinOrder7,
    /// <summary>Order-8 folios swapped in whole.</summary>
    SwpinOrder8,
    /// <summary>Order-9 (pmd-mappable) folios swapped in whole.</summary>
    SwpinOrder9,

    // ---- far memory: a swap device in a Redis Cluster ----
    /// <summary>Zswap entries written back still compressed, to a device that stores compressed objects (zswpwb_compressed).</summary>
    ZswpwbCompressed,
    /// <summary>Round trips to remote nodes: one per node a flushed batch or readahead window touched, per attempt (swap_remote_round_trips).</summary>
    SwapRemoteRoundTrips,
    /// <summary>Bytes of the commands sent to remote nodes, as RESP, before TLS (swap_remote_bytes_sent).</summary>
    SwapRemoteBytesSent,
    /// <summary>Bytes of the replies received from remote nodes, as RESP (swap_remote_bytes_received).</summary>
    SwapRemoteBytesReceived,
    /// <summary>Remote pages whose AES-GCM authentication failed (changed, moved or replayed): loud read failures, never data (swap_remote_auth_fail).</summary>
    SwapRemoteAuthFail,
    /// <summary>Remote pages that were not there: their key expired or was deleted, or their node lost them (swap_remote_missing).</summary>
    SwapRemoteMissing,
    /// <summary>Remote commands that timed out (swap_remote_timeouts).</summary>
    SwapRemoteTimeouts,
    /// <summary>Remote commands that failed otherwise: connection lost, node down, a server error (swap_remote_errors).</summary>
    SwapRemoteErrors,
    /// <summary>Batch parts sent again after a timeout or a lost connection (swap_remote_retries).</summary>
    SwapRemoteRetries,
    /// <summary>
    /// Slot reservations refused, and batch parts failed without being sent, because their node failed within the
    /// retry interval: new folios go to the next swap device or stay in memory, reads of its pages fail loudly at once
    /// (swap_remote_node_down_skips).
    /// </summary>
    SwapRemoteNodeDownSkips,
    /// <summary>Writes that failed because fewer replicas than asked acknowledged them in time (swap_remote_replica_short).</summary>
    SwapRemoteReplicaShort,
}

/// <summary>Kernel-style names of the counters.</summary>
public static class CounterNames
{
    /// <summary>Number of counters.</summary>
    public static readonly int Count = Enum.GetValues<Counter>().Length;

    private static readonly string[] Names = Build();

    /// <summary>The kernel-style snake_case name of <paramref name="counter"/>.</summary>
    public static string Of(Counter counter) => Names[(int)counter];

    private static string[] Build()
    {
        var names = new string[Count];
        foreach (Counter c in Enum.GetValues<Counter>())
        {
            names[(int)c] = c switch
            {
                Counter.ThpFallback => "thp_fault_fallback",
                Counter.SwapChecksumFail => "swap_checksum_fail",
                Counter.PsiSomeNs => "psi_some_ns",
                Counter.PsiFullNs => "psi_full_ns",
                >= Counter.ZswpoutOrder0 and <= Counter.ZswpoutOrder9 => $"zswpout_order{(int)c - (int)Counter.ZswpoutOrder0}",
                >= Counter.SwpinOrder0 and <= Counter.SwpinOrder9 => $"swpin_order{(int)c - (int)Counter.SwpinOrder0}",
                _ => ToSnake(c.ToString()),
            };
        }
        return names;
    }

    private static string ToSnake(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char ch = pascal[i];
            if (char.IsUpper(ch) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString();
    }
}
