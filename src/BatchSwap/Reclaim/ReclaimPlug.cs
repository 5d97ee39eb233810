using BatchSwap.Memory;
using BatchSwap.Pageout;

namespace BatchSwap.Reclaim;

/// <summary>Why the plug was flushed.</summary>
internal enum FlushReason : byte
{
    /// <summary>It held vm.compress-batchsize folios.</summary>
    Full,
    /// <summary>The next folio has another swap type.</summary>
    OtherSwapType,
    /// <summary>The next folio is on another node.</summary>
    OtherNode,
    /// <summary>A pmd-mappable folio: the batch before it, or the folio alone.</summary>
    PmdMappable,
    /// <summary>The folio list ran dry.</summary>
    EndOfList,
}

/// <summary>
/// The seed's plug (swap_in_memory_cache_cb): it gathers folios that reclaim has unmapped and given
/// swap slots, so that zswap stores them as one batch. The flush policy lives here and nowhere else:
/// the plug must be flushed before a folio of another swap type or node, before a pmd-mappable folio
/// (which then goes alone), when it holds the batch size, and when the list runs dry.
/// All folios in the plug share one swap type and one node. Owned by one reclaiming thread.
/// </summary>
internal sealed class ReclaimPlug
{
    // The folios, in the order reclaim added them.
    private readonly PageoutFolio[] _folios = new PageoutFolio[Tunables.TunableSet.MaxCompressBatchSize];
    // Folios in the plug.
    private int _count;
    // Swap type and node of the folios in the plug.
    private int _swapType, _node;
    // The batch size in force for this plug (vm.compress-batchsize when the list was started).
    private int _batchSize = 1;
    // Whether the size came from the automatic choice, which wants the list's flushes measured.
    private bool _measured;

    /// <summary>Folios in the plug.</summary>
    public int Count => _count;

    /// <summary>The folios in the plug, in order.</summary>
    public Span<PageoutFolio> Folios => _folios.AsSpan(0, _count);

    /// <summary>The node of the folios in the plug.</summary>
    public int Node => _node;

    /// <summary>The batch size of the current folio list.</summary>
    public int BatchSize => _batchSize;

    /// <summary>Whether the list's size is the automatic choice's (<see cref="BatchSizeController.ForList"/>), whose flushes it measures.</summary>
    public bool Measured => _measured;

    /// <summary>Starts a new folio list with the given batch size; <paramref name="measured"/> when it came from the automatic choice.</summary>
    public void Begin(int batchSize, bool measured = false)
    {
        _batchSize = Math.Clamp(batchSize, 1, _folios.Length);
        _measured = measured;
        _count = 0;
    }

    /// <summary>
    /// Whether the plug must be flushed before <paramref name="folio"/> is added, and why.
    /// </summary>
    public bool MustFlushBefore(in PageoutFolio folio, int node, out FlushReason reason)
    {
        reason = default;
        if (_count == 0) return false;
        if (folio.SwapType != _swapType) { reason = FlushReason.OtherSwapType; return true; }
        if (node != _node) { reason = FlushReason.OtherNode; return true; }
        if (folio.Order >= PageSize.PmdOrder) { reason = FlushReason.PmdMappable; return true; }
        return false;
    }

    /// <summary>Adds a folio. Returns true, with the reason, when the plug must now be flushed (it is full, or the folio is pmd-mappable and goes alone).</summary>
    public bool Add(in PageoutFolio folio, int node, out FlushReason reason)
    {
        if (_count == 0)
        {
            _swapType = folio.SwapType;
            _node = node;
        }
        _folios[_count] = folio;
        _folios[_count].Outcome = PageoutOutcome.Pending;
        _folios[_count].CompressPoor = false;
        _count++;
        reason = folio.Order >= PageSize.PmdOrder ? FlushReason.PmdMappable : FlushReason.Full;
        return folio.Order >= PageSize.PmdOrder || _count >= _batchSize;
    }

    /// <summary>Empties the plug after a flush.</summary>
    public void Clear() => _count = 0;
}
