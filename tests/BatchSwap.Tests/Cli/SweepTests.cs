using System.Text.Json;

namespace BatchSwap.Tests.Cli;

/// <summary>A sweep always includes batch 1, writes JSON, CSV, markdown and PNG plots, and gives each point's ratio to batch 1.</summary>
public sealed class SweepTests
{
    [Fact]
    public void SmallSweepWritesEveryResultFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bs-sweep-{Guid.NewGuid():N}");
        try
        {
            (int code, string o, string e) = CliHarness.Run("sweep", "--workers", "2", "--size", "12MiB", "--limit", "12MiB", "--passes", "1", "--engines", "1",
                "--batch-sizes", "8", "--pages", TestPageFile.Create(256), "--out", dir);
            Assert.True(code == 0, e);
            string csv = File.ReadAllText(Path.Combine(dir, "results.csv"));
            string[] rows = csv.TrimEnd('\n').Split('\n');
            Assert.Equal(3, rows.Length);
            Assert.StartsWith("1,lz4,", rows[1]);
            Assert.StartsWith("8,lz4,", rows[2]);
            Assert.StartsWith("1,lz4,0,2,12582912,1,", rows[1]);
            Assert.Contains(",1,", rows[1]); // vs_batch1 of the baseline itself
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
            JsonElement points = doc.RootElement.GetProperty("points");
            Assert.Equal(2, points.GetArrayLength());
            Assert.Equal(1.0, points[0].GetProperty("vs_batch1").GetDouble());
            Assert.True(points[1].GetProperty("vs_batch1").GetDouble() > 0);
            Assert.True(points[1].GetProperty("fault_latency_us").GetProperty("count").GetInt64() > 0);
            Assert.Contains("× batch 1", File.ReadAllText(Path.Combine(dir, "results.md")));
            Assert.Contains("× batch 1", o);
            byte[] png = File.ReadAllBytes(Path.Combine(dir, "throughput-vs-batch_size.png"));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            foreach (string name in new[] { "compression_ratio", "zswpwb", "fault_p99" })
                Assert.True(File.Exists(Path.Combine(dir, $"{name}-vs-batch_size.png")), name);
            Assert.Contains("sweep [2/2]", e);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--batch-sizes", "1,,4", "--batch-sizes")]
    [InlineData("--batch-sizes", "1,64", "[1, 32]")]
    [InlineData("--compressors", "lz4,lzma", "lzma")]
    [InlineData("--limits", "12MiB,lots", "--limits")]
    [InlineData("--repeat", "0", "--repeat")]
    public void BadListsAreOneLineAndExitCode2(string option, string value, string mustMention)
    {
        (int code, _, string e) = CliHarness.Run("sweep", "--size", "1MiB", option, value, "--out", Path.Combine(Path.GetTempPath(), $"bs-sweep-{Guid.NewGuid():N}"));
        Assert.Equal(2, code);
        Assert.Contains(mustMention, e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }
}
