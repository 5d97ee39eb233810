using K4os.Compression.LZ4;

namespace BatchSwap.Compression.Codecs;

/// <summary>LZ4 (placeholder until the codec branch lands).</summary>
public sealed class Lz4Codec : ICodec
{
    /// <inheritdoc/>
    public string Name => "lz4";
    /// <inheritdoc/>
    public byte Id => 1;
    /// <inheritdoc/>
    public int MaxCompressedLength(int inputLength) => LZ4Codec.MaximumOutputSize(inputLength);
    /// <inheritdoc/>
    public IPageCodecContext CreateContext() => new Context();

    private sealed class Context : IPageCodecContext
    {
        public CodecStatus Compress(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
        {
            written = LZ4Codec.Encode(source, destination);
            if (written <= 0) { written = 0; return CodecStatus.DidNotFit; }
            return CodecStatus.Ok;
        }

        public CodecStatus Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            int n = LZ4Codec.Decode(source, destination);
            return n == destination.Length ? CodecStatus.Ok : CodecStatus.CorruptInput;
        }

        public void Dispose() { }
    }
}
