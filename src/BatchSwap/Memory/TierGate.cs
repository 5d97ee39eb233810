namespace BatchSwap.Memory;

/// <summary>
/// The tier's gate: operations other than page accesses (region set-up and teardown, snapshots) enter it, and
/// closing waits until none is in flight. Page accesses are counted per address space instead
/// (<see cref="AddressSpace.TryEnterUse"/>), so the hot path shares no tier-wide word.
/// </summary>
internal sealed class TierGate
{
    // Operations in flight.
    private int _ops;
    // Set when the tier begins to close: no new operation or access may start.
    private volatile bool _closed;

    /// <summary>Whether the tier is closing or closed.</summary>
    public bool IsClosed => _closed;

    /// <summary>Starts a tier operation; false once the tier is closing.</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _ops);
        if (!_closed) return true;
        Interlocked.Decrement(ref _ops);
        return false;
    }

    /// <summary>Ends a tier operation.</summary>
    public void Exit() => Interlocked.Decrement(ref _ops);

    /// <summary>Closes the gate and waits until every operation in flight has ended.</summary>
    public void Close()
    {
        _closed = true;
        Interlocked.MemoryBarrier(); // the flag is visible before the count is read (pairs with the increment)
        var spin = new SpinWait();
        while (Volatile.Read(ref _ops) > 0) spin.SpinOnce();
    }
}
