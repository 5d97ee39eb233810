using System.CommandLine;
using System.Text;
using System.Text.Json;
using BatchSwap.Cli.Output;
using BatchSwap.Stats;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Commands;

/// <summary>
/// <c>batchswap stat</c>: builds a tier with the given options, optionally runs a tiny usemem on it, and prints the
/// counters vmstat-style ("name value", kernel names where the kernel has one) or as JSON, with the tunables.
/// </summary>
internal static class StatCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var engine = new EngineOptions();
        var runUsemem = new Option<string?>("--run-usemem") { Description = "first run usemem with one worker of this size and one pass (e.g. 32MiB); default: run nothing" };
        var json = new Option<bool>("--json") { Description = "print JSON ({\"counters\": …, \"tunables\": …}) instead of text", DefaultValueFactory = _ => false };
        var cmd = new Command("stat", "print the tier's counters (vmstat-like or JSON) and tunables, optionally after a tiny usemem");
        engine.AddTo(cmd);
        cmd.Options.Add(runUsemem);
        cmd.Options.Add(json);
        cmd.SetAction((parse, cancel) => Task.FromResult(OpsCommands.Guard("stat", stderr, () =>
        {
            RunSettings run = engine.Read(parse);
            string? size = parse.GetValue(runUsemem);
            long bytes = size is null ? 0 : UsememCommand.ParseSize(size, "--run-usemem");
            using MemoryTier tier = run.CreateTier(Math.Max(bytes, 1L << 20));
            long mismatches = 0;
            if (bytes > 0)
            {
                using IDisposablePageSource source = UsememCommand.OpenSource(parse.GetValue(engine.Pages), parse.GetValue(engine.Seed));
                mismatches = Usemem.Run(tier, source, new UsememOptions { Workers = 1, SizePerWorker = bytes, Passes = 1 }, cancel: cancel).Mismatches;
            }
            CounterSnapshot c = tier.Snapshot();
            if (parse.GetValue(json)) stdout.WriteLine(Json(c, tier));
            else
            {
                stdout.Write(c.ToVmstat());
                stdout.WriteLine("# tunables");
                foreach (KeyValuePair<string, string> kv in tier.Tunables.All()) stdout.WriteLine($"{kv.Key} {kv.Value}");
            }
            if (cancel.IsCancellationRequested) return UsememCommand.Interrupted(stderr, "stat");
            return mismatches == 0 ? 0 : 1;
        })));
        return cmd;
    }

    private static string Json(CounterSnapshot c, MemoryTier tier)
    {
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            ReportSections.WriteJsonObject(j, c, tier);
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
