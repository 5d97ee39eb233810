using System.Runtime.CompilerServices;
using BatchSwap.Swap;

namespace BatchSwap.Faults;

/// <summary>Decides, operation by operation, whether a planned fault strikes. Thread-safe; allocation-free.</summary>
internal sealed unsafe class FaultInjector : IDeviceFaults
{
    // The plan.
    private readonly FaultPlan _plan;
    // Operations seen, mixed into each decision.
    private long _sequence;

    public FaultInjector(FaultPlan plan)
    {
        _plan = plan;
    }

    /// <summary>Whether this injector injects anything.</summary>
    public bool IsActive => _plan.IsActive;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Strike(double rate)
    {
        if (rate <= 0) return false;
        ulong x = (ulong)Interlocked.Increment(ref _sequence) * 0x9E3779B97F4A7C15UL ^ (ulong)_plan.Seed * 0xBF58476D1CE4E5B9UL;
        x ^= x >> 31; x *= 0x94D049BB133111EBUL; x ^= x >> 29;
        return (x >> 11) * (1.0 / (1UL << 53)) < rate;
    }

    /// <summary>Whether compressing this page fails.</summary>
    public bool CompressFails(byte* page) =>
        (_plan.CompressFailMarker is ulong m && *(ulong*)page == m) || Strike(_plan.CompressFailRate);

    /// <summary>Whether this pool allocation fails.</summary>
    public bool PoolAllocFails() => Strike(_plan.PoolAllocFailRate);

    /// <inheritdoc/>
    public bool BeforeWrite(int offset, int pages) => !Strike(_plan.SwapWriteErrorRate);

    /// <inheritdoc/>
    public bool BeforeRead(int offset) => !Strike(_plan.SwapReadErrorRate);
}
