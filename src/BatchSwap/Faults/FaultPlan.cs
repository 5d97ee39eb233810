namespace BatchSwap.Faults;

/// <summary>
/// Faults to inject, for tests and <c>batchswap --inject</c>. Each rate is the probability, in [0, 1], that one
/// operation of that kind fails. Whatever is injected, no page may be lost or returned wrong: a page zswap cannot
/// take goes to the swap device, a page that cannot be written stays in memory, and a page whose only copy is
/// destroyed fails loudly when read.
/// </summary>
public sealed record FaultPlan
{
    /// <summary>No faults.</summary>
    public static FaultPlan None { get; } = new();

    /// <summary>Swap-device writes that fail with an I/O error.</summary>
    public double SwapWriteErrorRate { get; init; }
    /// <summary>Swap-device reads that fail with an I/O error.</summary>
    public double SwapReadErrorRate { get; init; }
    /// <summary>Page compressions that fail (reject_compress_fail).</summary>
    public double CompressFailRate { get; init; }
    /// <summary>Pool allocations that fail (reject_alloc_fail).</summary>
    public double PoolAllocFailRate { get; init; }
    /// <summary>Pages whose first 8 bytes equal this value always fail to compress (a deterministic codec failure).</summary>
    public ulong? CompressFailMarker { get; init; }
    /// <summary>Seed of the injection's random choices.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Whether any fault is planned.</summary>
    public bool IsActive => SwapWriteErrorRate > 0 || SwapReadErrorRate > 0 || CompressFailRate > 0 || PoolAllocFailRate > 0 || CompressFailMarker is not null;

    internal void Validate()
    {
        Check(SwapWriteErrorRate, nameof(SwapWriteErrorRate));
        Check(SwapReadErrorRate, nameof(SwapReadErrorRate));
        Check(CompressFailRate, nameof(CompressFailRate));
        Check(PoolAllocFailRate, nameof(PoolAllocFailRate));
    }

    private static void Check(double rate, string name)
    {
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentOutOfRangeException(name, rate, $"{name} must be in [0, 1]");
    }
}
