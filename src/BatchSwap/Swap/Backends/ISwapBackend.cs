namespace BatchSwap.Swap.Backends;

/// <summary>
/// Where a swap device's pages live: a local file, memory (tests), a remote store. The slot allocator and slot tables
/// stay in <see cref="SwapDevice"/>; a backend only moves whole pages to and from slot numbers, a batch at a time (as
/// Tsavorite's <c>IDevice</c> sits beside its devices). All transfers go through <see cref="PageIo"/>.
/// <list type="bullet">
/// <item><description><see cref="Submit"/> takes a batch of runs (consecutive slots, pages anywhere in memory) and
/// completes each run through <see cref="SwapIoBatch.Complete"/>, on any thread, possibly before it returns. A remote
/// store may send the whole batch in one round trip.</description></item>
/// <item><description>A failed run is a result (<c>ok: false</c>), never an exception: the caller keeps the folio in
/// memory, or fails the load loudly.</description></item>
/// <item><description>Page memory is 4 KiB aligned (arena frames, engine buffers), so a direct-I/O file can take it as it is.</description></item>
/// </list>
/// </summary>
internal interface ISwapBackend : IDisposable
{
    /// <summary>A description for reports ("file, direct I/O", "memory").</summary>
    string Description { get; }

    /// <summary>Whether transfers bypass the page cache (nothing is cached twice).</summary>
    bool DirectIo { get; }

    /// <summary>
    /// Makes room for slots [<paramref name="firstSlot"/>, + <paramref name="count"/>) before they are first
    /// written; called for every slot allocation, under the device's allocation lock, with all slots in one 512-slot
    /// cluster, so it must be cheap when the room is there already. False when there is none (a full filesystem, an
    /// injected swap-full): the allocation fails as swap full and the folio stays in memory.
    /// </summary>
    bool Reserve(int firstSlot, int count);

    /// <summary>Starts every run of <paramref name="batch"/>; each completes through <see cref="SwapIoBatch.Complete"/>.</summary>
    void Submit(SwapIoBatch batch);

    /// <summary>Bytes of this backend's data held in the page cache now (0 when it has none, or cannot tell).</summary>
    long PageCacheBytes();

    /// <summary>
    /// Whether a slot may hold a compressed object shorter than a page (<see cref="SwapIoBatch.Lengths"/>): zswap
    /// writeback then sends pool objects as they are, without decompressing them. A remote store saves the bytes on
    /// the wire; a file backend moves whole aligned pages only.
    /// </summary>
    bool StoresCompressed => false;

    /// <summary>
    /// Whether a read may take slots the caller did not ask for, whose contents it discards, to join two runs into one
    /// transfer: true where every slot below a written one reads without error and one larger transfer costs less than
    /// two (a local file). A remote store moves only the keys it is asked for.
    /// </summary>
    bool ReadsAcrossGaps => false;
}
