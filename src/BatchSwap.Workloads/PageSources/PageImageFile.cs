using System.Buffers.Binary;
using BatchSwap.Memory;
using ZstdSharp;

namespace BatchSwap.Workloads.PageSources;

/// <summary>
/// A page image loaded from disk into native memory: a <c>.pages</c> file (raw 4096-byte pages back to back) or a
/// <c>.pages.zst</c> file (the same, zstd-compressed; one or more frames, streamed). The whole image is held in
/// memory so <see cref="GetPage"/> is a slice with no I/O and no allocation. Dispose to free the memory.
/// </summary>
public sealed class PageImageFile : IDisposablePageSource
{
    /// <summary>Extension of a raw page image.</summary>
    public const string RawExtension = ".pages";

    /// <summary>Extension of a zstd-compressed page image.</summary>
    public const string ZstdExtension = ".pages.zst";

    // Largest initial allocation trusted from a zstd frame header's content size; larger images grow as they stream.
    private const long MaxTrustedContentSize = 4L << 30;

    // Largest single read into the native buffer (spans are int-sized).
    private const int MaxReadChunk = 1 << 30;

    // The pages, owned by this object.
    private readonly NativePageBuffer _buffer;

    private PageImageFile(string path, bool isCompressed, NativePageBuffer buffer)
    {
        FilePath = path;
        IsCompressed = isCompressed;
        _buffer = buffer;
        Description = System.IO.Path.GetFileName(path);
    }

    /// <summary>The path the image was loaded from, as given.</summary>
    public string FilePath { get; }

    /// <summary>True when the file was a <c>.pages.zst</c>.</summary>
    public bool IsCompressed { get; }

    /// <inheritdoc />
    public long PageCount => _buffer.PageCount;

    /// <summary>Uncompressed size of the image in bytes (<see cref="PageCount"/> × 4096).</summary>
    public long ByteLength => _buffer.PageCount * PageSize.Bytes;

    /// <summary>The file name ("python-heap-64m.pages.zst").</summary>
    public string Description { get; }

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetPage(long index) => _buffer.GetPage(index);

    /// <summary>Frees the pages. Spans obtained earlier must no longer be used.</summary>
    public void Dispose() => _buffer.Dispose();

    /// <summary>True when <paramref name="path"/> ends in <c>.pages</c> or <c>.pages.zst</c> (case-insensitive).</summary>
    public static bool HasKnownExtension(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.EndsWith(RawExtension, StringComparison.OrdinalIgnoreCase)
            || path.EndsWith(ZstdExtension, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Loads a <c>.pages</c> or <c>.pages.zst</c> file completely into native memory.
    /// </summary>
    /// <param name="path">Path to the image; the format is chosen by the extension (case-insensitive).</param>
    /// <returns>The loaded image; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="PageSourceException">The path is empty or has an unknown extension; the file is missing,
    /// unreadable, empty, not a whole number of 4 KiB pages, a truncated or corrupt zstd stream, or too large to hold.</exception>
    public static PageImageFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new PageSourceException("No page image path was given; expected a .pages or .pages.zst file.");
        }

        bool compressed;
        if (path.EndsWith(ZstdExtension, StringComparison.OrdinalIgnoreCase))
        {
            compressed = true;
        }
        else if (path.EndsWith(RawExtension, StringComparison.OrdinalIgnoreCase))
        {
            compressed = false;
        }
        else
        {
            throw new PageSourceException(
                $"Page image '{path}' has an unknown extension; expected .pages (raw 4 KiB pages) or .pages.zst (the same, zstd-compressed).");
        }

        if (Directory.Exists(path))
        {
            throw new PageSourceException($"Page image '{path}' is a directory, not a file.");
        }

        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PageSourceException($"Page image '{path}' does not exist.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PageSourceException($"Page image '{path}' cannot be read: permission denied.", e);
        }
        catch (IOException e)
        {
            throw new PageSourceException($"Page image '{path}' cannot be opened: {e.Message}", e);
        }

        using (file)
        {
            NativePageBuffer buffer = compressed ? LoadZstd(path, file) : LoadRaw(path, file);
            return new PageImageFile(path, compressed, buffer);
        }
    }

