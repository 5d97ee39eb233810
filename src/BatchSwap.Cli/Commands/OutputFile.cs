namespace BatchSwap.Cli.Commands;

/// <summary>Checks, before a run, that a file the run will write at its end can be written, so that no result is lost.</summary>
internal static class OutputFile
{
    /// <summary>
    /// Throws <see cref="CliError"/> naming <paramref name="option"/> when <paramref name="path"/> cannot be created or
    /// overwritten: a missing directory, a directory in its place, no permission. Leaves an existing file as it was and
    /// creates none.
    /// </summary>
    public static void CheckWritable(string path, string option)
    {
        if (path.Trim().Length == 0) throw new CliError($"{option} must name a file");
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliError($"{option}: '{path}' is not a valid path");
        }
        if (Directory.Exists(full)) throw new CliError($"{option}: '{path}' is a directory");
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new CliError($"{option}: directory '{dir}' does not exist");
        try
        {
            bool existed = File.Exists(full);
            using (new FileStream(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { }
            if (!existed) File.Delete(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliError($"{option}: cannot write '{path}': {e.Message}");
        }
    }
}
