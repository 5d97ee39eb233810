using System.Runtime.InteropServices;
using BatchSwap.Memory;

namespace BatchSwap.Swap.Backends;

/// <summary>
/// A swap backend in native memory, for tests of the layers above: every transfer completes in the submitting thread.
/// Memory for each 512-slot cluster is taken when the cluster is first reserved (so an untouched device costs nothing),
/// and zeroed and freed on dispose. It is memory outside the tier's budget: never a production backend.
/// </summary>
internal sealed unsafe class MemorySwapBackend : ISwapBackend
{
    private const int ClusterBytes = SwapDevice.ClusterSlots * PageSize.Bytes;
    private readonly byte*[] _clusters;
    private long _transfers;

    /// <summary>A backend of <paramref name="slots"/> slots.</summary>
    public MemorySwapBackend(int slots) => _clusters = new byte*[(slots + SwapDevice.ClusterSlots - 1) / SwapDevice.ClusterSlots];

    /// <inheritdoc/>
    public string Description => "memory";

    /// <inheritdoc/>
    public bool DirectIo => true;

    /// <summary>Runs moved so far.</summary>
    public long Transfers => Interlocked.Read(ref _transfers);

    /// <summary>Cluster memory taken so far, in bytes.</summary>
    public long ReservedBytes
    {
        get { long n = 0; for (int c = 0; c < _clusters.Length; c++) if (_clusters[c] != null) n += ClusterBytes; return n; }
    }

    /// <inheritdoc/>
    public bool Reserve(int firstSlot, int count)
    {
        int c = firstSlot / SwapDevice.ClusterSlots;
        if (_clusters[c] == null) _clusters[c] = (byte*)NativeMemory.AlignedAlloc(ClusterBytes, PageSize.Bytes);
        return true;
    }

    /// <inheritdoc/>
    public void Submit(SwapIoBatch batch)
    {
        for (int r = 0; r < batch.RunCount; r++)
        {
            ref SwapIoRun run = ref batch.Runs[r];
            ReadOnlySpan<nint> pages = batch.PagesOf(r);
            bool ok = true;
            for (int i = 0; i < pages.Length; i++)
            {
                int slot = run.Slot + i;
                byte* cluster = _clusters[slot / SwapDevice.ClusterSlots];
                if (cluster == null) { ok = false; break; } // never reserved: a caller bug, reported as an I/O error
                var stored = new Span<byte>(cluster + (long)(slot % SwapDevice.ClusterSlots) * PageSize.Bytes, PageSize.Bytes);
                var page = new Span<byte>((void*)pages[i], PageSize.Bytes);
                if (batch.Kind == SwapIoKind.Write) page.CopyTo(stored); else stored.CopyTo(page);
            }
            Interlocked.Increment(ref _transfers);
            batch.Complete(r, ok);
        }
    }

    /// <inheritdoc/>
    public long PageCacheBytes() => 0;

    public void Dispose()
    {
        for (int c = 0; c < _clusters.Length; c++)
        {
            if (_clusters[c] == null) continue;
            new Span<byte>(_clusters[c], ClusterBytes).Clear();
            NativeMemory.AlignedFree(_clusters[c]);
            _clusters[c] = null;
        }
    }
}
