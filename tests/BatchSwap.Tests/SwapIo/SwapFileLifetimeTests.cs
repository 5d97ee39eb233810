using System.Diagnostics;

namespace BatchSwap.Tests.SwapIo;

/// <summary>A process that is killed leaves no swap file behind: its files never had a name.</summary>
public sealed class SwapFileLifetimeTests
{
    [Fact]
    public void AProcessKilledWithSigkillLeavesNothingInItsSwapDirectory()
    {
        if (!OperatingSystem.IsLinux()) return;
        string dir = Directory.CreateTempSubdirectory("batchswap-kill-").FullName;
        string cli = typeof(BatchSwap.Cli.Program).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { cli, "usemem", "--swap-dir", dir, "--workers", "1", "--size", "256MiB", "--limit", "32MiB", "--passes", "1000", "--quiet" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process child = Process.Start(psi)!;
        try
        {
            // Wait until the child has its swap file open and has swapped (its file has data).
            var deadline = Stopwatch.StartNew();
            string? swapFd = null;
            while (swapFd is null && deadline.Elapsed < TimeSpan.FromSeconds(60) && !child.HasExited)
            {
                foreach (string fd in SafeList($"/proc/{child.Id}/fd"))
                {
                    string? target = SafeLink(fd);
                    if (target is not null && target.StartsWith(dir + "/", StringComparison.Ordinal)) swapFd = target;
                }
                Thread.Sleep(50);
            }
            if (child.HasExited) Assert.Fail("the child ended early: " + child.StandardError.ReadToEnd());
            Assert.NotNull(swapFd);
            Thread.Sleep(1000); // let it swap: a 32 MiB limit is passed in well under a second
            Assert.EndsWith("(deleted)", swapFd); // open, written, and nameless
            Assert.Empty(Directory.GetFileSystemEntries(dir));
            child.Kill(entireProcessTree: true);
            Assert.True(child.WaitForExit(30_000));
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string[] SafeList(string dir)
    {
        try { return Directory.GetFiles(dir); } catch (IOException) { return []; } catch (UnauthorizedAccessException) { return []; }
    }

    private static string? SafeLink(string path)
    {
        try { return new FileInfo(path).LinkTarget; } catch (IOException) { return null; } catch (UnauthorizedAccessException) { return null; }
    }
}
