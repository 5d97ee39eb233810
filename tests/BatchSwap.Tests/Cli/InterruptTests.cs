using System.Diagnostics;
using System.Runtime.InteropServices;
using BatchSwap.Cli;

namespace BatchSwap.Tests.Cli;

/// <summary>
/// Ctrl-C and SIGTERM stop a run cleanly: the workers end, the swap files go, what was measured so far is printed,
/// and the exit code says which signal it was (130, 143).
/// </summary>
public sealed partial class InterruptTests
{
    [Fact]
    public async Task ACancelledRunPrintsWhatItMeasuredAndReturns130()
    {
        using var cancel = new CancellationTokenSource();
        var o = new StringWriter();
        var e = new StringWriter();
        // Far more passes than can run; the token is cancelled once the run is under way.
        Task<int> run = Task.Run(() => Program.Run(["usemem", "--workers", "2", "--size", "16MiB", "--limit", "12MiB", "--passes", "1000", "--engines", "1", "--quiet"], o, e, cancel.Token));
        await Task.Delay(1500);
        cancel.Cancel();
        Assert.Equal(Program.Interrupted, await run.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.StartsWith("interrupted usemem: 2 x 16 MiB", o.ToString());
        Assert.Contains("mismatches 0", o.ToString());
        Assert.Contains("stopped before the end", e.ToString());
    }

    [Fact]
    public void ACancelledStressStillVerifiesAndReturns130()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var o = new StringWriter();
        int code = Program.Run(["stress", "--seconds", "600", "--threads", "2", "--memory", "16MiB", "--max-region-pages", "256", "--quiet"], o, new StringWriter(), cancel.Token);
        Assert.Equal(Program.Interrupted, code);
        Assert.Contains("stopped before --seconds", o.ToString());
        Assert.Contains("| mismatches | 0 |", o.ToString());
    }

    [Fact]
    public void ACancelledTransparentUsememReportsWhatItMeasuredAndReturns130()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var o = new StringWriter();
        int code = Program.Run(["usemem", "--transparent", "--workers", "1", "--size", "32MiB", "--limit", "16MiB", "--passes", "1000", "--quiet"],
            o, new StringWriter(), cancel.Token);
        Assert.Equal(Program.Interrupted, code);
        Assert.StartsWith("interrupted usemem", o.ToString());
        Assert.Contains("mismatches 0", o.ToString());
    }

    [Theory]
    [InlineData("usemem", 2, 130)]   // SIGINT
    [InlineData("zipf", 15, 143)]    // SIGTERM
    public async Task ASignalledProcessStopsCleanlyWithTheSignalsExitCode(string command, int signal, int exitCode)
    {
        if (!OperatingSystem.IsLinux()) return;
        string dir = Directory.CreateTempSubdirectory("batchswap-signal-").FullName;
        string cli = typeof(Program).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { cli, command, "--swap-dir", dir, "--workers", "1", "--size", "64MiB", "--limit", "16MiB", "--engines", "1", "--quiet" }) psi.ArgumentList.Add(a);
        foreach (string a in command == "usemem" ? new[] { "--passes", "1000" } : new[] { "--ops", "1000000000" }) psi.ArgumentList.Add(a);
        using Process child = Process.Start(psi)!;
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        try
        {
            // Wait until the run has its swap file open, then a little so that it swaps.
            var deadline = Stopwatch.StartNew();
            while (!HasFileIn(child.Id, dir) && deadline.Elapsed < TimeSpan.FromSeconds(60) && !child.HasExited) Thread.Sleep(50);
            if (child.HasExited) Assert.Fail("the child ended early: " + await stderr);
            await Task.Delay(1000);
            Assert.Equal(0, Kill(child.Id, signal));
            Assert.True(child.WaitForExit(60_000), "the child did not stop");
            Assert.Equal(exitCode, child.ExitCode);
            string o = await stdout, e = await stderr;
            Assert.StartsWith($"interrupted {command}: ", o); // what was measured so far
            Assert.Contains("mismatches 0", o);
            Assert.Contains("stopping the run", e);
            Assert.DoesNotContain("   at ", e);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool HasFileIn(int pid, string dir)
    {
        try
        {
            return Directory.GetFiles($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget?.StartsWith(dir + "/", StringComparison.Ordinal) == true);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
