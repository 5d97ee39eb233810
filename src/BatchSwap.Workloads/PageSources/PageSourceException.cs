namespace BatchSwap.Workloads.PageSources;

/// <summary>
/// A page source could not be opened or loaded: the file is missing, unreadable, empty, not a whole number of
/// 4 KiB pages, a corrupt or truncated zstd stream, or has an unknown extension. The message is one sentence
/// meant to be shown to the user as is.
/// </summary>
public sealed class PageSourceException : Exception
{
    /// <summary>Creates an exception with a user-facing message.</summary>
    public PageSourceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a user-facing message and the lower-level cause.</summary>
    public PageSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
