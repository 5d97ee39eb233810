
namespace BatchSwap.Tests.Cli;

/// <summary>Bad input gets one clear line on stderr and exit code 2, never a stack trace.</summary>
public sealed class CliErrorTests
{
    [Theory]
    [InlineData("--size", "0", "--size")]
    [InlineData("--size", "-5MiB", "--size")]
    [InlineData("--size", "12parsecs", "--size")]
    [InlineData("--limit", "1MiB", "--limit must be at least 8MiB")]
    [InlineData("--compressor", "lzma", "accepted: lz4")]
    [InlineData("--batch-size", "0", "[1, 32]")]
    [InlineData("--batch-size", "33", "[1, 32]")]
    [InlineData("--batch-size", "lots", "--batch-size must be auto or an integer in [1, 32], got 'lots'")]
    [InlineData("--workers", "0", "--workers")]
    [InlineData("--order", "10", "--order")]
    [InlineData("--access", "zigzag", "seq or rand")]
    [InlineData("--pages", "/no/such/file.pages", "no/such/file.pages")]
    [InlineData("--set", "vm.compress-batchsize=99", "[1, 32]")]
    [InlineData("--workers", "two", "two")]
    [InlineData("--inject", "swap-read=2", "[0, 1]")]
    [InlineData("--inject", "meteor=0.1", "accepted: swap-write")]
    [InlineData("--swap-dir", "/no/such/dir", "--swap-dir: swap directory '/no/such/dir' does not exist")]
    [InlineData("--swap-dir", "/sys", "--swap-dir: cannot create a swap file")]
    [InlineData("--swap-io", "maybe", "direct or buffered")]
    [InlineData("--engines", "300", "--engines: Engines must be in [0, 256]")]
    [InlineData("--nodes", "100", "--nodes: Nodes must be in [1, 64]")]
    [InlineData("--swap-devices", "40", "--swap-devices: at most 32 swap devices")]
    public void BadInputIsOneLineAndExitCode2(string option, string value, string mustMention)
    {
        (int code, _, string err) = CliHarness.Run("usemem", option, value, "--size", option == "--size" ? value : "1MiB", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains(mustMention, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void BatchSizeGivenTwiceIsRefused()
    {
        (int code, _, string err) = CliHarness.Run("usemem", "--batch-size", "8", "--set", "vm.compress-batchsize=4", "--size", "1MiB", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("--batch-size and --set vm.compress-batchsize both set the batch size", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void TruncatedPageFileIsRefused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.pages");
        File.WriteAllBytes(path, new byte[4096 * 3 + 100]);
        try
        {
            (int code, _, string err) = CliHarness.Run("usemem", "--pages", path, "--size", "1MiB");
            Assert.Equal(2, code);
            Assert.Contains("4096", err);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnknownOptionIsOneLine()
    {
        (int code, _, string err) = CliHarness.Run("usemem", "--frobnicate");
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void SmallRunSucceedsAndWritesJson()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
        try
        {
            (int code, string o, string err) = CliHarness.Run("usemem", "--workers", "2", "--size", "12MiB", "--limit", "12MiB", "--passes", "1",
                "--pages", TestPageFile.Create(256), "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("mismatches 0", o);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
            System.Text.Json.JsonElement root = doc.RootElement;
            foreach (string key in new[] { "throughput_mibps", "wall_s", "fill_s", "pass_s", "mismatches", "zswpout", "zswpin", "pswpout", "pswpin", "zswpwb", "stored_pages", "pool_total_size", "peak_rss_bytes", "batch_size", "compressor", "page_cache_bytes", "direct_io", "swap_io_depth_max" })
                Assert.True(root.TryGetProperty(key, out _), $"JSON lacks {key}");
            Assert.Equal(0, root.GetProperty("mismatches").GetInt64());
            Assert.True(root.GetProperty("zswpout").GetInt64() > 0);
            System.Text.Json.JsonElement fault = root.GetProperty("fault_latency_us");
            foreach (string key in new[] { "count", "p50", "p90", "p99", "p99_9", "max" })
                Assert.True(fault.TryGetProperty(key, out _), $"fault_latency_us lacks {key}");
            Assert.Contains("fault-in", o);
            Assert.Contains("swap device file, ", o);
            if (root.GetProperty("direct_io").GetBoolean()) Assert.Equal(0, root.GetProperty("page_cache_bytes").GetInt64());
        }
        finally { File.Delete(json); }
    }

    [Fact]
    public void BufferedSwapIoIsReportedWithItsPageCache()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
        try
        {
            (int code, string o, string err) = CliHarness.Run("usemem", "--workers", "1", "--size", "48MiB", "--limit", "12MiB", "--passes", "1",
                "--set", "zswap.enabled=N", "--swap-io", "buffered", "--pages", TestPageFile.Create(256), "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("buffered I/O", o);
            Assert.Contains("outside the limit", o);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
            Assert.False(doc.RootElement.GetProperty("direct_io").GetBoolean());
            Assert.True(doc.RootElement.GetProperty("page_cache_bytes").GetInt64() > 0);
        }
        finally { File.Delete(json); }
    }
}

/// <summary>Writes a small .pages file of test pages once per test run.</summary>
internal static class TestPageFile
{
    public static string Create(int pages)
    {
        string path = Path.Combine(Path.GetTempPath(), $"bs-test-{Environment.ProcessId}-{pages}.pages");
        if (File.Exists(path)) return path;
        var buf = new byte[pages * 4096];
        for (int i = 0; i < pages; i++) TestPages.Fill(buf.AsSpan(i * 4096, 4096), i, 3);
        File.WriteAllBytes(path + ".tmp", buf);
        File.Move(path + ".tmp", path, overwrite: true);
        return path;
    }
}
