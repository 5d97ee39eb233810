using System.Diagnostics;
using BatchSwap.Memory;

namespace BatchSwap.Swap.Backends;

/// <summary>Whether a batch reads or writes.</summary>
internal enum SwapIoKind : byte
{
    /// <summary>Slots to memory.</summary>
    Read,
    /// <summary>Memory to slots.</summary>
    Write,
}

/// <summary>One run of a batch: consecutive slots and the pages that move to or from them.</summary>
internal struct SwapIoRun
{
    /// <summary>First slot.</summary>
    public int Slot;
    /// <summary>Pages (and slots) in the run.</summary>
    public int PageCount;
    /// <summary>Index of the run's first page address in <see cref="SwapIoBatch.Pages"/>.</summary>
    public int FirstPage;
    /// <summary>The caller's mark (for example the first folio of the run).</summary>
    public int Tag;
    /// <summary>Whether the run completed and moved every byte.</summary>
    public bool Ok;
}

/// <summary>
/// A reusable batch of transfers for one swap device: runs of consecutive slots, each with its page addresses. Made
/// once per submitting thread (or per in-flight slot of a reclaimer) and reused; nothing in it is allocated per page.
/// The submitter fills it, <see cref="ISwapBackend.Submit"/>s it, and later waits for it (or polls
/// <see cref="IsComplete"/>); backends complete each run once.
/// </summary>
internal sealed class SwapIoBatch : IDisposable
{
    /// <summary>Most runs in one batch.</summary>
    public const int MaxRuns = 256;

    /// <summary>The runs.</summary>
    public readonly SwapIoRun[] Runs = new SwapIoRun[MaxRuns];
    /// <summary>Page addresses of all runs (run r's at <see cref="SwapIoRun.FirstPage"/>).</summary>
    public nint[] Pages = new nint[64];
    /// <summary>
    /// Bytes to move for each page of <see cref="Pages"/>: a whole page, or the length of a compressed object at the
    /// page's address for a backend that stores them (<see cref="ISwapBackend.StoresCompressed"/>; never a file's).
    /// </summary>
    public int[] Lengths = new int[64];
    // Pages a backend failed one by one in a run it completed (a remote store moves pages one by one).
    private bool[] _pageFailed = new bool[64];
    /// <summary>Runs filled in.</summary>
    public int RunCount { get; private set; }
    /// <summary>Page addresses filled in.</summary>
    public int PageCount { get; private set; }
    /// <summary>Read or write.</summary>
    public SwapIoKind Kind { get; private set; }
    /// <summary>The swap type (device) every run is on.</summary>
    public int DeviceType { get; private set; }

    /// <summary>A decorator's hook on each run's completion (fault injection); cleared by <see cref="Reset"/>.</summary>
    internal ISwapIoInterceptor? Interceptor;

    // Runs not complete yet.
    private int _pending;
    // Set when every run has completed.
    private readonly ManualResetEventSlim _done = new(initialState: true, spinCount: 100);
    // The in-flight gauge this batch reports to, if any.
    private SwapIoDepth? _depth;

    /// <summary>Empties the batch for a new use. It must not be in flight.</summary>
    public void Reset(SwapIoKind kind, int deviceType)
    {
        Debug.Assert(IsComplete, "a batch in flight was reset");
        Kind = kind;
        DeviceType = deviceType;
        RunCount = 0;
        PageCount = 0;
        Interceptor = null;
    }

    /// <summary>Opens a run at <paramref name="slot"/>; add its pages with <see cref="AddPage"/>. Returns the run's index.</summary>
    public int BeginRun(int slot, int tag)
    {
        if (RunCount == MaxRuns) throw new InvalidOperationException("a swap I/O batch holds at most 256 runs");
        Runs[RunCount] = new SwapIoRun { Slot = slot, FirstPage = PageCount, Tag = tag };
        return RunCount++;
    }

    /// <summary>Adds a page (4 KiB aligned) to the run opened last: a whole page, or <paramref name="length"/> bytes of a compressed object.</summary>
    public void AddPage(nint address, int length = PageSize.Bytes)
    {
        Debug.Assert(RunCount > 0);
        Debug.Assert((address & (PageSize.Bytes - 1)) == 0, "swap I/O pages must be 4 KiB aligned");
        Debug.Assert(length is > 0 and <= PageSize.Bytes);
        if (PageCount == Pages.Length)
        {
            // Grows to the largest batch once.
            Array.Resize(ref Pages, Pages.Length * 2);
            Array.Resize(ref Lengths, Pages.Length);
            Array.Resize(ref _pageFailed, Pages.Length);
        }
        Lengths[PageCount] = length;
        _pageFailed[PageCount] = false;
        Pages[PageCount++] = address;
        Runs[RunCount - 1].PageCount++;
    }

    /// <summary>The page addresses of run <paramref name="run"/>.</summary>
    public ReadOnlySpan<nint> PagesOf(int run) => Pages.AsSpan(Runs[run].FirstPage, Runs[run].PageCount);

    /// <summary>The byte counts of run <paramref name="run"/>'s pages (see <see cref="Lengths"/>).</summary>
    public ReadOnlySpan<int> LengthsOf(int run) => Lengths.AsSpan(Runs[run].FirstPage, Runs[run].PageCount);

    /// <summary>
    /// Fails page <paramref name="page"/> (an index into <see cref="Pages"/>) alone, before its run completes: a backend
    /// that moves pages one by one reports a page it could not move or authenticate without failing its neighbours.
    /// </summary>
    public void FailPage(int page) => _pageFailed[page] = true;

    /// <summary>Whether page <paramref name="page"/> moved: its run completed ok and the page was not failed alone.</summary>
    public bool PageOk(int run, int page) => Runs[run].Ok && !_pageFailed[page];

    /// <summary>Marks the batch in flight, before it is submitted (the page-I/O layer's job).</summary>
    internal void Start(SwapIoDepth? depth)
    {
        _depth = depth;
        Volatile.Write(ref _pending, RunCount);
        if (RunCount > 0)
        {
            _done.Reset();
            depth?.Add(RunCount);
        }
    }

    /// <summary>Completes run <paramref name="run"/> (a backend calls this once per run, from any thread).</summary>
    public void Complete(int run, bool ok)
    {
        if (Interceptor is { } hook) ok = hook.OnComplete(this, run, ok);
        Runs[run].Ok = ok;
        _depth?.Add(-1);
        if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
    }

    /// <summary>Whether every run has completed.</summary>
    public bool IsComplete => Volatile.Read(ref _pending) == 0;

    /// <summary>Waits until every run has completed.</summary>
    public void Wait()
    {
        if (!IsComplete) _done.Wait();
    }

    public void Dispose() => _done.Dispose();
}

/// <summary>A decorator's hook on run completion: it may delay it or turn it into a failure.</summary>
internal interface ISwapIoInterceptor
{
    /// <summary>Called as run <paramref name="run"/> completes with <paramref name="ok"/>; returns the result to report.</summary>
    bool OnComplete(SwapIoBatch batch, int run, bool ok);
}
