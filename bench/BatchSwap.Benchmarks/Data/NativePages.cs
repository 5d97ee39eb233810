using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchSwap.Memory;

namespace BatchSwap.Benchmarks.Data;

/// <summary>
/// A fixed set of pages copied into page-aligned native memory, so that benchmarks hand stable pointers to the
/// engines (whose jobs take <c>byte*</c>) and nothing moves or is collected while a batch runs.
/// </summary>
internal sealed unsafe class NativePages : IDisposable
{
    /// <summary>The first page; pages follow back to back.</summary>
    public readonly byte* Base;

    /// <summary>Pages held.</summary>
    public readonly int Count;

    /// <summary>Allocates <paramref name="count"/> zeroed pages.</summary>
    public NativePages(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Count = count;
        Base = (byte*)NativeMemory.AlignedAlloc((nuint)count * PageSize.Bytes, PageSize.Bytes);
        new Span<byte>(Base, count * PageSize.Bytes).Clear();
    }

    /// <summary>Page <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Page(int i) => Base + (long)i * PageSize.Bytes;

    /// <summary>Page <paramref name="i"/> as a span.</summary>
    public Span<byte> Span(int i) => new(Page(i), PageSize.Bytes);

    public void Dispose() => NativeMemory.AlignedFree(Base);
}
