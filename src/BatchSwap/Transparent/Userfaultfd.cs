using System.Runtime.InteropServices;

namespace BatchSwap.Transparent;

/// <summary>How a userfaultfd is obtained (<see cref="TransparentOptions.Access"/>).</summary>
public enum UffdAccess
{
    /// <summary>
    /// The first that works: the userfaultfd system call with kernel faults handled (root, CAP_SYS_PTRACE, or
    /// vm.unprivileged_userfaultfd=1); /dev/userfaultfd when it can be opened; the system call with
    /// UFFD_USER_MODE_ONLY (always allowed since Linux 5.11, but faults taken inside system calls fail with EFAULT).
    /// </summary>
    Auto = 0,
    /// <summary>Only the system call with UFFD_USER_MODE_ONLY: what an unprivileged process gets with vm.unprivileged_userfaultfd=0.</summary>
    UserModeOnly = 1,
    /// <summary>Only /dev/userfaultfd (USERFAULTFD_IOC_NEW).</summary>
    DeviceNode = 2,
    /// <summary>For tests: every way is refused as a seccomp filter or a locked-down sysctl would refuse it (EPERM).</summary>
    SimulateDenied = 3,
}

/// <summary>userfaultfd cannot be had in this process; the message names the cause and the sysctl.</summary>
public sealed class UserfaultfdUnavailableException : Exception
{
    /// <summary>The errno of the last refusal.</summary>
    public int Errno { get; }

    /// <summary>Creates the exception.</summary>
    public UserfaultfdUnavailableException(string message, int errno) : base(message) => Errno = errno;
}

/// <summary>
/// The Linux userfaultfd interface (linux/userfaultfd.h) and the few other calls a mapping needs (mmap, madvise,
/// poll, eventfd), as raw system calls on pointers to caller-owned memory: nothing here allocates, so that the
/// fault handler can call it on its loop. Layouts and numbers are the same on x86-64 and arm64.
/// </summary>
internal static unsafe partial class Userfaultfd
{
    // ---------------------------------------------------------------- ioctl numbers: _IOWR(0xAA, nr, size) etc.
    public const ulong UffdioApi = 0xC018AA3F;
    public const ulong UffdioRegister = 0xC020AA00;
    public const ulong UffdioUnregister = 0x8010AA01;
    public const ulong UffdioWake = 0x8010AA02;
    public const ulong UffdioCopy = 0xC028AA03;
    public const ulong UffdioZeropage = 0xC020AA04;
    public const ulong UffdioWriteprotect = 0xC018AA06;
    public const ulong UserfaultfdIocNew = 0xAA00;

    public const ulong UffdApi = 0xAA;
    public const ulong RegisterModeMissing = 1, RegisterModeWp = 2;
    public const ulong CopyModeDontWake = 1, CopyModeWp = 2;
    public const ulong ZeropageModeDontWake = 1;
    public const ulong WriteprotectModeWp = 1, WriteprotectModeDontWake = 2;
    public const byte EventPagefault = 0x12;
    public const ulong PagefaultFlagWrite = 1, PagefaultFlagWp = 2;
    /// <summary>_UFFDIO_WRITEPROTECT's bit in the ioctls a registration reports.</summary>
    public const ulong IoctlWriteprotectBit = 1UL << 0x06;
    public const ulong IoctlCopyBit = 1UL << 0x03;

    public const int UffdUserModeOnly = 1;
    public const int OCloexec = 0x80000, ONonblock = 0x800, ORdwr = 2;

    // ---------------------------------------------------------------- errno
    public const int EPerm = 1, ENoent = 2, EIntr = 4, EAgain = 11, EAcces = 13, EFault = 14, EExist = 17, EInval = 22, ENosys = 38;

    // ---------------------------------------------------------------- other constants
    public const int ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20, MapNoreserve = 0x4000;
    public const int MadvDontneed = 4, MadvNohugepage = 15;
    public const short PollIn = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct UffdRange { public ulong Start, Len; }

