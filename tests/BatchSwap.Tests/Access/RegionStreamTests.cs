using System.Text;
using BatchSwap.Access;

namespace BatchSwap.Tests.Access;

/// <summary>A region stream is seekable, fixed in length, and refuses what would change that.</summary>
public sealed class RegionStreamTests
{
    [Fact]
    public void ItReadsWritesAndSeeksLikeAFixedLengthStream()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(3 * 4096);
        using RegionStream s = r.AsStream();
        Assert.True(s.CanRead && s.CanSeek && s.CanWrite);
        Assert.Equal(3 * 4096, s.Length);
        using (var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true))
        {
            s.Position = 4090; // the string and the number cross into page 1
            w.Write("hello, paged world");
            w.Write(1234567890123L);
        }
        Assert.Equal(4090 + 19 + 8, s.Position);
        Assert.Equal(4090, s.Seek(-27, SeekOrigin.Current));
        using (var rd = new BinaryReader(s, Encoding.UTF8, leaveOpen: true))
        {
            Assert.Equal("hello, paged world", rd.ReadString());
            Assert.Equal(1234567890123L, rd.ReadInt64());
        }
        Assert.Equal(3 * 4096 - 1, s.Seek(-1, SeekOrigin.End));
        Assert.Equal(0, s.ReadByte());
        Assert.Equal(-1, s.ReadByte());
    }

    [Fact]
    public void CopyToMovesTheWholeRegion()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(40L << 20); // larger than the tier
        byte[] data = new byte[r.Length];
        for (int i = 0; i < data.Length; i += 4096) data.AsSpan(i, 4096).Fill((byte)(i / 4096 * 7));
        new Random(1).NextBytes(data.AsSpan(10_000, 50_000));
        using (RegionStream s = r.AsStream()) new MemoryStream(data).CopyTo(s);
        var back = new MemoryStream();
        using (RegionStream s = r.AsStream(writable: false)) s.CopyTo(back);
        Assert.True(data.AsSpan().SequenceEqual(back.ToArray()));
    }

    [Fact]
    public void ReadsAtOrPastTheEndReturnNothing()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(4096);
        using RegionStream s = r.AsStream();
        s.Position = 4000;
        Assert.Equal(96, s.Read(new byte[200]));
        Assert.Equal(0, s.Read(new byte[200]));
        s.Position = 10_000; // past the end is allowed, as for UnmanagedMemoryStream
        Assert.Equal(0, s.Read(new byte[10]));
    }

    [Fact]
    public void WhatWouldChangeTheLengthIsRefused()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(4096);
        using RegionStream s = r.AsStream();
        Assert.Throws<NotSupportedException>(() => s.SetLength(8192));
        s.Position = 4090;
        Assert.Throws<NotSupportedException>(() => s.Write(new byte[7]));
        Assert.Equal(4090, s.Position); // nothing written, nothing moved
        byte[] page = new byte[4096];
        r.Read(0, page);
        Assert.All(page, b => Assert.Equal(0, b));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Position = -1);
        Assert.Throws<IOException>(() => s.Seek(-1, SeekOrigin.Begin));
    }

    [Fact]
    public void AReadOnlyStreamRefusesWrites()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(4096);
        using var s = new RegionStream(r, writable: false);
        Assert.False(s.CanWrite);
        Assert.Throws<NotSupportedException>(() => s.WriteByte(1));
    }

    [Fact]
    public void DisposingTheStreamFreesTheRegionOnlyWhenItOwnsIt()
    {
        using MemoryTier tier = AccessTier.Create();
        Region kept = tier.Allocate(4096);
        kept.AsStream().Dispose();
        Assert.False(kept.IsDisposed);
        Region owned = tier.Allocate(4096);
        RegionStream s = owned.AsStream(ownsRegion: true);
        s.Dispose();
        Assert.True(owned.IsDisposed);
        Assert.False(s.CanRead);
        Assert.Throws<ObjectDisposedException>(() => s.Position);
        kept.Dispose();
    }

    [Fact]
    public async Task AsyncReadsAndWritesComplete()
    {
        using MemoryTier tier = AccessTier.Create();
        using Region r = tier.Allocate(8192);
        await using RegionStream s = r.AsStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes("async bytes"));
        s.Position = 0;
        byte[] back = new byte[11];
        Assert.Equal(11, await s.ReadAsync(back));
        Assert.Equal("async bytes", Encoding.ASCII.GetString(back));
    }
}
