using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace BatchSwap.Workloads.PageSources;

/// <summary>
/// The built-in page source: a seeded, deterministic set of pages with a realistic mix of contents, so the tool runs
/// with no page image at all. All pages are generated once, at construction, into page-aligned native memory;
/// <see cref="GetPage"/> is then a slice with no allocation. Dispose to free the memory.
/// </summary>
/// <remarks>
/// <para>The default mix (<see cref="GeneratedPageMix.Default"/>) is 10% zero pages, 5% same-filled pages, 35%
/// pointer/integer-like pages, 35% text-like pages and 15% random pages, with exact counts, placed in a seeded shuffled
/// order. Measured with K4os LZ4 (L00_FAST, one page at a time, as zswap compresses; seeds 1, 2, 42; 4096 pages):
/// pointer-like pages about 3.4:1, text-like about 3.6:1, zero about 158:1, same-filled about 135:1, random 0.996:1
/// (LZ4 output slightly larger than the page), and the whole source about 2.85:1 — below a Python heap image
/// (3.7:1 with the same measure), well above already-compressed media (1.06:1).</para>
/// <para>Pointer-like pages are 70% arrays of small objects (reference count, type pointer shared across the source,
/// nearby heap pointers, small integers, zero padding, flags, an occasional hash or inline name), 10% reference
/// vectors and 20% arrays of 64-bit integers. Text-like pages are, in equal shares, JSON records (compact or
/// indented, one schema per page), log lines, XML property lists and NUL-separated identifier tables; each page
/// draws its words from a topic of 6–12 words of a small embedded vocabulary.</para>
/// <para>Page <c>k</c> depends only on the seed, the page count and mix (which fix <c>k</c>'s kind), and <c>k</c> itself, so its contents are the same on
/// every run and every machine (.NET's own <see cref="System.Random"/> is not used).</para>
/// </remarks>
public sealed class GeneratedPageSource : IDisposablePageSource
{
    /// <summary>Default number of pages: 4096 pages = 16 MiB, small enough to keep the process's baseline RSS low.</summary>
    public const int DefaultPageCount = 4096;

    // Words for text-like pages: keys, identifiers, log and code vocabulary.
    private static readonly string[] Vocabulary =
    [
        "id", "name", "value", "type", "status", "count", "user", "user_id", "session", "request", "response", "error",
        "message", "created_at", "updated_at", "timestamp", "enabled", "active", "pending", "closed", "items", "tags",
        "config", "cache", "index", "buffer", "offset", "length", "size", "data", "key", "path", "url", "host", "port",
        "method", "handler", "worker", "queue", "task", "result", "score", "level", "parent", "children", "node",
        "get", "set", "update", "delete", "create", "load", "save", "parse", "format", "read", "write", "open",
        "self", "return", "import", "class", "def", "None", "True", "False", "null", "true", "false", "list", "dict",
        "str", "int", "float", "object", "module", "function", "args", "kwargs", "init", "version", "default",
    ];

