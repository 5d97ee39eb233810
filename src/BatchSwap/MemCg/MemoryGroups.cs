using BatchSwap.Memory;
using BatchSwap.Swap;
using BatchSwap.Telemetry;

namespace BatchSwap.MemCg;

/// <summary>
/// A tier's memory groups: made in id order and never removed, so a group id (as swap slots store it) always names
/// the same group. Reads take no lock; <see cref="Create"/> takes one that nests inside nothing.
/// </summary>
internal sealed class MemoryGroups
{
    /// <summary>Most groups in a tier: a swap slot's info names its group in 8 bits.</summary>
    public const int MaxGroups = SlotInfo.MaxGroups;

    // Groups by id.
    private readonly MemoryGroup?[] _byId = new MemoryGroup?[MaxGroups];
    // Groups in creation order (copy-on-write).
    private volatile MemoryGroup[] _all = [];
    // Guards creation.
    private readonly Lock _lock = new();
    // What groups charge.
    private readonly PageArena _arena;
    // Where an exhausted group logs.
    private readonly TierLog _log;

    public MemoryGroups(PageArena arena, TierLog? log = null)
    {
        _arena = arena;
        _log = log ?? TierLog.None;
    }

    /// <summary>The groups in creation (and id) order.</summary>
    public IReadOnlyList<MemoryGroup> All => _all;

    /// <summary>The group with id <paramref name="id"/>, or null.</summary>
    public MemoryGroup? ById(int id) => (uint)id < MaxGroups ? _byId[id] : null;

    /// <summary>Whether <paramref name="group"/> is one of these.</summary>
    public bool Contains(MemoryGroup group) => ReferenceEquals(ById(group.Id), group);

    /// <summary>
    /// Stall time of all the groups so far, in nanoseconds (psi_some_ns, psi_full_ns): each group's read at one moment,
    /// so that <paramref name="fullNs"/> is never more than <paramref name="someNs"/>.
    /// </summary>
    public void StallTime(out long someNs, out long fullNs)
    {
        someNs = fullNs = 0;
        foreach (MemoryGroup g in _all)
        {
            g.StallTime(out long some, out long full);
            someNs += some;
            fullNs += full;
        }
    }

    /// <summary>Makes a group; the caller has validated the name and limit.</summary>
    /// <exception cref="InvalidOperationException">There are <see cref="MaxGroups"/> already.</exception>
    public MemoryGroup Create(string name, long limitBytes)
    {
        lock (_lock)
        {
            int id = _all.Length;
            if (id >= MaxGroups) throw new InvalidOperationException($"at most {MaxGroups} memory groups");
            var g = new MemoryGroup(id, name, limitBytes, _arena) { Log = _log };
            _byId[id] = g;
            _all = [.. _all, g];
            return g;
        }
    }
}
