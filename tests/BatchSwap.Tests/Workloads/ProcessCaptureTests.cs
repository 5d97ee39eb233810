using BatchSwap.Workloads.PageSources;

namespace BatchSwap.Tests.Workloads;

/// <summary>Capturing a live process writes whole pages that load back as a page image; a missing pid is one line and exit 2.</summary>
public sealed class ProcessCaptureTests
{
    [Fact]
    public void CapturesThisProcessAsWholePages()
    {
        if (!OperatingSystem.IsLinux()) return;
        foreach (string ext in new[] { ".pages", ".pages.zst" })
        {
            string path = Path.Combine(Path.GetTempPath(), $"bs-capture-{Guid.NewGuid():N}{ext}");
            try
            {
                CaptureResult r = ProcessCapture.Capture(Environment.ProcessId, path, maxBytes: 8L << 20);
                Assert.True(r.Pages > 0);
                Assert.True(r.Pages <= 2048);
                if (ext == ".pages")
                {
                    long length = new FileInfo(path).Length;
                    Assert.True(length > 0);
                    Assert.Equal(0, length % 4096);
                    Assert.Equal(r.Pages * 4096, length);
                }
                using PageImageFile image = PageImageFile.Load(path);
                Assert.Equal(r.Pages, image.PageCount);
            }
            finally { File.Delete(path); }
        }
    }

    [Fact]
    public void OnlyPrivateWritableAnonymousMappingsAreTaken()
    {
        Assert.True(new ProcessMapping(0, 4096, "rw-p", "").IsPrivateWritableAnonymous);
        Assert.True(new ProcessMapping(0, 4096, "rw-p", "[heap]").IsPrivateWritableAnonymous);
        Assert.True(new ProcessMapping(0, 4096, "rw-p", "[stack]").IsPrivateWritableAnonymous);
        Assert.False(new ProcessMapping(0, 4096, "rw-s", "").IsPrivateWritableAnonymous);
        Assert.False(new ProcessMapping(0, 4096, "r--p", "").IsPrivateWritableAnonymous);
        Assert.False(new ProcessMapping(0, 4096, "rw-p", "/usr/lib/libc.so.6").IsPrivateWritableAnonymous);
        Assert.False(new ProcessMapping(0, 4096, "rw-p", "[vvar]").IsPrivateWritableAnonymous);
    }

    [Fact]
    public void MissingPidIsOneLineAndExitCode2()
    {
        (int code, _, string e) = Cli.CliHarness.Run("capture", "--pid", "2147483000", "--out", Path.Combine(Path.GetTempPath(), "never.pages"));
        Assert.Equal(2, code);
        Assert.Contains("2147483000", e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
    }
}
