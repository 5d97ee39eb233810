using System.Text.Json;

namespace BatchSwap.Tests.Cli;

/// <summary>batchswap stat prints counters under kernel names, vmstat-style or as JSON, with the tunables.</summary>
public sealed class StatTests
{
    [Fact]
    public void TextIsNameValueLinesAndTunables()
    {
        (int code, string o, _) = CliHarness.Run("stat", "--limit", "12MiB", "--engines", "1", "--run-usemem", "16MiB", "--pages", TestPageFile.Create(256));
        Assert.Equal(0, code);
        string[] lines = o.TrimEnd('\n').Split('\n');
        Assert.Contains(lines, l => l.StartsWith("zswpout ", StringComparison.Ordinal) && long.Parse(l.Split(' ')[1]) > 0);
        Assert.Contains(lines, l => l.StartsWith("pswpout ", StringComparison.Ordinal));
        Assert.Contains("# tunables", lines);
        Assert.Contains(lines, l => l.StartsWith("vm.compress-batchsize ", StringComparison.Ordinal));
        Assert.All(lines.Where(l => !l.StartsWith('#')), l => Assert.Equal(2, l.Split(' ').Length));
    }

    [Fact]
    public void JsonHasCountersAndTunables()
    {
        (int code, string o, _) = CliHarness.Run("stat", "--limit", "12MiB", "--json", "--batch-size", "8");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(o);
        Assert.Equal(0, doc.RootElement.GetProperty("counters").GetProperty("zswpout").GetInt64());
        Assert.Equal("8", doc.RootElement.GetProperty("tunables").GetProperty("vm.compress-batchsize").GetString());
    }
}
