using System.Runtime.InteropServices;

namespace BatchSwap.Swap.Backends;

/// <summary>The Linux system calls behind <see cref="FileSwapBackend"/>.</summary>
internal static unsafe partial class SwapFileNative
{
    public const int ORdwr = 0x2, OCreat = 0x40, OExcl = 0x80, OCloexec = 0x80000;
    /// <summary>O_DIRECT on x86-64 and arm64 differ; this is resolved per architecture.</summary>
    public static readonly int ODirect = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;
    /// <summary>O_TMPFILE (with O_DIRECTORY).</summary>
    public static readonly int OTmpfile = 0x400000 | (RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000);
    public const int FSetfl = 4, FGetfl = 3;
    public const int EIntr = 4, ENoSpc = 28, EInval = 22, EOpNotSupp = 95, EIsDir = 21, ENoSys = 38, ENoEnt = 2;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, int mode);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint Pwrite(int fd, void* buf, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, long a, long b, long c, long d);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(nint addr, nuint length, byte* vec);

    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatRange { public ulong Off, Len; }

    [StructLayout(LayoutKind.Sequential)]
    private struct Cachestat { public ulong NrCache, NrDirty, NrWriteback, NrEvicted, NrRecentlyEvicted; }

    // cachestat(2) (Linux 6.5): the same number on every architecture (the generic table).
    private const long SysCachestat = 451;
    private static bool s_noCachestat;

    /// <summary>The last error of a libc call.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>
    /// Pages of the file in the page cache, times 4 KiB: cachestat(2) where the kernel has it, else mincore(2) over a
    /// read-only mapping of the first <paramref name="length"/> bytes. -1 when neither works.
    /// </summary>
    public static long CachedBytes(int fd, long length)
    {
        if (!s_noCachestat)
        {
            CachestatRange range = default; // offset 0, length 0: the whole file
            Cachestat cs = default;
            long r = Syscall4(SysCachestat, fd, (long)&range, (long)&cs, 0);
            if (r == 0) return (long)cs.NrCache * Environment.SystemPageSize;
            if (Errno == ENoSys) s_noCachestat = true;
        }
        if (length <= 0) return 0;
        const int ProtRead = 1, MapShared = 1;
        nint map = Mmap(0, (nuint)length, ProtRead, MapShared, fd, 0);
        if (map == -1) return -1;
        try
        {
            long pages = (length + Environment.SystemPageSize - 1) / Environment.SystemPageSize;
            byte[] vec = new byte[pages]; // a report, not a hot path
            fixed (byte* v = vec)
                if (Mincore(map, (nuint)length, v) != 0) return -1;
            long resident = 0;
            foreach (byte b in vec) resident += b & 1;
            return resident * Environment.SystemPageSize;
        }
        finally
        {
            Munmap(map, (nuint)length);
        }
    }
}
