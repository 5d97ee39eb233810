using System.Text.Json;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Cli;

/// <summary>
/// <c>usemem --transparent</c>: the same load on transparent mappings, with the same figures and JSON, and a resident
/// budget that leaves the group room for the pool however large the pool may grow.
/// </summary>
public sealed class TransparentUsememCliTests
{
    [Fact]
    public void TheDefaultResidentBudgetLeavesRoomForTheLargestPool()
    {
        using var small = new MemoryTier(new TierOptions { MemoryBytes = 64L << 20, Engines = 1 });
        Assert.Equal(small.DefaultGroup.LimitBytes / 2, UsememTransparent.DefaultResidentBytes(small));

        using var large = new MemoryTier(new TierOptions
        {
            MemoryBytes = 64L << 20,
            Engines = 1,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "65" },
        });
        long limit = large.DefaultGroup.LimitBytes;
        long resident = UsememTransparent.DefaultResidentBytes(large);
        Assert.True(resident > 0);
        // Pinned resident pages and a full pool together leave a quarter of the rest for pages in flight.
        Assert.True(resident + limit / 100 * 65 <= limit - (limit / 100 * 35 / 4), $"resident {resident} of {limit}");
    }

    /// <summary>
    /// Two workers' mappings under kswapd with the pool allowed most of the group: every page comes back as written,
    /// nothing exhausts the group, and the run reports in transparent mode. Repeated: held frames move between the
    /// mappings and the LRU while reclaim isolates them, so a race there shows as a hang, a crash or a mismatch.
    /// </summary>
    [Fact]
    public void TwoWorkersWithALargePoolShareKeepEveryPage()
    {
        string pages = TestPageFile.Create(256);
        for (int run = 0; run < 3; run++)
        {
            string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
            try
            {
                (int code, string o, string err) = CliHarness.Run("usemem", "--transparent", "--workers", "2", "--size", "24MiB",
                    "--limit", "16MiB", "--passes", "2", "--pages", pages, "--set", "zswap.max_pool_percent=65", "--json", json);
                Assert.True(code == 0, err);
                Assert.Contains("mismatches 0", o);
                using var doc = JsonDocument.Parse(File.ReadAllText(json));
                JsonElement root = doc.RootElement;
                Assert.Equal("transparent", root.GetProperty("mode").GetString());
                Assert.Equal(0, root.GetProperty("mismatches").GetInt64());
                Assert.True(root.GetProperty("zswpout").GetInt64() > 0);
            }
            finally { File.Delete(json); }
        }
    }
}
