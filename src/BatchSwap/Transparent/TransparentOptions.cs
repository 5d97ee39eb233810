using BatchSwap.MemCg;

namespace BatchSwap.Transparent;

/// <summary>Options of a <see cref="TransparentMapping"/> (<see cref="MemoryTier.Map"/>). Immutable; validated by the tier.</summary>
public sealed record TransparentOptions
{
    /// <summary>
    /// The most bytes of the mapping that are resident (mapped in the process) at once; 0 (the default) for a quarter
    /// of the group's limit. Every resident page is charged to the group. Past it, the oldest pages leave the mapping
    /// to the tier's LRU, from where reclaim compresses them (or drops them, when only read since they came in).
    /// </summary>
    public long MaxResidentBytes { get; init; }

    /// <summary>The memory group charged with the mapping's pages; null for the tier's default group.</summary>
    public MemoryGroup? Group { get; init; }

    /// <summary>How the userfaultfd is obtained.</summary>
    public UffdAccess Access { get; init; } = UffdAccess.Auto;
}

/// <summary>What a <see cref="TransparentMapping"/>'s fault handler has done (counts since the mapping was made).</summary>
/// <param name="MissingFaults">Page faults on pages not in the mapping (uffd MISSING events, duplicates included).</param>
/// <param name="WpFaults">First writes to pages filled read-only (uffd write-protect events): the page becomes dirty.</param>
/// <param name="ZeroFills">Pages never written, filled with UFFDIO_ZEROPAGE (or a zero copy for a write).</param>
/// <param name="SwapInFills">Pages filled from the tier's store: zswap or the swap device (the region's swap-in).</param>
/// <param name="LruFills">Pages filled from a frame still on the tier's LRU (left the mapping, not yet reclaimed): no decompression.</param>
/// <param name="Evictions">Pages that left the mapping (copied to their frame, discarded with MADV_DONTNEED).</param>
/// <param name="Refaults">Fills of pages that had left the mapping before (like workingset_refault).</param>
/// <param name="RefaultsHot">Refaults within the resident size of their eviction: the page gets a second chance (workingset_activate).</param>
/// <param name="SecondChances">Pages at the head of the FIFO that were kept (moved to its tail) instead of evicted.</param>
/// <param name="ResidentPages">Pages in the mapping now.</param>
/// <param name="DuplicateFaults">Fault events for pages already resolved (several threads on one page): woken without work.</param>
/// <param name="Readahead">Pages filled ahead of a sequential fault, before anything touched them.</param>
public readonly record struct TransparentStats(long MissingFaults, long WpFaults, long ZeroFills, long SwapInFills, long LruFills,
    long Evictions, long Refaults, long RefaultsHot, long SecondChances, long ResidentPages, long DuplicateFaults, long Readahead = 0);
