namespace BatchSwap.Tests.Access;

/// <summary>The small tier the byte-range, stream and paged-array tests share.</summary>
internal static class AccessTier
{
    /// <summary>A 16 MiB tier with one engine and no background reclaim (the allocating thread reclaims).</summary>
    public static MemoryTier Create() => new(new TierOptions
    {
        MemoryBytes = 16L << 20,
        Engines = 1,
        BackgroundReclaim = false,
        ZswapShrinkWorker = false,
        Tunables = new Dictionary<string, string> { ["zswap.exclusive_loads"] = "N" },
    });
}
