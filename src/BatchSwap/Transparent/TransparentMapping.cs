using System.Runtime.CompilerServices;
using BatchSwap.Access;
using BatchSwap.MemCg;
using BatchSwap.Memory;

namespace BatchSwap.Transparent;

/// <summary>
/// Ordinary virtual memory paged by a <see cref="MemoryTier"/>: N bytes that unmodified code reads and writes with
/// plain loads and stores (a pointer, <see cref="Span{T}"/> views, a <see cref="Memory{T}"/>), while at most
/// <see cref="MaxResidentPages"/> of them are in memory. Missing pages are filled by the mapping's fault-handling
/// thread through userfaultfd; cold pages leave through the tier's one store path (the LRU, the plug, the batch
/// store into zswap, the swap device). See docs/transparent.md.
/// </summary>
/// <remarks>
/// Thread-safe for accesses: any number of threads may use the memory at once. <see cref="Dispose"/> must not run
/// while any thread still uses the memory (as with freeing any memory); afterwards the addresses are unmapped.
/// Dispose the mapping before its tier; a tier disposes mappings still open first.
/// </remarks>
public sealed unsafe partial class TransparentMapping : IDisposable
{
    /// <summary>Bytes in the mapping (a whole number of 4 KiB pages).</summary>
    public long Length { get; }

    /// <summary>Pages in the mapping.</summary>
    public long PageCount { get; }

    /// <summary>The first byte. Valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer => _base;

    /// <summary>The most pages resident at once.</summary>
    public long MaxResidentPages => _capacity;

    /// <summary>The memory group charged with the mapping's pages.</summary>
    public MemoryGroup Group => _region.Group;

    /// <summary>
    /// Whether faults taken inside system calls are handled too (false under UFFD_USER_MODE_ONLY: a system call that
    /// reads or writes a page not resident, such as read(2) into the mapping, fails with EFAULT).
    /// </summary>
    public bool KernelFaultsHandled { get; }

    /// <summary>Where the userfaultfd came from ("userfaultfd(2)", "/dev/userfaultfd", "userfaultfd(2), UFFD_USER_MODE_ONLY").</summary>
    public string UffdSource { get; }

    // Tells the tier this mapping belongs to that it is gone (the tier disposes open mappings first).
    private readonly Action<TransparentMapping> _closed;
    // Set once Dispose has begun.
    private int _disposed;

    internal TransparentMapping(Action<TransparentMapping> closed, Mm mm, Region region, long bytes, long capacityPages, UffdAccess access)
    {
        _closed = closed;
        _mm = mm;
        _region = region;
        Length = bytes;
        PageCount = bytes >> PageSize.Shift;
        _capacity = (int)Math.Clamp(capacityPages, MinResidentPages, PageCount);
        _uffd = Userfaultfd.Open(access, out bool kernelFaults, out string how);
        KernelFaultsHandled = kernelFaults;
        UffdSource = how;
        try
        {
            nint a = Userfaultfd.Mmap(0, (nuint)bytes, Userfaultfd.ProtRead | Userfaultfd.ProtWrite,
                Userfaultfd.MapPrivate | Userfaultfd.MapAnonymous | Userfaultfd.MapNoreserve, -1, 0);
            if (a == -1) throw new OutOfMemoryException($"mmap of {bytes >> 20} MiB for a transparent mapping failed (errno {Userfaultfd.Errno})");
            _base = (byte*)a;
            // 4 KiB pages only: userfaultfd fills order-0 pages, and khugepaged must not collapse the mapping.
            Userfaultfd.Madvise(a, (nuint)bytes, Userfaultfd.MadvNohugepage);
            var reg = new Userfaultfd.RegisterArgs
            {
                Range = new Userfaultfd.UffdRange { Start = (ulong)a, Len = (ulong)bytes },
                Mode = Userfaultfd.RegisterModeMissing | Userfaultfd.RegisterModeWp,
            };
            if (Userfaultfd.Ioctl(_uffd, Userfaultfd.UffdioRegister, &reg) != 0)
            {
                int e = Userfaultfd.Errno;
                throw new UserfaultfdUnavailableException($"userfaultfd: UFFDIO_REGISTER (missing + write-protect) of the mapping failed (errno {e}); write-protect needs Linux 5.7 or later", e);
            }
            if ((reg.Ioctls & Userfaultfd.IoctlWriteprotectBit) == 0 || (reg.Ioctls & Userfaultfd.IoctlCopyBit) == 0)
                throw new UserfaultfdUnavailableException("userfaultfd: the kernel does not offer UFFDIO_COPY and UFFDIO_WRITEPROTECT on anonymous memory", Userfaultfd.EInval);
            _wakeFd = Userfaultfd.EventFd(0, Userfaultfd.OCloexec);
            if (_wakeFd < 0) throw new IOException($"eventfd failed (errno {Userfaultfd.Errno})");
            AllocateHandlerState();
            _thread = new Thread(HandlerLoop) { IsBackground = true, Name = "batchswap-uffd" };
            _thread.Start();
        }
        catch
        {
            ReleaseNative();
            throw;
        }
    }

