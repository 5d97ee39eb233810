using System.Runtime.InteropServices;
using BatchSwap.Memory;
using Microsoft.Win32.SafeHandles;

namespace BatchSwap.Swap.Backends;

/// <summary>How a swap file is opened.</summary>
internal enum SwapFileMode : byte
{
    /// <summary>Direct I/O (O_DIRECT) where the filesystem allows it, buffered I/O where it refuses (said in <see cref="FileSwapBackend.Description"/>).</summary>
    Direct,
    /// <summary>Buffered I/O through the page cache (the pages are then cached in RAM outside the tier's budget).</summary>
    Buffered,
    /// <summary>Tests: act as if the filesystem refused O_DIRECT.</summary>
    DirectRefusedForTest,
}

/// <summary>
/// A swap device's pages in a local file, 4 KiB a slot, moved with vectored positional I/O (preadv/pwritev).
/// <list type="bullet">
/// <item><description>Direct I/O by default: nothing is cached twice, so a page swapped out is really out of RAM. Arena
/// frames and engine buffers are 4 KiB aligned as O_DIRECT wants. A filesystem that refuses it gets buffered I/O,
/// and <see cref="Description"/> says so.</description></item>
/// <item><description>A temporary file is made with O_TMPFILE (or created 0600 and unlinked at once where the
/// filesystem lacks it): it has no name, so nothing can open it and nothing is left after kill -9. A named file is
/// created 0600, truncated, and removed on dispose.</description></item>
/// <item><description>Each 512-slot cluster is allocated on disk (fallocate) when its first slot is: a full filesystem
/// shows as swap full at allocation, and the folio stays in memory.</description></item>
/// <item><description>Writes run on the tier's I/O threads, so the reclaiming thread goes on while they are in flight;
/// the first run of a read runs in the faulting thread, which has nothing else to do.</description></item>
/// </list>
/// </summary>
internal sealed unsafe class FileSwapBackend : ISwapBackend, IRunTransfer
{
    private const int ClusterBytes = SwapDevice.ClusterSlots * PageSize.Bytes;

    private readonly SafeFileHandle _file;
    private readonly int _fd;
    private readonly SwapIoWorkers _workers;
    // Clusters allocated on disk (fallocate), set under the device's allocation lock.
    private readonly bool[] _allocated;
    // Whether fallocate works here (some filesystems lack it: their clusters are allocated by the writes).
    private bool _canAllocate = true;
    // The file's name when it has one, and whether dispose removes it.
    private readonly string? _path;
    private readonly bool _removeOnDispose;
    private readonly long _bytes;

