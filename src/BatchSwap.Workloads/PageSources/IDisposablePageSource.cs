namespace BatchSwap.Workloads.PageSources;

/// <summary>
/// A page source that owns memory (its pages live in a native buffer) and must be disposed when the workload is done.
/// After <see cref="IDisposable.Dispose"/>, <see cref="IPageSource.GetPage"/> throws <see cref="ObjectDisposedException"/>;
/// the caller must not dispose while other threads still read pages.
/// </summary>
public interface IDisposablePageSource : IPageSource, IDisposable
{
}