    /// <summary>A span of <paramref name="length"/> elements of <typeparamref name="T"/> from element <paramref name="elementOffset"/>.</summary>
    public Span<T> AsSpan<T>(long elementOffset, int length) where T : unmanaged
    {
        T* p = CheckElements<T>(elementOffset, length);
        return new Span<T>(p, length);
    }

    /// <summary>The whole mapping as a span of <typeparamref name="T"/> (at most int.MaxValue elements).</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        long n = Length / sizeof(T);
        if (n > int.MaxValue) throw new InvalidOperationException($"the mapping holds {n} elements; a span holds at most {int.MaxValue}: take a part with AsSpan(offset, length)");
        return AsSpan<T>(0, (int)n);
    }

    /// <summary>A <see cref="Memory{T}"/> of <paramref name="length"/> elements from element <paramref name="elementOffset"/>, valid while the mapping is open.</summary>
    public Memory<T> AsMemory<T>(long elementOffset, int length) where T : unmanaged
    {
        T* p = CheckElements<T>(elementOffset, length);
        return new MappingMemoryManager<T>(this, p, length).Memory;
    }

    /// <summary>What the fault handler has done so far.</summary>
    public TransparentStats Stats() => new(
        Volatile.Read(ref _missingFaults), Volatile.Read(ref _wpFaults), Volatile.Read(ref _zeroFills), Volatile.Read(ref _swapInFills),
        Volatile.Read(ref _lruFills), Volatile.Read(ref _evictions), Volatile.Read(ref _refaults), Volatile.Read(ref _refaultsHot),
        Volatile.Read(ref _secondChances), Volatile.Read(ref _ringCount), Volatile.Read(ref _duplicates), Volatile.Read(ref _readahead));

    /// <summary>Missing-page faults handled so far (one read: cheap enough to sample around an access).</summary>
    public long MissingFaultCount => Volatile.Read(ref _missingFaults);

    /// <summary>The fault-handling thread (tests check that it ends).</summary>
    internal Thread HandlerThread => _thread!;

    /// <summary>The region that stores the mapping's pages while they are not resident (tests).</summary>
    internal Region Region => _region;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T* CheckElements<T>(long elementOffset, int length) where T : unmanaged
    {
        ThrowIfDisposed();
        long count = Length / sizeof(T);
        if (elementOffset < 0 || length < 0 || elementOffset > count - length)
            throw new ArgumentOutOfRangeException(nameof(elementOffset), $"elements {elementOffset} … {elementOffset + length} are outside the mapping's {count}");
        return (T*)(_base + elementOffset * sizeof(T));
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>
    /// Stops the fault handler, unmaps the memory, and frees every page the mapping holds (its charges, the frames on
    /// the LRU, its zswap entries and swap slots). No thread may be using the memory. A second call does nothing.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        StopHandler();
        ReleaseResident();
        ReleaseNative();
        _region.Dispose();
        _closed(this);
    }
}
