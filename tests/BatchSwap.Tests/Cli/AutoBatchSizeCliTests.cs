using System.Text.Json;

namespace BatchSwap.Tests.Cli;

/// <summary>The command line takes vm.compress-batchsize = auto: --batch-size auto, the default, and "auto" among a sweep's batch sizes.</summary>
public sealed class AutoBatchSizeCliTests
{
    [Fact]
    public void UsememTakesBatchSizeAuto()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
        try
        {
            (int code, string o, string err) = CliHarness.Run("usemem", "--workers", "1", "--size", "24MiB", "--limit", "12MiB", "--passes", "1",
                "--batch-size", "auto", "--pages", TestPageFile.Create(256), "--json", json);
            Assert.True(code == 0, err);
            Assert.Contains("mismatches 0", o);
            Assert.Contains("batch auto (now ", o);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement root = doc.RootElement;
            Assert.True(root.GetProperty("batch_size_auto").GetBoolean());
            Assert.InRange(root.GetProperty("batch_size").GetInt32(), 1, 32);
            Assert.True(root.GetProperty("zswpout").GetInt64() > 0);
            Assert.Equal("auto", root.GetProperty("tunables").GetProperty("vm.compress-batchsize").GetString());
            Assert.Equal(1, root.GetProperty("counters").GetProperty("compress_batchsize_auto").GetInt64());
        }
        finally { File.Delete(json); }
    }

    [Fact]
    public void ThirtyTwoIsTheDefaultAndAutoIsAskedFor()
    {
        (int code, string o, _) = CliHarness.Run("stat", "--limit", "12MiB", "--json");
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(o))
            Assert.Equal("32", doc.RootElement.GetProperty("tunables").GetProperty("vm.compress-batchsize").GetString());

        (code, o, _) = CliHarness.Run("stat", "--limit", "12MiB", "--json", "--batch-size", "auto");
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(o))
            Assert.Equal("auto", doc.RootElement.GetProperty("tunables").GetProperty("vm.compress-batchsize").GetString());

        (code, o, _) = CliHarness.Run("stat", "--limit", "12MiB", "--json", "--set", "vm.compress-batchsize=16");
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(o))
        {
            Assert.Equal("16", doc.RootElement.GetProperty("tunables").GetProperty("vm.compress-batchsize").GetString());
            Assert.Equal(0, doc.RootElement.GetProperty("counters").GetProperty("compress_batchsize_auto").GetInt64());
        }
    }

    [Fact]
    public void SweepComparesAutoWithTheFixedSizes()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"bs-sweep-{Guid.NewGuid():N}");
        try
        {
            (int code, string o, string e) = CliHarness.Run("sweep", "--workers", "1", "--size", "24MiB", "--limit", "12MiB", "--passes", "1", "--engines", "1",
                "--batch-sizes", "auto,8", "--pages", TestPageFile.Create(256), "--out", dir, "--no-plots");
            Assert.True(code == 0, e);
            string[] rows = File.ReadAllText(Path.Combine(dir, "results.csv")).TrimEnd('\n').Split('\n');
            Assert.Equal(4, rows.Length);
            Assert.StartsWith("1,lz4,", rows[1]);
            Assert.StartsWith("8,lz4,", rows[2]);
            Assert.StartsWith("auto,lz4,", rows[3]); // fixed sizes ascending, auto last
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
            JsonElement auto = doc.RootElement.GetProperty("points")[2];
            Assert.Equal("auto", auto.GetProperty("batch_size").GetString());
            Assert.True(auto.GetProperty("vs_batch1").GetDouble() > 0); // its ratio to the batch-1 point of the same sweep
            Assert.InRange(auto.GetProperty("batch_size_final").GetDouble(), 1, 32);
            Assert.Equal(8, doc.RootElement.GetProperty("points")[1].GetProperty("batch_size_final").GetDouble());
            Assert.Contains("| auto → ", o);
            Assert.Contains("batch auto, lz4", e);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
