using BatchSwap.Workloads.Units;

namespace BatchSwap.Tests.Workloads;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("4096B", 4096L)]
    [InlineData("0", 0L)]
    [InlineData("64KiB", 64L * 1024)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("2TiB", 2L << 40)]
    [InlineData("2G", 2L << 30)]
    [InlineData("2g", 2L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("1.5K", 1536L)]
    [InlineData("100MB", 100L << 20)]
    [InlineData("3kb", 3L * 1024)]
    [InlineData("7gb", 7L << 30)]
    [InlineData("1TB", 1L << 40)]
    [InlineData("256 MiB", 256L << 20)]
    [InlineData("  16mib  ", 16L << 20)]
    [InlineData("4096.0", 4096L)]
    [InlineData("0.5M", 512L * 1024)]
    [InlineData("-1GiB", -(1L << 30))]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void ParsesAcceptedForms(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out long bytes));
        Assert.Equal(expected, bytes);
        Assert.Equal(expected, ByteSize.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("MiB")]
    [InlineData("12XB")]
    [InlineData("12 M i B")]
    [InlineData("1,5G")]
    [InlineData("1e3")]
    [InlineData("1.")]
    [InlineData(".5G")]
    [InlineData("0x10")]
    [InlineData("5PiB")]
    [InlineData("1.1")]
    [InlineData("0.1K")]
    [InlineData("9223372036854775808")]
    [InlineData("8388608TiB")]
    [InlineData("99999999999999999999999TiB")]
    public void RejectsInvalidSizes(string text)
    {
        Assert.False(ByteSize.TryParse(text, out long bytes));
        Assert.Equal(0, bytes);
        Assert.Throws<FormatException>(() => ByteSize.Parse(text));
    }

    [Fact]
    public void TryParseOfNullIsFalse()
    {
        Assert.False(ByteSize.TryParse(null, out _));
        Assert.Throws<ArgumentNullException>(() => ByteSize.Parse(null!));
    }

    [Fact]
    public void ErrorMessagesNameTheAcceptedForms()
    {
        FormatException e = Assert.Throws<FormatException>(() => ByteSize.Parse("12 parsecs"));
        Assert.Contains("'12 parsecs'", e.Message, StringComparison.Ordinal);
        Assert.Contains("unknown unit", e.Message, StringComparison.Ordinal);
        Assert.Contains("KiB, MiB, GiB, TiB", e.Message, StringComparison.Ordinal);

        Assert.False(ByteSize.TryParse("0.1K", out _, out string? error));
        Assert.Contains("not a whole number of bytes", error, StringComparison.Ordinal);

        Assert.False(ByteSize.TryParse("8388608TiB", out _, out error));
        Assert.Contains("too large", error, StringComparison.Ordinal);

        Assert.True(ByteSize.TryParse("1G", out _, out error));
        Assert.Null(error);
    }

    [Fact]
    public void ParsePositiveRejectsZeroAndNegative()
    {
        Assert.Equal(512L << 20, ByteSize.ParsePositive("512MiB", "--size"));
        FormatException zero = Assert.Throws<FormatException>(() => ByteSize.ParsePositive("0", "--size"));
        Assert.Equal("--size must be greater than zero (got 0 B).", zero.Message);
        FormatException negative = Assert.Throws<FormatException>(() => ByteSize.ParsePositive("-2G", "--limit"));
        Assert.Equal("--limit must be greater than zero (got -2 GiB).", negative.Message);
        FormatException bad = Assert.Throws<FormatException>(() => ByteSize.ParsePositive("lots", "--size"));
        Assert.StartsWith("--size: 'lots' is not a size", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checks()
    {
        Assert.Null(ByteSize.CheckPositive(1, "--size"));
        Assert.NotNull(ByteSize.CheckPositive(0, "--size"));
        Assert.Null(ByteSize.CheckMultipleOf(8192, 4096, "--size"));
        Assert.Equal("--size (1000 B) must be a multiple of 4 KiB.", ByteSize.CheckMultipleOf(1000, 4096, "--size"));
        Assert.Equal("--size (4100 bytes) must be a multiple of 4 KiB.", ByteSize.CheckMultipleOf(4100, 4096, "--size"));
        Assert.Equal("--size (4 KiB) must be a multiple of 2 MiB.", ByteSize.CheckMultipleOf(4096, 4096 << 9, "--size"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteSize.CheckMultipleOf(4096, 0, "--size"));
    }

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(100L, "100 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1 KiB")]
    [InlineData(4096L, "4 KiB")]
    [InlineData(256L << 20, "256 MiB")]
    [InlineData(1L << 30, "1 GiB")]
    [InlineData(3L << 29, "1.5 GiB")]
    [InlineData(1025L, "1 KiB")]
    [InlineData(4100L, "4 KiB")]
    [InlineData(1L << 40, "1 TiB")]
    [InlineData(2048L << 40, "2048 TiB")]
    [InlineData(-(256L << 20), "-256 MiB")]
    [InlineData(12_939_428L, "12.34 MiB")]
    public void Formats(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }

    [Theory]
    [InlineData(4100L, "4100 bytes")]
    [InlineData(3L << 29, "1.5 GiB")]
    [InlineData(100L, "100 B")]
    [InlineData(12_939_428L, "12939428 bytes")]
    public void FormatsExactly(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.FormatExact(bytes));
    }

    [Fact]
    public void FormatOfExtremesDoesNotThrow()
    {
        Assert.EndsWith("TiB", ByteSize.Format(long.MaxValue), StringComparison.Ordinal);
        Assert.StartsWith("-", ByteSize.Format(long.MinValue), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4096L)]
    [InlineData(256L << 20)]
    [InlineData(3L << 29)]
    [InlineData(1L << 40)]
    public void ExactFormatsParseBack(long bytes)
    {
        Assert.Equal(bytes, ByteSize.Parse(ByteSize.Format(bytes)));
    }
}
