using System.CommandLine;
using BatchSwap.Workloads.PageSources;
using BatchSwap.Workloads.Units;

namespace BatchSwap.Cli.Commands;

/// <summary>
/// <c>batchswap pages</c>: writes the built-in page mix as a raw <c>.pages</c> image, so that another program (the
/// Linux usemem in <c>bench/linux</c>) can run on exactly the contents <c>usemem</c> uses by default.
/// </summary>
internal static class PagesCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var output = new Option<string>("--out") { Description = "page image to write (FILE.pages: 4096-byte pages, one after another)", Required = true };
        var seed = new Option<int>("--seed") { Description = "seed of the built-in generator", DefaultValueFactory = _ => 1 };
        var cmd = new Command("pages", "write the built-in page mix (what usemem uses without --pages) as a .pages image");
        cmd.Options.Add(output);
        cmd.Options.Add(seed);
        cmd.SetAction((parse, cancel) => Task.FromResult(Execute(parse, cancel)));
        return cmd;

        int Execute(ParseResult parse, CancellationToken cancel)
        {
            string path = parse.GetValue(output)!;
            try
            {
                if (!path.EndsWith(".pages", StringComparison.Ordinal)) throw new CliError("--out must name a .pages file");
                using IDisposablePageSource source = PageSourceFactory.Open(null, parse.GetValue(seed));
                string tmp = path + ".tmp";
                using (FileStream f = File.Create(tmp))
                {
                    for (long i = 0; i < source.PageCount; i++)
                    {
                        if (cancel.IsCancellationRequested) break;
                        f.Write(source.GetPage(i));
                    }
                }
                if (cancel.IsCancellationRequested)
                {
                    File.Delete(tmp); // a partial image is no image
                    stderr.WriteLine($"batchswap pages: stopped; {path} was not written");
                    return Program.Interrupted;
                }
                File.Move(tmp, path, overwrite: true);
                stdout.WriteLine(FormattableString.Invariant($"wrote {source.PageCount} pages ({ByteSize.Format(source.PageCount * 4096)}) of {source.Description} to {path}"));
                return 0;
            }
            catch (Exception e) when (e is CliError or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"batchswap pages: {e.Message}");
                return Program.UsageError;
            }
        }
    }
}
