using System.Runtime.CompilerServices;
using Snappier;

namespace BatchSwap.Compression.Codecs;

/// <summary>
/// Raw Snappy block format (varint length + tagged elements, no framing) through Snappier.
/// </summary>
/// <remarks>
/// Snappier's public one-shot API (<see cref="Snappy.TryCompress"/>, <see cref="Snappy.TryDecompress"/>) allocates a
/// compressor/decompressor object on every call (48/80 bytes per page) and reports bad data by throwing.
/// To keep the hot path allocation-free, each context creates Snappier's own internal
/// <c>SnappyCompressor</c>/<c>SnappyDecompressor</c> once (through <see cref="UnsafeAccessorAttribute"/>; the package
/// version is pinned) and reuses them. If those internals are missing (a different Snappier version), the codec
/// falls back to the public API, which is correct but allocates; <see cref="Backend"/> tells which one is in use.
/// </remarks>
public sealed class SnappyCodec : ICodec
{
    /// <summary>The stable codec id stored with every entry.</summary>
    public const byte CodecId = 3;

    /// <summary>The <see cref="Backend"/> value when Snappier's internal reusable (de)compressor is used.</summary>
    public const string ReusableBackend = "snappier-reusable";

    /// <summary>The <see cref="Backend"/> value when Snappier's public, allocating one-shot API is used.</summary>
    public const string PublicApiBackend = "snappier-public";

    /// <summary>Assembly-qualified name of Snappier's internal block compressor.</summary>
    private const string CompressorType = "Snappier.Internal.SnappyCompressor, Snappier";

    /// <summary>Assembly-qualified name of Snappier's internal block decompressor.</summary>
    private const string DecompressorType = "Snappier.Internal.SnappyDecompressor, Snappier";

    /// <summary>Whether Snappier's internals bind; probed once per process.</summary>
    private static readonly Lazy<bool> s_reusableAvailable = new(ProbeReusable);

    /// <summary>Whether contexts of this codec use the reusable internals.</summary>
    private readonly bool _reusable;

    /// <summary>Creates a Snappy codec.</summary>
    /// <param name="preferReusable">Use Snappier's reusable internals when they bind; <see langword="false"/> forces the public API.</param>
    public SnappyCodec(bool preferReusable = true) => _reusable = preferReusable && s_reusableAvailable.Value;

    /// <summary>Which Snappier entry points the contexts use (<see cref="ReusableBackend"/> or <see cref="PublicApiBackend"/>).</summary>
    public string Backend => _reusable ? ReusableBackend : PublicApiBackend;

    /// <inheritdoc />
    public string Name => "snappy";

    /// <inheritdoc />
    public byte Id => CodecId;

