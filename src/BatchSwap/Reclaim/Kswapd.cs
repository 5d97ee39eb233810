using BatchSwap.Lru;
using BatchSwap.Memory;

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
    private readonly Func<IReadOnlyList<MemoryGroup>> _groups;
    // Marks kswapd busy for the engines' idle-core count.
    private readonly Action<int> _busy;
    // Wakes the thread.
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Thread _thread;
    // Set to stop.
    private volatile bool _stopping;

    /// <summary>Free pages under which an allocation wakes kswapd.</summary>
    public readonly int LowPages;
    /// <summary>Free pages at which kswapd goes back to sleep.</summary>
    public readonly int HighPages;

    public Kswapd(MemoryNode node, Reclaimer reclaimer, Func<IReadOnlyList<MemoryGroup>> groups, Action<int> busy)
    {
        _node = node;
        _reclaimer = reclaimer;
        _groups = groups;
        _busy = busy;
        // min (the reserve) < low < high, far enough apart that kswapd reclaims in whole batches.
        LowPages = node.ReservePages + Math.Max(64, node.FrameCount / 128);
        HighPages = LowPages + Math.Max(128, node.FrameCount / 64);
        _thread = new Thread(Run) { IsBackground = true, Name = $"batchswap-kswapd{node.Id}" };
        _thread.Start();
    }

    /// <summary>Wakes kswapd if the node is under its low watermark or the group over its background mark (cheap when neither).</summary>
    public void WakeIfLow(MemoryGroup group)
    {
        if ((_node.FreePages >= LowPages && !group.OverBackgroundLow) || _wake.CurrentCount > 0) return;
        try { _wake.Release(); } catch (SemaphoreFullException) { } catch (ObjectDisposedException) { }
    }

    private void Run()
    {
        while (true)
        {
            _wake.Wait();
            if (_stopping) return;
            _busy(+1);
            try
            {
                // A freshly used folio is only marked by its first scan and goes at the second, so scanning without
                // reclaiming is not the end; scanning twice what the lists hold without reclaiming is.
                long fruitless = 0;
                while (!_stopping)
                {
                    bool nodeLow = _node.FreePages < HighPages;
                    int got = 0;
                    long scanned = 0, listed = 0;
                    foreach (MemoryGroup g in _groups())
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
                _busy(-1);
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        try { _wake.Release(); } catch (SemaphoreFullException) { }
        _thread.Join();
        _wake.Dispose();
    }
}
