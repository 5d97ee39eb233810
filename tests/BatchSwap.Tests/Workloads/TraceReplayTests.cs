using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Tests.Workloads;

/// <summary>Traces parse with commas or spaces and comments, bad lines are named by number, and a replay verifies its reads.</summary>
public sealed class TraceReplayTests
{
    [Fact]
    public void ParsesCommasSpacesAndComments()
    {
        Trace t = Trace.Parse(new StringReader("# a trace\n0,5,w\n1 3 r   # comment\n\n0\t7\tREAD\n1,0,write\n"), "t");
        Assert.Equal(2, t.Workers);
        Assert.Equal([8L, 4L], t.PagesPerWorker);
        Assert.Equal(4, t.Ops);
    }

    [Theory]
    [InlineData("0,1,r\n0,1\n", "line 2", "3 fields")]
    [InlineData("0,1,r\n\n# x\nx,1,r\n", "line 4", "worker 'x'")]
    [InlineData("0,-1,r\n", "line 1", "page '-1'")]
    [InlineData("0,1,q\n", "line 1", "operation 'q'")]
    [InlineData("# only comments\n", "no operations", "")]
    public void MalformedLinesAreNamed(string text, string where, string what)
    {
        TraceFormatException e = Assert.Throws<TraceFormatException>(() => Trace.Parse(new StringReader(text), "t.csv"));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
        Assert.StartsWith("t.csv", e.Message);
    }

    [Fact]
    public void ReplayCommandVerifiesAndReportsJson()
    {
        string trace = Path.Combine(Path.GetTempPath(), $"bs-trace-{Guid.NewGuid():N}.csv");
        string json = trace + ".json";
        var lines = new List<string> { "# worker,page,op" };
        for (int pass = 0; pass < 3; pass++)
            for (int p = 0; p < 3000; p++)
                for (int w = 0; w < 2; w++) lines.Add($"{w},{(p * 7 + pass) % 3000},{((p + pass) % 4 == 0 ? "w" : "r")}");
        File.WriteAllLines(trace, lines);
        try
        {
            (int code, string o, string e) = Cli.CliHarness.Run("replay", "--trace", trace, "--limit", "12MiB", "--engines", "1", "--pages", Cli.TestPageFile.Create(256), "--json", json);
            Assert.True(code == 0, e);
            Assert.Contains("mismatches 0", o);
            Assert.Contains("ops/s", o);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(18_000, doc.RootElement.GetProperty("ops").GetInt64());
            Assert.True(doc.RootElement.GetProperty("latency_us").GetProperty("count").GetInt64() == 18_000);
            Assert.True(doc.RootElement.TryGetProperty("fault_latency_us", out _));
        }
        finally
        {
            File.Delete(trace);
            File.Delete(json);
        }
    }

    [Fact]
    public void BadTraceIsOneLineWithTheLineNumber()
    {
        string trace = Path.Combine(Path.GetTempPath(), $"bs-trace-{Guid.NewGuid():N}.csv");
        File.WriteAllText(trace, "0,1,r\n0,2,x\n");
        try
        {
            (int code, _, string e) = Cli.CliHarness.Run("replay", "--trace", trace, "--limit", "12MiB");
            Assert.Equal(2, code);
            Assert.Contains("line 2", e);
            Assert.Single(e.TrimEnd('\n').Split('\n'));
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public void ZipfCommandRuns()
    {
        (int code, string o, string e) = Cli.CliHarness.Run("zipf", "--size", "4MiB", "--limit", "12MiB", "--ops", "2000", "--engines", "1", "--quiet");
        Assert.True(code == 0, e);
        Assert.Contains("mismatches 0", o);
        Assert.Contains("ops/s", o);
    }
}
