using System.Runtime.InteropServices;
using BatchSwap.Memory;
using Microsoft.Win32.SafeHandles;

namespace BatchSwap.Swap;

/// <summary>
/// Vectored positional I/O of whole pages (preadv/pwritev on Linux): many pages that lie apart in memory move to or
/// from consecutive file offsets in one system call. Elsewhere it falls back to one positional call per page.
/// </summary>
internal static unsafe partial class VectoredIo
{
    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [LibraryImport("libc", EntryPoint = "preadv", SetLastError = true)]
    private static partial nint Preadv(int fd, IoVec* iov, int count, long offset);

    [LibraryImport("libc", EntryPoint = "pwritev", SetLastError = true)]
    private static partial nint Pwritev(int fd, IoVec* iov, int count, long offset);

    // Whether preadv/pwritev are usable here (cleared after the first failure to bind).
    private static bool s_native = OperatingSystem.IsLinux();

    /// <summary>Moves whole pages between memory and consecutive file offsets. False on any error or short transfer.</summary>
    public static bool Transfer(SafeFileHandle file, ReadOnlySpan<nint> pages, long fileOffset, bool write)
    {
        if (s_native)
        {
            try
            {
                return TransferNative(file, pages, fileOffset, write);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                s_native = false;
            }
        }
        try
        {
            for (int i = 0; i < pages.Length; i++)
            {
                long pos = fileOffset + ((long)i << PageSize.Shift);
                if (write) RandomAccess.Write(file, new ReadOnlySpan<byte>((void*)pages[i], PageSize.Bytes), pos);
                else if (RandomAccess.Read(file, new Span<byte>((void*)pages[i], PageSize.Bytes), pos) != PageSize.Bytes) return false;
            }
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool TransferNative(SafeFileHandle file, ReadOnlySpan<nint> pages, long fileOffset, bool write)
    {
        const int MaxIov = 128;
        IoVec* iov = stackalloc IoVec[MaxIov];
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            int fd = (int)file.DangerousGetHandle();
            int done = 0;
            while (done < pages.Length)
            {
                int n = Math.Min(MaxIov, pages.Length - done);
                long pos = fileOffset + ((long)done << PageSize.Shift);
                long want = (long)n << PageSize.Shift;
                long got = 0;
                while (got < want)
                {
                    // (Re)build the vector from the first byte not yet moved: a short transfer resumes there.
                    int skip = (int)(got >> PageSize.Shift);
                    int partial = (int)(got & (PageSize.Bytes - 1));
                    for (int i = skip; i < n; i++)
                    {
                        iov[i].Base = (void*)pages[done + i];
                        iov[i].Length = PageSize.Bytes;
                    }
                    IoVec* v = iov + skip;
                    v->Base = (byte*)v->Base + partial;
                    v->Length -= (nuint)partial;
                    nint r = write ? Pwritev(fd, v, n - skip, pos + got) : Preadv(fd, v, n - skip, pos + got);
                    if (r < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == 4) continue; // EINTR
                        return false;
                    }
                    if (r == 0) return false; // end of file: a slot never written
                    got += r;
                }
                done += n;
            }
            return true;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }
}
