using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace BatchSwap.Faults;

/// <summary>The kinds of fault a <see cref="FaultPlan"/> can inject, in the order of <see cref="FaultInjector.KindNames"/>.</summary>
internal enum FaultKind
{
    SwapWrite,
    SwapRead,
    SwapFull,
    ShortWrite,
    ShortRead,
    SlowIo,
    Compress,
    PoolAlloc,
    EngineThrow,
}

/// <summary>An exception an engine thread throws on purpose (<see cref="FaultPlan.EngineThrowRate"/>).</summary>
internal sealed class InjectedEngineFaultException : Exception
{
    public InjectedEngineFaultException() : base("injected engine fault (engine-throw)") { }
}

/// <summary>
/// Decides, operation by operation, whether a planned fault strikes, and counts the faults it injected.
/// Thread-safe; allocation-free.
/// </summary>
internal sealed unsafe class FaultInjector
{
    /// <summary>The <see cref="FaultPlan.Parse"/> key of each <see cref="FaultKind"/>.</summary>
    public static readonly string[] KindNames =
        ["swap-write", "swap-read", "swap-full", "short-write", "short-read", "slow-io", "compress", "pool-alloc", "engine-throw"];

    // The plan.
    private readonly FaultPlan _plan;
    // Operations seen, mixed into each decision.
    private long _sequence;
    // Faults injected, by kind.
    private readonly long[] _struck = new long[KindNames.Length];
    // Stopwatch ticks of the slow-I/O delay.
    private readonly long _slowTicks;

    public FaultInjector(FaultPlan plan)
    {
        _plan = plan;
        _slowTicks = (long)(plan.SlowIoMicros * (Stopwatch.Frequency / 1e6));
    }

    /// <summary>Whether this injector injects anything.</summary>
    public bool IsActive => _plan.IsActive;

    /// <summary>Faults injected so far, by kind.</summary>
    public long Struck(FaultKind kind) => Volatile.Read(ref _struck[(int)kind]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Strike(double rate, FaultKind kind)
    {
        if (rate <= 0) return false;
        ulong x = (ulong)Interlocked.Increment(ref _sequence) * 0x9E3779B97F4A7C15UL ^ (ulong)_plan.Seed * 0xBF58476D1CE4E5B9UL;
        x ^= x >> 31; x *= 0x94D049BB133111EBUL; x ^= x >> 29;
        if ((x >> 11) * (1.0 / (1UL << 53)) >= rate) return false;
        Interlocked.Increment(ref _struck[(int)kind]);
        return true;
    }

    /// <summary>Whether compressing this page fails.</summary>
    public bool CompressFails(byte* page) =>
        (_plan.CompressFailMarker is ulong m && *(ulong*)page == m) ? Count(FaultKind.Compress) : Strike(_plan.CompressFailRate, FaultKind.Compress);

    /// <summary>Whether this pool allocation fails.</summary>
    public bool PoolAllocFails() => Strike(_plan.PoolAllocFailRate, FaultKind.PoolAlloc);

    /// <summary>Throws <see cref="InjectedEngineFaultException"/> when an engine fault strikes (the engine must contain it).</summary>
    public void EngineThrowPoint()
    {
        if (Strike(_plan.EngineThrowRate, FaultKind.EngineThrow)) throw new InjectedEngineFaultException();
    }

    /// <summary>Called before a swap-slot reservation; false fails it as if the device were full.</summary>
    public bool BeforeAllocate() => !Strike(_plan.SwapFullRate, FaultKind.SwapFull);

    /// <summary>Called as a swap write completes (after the slow-I/O delay): the fault it meets, if any.</summary>
    public IoFault BeforeWrite(int offset, int pages)
    {
        Delay();
        if (Strike(_plan.SwapWriteErrorRate, FaultKind.SwapWrite)) return IoFault.Error;
        return Strike(_plan.ShortWriteRate, FaultKind.ShortWrite) ? IoFault.Short : IoFault.None;
    }

    /// <summary>Called as a swap read completes (after the slow-I/O delay): the fault it meets, if any.</summary>
    public IoFault BeforeRead(int offset)
    {
        Delay();
        if (Strike(_plan.SwapReadErrorRate, FaultKind.SwapRead)) return IoFault.Error;
        return Strike(_plan.ShortReadRate, FaultKind.ShortRead) ? IoFault.Short : IoFault.None;
    }

    private bool Count(FaultKind kind)
    {
        Interlocked.Increment(ref _struck[(int)kind]);
        return true;
    }

    /// <summary>The slow-I/O delay: a sleep for a millisecond or more, else a spin (sleeps are too coarse for microseconds).</summary>
    private void Delay()
    {
        if (_slowTicks <= 0) return;
        Interlocked.Increment(ref _struck[(int)FaultKind.SlowIo]);
        if (_plan.SlowIoMicros >= 1000)
        {
            Thread.Sleep(_plan.SlowIoMicros / 1000);
            return;
        }
        long until = Stopwatch.GetTimestamp() + _slowTicks;
        var spin = new SpinWait();
        while (Stopwatch.GetTimestamp() < until) spin.SpinOnce(sleep1Threshold: -1);
    }
}