    [StructLayout(LayoutKind.Sequential)]
    public struct ApiArgs { public ulong Api, Features, Ioctls; }

    [StructLayout(LayoutKind.Sequential)]
    public struct RegisterArgs { public UffdRange Range; public ulong Mode, Ioctls; }

    [StructLayout(LayoutKind.Sequential)]
    public struct CopyArgs { public ulong Dst, Src, Len, Mode; public long Copy; }

    [StructLayout(LayoutKind.Sequential)]
    public struct ZeropageArgs { public UffdRange Range; public ulong Mode; public long Zeropage; }

    [StructLayout(LayoutKind.Sequential)]
    public struct WriteprotectArgs { public UffdRange Range; public ulong Mode; }

    /// <summary>struct uffd_msg (32 bytes), page-fault view.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 32)]
    public struct Msg
    {
        [FieldOffset(0)] public byte Event;
        [FieldOffset(8)] public ulong Flags;
        [FieldOffset(16)] public ulong Address;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events, Revents; }

    /// <summary>struct iovec: one range of a vector call.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Iovec { public nint Base; public nuint Length; }

    // ---------------------------------------------------------------- calls (all set errno; none allocates)
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall1(long number, long a0);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall5(long number, long a0, long a1, long a2, long a3, long a4);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, void* arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlInt(int fd, ulong request, long arg);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint n, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    /// <summary>
    /// libc's memcpy, called directly. The eviction copy goes into a held frame whose memory was discarded: the
    /// runtime's own copy (Buffer.MemoryCopy) reads the destination before the native copy writes it, which maps the
    /// shared zero page and makes the write a copy-on-write with a TLB shootdown of every CPU. memcpy's first access
    /// is the write: one fault that maps a fresh page, no shootdown.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "memcpy")]
    [SuppressGCTransition]
    public static partial void* Memcpy(void* destination, void* source, nuint count);

    // pidfd_open and process_madvise have the same numbers on x86-64 and arm64 (the shared table of new calls).
    private const long SysPidfdOpen = 434, SysProcessMadvise = 440;
    private static int s_selfPidFd = -2; // -2 not asked yet, -1 none (the vector call is not available)

    /// <summary>
    /// Opens, once for the process, the pidfd through which <see cref="DiscardRanges"/> advises this process's own
    /// memory. Called where allocating and blocking are allowed (a mapping's constructor), never on a handler.
    /// </summary>
    public static void PrepareDiscards()
    {
        if (Volatile.Read(ref s_selfPidFd) != -2) return;
        int fd = (int)Syscall5(SysPidfdOpen, Environment.ProcessId, 0, 0, 0, 0);
        if (Interlocked.CompareExchange(ref s_selfPidFd, fd < 0 ? -1 : fd, -2) != -2 && fd >= 0) Close(fd);
    }

    /// <summary>
    /// MADV_DONTNEED of <paramref name="count"/> ranges. One process_madvise call (Linux 5.10+; MADV_DONTNEED of the
    /// caller's own memory on newer kernels) advises them all: one system call instead of one a range, and on newer
    /// kernels one TLB flush (an interrupt to every other CPU that runs this process) instead of one a range. Falls
    /// back to madvise a range where the call is refused. Returns 0, or -1 with errno set.
    /// </summary>
    public static int DiscardRanges(Iovec* ranges, int count)
    {
        int pidfd = Volatile.Read(ref s_selfPidFd);
        int first = 0;
        if (pidfd >= 0)
        {
            nuint total = 0;
            for (int i = 0; i < count; i++) total += ranges[i].Length;
            long done = Syscall5(SysProcessMadvise, pidfd, (long)ranges, count, MadvDontneed, 0);
            if (done == (long)total) return 0;
            if (done < 0)
            {
                int e = Errno;
                if (e != EInval && e != EPerm && e != ENosys) return -1;
                Volatile.Write(ref s_selfPidFd, -1); // refused here: madvise from now on (the pidfd stays open)
                done = 0;
            }
            // Partly done (the call stops at a range it could not advise): skip what it did, madvise the rest.
            while (first < count && done >= (long)ranges[first].Length) done -= (long)ranges[first++].Length;
            if (first < count && done > 0)
            {
                if (Madvise(ranges[first].Base + (nint)done, ranges[first].Length - (nuint)done, MadvDontneed) != 0) return -1;
                first++;
            }
        }
        for (int i = first; i < count; i++)
            if (Madvise(ranges[i].Base, ranges[i].Length, MadvDontneed) != 0) return -1;
        return 0;
    }

