namespace BatchSwap.Access;

/// <summary>
/// A seekable stream over the bytes of a <see cref="Region"/>, so that code written for streams (serializers,
/// <see cref="BinaryReader"/>, <see cref="Stream.CopyTo(Stream)"/>) can keep data in a memory tier. Its length is the
/// region's and never changes: <see cref="SetLength"/> is refused, a read at or past the end returns 0, and a write
/// that would pass the end is refused before any of it is written. Seeking past the end is allowed, as with
/// <see cref="UnmanagedMemoryStream"/>.
/// </summary>
/// <remarks>
/// Reads take pages read-only (a clean page keeps its retained compressed copy); writes go through
/// <see cref="Region.Write"/>. One stream is not thread-safe (it has one position); several streams over one region
/// may be used from several threads. Disposing the stream disposes the region only when it owns it.
/// </remarks>
public sealed class RegionStream : Stream
{
    // The region read and written.
    private readonly Region _region;
    // Whether writes are allowed.
    private readonly bool _writable;
    // Whether Dispose frees the region.
    private readonly bool _ownsRegion;
    // The byte the next read or write starts at (may be past the end).
    private long _position;
    // Set by Dispose.
    private bool _disposed;

    /// <summary>
    /// Opens a stream over <paramref name="region"/> at position 0; read-only unless <paramref name="writable"/>;
    /// disposing the stream disposes the region when <paramref name="ownsRegion"/>.
    /// </summary>
    public RegionStream(Region region, bool writable = true, bool ownsRegion = false)
    {
        ArgumentNullException.ThrowIfNull(region);
        ObjectDisposedException.ThrowIf(region.IsDisposed, region);
        _region = region;
        _writable = writable;
        _ownsRegion = ownsRegion;
    }

    /// <summary>The region the stream reads and writes.</summary>
    public Region Region => _region;

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => !_disposed;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed && _writable;

    /// <summary>The region's length in bytes (whole pages).</summary>
    public override long Length
    {
        get
        {
            ThrowIfDisposed();
            return _region.Length;
        }
    }

    /// <summary>The byte the next read or write starts at; may be set past the end, not below 0.</summary>
    public override long Position
    {
        get
        {
            ThrowIfDisposed();
            return _position;
        }
        set
        {
            ThrowIfDisposed();
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin)
    {
        ThrowIfDisposed();
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _region.Length + offset,
            _ => throw new ArgumentException($"unknown seek origin {(int)origin}", nameof(origin)),
        };
        if (target < 0) throw new IOException("an attempt was made to move the position before the beginning of the stream");
        _position = target;
        return target;
    }

    /// <summary>Refused: a region's length is fixed when it is allocated.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override void SetLength(long value) =>
        throw new NotSupportedException("a region stream's length is the region's, fixed when it was allocated");

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        ThrowIfDisposed();
        long left = _region.Length - _position;
        if (left <= 0 || buffer.IsEmpty) return 0;
        int n = (int)Math.Min(buffer.Length, left);
        _region.ReadAt(_position, buffer[..n]);
        _position += n;
        return n;
    }

    /// <inheritdoc/>
    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>Reads synchronously (the data is in memory, or a fault-in away) and returns a completed task.</summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        try
        {
            return new ValueTask<int>(Read(buffer.Span));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    /// <summary>Writes <paramref name="buffer"/> at the position and advances it.</summary>
    /// <exception cref="NotSupportedException">The stream is read-only, or the write would pass the end of the region.</exception>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfDisposed();
        if (!_writable) throw new NotSupportedException("the region stream is read-only");
        if (buffer.Length > _region.Length - _position)
            throw new NotSupportedException($"writing {buffer.Length} bytes at {_position} would pass the end of the region ({_region.Length} bytes); a region cannot grow");
        _region.WriteAt(_position, buffer);
        _position += buffer.Length;
    }

    /// <inheritdoc/>
    public override void WriteByte(byte value) => Write([value]);

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>Writes synchronously and returns a completed task.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>Does nothing: writes are in the region as soon as they return.</summary>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!_disposed && disposing && _ownsRegion) _region.Dispose();
        _disposed = true;
        base.Dispose(disposing);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
