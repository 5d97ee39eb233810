using System.Globalization;
using BatchSwap.Memory;
using ZstdSharp;

namespace BatchSwap.Workloads.PageSources;

/// <summary>One line of /proc/PID/maps.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">One past the last address.</param>
/// <param name="Permissions">"rw-p" and the like.</param>
/// <param name="Path">The backing file or pseudo-name ("[heap]"), empty for an anonymous mapping.</param>
public readonly record struct ProcessMapping(ulong Start, ulong End, string Permissions, string Path)
{
    /// <summary>Bytes mapped.</summary>
    public ulong Length => End - Start;

    /// <summary>
    /// Whether a capture takes this mapping: private and writable (<c>rw-p</c>, also <c>rwxp</c>) and anonymous — no
    /// path, or the kernel's names for anonymous memory: <c>[heap]</c>, <c>[stack]</c> (and <c>[stack:TID]</c>),
    /// <c>[anon:NAME]</c>. That is the memory zswap would see from this process; file-backed private data (a
    /// library's .data) and the kernel's <c>[vvar]</c>/<c>[vdso]</c> pages are left out.
    /// </summary>
    public bool IsPrivateWritableAnonymous =>
        Permissions.Length >= 4 && Permissions[0] == 'r' && Permissions[1] == 'w' && Permissions[3] == 'p'
        && (Path.Length == 0 || Path == "[heap]" || Path.StartsWith("[stack", StringComparison.Ordinal) || Path.StartsWith("[anon:", StringComparison.Ordinal));
}

/// <summary>What a capture wrote.</summary>
/// <param name="Pages">Pages written.</param>
/// <param name="Mappings">Mappings taken.</param>
/// <param name="SkippedPages">Pages of those mappings that could not be read (left out).</param>
/// <param name="Truncated">True when the size limit stopped the capture early.</param>
public sealed record CaptureResult(long Pages, int Mappings, long SkippedPages, bool Truncated);