    /// <inheritdoc />
    public int MaxCompressedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        return Snappy.GetMaxCompressedLength(inputLength);
    }

    /// <inheritdoc />
    public IPageCodecContext CreateContext() => _reusable ? new ReusableContext() : new PublicApiContext();

    /// <summary>Reads the varint32 uncompressed-length preamble; false if it is malformed or truncated.</summary>
    private static bool TryReadLength(ReadOnlySpan<byte> source, out uint length)
    {
        length = 0;
        for (int i = 0; i < 5 && i < source.Length; i++)
        {
            byte b = source[i];
            if (i == 4 && b > 0x0F)
            {
                return false;
            }

            length |= (uint)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when Snappier's internal types and members used by <see cref="ReusableContext"/> bind.</summary>
    private static bool ProbeReusable()
    {
        try
        {
            var compressor = Internals.NewCompressor();
            var decompressor = Internals.NewDecompressor();
            Span<byte> page = stackalloc byte[64];
            page.Fill(7);
            Span<byte> packed = stackalloc byte[Snappy.GetMaxCompressedLength(page.Length)];
            Span<byte> back = stackalloc byte[page.Length];
            bool ok = Internals.TryCompress(compressor, page, packed, out int n);
            Internals.Reset(decompressor);
            Internals.Decompress(decompressor, packed[..n]);
            ok = ok && Internals.AllDataDecompressed(decompressor) && Internals.GetUnreadBytes(decompressor) == page.Length
                 && Internals.Read(decompressor, back) == page.Length && back.SequenceEqual(page);
            ((IDisposable)compressor).Dispose();
            ((IDisposable)decompressor).Dispose();
            return ok;
        }
        catch (Exception e) when (e is MissingMemberException or TypeLoadException or InvalidCastException or FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Bad-data exceptions Snappier's decoder throws.</summary>
    private static bool IsBadData(Exception e) =>
        e is InvalidDataException or InvalidOperationException or ArgumentException or IndexOutOfRangeException;

    /// <summary>Reuses one Snappier internal compressor (hash table) and decompressor (lookback buffer).</summary>
    private sealed class ReusableContext : IPageCodecContext
    {
        /// <summary>Snappier.Internal.SnappyCompressor; keeps its pooled hash table between pages.</summary>
        private readonly object _compressor = Internals.NewCompressor();

        /// <summary>Snappier.Internal.SnappyDecompressor; keeps its pooled lookback buffer between pages.</summary>
        private readonly object _decompressor = Internals.NewDecompressor();

        /// <summary>Bound-sized output for destinations smaller than the bound.</summary>
        private byte[] _scratch = new byte[Snappy.GetMaxCompressedLength(BatchSwap.Memory.PageSize.Bytes)];

        /// <summary>Set once <see cref="Dispose"/> has run.</summary>
        private bool _disposed;

        public CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            written = 0;
            int bound = Snappy.GetMaxCompressedLength(source.Length);
            if (destination.Length >= bound)
            {
                return Internals.TryCompress(_compressor, source, destination, out written) ? CodecStatus.Ok : CodecStatus.Failed;
            }

            if (_scratch.Length < bound)
            {
                _scratch = new byte[bound];
            }

            if (!Internals.TryCompress(_compressor, source, _scratch, out int n))
            {
                return CodecStatus.Failed;
            }

            if (n > destination.Length)
            {
                return CodecStatus.DidNotFit;
            }

            _scratch.AsSpan(0, n).CopyTo(destination);
            written = n;
            return CodecStatus.Ok;
        }

        public CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // Checking the preamble first also stops a corrupt length from sizing Snappier's buffer.
            if (!TryReadLength(source, out uint length) || length != (uint)destination.Length)
            {
                return CodecStatus.CorruptInput;
            }

            try
            {
                Internals.Reset(_decompressor);
                Internals.Decompress(_decompressor, source);
                if (!Internals.AllDataDecompressed(_decompressor) || Internals.GetUnreadBytes(_decompressor) != destination.Length)
                {
                    return CodecStatus.CorruptInput;
                }

                return Internals.Read(_decompressor, destination) == destination.Length ? CodecStatus.Ok : CodecStatus.CorruptInput;
            }
            catch (Exception e) when (IsBadData(e))
            {
                return CodecStatus.CorruptInput;
            }
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            ((IDisposable)_compressor).Dispose();
            ((IDisposable)_decompressor).Dispose();
        }
    }

    /// <summary>Snappier's public one-shot API: correct, but allocates per call.</summary>
    private sealed class PublicApiContext : IPageCodecContext
    {
        /// <summary>Set once <see cref="Dispose"/> has run.</summary>
        private bool _disposed;

        public CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Snappy.TryCompress(source, destination, out written))
            {
                return CodecStatus.Ok;
            }

            written = 0;
            return CodecStatus.DidNotFit;
        }

        public CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryReadLength(source, out uint length) || length != (uint)destination.Length)
            {
                return CodecStatus.CorruptInput;
            }

            try
            {
                return Snappy.TryDecompress(source, destination, out int n) && n == destination.Length ? CodecStatus.Ok : CodecStatus.CorruptInput;
            }
            catch (Exception e) when (IsBadData(e))
            {
                return CodecStatus.CorruptInput;
            }
        }

        public void Dispose() => _disposed = true;
    }

    /// <summary>Allocation-free bindings to Snappier 1.3.x internals.</summary>
    private static class Internals
    {
        [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
        [return: UnsafeAccessorType(CompressorType)]
        public static extern object NewCompressor();

        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "TryCompress")]
        public static extern bool TryCompress([UnsafeAccessorType(CompressorType)] object compressor, ReadOnlySpan<byte> input, Span<byte> output, out int written);

        [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
        [return: UnsafeAccessorType(DecompressorType)]
        public static extern object NewDecompressor();

        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Reset")]
        public static extern void Reset([UnsafeAccessorType(DecompressorType)] object decompressor);

        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Decompress")]
        public static extern void Decompress([UnsafeAccessorType(DecompressorType)] object decompressor, ReadOnlySpan<byte> input);

        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_AllDataDecompressed")]
        public static extern bool AllDataDecompressed([UnsafeAccessorType(DecompressorType)] object decompressor);

        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_UnreadBytes")]
        public static extern int GetUnreadBytes([UnsafeAccessorType(DecompressorType)] object decompressor);

        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Read")]
        public static extern int Read([UnsafeAccessorType(DecompressorType)] object decompressor, Span<byte> output);
    }
}
