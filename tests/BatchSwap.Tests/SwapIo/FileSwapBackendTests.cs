using System.Runtime.InteropServices;
using BatchSwap.Compression.Engines;
using BatchSwap.Memory;
using BatchSwap.Swap;
using BatchSwap.Swap.Backends;
using BatchSwap.Tests.Integrity;

namespace BatchSwap.Tests.SwapIo;

/// <summary>The swap file: direct I/O with its alignment, the buffered fallback, private and unnamed files.</summary>
public sealed unsafe class FileSwapBackendTests : IDisposable
{
    private const int Slots = 2 * SwapDevice.ClusterSlots;
    private readonly string _dir = Directory.CreateTempSubdirectory("batchswap-file-").FullName;
    private readonly SwapIoWorkers _workers = new(2);

    public void Dispose()
    {
        _workers.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static byte* AlignedPage(int seed)
    {
        byte* p = (byte*)NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);
        TestPages.Fill(new Span<byte>(p, PageSize.Bytes), seed, 7);
        return p;
    }

    /// <summary>Writes a few pages (one multi-page run on the I/O threads), reads them back, compares.</summary>
    private static void RoundTrip(ISwapBackend b)
    {
        Assert.True(b.Reserve(0, 1));
        Assert.True(b.Reserve(SwapDevice.ClusterSlots, 1));
        byte*[] pages = [AlignedPage(1), AlignedPage(2), AlignedPage(3)];
        byte* back = (byte*)NativeMemory.AlignedAlloc(PageSize.Bytes, PageSize.Bytes);
        try
        {
            using var io = new SwapIoBatch();
            io.Reset(SwapIoKind.Write, 0);
            io.BeginRun(10, 0);
            io.AddPage((nint)pages[0]);
            io.AddPage((nint)pages[1]);
            io.BeginRun(SwapDevice.ClusterSlots + 3, 0);
            io.AddPage((nint)pages[2]);
            io.Start(null);
            b.Submit(io);
            io.Wait();
            Assert.True(io.Runs[0].Ok && io.Runs[1].Ok);
            int[] slots = [10, 11, SwapDevice.ClusterSlots + 3];
            for (int i = 0; i < 3; i++)
            {
                Assert.True(StoredEntries.Move(b, SwapIoKind.Read, slots[i], back));
                Assert.True(new Span<byte>(back, PageSize.Bytes).SequenceEqual(new Span<byte>(pages[i], PageSize.Bytes)), $"page {i} differs");
            }
        }
        finally
        {
            foreach (byte* p in pages) NativeMemory.AlignedFree(p);
            NativeMemory.AlignedFree(back);
        }
    }

    [Fact]
    public void DirectIoRoundTripsPagesAndCachesNothing()
    {
        using var b = new FileSwapBackend(null, _dir, Slots, SwapFileMode.Direct, _workers);
        // This directory is on a filesystem that takes O_DIRECT (ext4, xfs, btrfs, tmpfs since 6.6); where one does
        // not, the fallback test below covers what happens.
        if (!b.DirectIo) Assert.Contains("buffered I/O (O_DIRECT", b.Description);
        RoundTrip(b);
        if (b.DirectIo)
        {
            Assert.Equal("file, direct I/O", b.Description);
            Assert.Equal(0, b.PageCacheBytes());
        }
    }

    [Fact]
    public void EveryBufferThatReachesTheDeviceIsPageAligned()
    {
        // Direct I/O needs block-aligned memory: arena frames, and the engines' output buffers that writeback writes.
        using var batch = new JobBatch(8);
        for (int i = 0; i < 8; i++) Assert.Equal(0, (long)batch.Output(i) % PageSize.Bytes);
        using var arena = new PageArena(8L << 20, 1);
        Assert.Equal(0, (long)arena.PageAddress(0) % PageSize.Bytes);
    }

    [Fact]
    public void AFilesystemThatRefusesDirectIoGetsBufferedIoAndSaysSo()
    {
        using var b = new FileSwapBackend(null, _dir, Slots, SwapFileMode.DirectRefusedForTest, _workers);
        Assert.False(b.DirectIo);
        Assert.Equal("refused for a test", b.FallbackReason);
        Assert.Contains("buffered I/O", b.Description);
        RoundTrip(b);
        Assert.True(b.PageCacheBytes() > 0, "buffered pages should be in the page cache");
    }

    [Fact]
    public void ATierOnAFilesystemThatRefusesDirectIoReportsIt()
    {
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, SwapDirectory = _dir, SimulateDirectIoRefusal = true });
        Assert.False(tier.SwapDirectIo);
        Assert.Equal(0, tier.Snapshot().Gauge("swap_direct_io"));
        Assert.Contains("buffered I/O (O_DIRECT refused for a test)", tier.SwapDescriptions[0]);
    }

    [Fact]
    public void TmpfsWorksWhateverItSaysAboutDirectIo()
    {
        if (!Directory.Exists("/dev/shm")) return; // not Linux
        string dir = Directory.CreateDirectory(Path.Combine("/dev/shm", $"batchswap-{Guid.NewGuid():N}")).FullName;
        try
        {
            using (var b = new FileSwapBackend(null, dir, Slots, SwapFileMode.Direct, _workers))
                RoundTrip(b);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void ATemporaryFileHasNoNameAndANamedOneIsPrivate()
    {
        using (var tmp = new FileSwapBackend(null, _dir, Slots, SwapFileMode.Direct, _workers))
        {
            Assert.True(tmp.Temporary);
            Assert.Null(tmp.Path);
            RoundTrip(tmp);
            Assert.Empty(Directory.GetFileSystemEntries(_dir)); // nothing anyone could open
        }

        string named = Path.Combine(_dir, "swap0");
        File.WriteAllText(named, "old contents");
        File.SetUnixFileMode(named, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using (var b = new FileSwapBackend(named, _dir, Slots, SwapFileMode.Direct, _workers))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(named));
            Assert.Equal(0, new FileInfo(named).Length - (b.DirectIo ? PageSize.Bytes : 0)); // truncated (the direct-I/O probe wrote one page)
            RoundTrip(b);
        }
        Assert.True(File.Exists(named), "a file the tier did not create stays (emptied)");
        Assert.Equal(0, new FileInfo(named).Length);
        File.Delete(named);

        string fresh = Path.Combine(_dir, "swap1");
        using (var b = new FileSwapBackend(fresh, _dir, Slots, SwapFileMode.Direct, _workers))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fresh));
        Assert.False(File.Exists(fresh), "a file the tier created is removed on dispose");
    }

    [Fact]
    public void AMissingDirectoryIsOneClearError()
    {
        string missing = Path.Combine(_dir, "no-such-dir");
        var e = Assert.Throws<DirectoryNotFoundException>(() => new MemoryTier(new TierOptions { MemoryBytes = 16L << 20, SwapDirectory = missing }));
        Assert.Contains(missing, e.Message);
        var io = Assert.Throws<IOException>(() => new FileSwapBackend(null, missing, Slots, SwapFileMode.Direct, _workers));
        Assert.Contains("cannot create a swap file", io.Message);
    }
}
