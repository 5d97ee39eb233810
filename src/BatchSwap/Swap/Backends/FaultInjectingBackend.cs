using BatchSwap.Faults;
using BatchSwap.Memory;

namespace BatchSwap.Swap.Backends;

/// <summary>
/// A decorator that injects a <see cref="FaultPlan"/>'s device faults into any backend (tests and <c>--inject</c>):
/// swap-full on slot reservation; on each run, the slow-I/O delay, then an I/O error or a short transfer. The run is
/// moved by the backend underneath and then reported failed, which is what the layers above see of a real failure:
/// a failed write keeps the folio in memory, a failed read leaves the page swapped out. A short read also scribbles
/// over the second half of the run's pages, so that nothing above may trust a failed read's frames.
/// </summary>
internal sealed unsafe class FaultInjectingBackend : ISwapBackend, ISwapIoInterceptor
{
    private readonly ISwapBackend _inner;
    private readonly FaultInjector _faults;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public FaultInjectingBackend(ISwapBackend inner, FaultInjector faults)
    {
        _inner = inner;
        _faults = faults;
    }

    /// <summary>The backend underneath.</summary>
    public ISwapBackend Inner => _inner;

    /// <inheritdoc/>
    public string Description => _inner.Description + ", faults injected";

    /// <inheritdoc/>
    public bool DirectIo => _inner.DirectIo;

    /// <inheritdoc/>
    public bool StoresCompressed => _inner.StoresCompressed;

    /// <inheritdoc/>
    public bool ReadsAcrossGaps => _inner.ReadsAcrossGaps;

    /// <inheritdoc/>
    public bool Reserve(int firstSlot, int count) => _faults.BeforeAllocate() && _inner.Reserve(firstSlot, count);

    /// <inheritdoc/>
    public void Submit(SwapIoBatch batch)
    {
        batch.Interceptor = this;
        _inner.Submit(batch);
    }

    /// <inheritdoc/>
    bool ISwapIoInterceptor.OnComplete(SwapIoBatch batch, int run, bool ok)
    {
        ref SwapIoRun r = ref batch.Runs[run];
        IoFault fault = batch.Kind == SwapIoKind.Write ? _faults.BeforeWrite(r.Slot, r.PageCount) : _faults.BeforeRead(r.Slot);
        if (fault == IoFault.None) return ok;
        if (fault == IoFault.Short && batch.Kind == SwapIoKind.Read)
        {
            ReadOnlySpan<nint> pages = batch.PagesOf(run);
            for (int i = pages.Length / 2; i < pages.Length; i++) new Span<byte>((void*)pages[i], PageSize.Bytes).Fill(0xA5);
            if (pages.Length == 1) new Span<byte>((void*)pages[0], PageSize.Bytes / 2).Fill(0xA5);
        }
        return false;
    }

    /// <inheritdoc/>
    public long PageCacheBytes() => _inner.PageCacheBytes();

    public void Dispose() => _inner.Dispose();
}