    // Log levels for log-line pages.
    private static readonly string[] LogLevels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];

    // HTTP methods for log-line pages.
    private static readonly string[] HttpMethods = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];

    // Non-zero 8-byte words common in real memory, for same-filled pages.
    private static readonly ulong[] FillWords =
    [
        0xFFFFFFFFFFFFFFFFUL, 0x0101010101010101UL, 0xAAAAAAAAAAAAAAAAUL, 0x5555555555555555UL,
        0xDEADBEEFDEADBEEFUL, 0x2020202020202020UL, 0x00000000FFFFFFFFUL, 0x6B6B6B6B6B6B6B6BUL,
    ];

    // The pages, owned by this object.
    private readonly NativePageBuffer _buffer;

    // The kind of every page, indexed by page.
    private readonly GeneratedPageKind[] _kinds;

    // Pages of each kind, indexed by GeneratedPageKind.
    private readonly int[] _kindCounts;

    /// <summary>Generates <paramref name="pageCount"/> pages with the default mix.</summary>
    /// <param name="seed">Any value; the same seed always gives the same pages.</param>
    /// <param name="pageCount">Number of distinct pages (N), at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageCount"/> is less than 1.</exception>
    public GeneratedPageSource(int seed, int pageCount = DefaultPageCount)
        : this(seed, pageCount, GeneratedPageMix.Default)
    {
    }

    /// <summary>Generates <paramref name="pageCount"/> pages with the given mix.</summary>
    /// <param name="seed">Any value; the same seed, count and mix always give the same pages.</param>
    /// <param name="pageCount">Number of distinct pages (N), at least 1.</param>
    /// <param name="mix">Relative weights of the page kinds.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageCount"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="mix"/> has a negative or non-finite weight, or no positive one.</exception>
    public GeneratedPageSource(int seed, int pageCount, GeneratedPageMix mix)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        Seed = seed;
        Mix = mix;
        _kindCounts = mix.Apportion(pageCount);
        _kinds = AssignKinds(seed, pageCount, _kindCounts);
        Description = mix == GeneratedPageMix.Default
            ? $"built-in mix, seed {seed}, {pageCount} pages"
            : $"built-in mix {FormatMix(mix)}, seed {seed}, {pageCount} pages";

        _buffer = new NativePageBuffer(pageCount);
        try
        {
            ulong sourceKey = SplitMix64.Mix((ulong)(uint)seed ^ 0xB5AD4ECEDA1CE2A9UL);
            var space = new AddressSpace(sourceKey);
            Parallel.For(0, pageCount, index => GeneratePage(_buffer.GetWritablePage(index), _kinds[index], sourceKey, index, space));
            _buffer.SetPageCount(pageCount);
        }
        catch
        {
            _buffer.Dispose();
            throw;
        }
    }

    /// <summary>The seed the pages were generated from.</summary>
    public int Seed { get; }

    /// <summary>The mix the pages were generated with.</summary>
    public GeneratedPageMix Mix { get; }

    /// <inheritdoc />
    public long PageCount => _buffer.PageCount;

    /// <summary>"built-in mix, seed 1, 4096 pages" (the weights are listed when the mix is not the default).</summary>
    public string Description { get; }

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetPage(long index) => _buffer.GetPage(index);

    /// <summary>The kind of page <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, PageCount).</exception>
    public GeneratedPageKind GetKind(long index)
    {
        if ((ulong)index >= (ulong)_kinds.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Page index must be in [0, {_kinds.Length}).");
        }

        return _kinds[index];
    }

    /// <summary>Number of pages of <paramref name="kind"/>.</summary>
    public int CountOf(GeneratedPageKind kind) => (uint)kind < (uint)_kindCounts.Length ? _kindCounts[(int)kind] : 0;

    /// <summary>Frees the pages. Spans obtained earlier must no longer be used.</summary>
    public void Dispose() => _buffer.Dispose();

    // Lists the kinds (with exact counts) and shuffles them with the seed (Fisher–Yates).
    private static GeneratedPageKind[] AssignKinds(int seed, int pageCount, int[] counts)
    {
        var kinds = new GeneratedPageKind[pageCount];
        int next = 0;
        for (int k = 0; k < counts.Length; k++)
        {
            kinds.AsSpan(next, counts[k]).Fill((GeneratedPageKind)k);
            next += counts[k];
        }

        var rng = new PageRng(SplitMix64.Mix((ulong)(uint)seed ^ 0x5DEECE66DUL));
        for (int i = pageCount - 1; i > 0; i--)
        {
            int j = (int)rng.Below((uint)(i + 1));
            (kinds[i], kinds[j]) = (kinds[j], kinds[i]);
        }

        return kinds;
    }

    // "(zero 0.1, same 0.05, ...)" for descriptions of non-default mixes.
    private static string FormatMix(GeneratedPageMix mix) =>
        FormattableString.Invariant(
            $"(zero {mix.Zero:0.###}, same-filled {mix.SameFilled:0.###}, pointer {mix.PointerLike:0.###}, text {mix.TextLike:0.###}, random {mix.Random:0.###})");

    // Writes the contents of one page; depends only on the source key, the kind and the index.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GeneratePage(Span<byte> page, GeneratedPageKind kind, ulong sourceKey, long index, AddressSpace space)
    {
        var rng = new PageRng(SplitMix64.Mix(sourceKey ^ ((ulong)index * 0x9E3779B97F4A7C15UL) ^ ((ulong)kind << 56)));
        switch (kind)
        {
            case GeneratedPageKind.Zero:
                page.Clear();
                break;
            case GeneratedPageKind.SameFilled:
                FillSameWord(page, ref rng);
                break;
            case GeneratedPageKind.PointerLike:
                PointerPages.Fill(page, ref rng, space);
                break;
            case GeneratedPageKind.TextLike:
                TextPages.Fill(page, ref rng);
                break;
            default:
                rng.Fill(page);
                break;
        }
    }

    // One non-zero word repeated: half the time a common pattern, else a random word.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillSameWord(Span<byte> page, ref PageRng rng)
    {
        ulong word = rng.Below(2) == 0 ? FillWords[rng.Below((uint)FillWords.Length)] : rng.Next() | 1;
        for (int offset = 0; offset < page.Length; offset += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(page[offset..], word);
        }
    }

    /// <summary>Addresses shared by every pointer-like page of one source, as in one process.</summary>
    private sealed class AddressSpace
    {
        // Start of the brk heap (0x0000_55xx_xxxx_x000, as for a PIE binary).
        public readonly ulong HeapBase;

        // Start of the mmap area (0x0000_7fxx_xxxx_x000: arenas, shared libraries).
        public readonly ulong MmapBase;

        // Addresses of "type objects" / vtables inside a library, pointed to by object headers.
        public readonly ulong[] TypePointers;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public AddressSpace(ulong sourceKey)
        {
            var rng = new PageRng(SplitMix64.Mix(sourceKey ^ 0xA0761D6478BD642FUL));
            HeapBase = 0x0000_5500_0000_0000UL | ((rng.Next() & 0xFF_FFFF_F000UL) & ~0xFFFFFFUL);
            MmapBase = 0x0000_7F00_0000_0000UL | ((rng.Next() & 0xFF_FFFF_F000UL) & ~0xFFFFFFUL);
            ulong library = MmapBase + 0x4000_0000UL + (rng.Next() & 0x0FFF_F000UL);
            TypePointers = new ulong[24];
            for (int i = 0; i < TypePointers.Length; i++)
            {
                TypePointers[i] = library + (rng.Next() & 0x3F_FFF0UL);
            }
        }
    }

    /// <summary>Heap-like pages of 64-bit words.</summary>
    private static class PointerPages
    {
        // The role of one 8-byte slot of a struct layout.
        private enum Slot : byte
        {
            TypePointer, RefCount, HeapPointer, SmallInt, Zero, Size, Hash, Flags, InlineText,
        }

        // Fills a page with one of three layouts: struct array (most), pointer vector, or integer array.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Fill(Span<byte> page, ref PageRng rng, AddressSpace space)
        {
            // The page's neighbourhood: pointers on it mostly point within a few hundred KiB of here.
            ulong region = rng.Below(3) == 0 ? space.MmapBase : space.HeapBase;
            ulong near = region + ((rng.Next() & 0x0FFF_FFFFUL) & ~0xFFFUL);
            uint style = rng.Below(10);
            if (style < 7)
            {
                FillStructs(page, ref rng, space, near);
            }
            else if (style < 8)
            {
                FillPointerVector(page, ref rng, near);
            }
            else
            {
                FillIntegers(page, ref rng);
            }
        }

        // An array of small objects sharing one layout (a header of reference count and type pointer, then fields,
        // sometimes an inline zero-padded name as in a string object), with occasional free chunks of zeros.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void FillStructs(Span<byte> page, ref PageRng rng, AddressSpace space, ulong near)
        {
            int slots = 3 + (int)rng.Below(6);
            Span<Slot> layout = stackalloc Slot[slots];
            Span<ulong> typeOf = stackalloc ulong[slots];
            Span<ulong> hot = stackalloc ulong[4];
            for (int h = 0; h < hot.Length; h++)
            {
                hot[h] = near + (rng.Below(1 << 16) & ~0xFUL);
            }

            layout[0] = Slot.RefCount;
            layout[1] = Slot.TypePointer;
            for (int s = 2; s < slots; s++)
            {
                uint r = rng.Below(100);
                layout[s] = r switch
                {
                    < 10 => Slot.TypePointer,
                    < 28 => Slot.HeapPointer,
                    < 44 => Slot.SmallInt,
                    < 72 => Slot.Zero,
                    < 80 => Slot.Size,
                    < 90 => Slot.Flags,
                    < 93 => Slot.Hash,
                    _ => Slot.InlineText,
                };
            }

            for (int s = 0; s < slots; s++)
            {
                typeOf[s] = space.TypePointers[rng.Below((uint)space.TypePointers.Length)];
            }

            Span<byte> topic = stackalloc byte[TextPages.MaxTopicWords];
            topic = TextPages.PickTopic(topic, ref rng);
            ulong salt = rng.Next();
            int words = page.Length / sizeof(ulong);
            int w = 0;
            while (w < words)
            {
                if (rng.Below(100) < 4)
                {
                    // A free chunk: a size word, then zeros.
                    int gap = 2 + (int)rng.Below(16);
                    Put(page, w, (ulong)(gap * 8) | 1);
                    for (int z = 1; z < gap && w + z < words; z++)
                    {
                        Put(page, w + z, 0);
                    }

                    w += gap;
                    continue;
                }

                for (int s = 0; s < slots && w < words; s++)
                {
                    if (layout[s] == Slot.InlineText)
                    {
                        w += PutInlineText(page, w, ref rng, topic, salt);
                        continue;
                    }

                    Put(page, w, SlotValue(layout[s], typeOf[s], ref rng, near, hot, slots));
                    w++;
                }
            }
        }

        // The value of one slot of one object.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static ulong SlotValue(Slot slot, ulong typePointer, ref PageRng rng, ulong near, ReadOnlySpan<ulong> hot, int slots) => slot switch
        {
            Slot.TypePointer => rng.Below(8) == 0 ? typePointer + 0x40 : typePointer,
            Slot.RefCount => rng.Below(4) == 0 ? 1 + rng.Below(64) : 1 + rng.Below(3),
            Slot.HeapPointer => rng.Below(8) switch
            {
                0 => 0,
                < 6 => hot[(int)rng.Below((uint)hot.Length)],
                _ => near + (rng.Below(1 << 16) & ~0xFUL),
            },
            Slot.SmallInt => rng.Below(4) == 0 ? rng.Below(65536) : rng.Below(16),
            Slot.Zero => 0,
            Slot.Size => (ulong)(slots * 8) + (rng.Below(4) * 16),
            Slot.Flags => rng.Below(4) == 0 ? 0xE4UL | (rng.Below(4) << 8) : 0xE4UL,
            _ => rng.Next(),
        };

        // A snake_case name from the vocabulary, NUL-terminated and zero-padded to whole words; returns the words used.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int PutInlineText(Span<byte> page, int word, ref PageRng rng, scoped ReadOnlySpan<byte> topic, ulong salt)
        {
            int start = word * sizeof(ulong);
            int limit = Math.Min(page.Length, start + 48);
            var writer = new PageWriter(page[start..limit]);
            TextPages.Identifier(ref writer, ref rng, topic, salt);
            int end = start + writer.Position;
            int padded = Math.Min(limit, (end + 1 + 7) & ~7);
            page[end..padded].Clear();
            return Math.Max(1, (padded - start) / sizeof(ulong));
        }

        // A vector of references (a list's item array): nulls, repeated references to a few shared objects
        // (None, True, small ints), and pointers to objects of one size, mostly ascending.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void FillPointerVector(Span<byte> page, ref PageRng rng, ulong near)
        {
            Span<ulong> shared = stackalloc ulong[4];
            for (int h = 0; h < shared.Length; h++)
            {
                shared[h] = near + (rng.Below(1 << 16) & ~0xFUL);
            }

            ulong stride = 16UL << (int)rng.Below(4);
            ulong address = near + (rng.Below(1 << 12) & ~0xFUL);
            int words = page.Length / sizeof(ulong);
            for (int w = 0; w < words; w++)
            {
                uint r = rng.Below(16);
                if (r < 4)
                {
                    Put(page, w, 0);
                }
                else if (r < 10)
                {
                    Put(page, w, shared[(int)rng.Below((uint)shared.Length)]);
                }
                else
                {
                    address += r < 15 ? stride : stride * (1 + rng.Below(64));
                    Put(page, w, address);
                }
            }
        }

        // Integer arrays (counters, enum values, lengths): 64-bit values, often repeating the previous one,
        // else drawn from a few values common on the page or small.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void FillIntegers(Span<byte> page, ref PageRng rng)
        {
            Span<uint> common = stackalloc uint[8];
            for (int c = 0; c < common.Length; c++)
            {
                common[c] = rng.Below(4) == 0 ? rng.Below(1 << 20) : rng.Below(256);
            }

            int values = page.Length / sizeof(ulong);
            uint previous = 0;
            for (int v = 0; v < values; v++)
            {
                uint value = rng.Below(8) switch
                {
                    < 3 => previous,
                    < 6 => common[(int)rng.Below((uint)common.Length)],
                    6 => previous + 1,
                    _ => rng.Below(1024),
                };
                Put(page, v, value);
                previous = value;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
        private static void Put(Span<byte> page, int word, ulong value) =>
            BinaryPrimitives.WriteUInt64LittleEndian(page[(word * sizeof(ulong))..], value);
    }

    /// <summary>ASCII pages: JSON records (compact or indented), log lines, XML property lists, identifier string tables.</summary>
    private static class TextPages
    {
        // Fills the page with one text style, cutting the last record at the page end. A page draws its words from a
        // topic of a few vocabulary words and its JSON records share one schema, as real buffers of one kind do.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Fill(Span<byte> page, ref PageRng rng)
        {
            var writer = new PageWriter(page);
            Span<byte> topic = stackalloc byte[MaxTopicWords];
            topic = PickTopic(topic, ref rng);
            Span<byte> schema = stackalloc byte[6];
            schema = PickTopic(schema[..(3 + (int)rng.Below(4))], ref rng);
            ulong salt = rng.Next();
            uint style = rng.Below(4);
            bool pretty = rng.Below(2) == 0;
            long clock = 1_700_000_000 + rng.Below(1 << 24);
            uint id = rng.Below(100_000);
            while (!writer.Full)
            {
                switch (style)
                {
                    case 0:
                        JsonRecord(ref writer, ref rng, ref id, pretty, topic, salt, schema);
                        break;
                    case 1:
                        LogLine(ref writer, ref rng, ref clock, topic);
                        break;
                    case 2:
                        PropertyList(ref writer, ref rng, topic, salt);
                        break;
                    default:
                        // A string table: NUL-separated names, most sharing the page's prefix.
                        writer.Put(Vocabulary[topic[0]]);
                        writer.Put((byte)'_');
                        if (rng.Below(4) != 0)
                        {
                            writer.Put(Vocabulary[topic[1]]);
                            writer.Put((byte)'_');
                        }

                        Identifier(ref writer, ref rng, topic, salt);
                        writer.Put(0);
                        break;
                }
            }
        }

        // Most words a topic holds.
        public const int MaxTopicWords = 12;

        // Fills (a prefix of) topic with distinct-ish vocabulary indices; returns the part used.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static Span<byte> PickTopic(Span<byte> topic, ref PageRng rng)
        {
            int count = topic.Length == MaxTopicWords ? 6 + (int)rng.Below(MaxTopicWords - 5) : topic.Length;
            for (int i = 0; i < count; i++)
            {
                topic[i] = (byte)rng.Below((uint)Vocabulary.Length);
            }

            return topic[..count];
        }

        // {"id": 4821, "name": "user_cache", "status": true, "tags": ["index", "queue"]}
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void JsonRecord(ref PageWriter writer, ref PageRng rng, ref uint id, bool pretty, scoped ReadOnlySpan<byte> topic, ulong salt, scoped ReadOnlySpan<byte> schema)
        {
            writer.Put(pretty ? "  {\n    \"id\": " : "{\"id\": ");
            writer.Put(id += 1 + rng.Below(3));
            for (int f = 0; f < schema.Length; f++)
            {
                writer.Put(pretty ? ",\n    \"" : ", \"");
                writer.Put(Vocabulary[schema[f]]);
                writer.Put("\": ");
                switch ((schema[f] + f) % 5)
                {
                    case 0:
                        writer.Put(rng.Below(4) == 0 ? rng.Below(1000) : rng.Below(10));
                        break;
                    case 1:
                        writer.Put(rng.Below(4) == 0 ? "false" : "true");
                        break;
                    case 2:
                        writer.Put("[\"");
                        writer.Put(Word(ref rng, topic));
                        writer.Put("\", \"");
                        writer.Put(Word(ref rng, topic));
                        writer.Put("\"]");
                        break;
                    default:
                        writer.Put((byte)'"');
                        Identifier(ref writer, ref rng, topic, salt);
                        writer.Put((byte)'"');
                        break;
                }
            }

            writer.Put(pretty ? "\n  },\n" : "}\n");
        }

        // An indented XML property list entry, as in configuration and plist buffers:
        //     <key>cache_size</key>
        //     <integer>16</integer>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void PropertyList(ref PageWriter writer, ref PageRng rng, scoped ReadOnlySpan<byte> topic, ulong salt)
        {
            writer.Put("\t\t<key>");
            Identifier(ref writer, ref rng, topic, salt);
            writer.Put("</key>\n\t\t");
            switch (rng.Below(4))
            {
                case 0:
                    writer.Put("<integer>");
                    writer.Put(rng.Below(20));
                    writer.Put("</integer>\n");
                    break;
                case 1:
                    writer.Put(rng.Below(3) == 0 ? "<false/>\n" : "<true/>\n");
                    break;
                default:
                    writer.Put("<string>");
                    Identifier(ref writer, ref rng, topic, salt);
                    writer.Put("</string>\n");
                    break;
            }
        }

        // 2023-11-14 22:13:20 INFO worker-3 cache_handler: GET /api/v1/user/4821 status=200 took=12ms
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void LogLine(ref PageWriter writer, ref PageRng rng, ref long clock, scoped ReadOnlySpan<byte> topic)
        {
            clock += rng.Below(4) == 0 ? 1 : 0;
            DateTime time = DateTime.UnixEpoch.AddSeconds(clock);
            writer.Put(time);
            writer.Put((byte)' ');
            writer.Put(LogLevels[rng.Below((uint)LogLevels.Length)]);
            writer.Put(" worker-");
            writer.Put(rng.Below(4));
            writer.Put((byte)' ');
            writer.Put(Word(ref rng, topic));
            writer.Put("_handler: ");
            writer.Put(HttpMethods[rng.Below((uint)HttpMethods.Length)]);
            writer.Put(" /api/v1/");
            writer.Put(Word(ref rng, topic));
            writer.Put((byte)'/');
            writer.Put(rng.Below(100));
            writer.Put(" status=");
            writer.Put(rng.Below(10) == 0 ? 404u : 200u);
            writer.Put(" took=");
            writer.Put(rng.Below(20));
            writer.Put("ms\n");
        }

        // Distinct identifiers a page uses at most.
        private const int IdentifierPoolSize = 16;

        // A snake_case identifier of one to three topic words, one of a pool of identifiers fixed per page
        // (identifier k is always spelled the same for a given salt), so names repeat as real keys do.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Identifier(ref PageWriter writer, ref PageRng rng, scoped ReadOnlySpan<byte> topic, ulong salt)
        {
            uint k = rng.Below(IdentifierPoolSize);
            var spelling = new PageRng(salt ^ (rng.Below(2) == 0 ? k / 3 : k));
            int parts = 1 + (int)spelling.Below(3);
            for (int p = 0; p < parts; p++)
            {
                if (p > 0)
                {
                    writer.Put((byte)'_');
                }

                writer.Put(Vocabulary[topic[(int)spelling.Below((uint)topic.Length)]]);
            }
        }

        // A word of the topic, skewed towards its first words (as real keys repeat).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static string Word(ref PageRng rng, scoped ReadOnlySpan<byte> topic)
        {
            uint r = rng.Below((uint)topic.Length);
            return Vocabulary[topic[(int)(rng.Below(2) == 0 ? r / 2 : r)]];
        }
    }

    /// <summary>Appends ASCII to a page, silently dropping what does not fit.</summary>
    private ref struct PageWriter
    {
        // The page being written.
        private readonly Span<byte> _page;

        // Bytes written so far.
        private int _position;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public PageWriter(Span<byte> page)
        {
            _page = page;
            _position = 0;
        }

        public readonly bool Full => _position >= _page.Length;

        public readonly int Position => _position;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Put(byte value)
        {
            if (_position < _page.Length)
            {
                _page[_position++] = value;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Put(string ascii)
        {
            Span<byte> rest = _page[_position..];
            int length = Math.Min(ascii.Length, rest.Length);
            _position += Encoding.ASCII.GetBytes(ascii.AsSpan(0, length), rest);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Put(uint value)
        {
            Span<byte> digits = stackalloc byte[10];
            value.TryFormat(digits, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
            PutBytes(digits[..written]);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Put(DateTime value)
        {
            Span<byte> text = stackalloc byte[32];
            value.TryFormat(text, out int written, "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            PutBytes(text[..written]);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void PutBytes(scoped ReadOnlySpan<byte> bytes)
        {
            Span<byte> rest = _page[_position..];
            int length = Math.Min(bytes.Length, rest.Length);
            bytes[..length].CopyTo(rest);
            _position += length;
        }
    }

    /// <summary>SplitMix64 finaliser: turns any 64-bit key into a well-mixed seed.</summary>
    private static class SplitMix64
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static ulong Mix(ulong z)
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>xoshiro256** seeded by SplitMix64: fast, fixed, and independent of the .NET version.</summary>
    private struct PageRng
    {
        // The four words of xoshiro256** state.
        private ulong _s0, _s1, _s2, _s3;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public PageRng(ulong seed)
        {
            _s0 = SplitMix64.Mix(seed);
            _s1 = SplitMix64.Mix(_s0 ^ 0x1);
            _s2 = SplitMix64.Mix(_s1 ^ 0x2);
            _s3 = SplitMix64.Mix(_s2 ^ 0x3);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public ulong Next()
        {
            ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = BitOperations.RotateLeft(_s3, 45);
            return result;
        }

        // Uniform in [0, bound) (multiply-shift; bias below 2^-32, irrelevant here). bound ≥ 1.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public uint Below(uint bound) => (uint)(((Next() >> 32) * bound) >> 32);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(Span<byte> bytes)
        {
            int offset = 0;
            for (; offset + sizeof(ulong) <= bytes.Length; offset += sizeof(ulong))
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes[offset..], Next());
            }

            for (; offset < bytes.Length; offset++)
            {
                bytes[offset] = (byte)Next();
            }
        }
    }
}
