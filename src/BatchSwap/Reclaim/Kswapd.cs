using BatchSwap.Lru;
using BatchSwap.MemCg;
using BatchSwap.Memory;
using BatchSwap.Threading;

namespace BatchSwap.Reclaim;

/// <summary>
/// Background reclaim, one thread per node (kswapd). It sleeps until an allocation leaves the node's free pages
/// under the low watermark, or takes a group over its background mark (<see cref="MemoryGroup.BackgroundLowBytes"/>),
/// then reclaims in batches, through the same shrink loop and plug as direct reclaim: from every group's LRU on the
/// node until free pages reach the high watermark, and from each group over its mark until it is under
/// <see cref="MemoryGroup.BackgroundHighBytes"/>. Workers then rarely reclaim in their own thread; direct reclaim
/// stays the fallback when kswapd falls behind.
/// </summary>
internal sealed class Kswapd : IDisposable
{
    // The node this thread keeps.
    private readonly MemoryNode _node;
    private readonly Reclaimer _reclaimer;
    // The groups, whose LRUs on this node are reclaimed from.
    private readonly MemoryGroups _groups;
    // The thread and its wake loop.
    private readonly BackgroundWorker _worker;

    /// <summary>Free pages under which an allocation wakes kswapd.</summary>
    public readonly int LowPages;
    /// <summary>Free pages at which kswapd goes back to sleep.</summary>
    public readonly int HighPages;

    public Kswapd(MemoryNode node, Reclaimer reclaimer, MemoryGroups groups, BusyThreads busy)
    {
        _node = node;
        _reclaimer = reclaimer;
        _groups = groups;
        // min (the reserve) < low < high, far enough apart that kswapd reclaims in whole batches.
        LowPages = node.ReservePages + Math.Max(64, node.FrameCount / 128);
        HighPages = LowPages + Math.Max(128, node.FrameCount / 64);
        _worker = new BackgroundWorker($"batchswap-kswapd{node.Id}", Balance, busy);
    }

    /// <summary>Wakes kswapd if the node is under its low watermark or the group over its background mark (cheap when neither).</summary>
    public void WakeIfLow(MemoryGroup group)
    {
        if (_node.FreePages >= LowPages && !group.OverBackgroundLow) return;
        _worker.Wake();
    }

    /// <summary>One wake's work: reclaim until the node and its groups are balanced.</summary>
    private void Balance()
    {
        try
        {
            // A freshly used folio is only marked by its first scan and goes at the second, so scanning without
            // reclaiming is not the end; scanning twice what the lists hold without reclaiming is.
            long fruitless = 0;
            while (!_worker.IsStopping)
            {
                bool nodeLow = _node.FreePages < HighPages;
                int got = 0;
                long scanned = 0, listed = 0;
                foreach (MemoryGroup g in _groups.All)
                {
                    if (!nodeLow && !g.OverBackgroundHigh) continue;
                    LruVec lruvec = g.Lruvecs[_node.Id];
                    listed += lruvec.ActivePages + lruvec.InactivePages;
                    got += _reclaimer.ShrinkLruvec(lruvec, direct: false, ref scanned);
                }
                if (scanned == 0) break; // balanced, or nothing on the lists (direct reclaim decides about OOM)
                fruitless = got > 0 ? 0 : fruitless + scanned;
                if (fruitless > 2 * listed) break;
            }
        }
        finally
        {
            // Writes still in flight are finished before kswapd sleeps: no folio waits on a sleeping thread.
            _reclaimer.FinishWriteback();
        }
    }

    public void Dispose() => _worker.Dispose();
}