    /// <summary>The errno of the last call.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>The userfaultfd system call's number on this architecture (-1 where unknown).</summary>
    private static long SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 323,
        Architecture.Arm64 => 282,
        _ => -1,
    };

    /// <summary>
    /// Opens a userfaultfd (non-blocking, close-on-exec) and negotiates the API. Gives whether faults taken in kernel
    /// mode are handled (false for UFFD_USER_MODE_ONLY). Throws <see cref="UserfaultfdUnavailableException"/> naming
    /// the cause when no way is permitted.
    /// </summary>
    public static int Open(UffdAccess access, out bool kernelFaults, out string how)
    {
        if (!OperatingSystem.IsLinux() || SyscallNumber < 0)
            throw new UserfaultfdUnavailableException("transparent mappings need Linux userfaultfd (x86-64 or arm64)", ENosys);
        int fd = -1, errno = 0, devErrno = 0;
        kernelFaults = true;
        how = "";
        if (access == UffdAccess.SimulateDenied) { errno = EPerm; devErrno = EAcces; }
        if (access == UffdAccess.Auto)
        {
            fd = (int)Syscall1(SyscallNumber, OCloexec | ONonblock);
            if (fd < 0) errno = Errno; else how = "userfaultfd(2)";
        }
        if (fd < 0 && access is UffdAccess.Auto or UffdAccess.DeviceNode)
        {
            int dev = Open("/dev/userfaultfd", ORdwr | OCloexec);
            if (dev >= 0)
            {
                fd = IoctlInt(dev, UserfaultfdIocNew, OCloexec | ONonblock);
                if (fd < 0) devErrno = Errno; else how = "/dev/userfaultfd";
                Close(dev);
            }
            else devErrno = Errno;
        }
        if (fd < 0 && access is UffdAccess.Auto or UffdAccess.UserModeOnly)
        {
            fd = (int)Syscall1(SyscallNumber, OCloexec | ONonblock | UffdUserModeOnly);
            if (fd < 0) errno = Errno;
            else { kernelFaults = false; how = "userfaultfd(2), UFFD_USER_MODE_ONLY"; }
        }
        if (fd < 0) throw Refused(errno, devErrno);

        var api = new ApiArgs { Api = UffdApi, Features = 0 };
        if (Ioctl(fd, UffdioApi, &api) != 0)
        {
            int e = Errno;
            Close(fd);
            throw new UserfaultfdUnavailableException($"userfaultfd: UFFDIO_API failed (errno {e})", e);
        }
        return fd;
    }

    private static UserfaultfdUnavailableException Refused(int errno, int devErrno)
    {
        string sysctl = ReadSysctl();
        string cause = errno == ENosys
            ? "the kernel has no userfaultfd (CONFIG_USERFAULTFD), or a seccomp filter hides it (ENOSYS)"
            : $"userfaultfd is not permitted (errno {errno}{(errno == EPerm ? ", EPERM" : "")}): a container's seccomp profile blocks the system call, or vm.unprivileged_userfaultfd={sysctl} refuses unprivileged use";
        return new UserfaultfdUnavailableException(
            $"cannot create a transparent mapping: {cause}; /dev/userfaultfd could not be used either (errno {devErrno}). " +
            "Allow it with `sysctl vm.unprivileged_userfaultfd=1`, access to /dev/userfaultfd, CAP_SYS_PTRACE, or a seccomp profile that permits userfaultfd.",
            errno);
    }

    private static string ReadSysctl()
    {
        try { return File.ReadAllText("/proc/sys/vm/unprivileged_userfaultfd").Trim(); }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }
}
