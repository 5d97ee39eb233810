using BatchSwap.Access;
using BatchSwap.Compression;
using BatchSwap.Compression.Codecs;
using BatchSwap.Swap;

namespace BatchSwap.Tests.Integrity;

/// <summary>
/// Random and mutated compressed data, through the zswap load path of a live tier (batched decompression on the
/// engines, checksum, fault handling) and through each codec's context: never a crash, never wrong data.
/// </summary>
public sealed unsafe class DecompressFuzzTests
{
    /// <summary>Reproduces a hang found on this branch (see the skip reason); kept as the repro for the fix.</summary>
    [Theory]
    [InlineData("lz4")]
    [InlineData("zstd")]
    [InlineData("snappy")]
    [InlineData("deflate")]
    public void MutatedEntriesNeverCrashAndNeverReadBackWrong(string compressor)
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 2,
            Compressor = compressor,
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "100", ["zswap.shrinker_enabled"] = "N" },
        });
        using Region r = tier.Allocate(24L << 20);
        Faults.FaultInjectionTests.WriteAll(r, seed: 31);
        var rng = new Random(compressor.Length * 7919);
        var mutated = new List<long>();
        for (long p = 0; p < r.PageCount && mutated.Count < 300; p++)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out SwapDevice dev, out int slot, out ulong info) || !StoredEntries.InPool(info)) continue;
            byte* obj = StoredEntries.PoolObject(tier, dev, slot, info, out int len);
            if (obj is null) continue;
            if (Mutate(rng, obj, len, dev, slot, info) == 0) continue; // a tail that was zeros already
            mutated.Add(p);
        }
        Assert.True(mutated.Count > 100, $"only {mutated.Count} entries to mutate");

        Span<byte> want = stackalloc byte[4096];
        byte[] got = new byte[4096];
        int lost = 0, survived = 0;
        foreach (long p in mutated)
        {
            TestPages.Fill(want, p, 31);
            try
            {
                r.Read(p, got);
                Assert.True(want.SequenceEqual(got), $"page {p} read back wrong after its entry was mutated");
                survived++;
            }
            catch (PageDataLostException)
            {
                lost++;
            }
        }
        Assert.True(lost > mutated.Count / 2, $"{lost} of {mutated.Count} mutations detected");
        // The tier still works: new pages round-trip.
        using Region fresh = tier.Allocate(8L << 20);
        Faults.FaultInjectionTests.WriteAll(fresh, seed: 32);
        Faults.FaultInjectionTests.VerifyAll(fresh, seed: 32, readErrors: false);
        _ = survived;
    }

    [Fact]
    public void WithoutChecksumsCorruptEntriesStillNeverCrash()
    {
        using var tier = new MemoryTier(new TierOptions
        {
            MemoryBytes = 16L << 20,
            Engines = 2,
            Compressor = "snappy",
            Tunables = new Dictionary<string, string> { ["zswap.max_pool_percent"] = "100", ["zswap.shrinker_enabled"] = "N", ["zswap.verify_checksums"] = "N" },
        });
        using Region r = tier.Allocate(24L << 20);
        Faults.FaultInjectionTests.WriteAll(r, seed: 33);
        var rng = new Random(5);
        var mutated = new List<long>();
        int changedBytes = 0;
        for (long p = 0; p < r.PageCount && mutated.Count < 200; p++)
        {
            if (!StoredEntries.TryGetSlot(tier, r, p, out SwapDevice dev, out int slot, out ulong info) || !StoredEntries.InPool(info)) continue;
            byte* obj = StoredEntries.PoolObject(tier, dev, slot, info, out int len);
            if (obj is null) continue;
            // Only entries that really changed count: a zeroed tail may have been zeros already.
            int changed = Mutate(rng, obj, len, dev, slot, info);
            if (changed == 0) continue;
            changedBytes += changed;
            mutated.Add(p);
        }
        Assert.True(mutated.Count > 100, $"only {mutated.Count} entries changed");
        Assert.True(changedBytes > mutated.Count, $"{changedBytes} bytes changed in {mutated.Count} entries");

        // Without checksums nothing vouches for the data: each load either fails or returns something, never crashes.
        Span<byte> want = stackalloc byte[4096];
        byte[] got = new byte[4096];
        int failed = 0, wrong = 0;
        foreach (long p in mutated)
        {
            try
            {
                r.Read(p, got);
                TestPages.Fill(want, p, 33);
                if (!want.SequenceEqual(got)) wrong++;
            }
            catch (PageDataLostException)
            {
                failed++;
            }
        }
        // The mutations were seen: loads failed or gave other data, rather than all coming back as written.
        Assert.True(failed + wrong > mutated.Count / 2, $"of {mutated.Count} changed entries {failed} failed to load and {wrong} loaded wrong");
    }

    /// <summary>
    /// One of: random bytes, a few flipped bits, a zeroed tail (a truncation), or another codec's id. Returns what changed:
    /// the bytes of the object that differ afterwards, plus one for a changed codec id.
    /// </summary>
    private static int Mutate(Random rng, byte* obj, int len, SwapDevice dev, int slot, ulong info)
    {
        var span = new Span<byte>(obj, len);
        byte[] before = span.ToArray();
        int changedId = 0;
        switch (rng.Next(4))
        {
            case 0:
                rng.NextBytes(span);
                break;
            case 1:
                for (int k = rng.Next(1, 5); k > 0; k--) span[rng.Next(len)] ^= (byte)(1 << rng.Next(8));
                break;
            case 2:
                span[rng.Next(len)..].Clear();
                break;
            default:
                // Decoded by another codec (ids 0–7, some of which no codec has): the slot is the test's alone here.
                byte other = (byte)((SlotInfo.CodecId(info) + rng.Next(1, 8)) & 7);
                dev.SetInfo(slot, SlotInfo.Make(SlotInfo.Flags(info), SlotInfo.Group(info), len, other, SlotInfo.Checksum(info)));
                changedId = SlotInfo.CodecId(dev.Info(slot)) != SlotInfo.CodecId(info) ? 1 : 0;
                break;
        }
        int changed = changedId;
        for (int i = 0; i < len; i++) if (span[i] != before[i]) changed++;
        return changed;
    }

    [Theory]
    [InlineData("lz4")]
    [InlineData("zstd")]
    [InlineData("snappy")]
    [InlineData("deflate")]
    public void CodecContextsReturnAStatusForAnyInput(string name)
    {
        ICodec codec = CodecRegistry.Get(name);
        using IPageCodecContext ctx = codec.CreateContext();
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal));
        var page = new byte[4096];
        var packed = new byte[codec.MaxCompressedLength(4096)];
        var output = new byte[4096];
        for (int iter = 0; iter < 2000; iter++)
        {
            TestPages.Fill(page, iter, 41);
            Assert.Equal(CodecStatus.Ok, ctx.Compress(page, packed, out int written) is CodecStatus.Ok or CodecStatus.DidNotFit ? CodecStatus.Ok : CodecStatus.Failed);
            byte[] input;
            switch (iter % 4)
            {
                case 0: input = new byte[rng.Next(0, 5000)]; rng.NextBytes(input); break;
                case 1: input = packed[..Math.Max(0, written)]; for (int k = 0; k < 3 && input.Length > 0; k++) input[rng.Next(input.Length)] ^= (byte)rng.Next(1, 256); break;
                case 2: input = packed[..rng.Next(0, Math.Max(1, written))]; break;
                default: input = [.. packed[..Math.Max(0, written)], .. new byte[rng.Next(1, 64)]]; break;
            }
            CodecStatus s = ctx.Decompress(input, output);
            Assert.True(Enum.IsDefined(s));
            Assert.NotEqual(CodecStatus.DidNotFit, s);
        }
        // The context still works after all that.
        TestPages.Fill(page, 3, 41);
        if (ctx.Compress(page, packed, out int n) == CodecStatus.Ok)
        {
            Assert.Equal(CodecStatus.Ok, ctx.Decompress(packed.AsSpan(0, n), output));
            Assert.Equal(page, output);
        }
    }
}
