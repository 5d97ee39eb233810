using BatchSwap.Tunables;

namespace BatchSwap.Tests.Engine;

public sealed class TunableTests
{
    private static MemoryTier NewTier() => new(new TierOptions { MemoryBytes = 8L << 20, Engines = 1 });

    [Theory]
    [InlineData("vm.compress-batchsize", "0", "[1, 32]")]
    [InlineData("vm.compress-batchsize", "33", "[1, 32]")]
    [InlineData("vm.compress-batchsize", "abc", "[1, 32]")]
    [InlineData("vm.page-cluster", "-1", "[0, 7]")]
    [InlineData("vm.page-cluster", "8", "[0, 7]")]
    [InlineData("zswap.max_pool_percent", "0", "[1, 100]")]
    [InlineData("zswap.max_pool_percent", "101", "[1, 100]")]
    [InlineData("zswap.accept_threshold_percent", "101", "[0, 100]")]
    [InlineData("zswap.enabled", "maybe", "Y or N")]
    [InlineData("zswap.compressor", "lzma", "accepted: lz4")]
    [InlineData("vm.no-such-thing", "1", "accepted: vm.compress-batchsize")]
    public void BadValuesAreRefusedWithTheAcceptedValues(string name, string value, string mustMention)
    {
        using MemoryTier tier = NewTier();
        string before = TunableSet.Names.Contains(name) ? tier.Tunables.Get(name) : "";
        TunableException e = Assert.Throws<TunableException>(() => tier.Tunables.Set(name, value));
        Assert.Contains(mustMention, e.Message);
        if (before != "") Assert.Equal(before, tier.Tunables.Get(name));
    }

    [Fact]
    public void GoodValuesAreTakenAndReadBack()
    {
        using MemoryTier tier = NewTier();
        tier.Tunables.Set("vm.compress-batchsize", "8");
        tier.Tunables.Set("zswap.enabled", "N");
        tier.Tunables.Set("zswap/max_pool_percent", "35");
        tier.Tunables.Set("zswap.shrinker_enabled", "0");
        Assert.Equal(8, tier.Tunables.CompressBatchSize);
        Assert.Equal("N", tier.Tunables.Get("zswap.enabled"));
        Assert.Equal("35", tier.Tunables.Get("zswap.max_pool_percent"));
        Assert.False(tier.Tunables.ShrinkerEnabled);
        Assert.Equal(TunableSet.Names.Count, tier.Tunables.All().Count());
    }

    [Fact]
    public void BadOptionsAreRefusedAtCreation()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryTier(new TierOptions { MemoryBytes = 1 << 20 }));
        Assert.Throws<TunableException>(() => new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, CompressBatchSize = 33 }));
        Assert.Throws<TunableException>(() => new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Compressor = "nope" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryTier(new TierOptions { MemoryBytes = 8L << 20, Nodes = 0 }));
    }
}
