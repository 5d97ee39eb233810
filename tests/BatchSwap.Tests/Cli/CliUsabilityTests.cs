using System.CommandLine;
using System.Text.Json;
using BatchSwap.Cli;

namespace BatchSwap.Tests.Cli;

/// <summary>
/// What a new user meets first: the summary before any detail, errors found before a run rather than after it, an
/// unknown command that names itself, and messages in words, never .NET type names.
/// </summary>
public sealed class CliUsabilityTests
{
    private static readonly string[] SmallUsemem = ["usemem", "--workers", "1", "--size", "16MiB", "--limit", "12MiB", "--passes", "1", "--engines", "1"];

    [Fact]
    public void TheSummaryComesFirstAndTheCountersOnlyWhenAsked()
    {
        (int code, string o, string e) = CliHarness.Run([.. SmallUsemem, "--pages", TestPageFile.Create(256)]);
        Assert.True(code == 0, e);
        string[] lines = o.TrimEnd('\n').Split('\n');
        Assert.StartsWith("usemem: ", lines[0]);
        Assert.Contains("mismatches 0", lines[0]);
        Assert.True(lines.Length < 20, $"{lines.Length} lines without --counters:\n{o}");
        Assert.DoesNotContain("counters:", o);
        Assert.Contains("more with --counters", lines[^1]);

        (code, string all, e) = CliHarness.Run([.. SmallUsemem, "--pages", TestPageFile.Create(256), "--counters"]);
        Assert.True(code == 0, e);
        Assert.StartsWith("usemem: ", all);
        Assert.Contains("counters:", all);
        Assert.Contains("pgsteal", all);
        Assert.True(all.Split('\n').Length > lines.Length + 40);
    }

    [Fact]
    public void JsonKeepsEveryCounterWithoutTheFlag()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
        try
        {
            (int code, _, string e) = CliHarness.Run([.. SmallUsemem, "--json", json, "--quiet"]);
            Assert.True(code == 0, e);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.True(doc.RootElement.GetProperty("counters").EnumerateObject().Count() > 40);
            Assert.False(doc.RootElement.GetProperty("interrupted").GetBoolean());
        }
        finally { File.Delete(json); }
    }

    [Theory]
    [InlineData("usemem")]
    [InlineData("zipf")]
    public void AJsonPathThatCannotBeWrittenIsRefusedBeforeTheRun(string command)
    {
        string missing = Path.Combine(Path.GetTempPath(), $"bs-no-such-dir-{Guid.NewGuid():N}", "out.json");
        foreach ((string path, string mention) in new[] { (missing, "does not exist"), (Path.GetTempPath(), "is a directory") })
        {
            (int code, string o, string e) = CliHarness.Run(command, "--size", "4MiB", "--json", path, "--quiet");
            Assert.Equal(2, code);
            Assert.Equal("", o); // refused before anything ran
            Assert.Contains("--json", e);
            Assert.Contains(mention, e);
            Assert.Single(e.TrimEnd('\n').Split('\n'));
        }
        Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));
    }

    [Fact]
    public void AnExistingJsonFileIsLeftAloneByTheCheck()
    {
        string json = Path.Combine(Path.GetTempPath(), $"bs-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(json, "old");
        try
        {
            (int code, _, _) = CliHarness.Run("usemem", "--size", "0", "--json", json);
            Assert.Equal(2, code);
            Assert.Equal("old", File.ReadAllText(json));
        }
        finally { File.Delete(json); }
    }

    [Theory]
    [InlineData("usemem", "--limit")]
    [InlineData("stress", "--memory")]
    public void AMemoryLimitAboveTheMachinesIsOneClearError(string command, string option)
    {
        (int code, string o, string e) = CliHarness.Run(command, option, "4096TiB", "--quiet");
        Assert.Equal(2, code);
        Assert.Equal("", o);
        Assert.Contains($"{option} 4096 TiB is more than this machine's memory", e);
        Assert.DoesNotContain("Exception", e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void AnUnknownCommandNamesItselfAndListsTheCommands()
    {
        (int code, string o, string e) = CliHarness.Run("usmem", "--size", "1MiB");
        Assert.Equal(2, code);
        Assert.Equal("", o);
        Assert.Contains("unknown command 'usmem'", e);
        foreach (string c in new[] { "usemem", "sweep", "zipf", "replay", "capture", "pages", "stat", "stress" }) Assert.Contains(c, e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    /// <summary>Every option of every command that takes a number or a flag (a string is never of the wrong kind).</summary>
    public static TheoryData<string, string> EveryOption()
    {
        var data = new TheoryData<string, string>();
        foreach (Command c in Program.CreateRoot(TextWriter.Null, TextWriter.Null).Subcommands)
            foreach (Option o in c.Options)
                if (o.Name.StartsWith("--", StringComparison.Ordinal) && o.ValueType != typeof(string) && o.ValueType != typeof(string[]) && o.Name != "--help")
                    data.Add(c.Name, o.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryOption))]
    public void AValueOfTheWrongKindIsNamedInWordsNotAsADotNetType(string command, string option)
    {
        (int code, _, string e) = CliHarness.Run(command, option, "zz!");
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("System.", e);
        Assert.DoesNotContain("   at ", e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("usemem", "--workers", "two", "--workers: 'two' is not a whole number")]
    [InlineData("zipf", "--skew", "high", "--skew: 'high' is not a number")]
    [InlineData("zipf", "--ops", "1e9x", "--ops: '1e9x' is not a whole number")]
    [InlineData("stress", "--seconds", "soon", "--seconds: 'soon' is not a number")]
    public void ANumberThatDoesNotParseSaysWhatWasExpected(string command, string option, string value, string message)
    {
        (int code, _, string e) = CliHarness.Run(command, option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, e);
    }
}