    /// <summary>
    /// Opens the swap file of <paramref name="slots"/> slots: <paramref name="path"/>, or a temporary file in
    /// <paramref name="directory"/> when it is null. Throws <see cref="IOException"/> (with the path and the reason)
    /// when neither can be made.
    /// </summary>
    public FileSwapBackend(string? path, string directory, int slots, SwapFileMode mode, SwapIoWorkers workers)
    {
        _workers = workers;
        _allocated = new bool[(slots + SwapDevice.ClusterSlots - 1) / SwapDevice.ClusterSlots];
        _bytes = (long)slots * PageSize.Bytes;
        bool direct = mode == SwapFileMode.Direct;
        string? refused = mode == SwapFileMode.DirectRefusedForTest ? "refused for a test" : null;
        int fd;
        if (path is null)
        {
            fd = OpenTemporary(directory, direct, ref refused);
            Temporary = true;
        }
        else
        {
            bool existed = File.Exists(path);
            fd = OpenNamed(path, direct, ref refused);
            _path = path;
            _removeOnDispose = !existed;
            SwapFileNative.Fchmod(fd, 0x180); // 0600, also for a file that was there
            SwapFileNative.Ftruncate(fd, 0); // nothing of a previous use is readable through the slots
        }
        _fd = fd;
        _file = new SafeFileHandle(fd, ownsHandle: true);
        DirectIo = direct && refused is null && ProbeDirect(ref refused);
        Path = path;
        Description = DirectIo ? "file, direct I/O"
            : mode == SwapFileMode.Buffered ? "file, buffered I/O"
            : $"file, buffered I/O (O_DIRECT {refused})";
        FallbackReason = DirectIo || mode == SwapFileMode.Buffered ? null : refused;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public bool DirectIo { get; }

    /// <inheritdoc/>
    /// <remarks>A slot below a written one is inside the file: its cluster was allocated (or the file grew past it).</remarks>
    public bool ReadsAcrossGaps => true;

    /// <summary>Why direct I/O was asked for and not had (null when it was had, or not asked for).</summary>
    public string? FallbackReason { get; }

    /// <summary>The file's path, or null for a temporary file (which has no name).</summary>
    public string? Path { get; }

    /// <summary>Whether the file is an unnamed temporary file.</summary>
    public bool Temporary { get; }

    private static int OpenTemporary(string directory, bool direct, ref string? refused)
    {
        int flags = SwapFileNative.ORdwr | SwapFileNative.OCloexec | SwapFileNative.OTmpfile;
        if (direct && refused is null)
        {
            int fd = SwapFileNative.Open(directory, flags | SwapFileNative.ODirect, 0x180);
            if (fd >= 0) return fd;
            int e = SwapFileNative.Errno;
            if (e == SwapFileNative.EInval) refused = "refused by the filesystem";
            else if (e is not (SwapFileNative.EOpNotSupp or SwapFileNative.EIsDir)) throw Error(directory, e);
        }
        int tmp = SwapFileNative.Open(directory, flags, 0x180);
        if (tmp >= 0) return tmp;
        int err = SwapFileNative.Errno;
        if (err is not (SwapFileNative.EOpNotSupp or SwapFileNative.EIsDir or SwapFileNative.EInval)) throw Error(directory, err);
        // No O_TMPFILE here: a private name, unlinked as soon as it is open.
        string name = System.IO.Path.Combine(directory, $".batchswap-{Environment.ProcessId}-{Guid.NewGuid():N}.swap");
        int named = OpenNamed(name, direct, ref refused, exclusive: true);
        SwapFileNative.Unlink(name);
        return named;
    }

    private static int OpenNamed(string path, bool direct, ref string? refused, bool exclusive = false)
    {
        int flags = SwapFileNative.ORdwr | SwapFileNative.OCloexec | SwapFileNative.OCreat | (exclusive ? SwapFileNative.OExcl : 0);
        if (direct && refused is null)
        {
            int fd = SwapFileNative.Open(path, flags | SwapFileNative.ODirect, 0x180);
            if (fd >= 0) return fd;
            int e = SwapFileNative.Errno;
            if (e != SwapFileNative.EInval) throw Error(path, e);
            refused = "refused by the filesystem";
        }
        int b = SwapFileNative.Open(path, flags, 0x180);
        if (b < 0) throw Error(path, SwapFileNative.Errno);
        return b;
    }

    /// <summary>Some filesystems take O_DIRECT at open and refuse the I/O: try one page, and drop O_DIRECT if it fails.</summary>
    private bool ProbeDirect(ref string? refused)
    {
        byte* page = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);
        try
        {
            new Span<byte>(page, PageSize.Bytes).Clear();
            if (SwapFileNative.Pwrite(_fd, page, PageSize.Bytes, 0) == PageSize.Bytes) return true;
            refused = $"failed its first write (errno {SwapFileNative.Errno})";
            int fl = SwapFileNative.Fcntl(_fd, SwapFileNative.FGetfl, 0);
            SwapFileNative.Fcntl(_fd, SwapFileNative.FSetfl, fl & ~SwapFileNative.ODirect);
            return false;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(page);
        }
    }

    private static IOException Error(string path, int errno) =>
        new($"cannot create a swap file in '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    /// <inheritdoc/>
    public bool Reserve(int firstSlot, int count)
    {
        int c = firstSlot / SwapDevice.ClusterSlots;
        if (_allocated[c] || !_canAllocate) return true;
        while (true)
        {
            if (SwapFileNative.Fallocate(_fd, 0, (long)c * ClusterBytes, ClusterBytes) == 0) break;
            int e = SwapFileNative.Errno;
            if (e == SwapFileNative.EIntr) continue;
            if (e == SwapFileNative.ENoSpc) return false; // the filesystem is full: swap full
            _canAllocate = false; // no fallocate here: the writes allocate (and fail as writes when the disk is full)
            return true;
        }
        _allocated[c] = true;
        return true;
    }

    /// <inheritdoc/>
    public void Submit(SwapIoBatch batch)
    {
        if (batch.RunCount == 0) return;
        // A read's first run runs here: the faulting thread waits for it anyway.
        int first = batch.Kind == SwapIoKind.Read ? 1 : 0;
        for (int r = first; r < batch.RunCount; r++) _workers.Queue(this, batch, r);
        if (first == 1) batch.Complete(0, Transfer(batch, 0));
    }

    /// <inheritdoc/>
    public bool Transfer(SwapIoBatch batch, int run)
    {
        ref SwapIoRun r = ref batch.Runs[run];
        return VectoredIo.Transfer(_file, batch.PagesOf(run), (long)r.Slot << PageSize.Shift, batch.Kind == SwapIoKind.Write);
    }

    /// <inheritdoc/>
    public long PageCacheBytes() => Math.Max(0, SwapFileNative.CachedBytes(_fd, _bytes));

    public void Dispose()
    {
        if (_file.IsClosed) return;
        if (_path is not null) SwapFileNative.Ftruncate(_fd, 0);
        _file.Dispose();
        if (_removeOnDispose && _path is not null) SwapFileNative.Unlink(_path);
    }
}
