namespace BatchSwap.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void PageSizeIsFourKiB() => Assert.Equal(4096, BatchSwap.Memory.PageSize.Bytes);
}
