using System.Buffers;

namespace BatchSwap.Transparent;

/// <summary>
/// A <see cref="Memory{T}"/> source over part of a <see cref="TransparentMapping"/>: the memory is native and never
/// moves, so pinning is free and nothing is freed here; the mapping owns it. Use it only while the mapping is open.
/// </summary>
public sealed unsafe class MappingMemoryManager<T> : MemoryManager<T> where T : unmanaged
{
    // First element.
    private readonly T* _pointer;
    // Elements.
    private readonly int _length;
    // The mapping, kept alive while the manager is.
    private readonly TransparentMapping _mapping;

    internal MappingMemoryManager(TransparentMapping mapping, T* pointer, int length)
    {
        _mapping = mapping;
        _pointer = pointer;
        _length = length;
    }

    /// <inheritdoc/>
    public override Span<T> GetSpan()
    {
        _mapping.ThrowIfDisposed();
        return new Span<T>(_pointer, _length);
    }

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)_length) throw new ArgumentOutOfRangeException(nameof(elementIndex));
        _mapping.ThrowIfDisposed();
        return new MemoryHandle(_pointer + elementIndex);
    }

    /// <inheritdoc/>
    public override void Unpin()
    {
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
    }
}
