using System.Runtime.InteropServices;

namespace BatchSwap.Memory;

/// <summary>
/// The arena's native blocks (page memory and frame table). On Linux each block is its own anonymous private
/// mapping, 2 MiB-aligned so that transparent huge pages can back it, optionally advised MADV_HUGEPAGE and
/// populated at once with MADV_POPULATE_WRITE. Faulting the arena in page by page on first touch was the
/// engine's largest cost: every first read mapped the shared zero page and the first write then copied it
/// (a TLB shootdown each), and concurrent first touches fought over the page-table lock. Elsewhere the blocks
/// come from <see cref="NativeMemory.AlignedAlloc"/>, and population touches every page.
/// </summary>
internal static unsafe partial class ArenaMemory
{
    /// <summary>Alignment of each block: one pmd, so that the kernel can map it with 2 MiB pages.</summary>
    public const nuint Alignment = 2u << 20;

    // mmap/madvise constants (the same on x86-64 and arm64).
    private const int ProtRead = 1, ProtWrite = 2;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;
    private const int MadvHugePage = 14;
    private const int MadvPopulateWrite = 23;
    private const int EInval = 22;
    private static readonly nint MapFailed = -1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(nint addr, nuint length, byte* vec);

    /// <summary>Whether blocks are mappings of their own (Linux) rather than heap blocks.</summary>
    public static bool UsesMappings => OperatingSystem.IsLinux();

    /// <summary>
    /// A block of <paramref name="bytes"/> (zeroed on Linux; its users initialize what they read), aligned to <see cref="Alignment"/>. With <paramref name="hugePages"/>
    /// it is advised MADV_HUGEPAGE (Linux; a no-op where transparent huge pages are off); with <paramref name="populate"/>
    /// every page is made resident and writable now (MADV_POPULATE_WRITE, or one write a page on kernels before 5.14
    /// and other systems), so that no access of the engine ever takes a first-touch fault on it.
    /// Free it with <see cref="Free"/> and the same size. Throws <see cref="OutOfMemoryException"/> when it cannot be had.
    /// </summary>
    public static byte* Allocate(nuint bytes, bool populate, bool hugePages)
    {
        if (!UsesMappings)
        {
            byte* block = (byte*)NativeMemory.AlignedAlloc(bytes, Alignment);
            if (populate) Touch(block, bytes);
            return block;
        }

        // Map one alignment more than needed, then unmap the unaligned head and the tail beyond the block: what is
        // left starts on a 2 MiB boundary.
        nuint length = RoundUp(bytes, (nuint)Environment.SystemPageSize);
        nint raw = Mmap(0, length + Alignment, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (raw == MapFailed)
            throw new OutOfMemoryException($"mmap of {(length + Alignment) >> 20} MiB for the arena failed (errno {Marshal.GetLastPInvokeError()})");
        nint start = (nint)RoundUp((nuint)raw, Alignment);
        nuint head = (nuint)(start - raw);
        nuint tail = Alignment - head;
        if (head > 0) Munmap(raw, head);
        if (tail > 0) Munmap(start + (nint)length, tail);

        // Advice only: a kernel without transparent huge pages refuses it (EINVAL), and the block works as well without.
        if (hugePages) Madvise(start, length, MadvHugePage);
        if (populate && Madvise(start, length, MadvPopulateWrite) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EInval)
            {
                Munmap(start, length);
                throw new OutOfMemoryException($"could not populate {length >> 20} MiB of arena memory (madvise MADV_POPULATE_WRITE, errno {errno})");
            }
            // Before Linux 5.14 the advice does not exist: fault each page in by hand. A write, not a read: a read
            // would only map the zero page, and the first real write would fault again to copy it.
            Touch((byte*)start, length);
        }
        return (byte*)start;
    }

    /// <summary>Returns a block from <see cref="Allocate"/>; <paramref name="bytes"/> is the size it was asked for.</summary>
    public static void Free(byte* block, nuint bytes)
    {
        if (block is null) return;
        if (!UsesMappings)
        {
            NativeMemory.AlignedFree(block);
            return;
        }
        Munmap((nint)block, RoundUp(bytes, (nuint)Environment.SystemPageSize));
    }

    /// <summary>
    /// Bytes of the block that are resident now, by mincore (exact, whole system pages); -1 where that cannot be
    /// asked (not Linux). For tests and diagnostics: it allocates.
    /// </summary>
    public static long ResidentBytes(byte* block, nuint bytes)
    {
        if (!UsesMappings) return -1;
        nuint pageSize = (nuint)Environment.SystemPageSize;
        nuint pages = RoundUp(bytes, pageSize) / pageSize;
        byte[] vec = new byte[(int)pages];
        fixed (byte* v = vec)
        {
            if (Mincore((nint)block, pages * pageSize, v) != 0)
                throw new InvalidOperationException($"mincore failed (errno {Marshal.GetLastPInvokeError()})");
        }
        long resident = 0;
        foreach (byte b in vec) resident += b & 1;
        return resident * (long)pageSize;
    }

    /// <summary>Writes a zero into one byte of each system page, which makes it resident (on Linux over a zero already there).</summary>
    private static void Touch(byte* block, nuint bytes)
    {
        nuint step = (nuint)Environment.SystemPageSize;
        for (nuint off = 0; off < bytes; off += step) Volatile.Write(ref block[off], 0);
    }

    private static nuint RoundUp(nuint value, nuint multiple) => (value + multiple - 1) / multiple * multiple;
}
