using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace BatchSwap.Compression.Codecs;

/// <summary>
/// The codecs selectable as <c>zswap.compressor</c>, by name (case-insensitive) and by the <see cref="ICodec.Id"/>
/// stored with every compressed entry. Instances use each codec's default configuration and are shared: codecs are
/// stateless, all state lives in the contexts they create.
/// </summary>
public static class CodecRegistry
{
    /// <summary>Every registered codec, in <see cref="Names"/> order.</summary>
    private static readonly ICodec[] s_codecs =
    [
        new Lz4Codec(), new ZstdCodec(), new SnappyCodec(), new DeflateCodec(),
        new DeflateCodec(DeflateCodec.FastLevel, "deflate-fast", DeflateCodec.FastCodecId),
    ];

    /// <summary>Codecs by name, ignoring case.</summary>
    private static readonly FrozenDictionary<string, ICodec> s_byName =
        s_codecs.ToFrozenDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Codecs indexed by id (null where no codec has that id).</summary>
    private static readonly ICodec?[] s_byId = BuildIdTable();

    /// <summary>The accepted names, in registration order, joined for error messages.</summary>
    private static readonly string s_accepted = string.Join(", ", s_codecs.Select(c => c.Name));

    /// <summary>The accepted names in registration order: lz4, zstd, snappy, deflate, deflate-fast.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(s_codecs.Select(c => c.Name).ToArray());

    /// <summary>Every registered codec in <see cref="Names"/> order.</summary>
    public static IReadOnlyList<ICodec> All { get; } = Array.AsReadOnly(s_codecs);

    /// <summary>Finds a codec by name, ignoring case.</summary>
    /// <param name="name">A codec name such as "lz4"; null finds nothing.</param>
    /// <param name="codec">The codec, or null when the name is unknown.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryGet(string? name, [NotNullWhen(true)] out ICodec? codec)
    {
        if (name is null)
        {
            codec = null;
            return false;
        }

        return s_byName.TryGetValue(name, out codec);
    }

    /// <summary>Returns the codec with the given name, ignoring case.</summary>
    /// <param name="name">A codec name such as "lz4".</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the accepted names.</exception>
    public static ICodec Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!s_byName.TryGetValue(name, out ICodec? codec))
        {
            throw new ArgumentException($"unknown compressor '{name}'; accepted: {s_accepted}");
        }

        return codec;
    }

    /// <summary>Finds the codec that wrote entries tagged with <paramref name="id"/>.</summary>
    /// <param name="id">A codec id as stored with an entry.</param>
    /// <param name="codec">The codec, or null when no codec has that id.</param>
    /// <returns>Whether the id is known.</returns>
    public static bool TryGetById(byte id, [NotNullWhen(true)] out ICodec? codec)
    {
        codec = s_byId[id];
        return codec is not null;
    }

    /// <summary>Returns the codec that wrote entries tagged with <paramref name="id"/>.</summary>
    /// <param name="id">A codec id as stored with an entry.</param>
    /// <exception cref="ArgumentException">No codec has that id.</exception>
    public static ICodec GetById(byte id) =>
        s_byId[id] ?? throw new ArgumentException($"unknown codec id {id}; accepted: {string.Join(", ", s_codecs.Select(c => $"{c.Id} ({c.Name})"))}");

    /// <summary>Builds the id lookup table and checks that ids and names are unique.</summary>
    private static ICodec?[] BuildIdTable()
    {
        var table = new ICodec?[256];
        foreach (ICodec codec in s_codecs)
        {
            if (table[codec.Id] is not null)
            {
                throw new InvalidOperationException($"codec id {codec.Id} is used by both {table[codec.Id]!.Name} and {codec.Name}");
            }

            table[codec.Id] = codec;
        }

        return table;
    }
}