/// <summary>Cannot capture a process: no such process, no rights, or not Linux. The message is one sentence.</summary>
public sealed class CaptureException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Writes the private writable anonymous pages of a live Linux process (see
/// <see cref="ProcessMapping.IsPrivateWritableAnonymous"/>) as a page image: raw 4096-byte pages in address order
/// (<c>.pages</c>), or the same zstd-compressed (<c>.pages.zst</c>), ready for <c>--pages</c>. Reads go through
/// /proc/PID/mem, which needs ptrace rights over the process (root, CAP_SYS_PTRACE, or the same user with
/// kernel.yama.ptrace_scope allowing it); ranges that cannot be read are skipped.
/// </summary>
public static class ProcessCapture
{
    // Bytes read from /proc/PID/mem at once.
    private const int Chunk = 1 << 20;

    /// <summary>The mappings of process <paramref name="pid"/>.</summary>
    /// <exception cref="CaptureException">No such process, or its maps cannot be read.</exception>
    public static IReadOnlyList<ProcessMapping> ReadMappings(int pid)
    {
        if (!OperatingSystem.IsLinux()) throw new CaptureException("capture needs Linux (/proc/PID/maps and /proc/PID/mem)");
        string maps = $"/proc/{pid}/maps";
        if (pid <= 0 || !Directory.Exists($"/proc/{pid}")) throw new CaptureException($"no process with pid {pid}");
        var list = new List<ProcessMapping>();
        try
        {
            foreach (string line in File.ReadLines(maps))
            {
                // start-end perms offset dev inode [path]
                string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 5) continue;
                int dash = f[0].IndexOf('-', StringComparison.Ordinal);
                if (dash <= 0) continue;
                ulong start = ulong.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                ulong end = ulong.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                list.Add(new ProcessMapping(start, end, f[1], f.Length > 5 ? f[5].Trim() : ""));
            }
        }
        catch (UnauthorizedAccessException e) { throw NoRights(pid, e); }
        catch (IOException e) when (!Directory.Exists($"/proc/{pid}")) { throw new CaptureException($"no process with pid {pid} (it exited)", e); }
        return list;
    }

    /// <summary>Captures process <paramref name="pid"/> into <paramref name="outPath"/>, at most <paramref name="maxBytes"/> of pages (0: no limit).</summary>
    /// <exception cref="CaptureException">No such process, no rights to read its memory, nothing readable, or not Linux.</exception>
    /// <exception cref="IOException">The output cannot be written.</exception>
    public static CaptureResult Capture(int pid, string outPath, long maxBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(outPath);
        bool zstd = outPath.EndsWith(PageImageFile.ZstdExtension, StringComparison.OrdinalIgnoreCase);
        if (!zstd && !outPath.EndsWith(PageImageFile.RawExtension, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--out must end in {PageImageFile.RawExtension} or {PageImageFile.ZstdExtension}, got '{outPath}'");
        ProcessMapping[] maps = ReadMappings(pid).Where(m => m.IsPrivateWritableAnonymous).ToArray();
        Microsoft.Win32.SafeHandles.SafeFileHandle mem;
        try { mem = File.OpenHandle($"/proc/{pid}/mem", FileMode.Open, FileAccess.Read, FileShare.ReadWrite); }
        catch (UnauthorizedAccessException e) { throw NoRights(pid, e); }
        catch (IOException e) { throw new CaptureException($"cannot open /proc/{pid}/mem: {e.Message}", e); }

        long maxPages = maxBytes > 0 ? maxBytes / PageSize.Bytes : long.MaxValue;
        long pages = 0, skipped = 0;
        int taken = 0;
        bool truncated = false;
        string tmp = outPath + ".tmp";
        using (mem)
        {
            using (FileStream file = File.Create(tmp))
            using (Stream output = zstd ? new CompressionStream(file, level: 3) : file)
            {
                var buffer = new byte[Chunk];
                foreach (ProcessMapping m in maps)
                {
                    if (pages >= maxPages) { truncated = true; break; }
                    bool any = false;
                    for (ulong at = m.Start; at < m.End && pages < maxPages; at += Chunk)
                    {
                        int len = (int)Math.Min((ulong)Chunk, m.End - at);
                        if (maxPages - pages < Chunk / PageSize.Bytes) len = (int)Math.Min(len, (maxPages - pages) * PageSize.Bytes);
                        if (TryRead(mem, at, buffer.AsSpan(0, len)))
                        {
                            output.Write(buffer, 0, len);
                            pages += len / PageSize.Bytes;
                            any = true;
                            continue;
                        }
                        // Part of the chunk cannot be read: keep the pages that can.
                        for (int off = 0; off < len && pages < maxPages; off += PageSize.Bytes)
                        {
                            if (TryRead(mem, at + (ulong)off, buffer.AsSpan(0, PageSize.Bytes)))
                            {
                                output.Write(buffer, 0, PageSize.Bytes);
                                pages++;
                                any = true;
                            }
                            else skipped++;
                        }
                    }
                    if (any) taken++;
                    if (pages >= maxPages && maps[^1] != m) truncated = true;
                }
            }
            if (pages == 0)
            {
                File.Delete(tmp);
                throw skipped > 0 ? NoRights(pid, null) : new CaptureException($"process {pid} has no private writable anonymous pages");
            }
            File.Move(tmp, outPath, overwrite: true);
        }
        return new CaptureResult(pages, taken, skipped, truncated);
    }

    // Reads exactly destination.Length bytes at address; false when the range (or part of it) cannot be read.
    private static bool TryRead(Microsoft.Win32.SafeHandles.SafeFileHandle mem, ulong address, Span<byte> destination)
    {
        try
        {
            if (address > long.MaxValue - (ulong)destination.Length) return false;
            int done = 0;
            while (done < destination.Length)
            {
                int n = RandomAccess.Read(mem, destination[done..], (long)address + done);
                if (n <= 0) return false;
                done += n;
            }
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    private static CaptureException NoRights(int pid, Exception? inner) =>
        new($"cannot read the memory of process {pid}: permission denied (run as root, or as its user with ptrace rights: CAP_SYS_PTRACE or kernel.yama.ptrace_scope=0)", inner);
}
