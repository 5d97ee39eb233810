using System.CommandLine;
using System.Globalization;
using BatchSwap.Workloads.Units;
using BatchSwap.Workloads.Workloads;

namespace BatchSwap.Cli.Commands;

/// <summary>
/// <c>batchswap stress</c>: threads sharing one memory group allocate, write, read, pin, free and reallocate regions
/// while reclaim, writeback and run-time tunable and codec changes go on, with faults injected; every live page is
/// verified at the end. Prints the report as Markdown (the README's "Nothing lost" table); exit 0 only when no page
/// was lost or garbled.
/// </summary>
internal static class StressCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var seconds = new Option<double>("--seconds") { Description = "how long the mixed load runs before the final verification", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "worker threads sharing one memory group, 1 to 256", DefaultValueFactory = _ => 8 };
        var memory = new Option<string>("--memory") { Description = "the tier's memory (the group gets half)", DefaultValueFactory = _ => "48MiB" };
        var maxRegion = new Option<int>("--max-region-pages") { Description = "largest region a worker allocates, in pages", DefaultValueFactory = _ => 1024 };
        var inject = new Option<string>("--inject") { Description = "faults to inject, KEY=RATE,…; 'none' for none", DefaultValueFactory = _ => "none" };
        var seed = new Option<int>("--seed") { Description = "seed of the workers' choices", DefaultValueFactory = _ => 1 };
        var quiet = new Option<bool>("--quiet") { Description = "no progress lines on stderr", DefaultValueFactory = _ => false };
        var cmd = new Command("stress", "concurrency and fault stress: every live page verified at the end; exit 0 when nothing was lost")
        {
            seconds, threads, memory, maxRegion, inject, seed, quiet,
        };
        cmd.SetAction((parse, cancel) => Task.FromResult(OpsCommands.Guard("stress", stderr, () =>
        {
            var options = new StressOptions
            {
                Seconds = parse.GetValue(seconds),
                Threads = parse.GetValue(threads),
                MemoryBytes = UsememCommand.ParseSize(parse.GetValue(memory)!, "--memory"),
                MaxRegionPages = parse.GetValue(maxRegion),
                Faults = EngineOptions.ParseFaults(parse.GetValue(inject)!),
                Seed = parse.GetValue(seed),
            };
            if (options.MemoryBytes < RunSettings.MinLimitBytes)
                throw new CliError($"--memory must be at least {ByteSize.Format(RunSettings.MinLimitBytes)}, got {parse.GetValue(memory)}");
            RunSettings.CheckMachineMemory(options.MemoryBytes, "--memory");
            Action<string>? progress = parse.GetValue(quiet) ? null : line => stderr.WriteLine(line);
            StressReport report = Stress.Run(options, progress, cancel);
            stdout.Write(report.ToMarkdown());
            // A run that never swapped tested no reclaim, writeback or fault-in: it cannot pass.
            bool passed = report.Passed && report.UnderPressure;
            string verdict = string.Create(CultureInfo.InvariantCulture, $"{report.PagesVerified:N0} pages verified, {report.Mismatches} mismatches, {report.PagesLost} lost");
            if (!report.UnderPressure)
                verdict += string.Create(CultureInfo.InvariantCulture,
                    $"; the tier was never under pressure (no page was swapped out), so reclaim was not tested: give it less --memory (now {ByteSize.Format(options.MemoryBytes)}), more --threads or --max-region-pages, or more --seconds");
            if (report.Interrupted) verdict += "; stopped before --seconds";
            stdout.WriteLine($"{(passed ? "PASS" : "FAIL")}: {verdict}");
            if (report.Interrupted) return UsememCommand.Interrupted(stderr, "stress");
            return passed ? 0 : 1;
        })));
        return cmd;
    }
}
