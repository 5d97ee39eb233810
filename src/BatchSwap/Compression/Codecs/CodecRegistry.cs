using System.Diagnostics.CodeAnalysis;

namespace BatchSwap.Compression.Codecs;

/// <summary>Codecs by name and id (placeholder until the codec branch lands).</summary>
public static class CodecRegistry
{
    private static readonly ICodec[] All = [new Lz4Codec()];

    /// <summary>Accepted names.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(c => c.Name).ToArray();

    /// <summary>Looks a codec up by name.</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out ICodec? codec)
    {
        codec = All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
        return codec is not null;
    }

    /// <summary>Looks a codec up by name or throws.</summary>
    public static ICodec Get(string name) => TryGet(name, out ICodec? c) ? c
        : throw new ArgumentException($"unknown compressor '{name}'; accepted: {string.Join(", ", Names)}");

    /// <summary>Looks a codec up by id.</summary>
    public static ICodec? ById(byte id) => All.FirstOrDefault(c => c.Id == id);
}
