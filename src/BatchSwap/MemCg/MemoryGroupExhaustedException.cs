namespace BatchSwap.MemCg;

/// <summary>
/// A memory group is at its limit and reclaim can free nothing (every page pinned, swap full, or writeback
/// disabled with zswap full): the kernel's out-of-memory condition.
/// </summary>
public sealed class MemoryGroupExhaustedException : OutOfMemoryException
{
    internal MemoryGroupExhaustedException(MemoryGroup group, int order)
        : base($"memory group '{group.Name}' is at its limit of {group.LimitBytes >> 20} MiB and reclaim cannot free " +
               $"anything for an order-{order} folio (pages pinned, swap full, or writeback disabled with zswap full)")
    {
    }
}
