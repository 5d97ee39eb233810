namespace BatchSwap.Tests.Access;

/// <summary>The small tier the byte-range, stream and paged-array tests share.</summary>
internal static class AccessTier
{
    /// <summary>A 24 MiB tier (16 MiB would leave too few frames after the engine buffers of a many-core machine) with one engine and no background reclaim (the allocating thread reclaims).</summary>
    public static MemoryTier Create() => new(new TierOptions
    {
        MemoryBytes = 24L << 20,
        Engines = 1,
        BackgroundReclaim = false,
        ZswapShrinkWorker = false,
        Tunables = new Dictionary<string, string> { ["zswap.exclusive_loads"] = "N" },
    });
}