    // Reads a raw image whose length is known up front.
    private static NativePageBuffer LoadRaw(string path, FileStream file)
    {
        long length;
        try
        {
            length = file.Length;
        }
        catch (IOException e)
        {
            throw new PageSourceException($"Page image '{path}' cannot be read: {e.Message}", e);
        }

        if (length == 0)
        {
            throw new PageSourceException($"Page image '{path}' is empty; a .pages file holds whole 4 KiB pages.");
        }

        if (length % PageSize.Bytes != 0)
        {
            throw new PageSourceException(
                $"Page image '{path}' is {length} bytes, not a multiple of {PageSize.Bytes}; a .pages file holds whole 4 KiB pages.");
        }

        long pages = length / PageSize.Bytes;
        NativePageBuffer buffer = Allocate(path, pages);
        try
        {
            nuint filled = 0;
            nuint total = (nuint)length;
            while (filled < total)
            {
                int read = file.Read(buffer.GetWritableBytes(filled, MaxReadChunk));
                if (read == 0)
                {
                    throw new PageSourceException(
                        $"Page image '{path}' ended after {filled} of {length} bytes while it was being read (was it truncated meanwhile?).");
                }

                filled += (nuint)read;
            }

            buffer.SetPageCount(pages);
            return buffer;
        }
        catch (IOException e)
        {
            buffer.Dispose();
            throw new PageSourceException($"Page image '{path}' cannot be read: {e.Message}", e);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    // Streams a zstd image into a buffer sized from the first frame's content size when it is recorded, growing as needed.
    private static NativePageBuffer LoadZstd(string path, FileStream file)
    {
        long initialPages;
        try
        {
            if (file.Length == 0)
            {
                throw new PageSourceException($"Page image '{path}' is empty; a .pages.zst file holds whole 4 KiB pages, zstd-compressed.");
            }

            initialPages = InitialPagesFromHeader(file);
            file.Position = 0;
        }
        catch (IOException e)
        {
            throw new PageSourceException($"Page image '{path}' cannot be read: {e.Message}", e);
        }

        NativePageBuffer buffer = Allocate(path, initialPages);
        try
        {
            using var zstd = new DecompressionStream(file, bufferSize: 0, checkEndOfStream: true, leaveOpen: true);
            Span<byte> probe = stackalloc byte[PageSize.Bytes];
            nuint filled = 0;
            while (true)
            {
                if (filled == buffer.CapacityBytes)
                {
                    // Full: find out whether more follows before doubling the buffer.
                    int extra = zstd.Read(probe);
                    if (extra == 0)
                    {
                        break;
                    }

                    long grownPages = checked(buffer.CapacityPages * 2);
                    try
                    {
                        buffer.Grow(grownPages, filled);
                    }
                    catch (OutOfMemoryException e)
                    {
                        throw TooLarge(path, checked(grownPages * PageSize.Bytes), e);
                    }

                    probe[..extra].CopyTo(buffer.GetWritableBytes(filled, extra));
                    filled += (nuint)extra;
                    continue;
                }

                int read = zstd.Read(buffer.GetWritableBytes(filled, MaxReadChunk));
                if (read == 0)
                {
                    break;
                }

                filled += (nuint)read;
            }

            if (filled == 0)
            {
                throw new PageSourceException($"Page image '{path}' decompresses to 0 bytes; a .pages.zst file holds whole 4 KiB pages, zstd-compressed.");
            }

            if (filled % PageSize.Bytes != 0)
            {
                throw new PageSourceException(
                    $"Page image '{path}' decompresses to {filled} bytes, not a multiple of {PageSize.Bytes}; a .pages.zst file holds whole 4 KiB pages, zstd-compressed.");
            }

            buffer.SetPageCount((long)(filled / PageSize.Bytes));
            return buffer;
        }
        catch (EndOfStreamException e)
        {
            buffer.Dispose();
            throw new PageSourceException($"Page image '{path}' is a truncated zstd stream: it ends in the middle of a frame.", e);
        }
        catch (ZstdException e)
        {
            buffer.Dispose();
            throw new PageSourceException($"Page image '{path}' is not a valid zstd stream ({e.Message}).", e);
        }
        catch (IOException e)
        {
            buffer.Dispose();
            throw new PageSourceException($"Page image '{path}' cannot be read: {e.Message}", e);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    // Pages to allocate first: the content size recorded in the first zstd frame header (rounded up, capped), else 16 MiB.
    private static long InitialPagesFromHeader(FileStream file)
    {
        const long fallbackPages = (16L << 20) / PageSize.Bytes;
        Span<byte> header = stackalloc byte[18];
        int got = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        ulong contentSize = TryReadFrameContentSize(header[..got]);
        if (contentSize == 0 || contentSize > MaxTrustedContentSize)
        {
            return fallbackPages;
        }

        return (long)((contentSize + PageSize.Bytes - 1) / PageSize.Bytes);
    }

    /// <summary>The Frame_Content_Size of a zstd frame header (RFC 8878 §3.1.1.1), or 0 when absent or unreadable.</summary>
    internal static ulong TryReadFrameContentSize(ReadOnlySpan<byte> header)
    {
        if (header.Length < 5 || BinaryPrimitives.ReadUInt32LittleEndian(header) != 0xFD2FB528u)
        {
            return 0;
        }

        byte descriptor = header[4];
        int fcsFlag = descriptor >> 6;
        bool singleSegment = (descriptor & 0x20) != 0;
        int dictIdBytes = (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
        int fcsBytes = fcsFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        int offset = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
        if (fcsBytes == 0 || header.Length < offset + fcsBytes)
        {
            return 0;
        }

        ReadOnlySpan<byte> fcs = header.Slice(offset, fcsBytes);
        return fcsBytes switch
        {
            1 => fcs[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(fcs) + 256u,
            4 => BinaryPrimitives.ReadUInt32LittleEndian(fcs),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(fcs),
        };
    }

    // Allocates a buffer, turning an allocation failure into a clear error.
    private static NativePageBuffer Allocate(string path, long pages)
    {
        try
        {
            return new NativePageBuffer(pages);
        }
        catch (OutOfMemoryException e)
        {
            throw TooLarge(path, pages * PageSize.Bytes, e);
        }
    }

    // The error for an image that does not fit in memory.
    private static PageSourceException TooLarge(string path, long bytes, Exception inner) =>
        new($"Page image '{path}' is too large to load: {bytes} bytes could not be allocated.", inner);
}
