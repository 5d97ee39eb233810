using System.CommandLine;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Commands;

/// <summary><c>batchswap capture</c>: a live process's private writable anonymous pages as a page image for <c>--pages</c>.</summary>
internal static class CaptureCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var pid = new Option<int>("--pid") { Description = "process to capture", Required = true };
        var output = new Option<string>("--out") { Description = "page image to write: FILE.pages, or FILE.pages.zst (zstd)", Required = true };
        var max = new Option<string?>("--max-size") { Description = "stop after this many bytes of pages; default: no limit" };
        var cmd = new Command("capture", "write the private writable anonymous pages (rw-p: anonymous, [heap], [stack]) of a live Linux process as a .pages[.zst] image; needs ptrace rights");
        cmd.Options.Add(pid);
        cmd.Options.Add(output);
        cmd.Options.Add(max);
        cmd.SetAction(parse =>
        {
            try
            {
                string? m = parse.GetValue(max);
                long maxBytes = m is null ? 0 : UsememCommand.ParseSize(m, "--max-size");
                string path = parse.GetValue(output)!;
                CaptureResult r = ProcessCapture.Capture(parse.GetValue(pid), path, maxBytes);
                string skipped = r.SkippedPages > 0 ? FormattableString.Invariant($"; {r.SkippedPages} unreadable pages skipped") : "";
                string truncated = r.Truncated ? "; stopped at --max-size" : "";
                stdout.WriteLine(FormattableString.Invariant(
                    $"captured {r.Pages} pages ({ByteSize.Format(r.Pages * 4096)}) from {r.Mappings} mappings of pid {parse.GetValue(pid)} into {path}{skipped}{truncated}"));
                return 0;
            }
            catch (Exception e) when (e is CaptureException || UsememCommand.IsUsageError(e) || e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"batchswap capture: {e.Message}");
                if (Environment.GetEnvironmentVariable("BATCHSWAP_DEBUG") is not null) stderr.WriteLine(e);
                return Program.UsageError;
            }
        });
        return cmd;
    }
}
