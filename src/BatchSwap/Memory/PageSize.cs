namespace BatchSwap.Memory;

/// <summary>Page geometry shared by every subsystem.</summary>
public static class PageSize
{
    /// <summary>log2 of the page size.</summary>
    public const int Shift = 12;

    /// <summary>Bytes in one page (4 KiB).</summary>
    public const int Bytes = 1 << Shift;

    /// <summary>The largest folio order (2^9 pages = 2 MiB, pmd-mappable).</summary>
    public const int MaxOrder = 9;

    /// <summary>The order at which a folio is pmd-mappable (2 MiB).</summary>
    public const int PmdOrder = 9;
}
