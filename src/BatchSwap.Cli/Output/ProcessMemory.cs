namespace BatchSwap.Cli.Output;

/// <summary>The process's own memory use, from /proc/self/status on Linux.</summary>
internal static class ProcessMemory
{
    /// <summary>Peak resident set size in bytes (VmHWM), or the working set's peak where /proc is missing.</summary>
    public static long PeakRssBytes() => ReadStatusKiB("VmHWM:") is long kib ? kib * 1024 : Environment.WorkingSet;

    /// <summary>Current resident set size in bytes (VmRSS).</summary>
    public static long RssBytes() => ReadStatusKiB("VmRSS:") is long kib ? kib * 1024 : Environment.WorkingSet;

    /// <summary>
    /// The memory this process may use on this machine: physical memory, or the container's limit when that is lower
    /// (what the GC sees); 0 when unknown.
    /// </summary>
    public static long MachineBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    private static long? ReadStatusKiB(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
                string[] parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
