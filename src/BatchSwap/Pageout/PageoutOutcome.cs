namespace BatchSwap.Pageout;

/// <summary>What became of one folio of a flushed pageout batch.</summary>
internal enum PageoutOutcome : byte
{
    /// <summary>Not processed yet.</summary>
    Pending,
    /// <summary>Every page is in zswap.</summary>
    Stored,
    /// <summary>zswap could not take it; it is to be written to its swap device.</summary>
    Rejected,
    /// <summary>Its write to the swap device is submitted and not complete yet (PG_writeback): it stays frozen.</summary>
    Writeback,
    /// <summary>Written to its swap device.</summary>
    Written,
    /// <summary>Could not go anywhere (write failed, or writeback disabled): it stays in memory, activated.</summary>
    Kept,
}

/// <summary>Helpers on <see cref="PageoutOutcome"/>.</summary>
internal static class PageoutOutcomes
{
    /// <summary>Whether the folio's data now live elsewhere, so that its frames may be freed.</summary>
    public static bool IsPagedOut(this PageoutOutcome outcome) => outcome is PageoutOutcome.Stored or PageoutOutcome.Written;
}
