using System.Diagnostics;
using BatchSwap.Lru;
using BatchSwap.Memory;
using BatchSwap.Telemetry;

namespace BatchSwap.MemCg;

/// <summary>
/// A memory group, like a memory cgroup: one limit shared by all its regions, charged with their resident
/// pages, their page tables and their compressed pool objects. An allocation that would go over the
/// limit reclaims from the group in the calling thread first (direct reclaim). Several threads share a group.
/// </summary>
public sealed class MemoryGroup
{
    /// <summary>The group's name.</summary>
    public string Name { get; }

    /// <summary>The limit in bytes.</summary>
    public long LimitBytes { get; }

    /// <summary>
    /// Whether pages may be written to the swap device (memory.zswap.writeback). When false, a page that
    /// zswap cannot take stays in memory, and the pool never writes back.
    /// </summary>
    public bool WritebackEnabled { get => _writeback; set => _writeback = value; }

    /// <summary>Bytes charged now: resident pages, page tables and pool objects.</summary>
    public long ChargedBytes => Volatile.Read(ref _charged);

    /// <summary>The most bytes ever charged at once.</summary>
    public long PeakChargedBytes => Volatile.Read(ref _peak);

    /// <summary>Bytes of compressed pool objects charged.</summary>
    public long PoolChargedBytes => Volatile.Read(ref _poolCharged);

    /// <summary>The tier's log (a group out of memory is one of its lines).</summary>
    internal TierLog Log { get; init; } = TierLog.None;

    /// <summary>Logs that the group is out of memory and returns the exception the allocation throws.</summary>
    internal MemoryGroupExhaustedException Exhausted(int order)
    {
        Log.GroupExhausted(Name, LimitBytes, order);
        return new MemoryGroupExhaustedException(this, order);
    }

    /// <summary>Small id stored in each swap slot of the group.</summary>
    internal readonly int Id;
    /// <summary>The group's LRU lists, one per node.</summary>
    internal readonly LruVec[] Lruvecs;
    /// <summary>Headroom under the limit kept for reclaim's own charges (pool objects): allocations reclaim once past LimitBytes - Headroom.</summary>
    internal readonly long HeadroomBytes;
    /// <summary>
    /// Background reclaim marks: a charge that takes the group over <see cref="BackgroundLowBytes"/> wakes kswapd,
    /// which reclaims from the group until it is under <see cref="BackgroundHighBytes"/> — so that, like the node
    /// watermarks, the group's own limit rarely makes a worker reclaim in its own thread.
    /// </summary>
    internal readonly long BackgroundLowBytes, BackgroundHighBytes;

    // See WritebackEnabled.
    private volatile bool _writeback = true;
    // Bytes charged.
    private long _charged;
    // Peak of _charged.
    private long _peak;
    // Pool bytes charged (part of _charged).
    private long _poolCharged;
    // Guards the stall accounting below (nests inside nothing; nothing is taken under it).
    private readonly Lock _psiLock = new();
    // Threads stalled on reclaim now, and threads using the group now.
    private int _stalled, _active;
    // When the stall state (_stalled, _active) last changed, in Stopwatch ticks.
    private long _stateSince;
    // Ticks, up to _stateSince, during which at least one thread was stalled ("some"), and during which every thread
    // using the group was ("full"). Both grow only by the same interval, read once from the clock (psi's record_times).
    private long _someTicks, _fullTicks;

    internal unsafe MemoryGroup(int id, string name, long limitBytes, PageArena arena)
    {
        Id = id;
        Name = name;
        LimitBytes = limitBytes;
        HeadroomBytes = Math.Min(limitBytes / 32, 4L << 20);
        long step = Math.Clamp(limitBytes / 64, 32L * PageSize.Bytes, 8L << 20); // at least one reclaim batch
        BackgroundLowBytes = limitBytes - HeadroomBytes - step;
        BackgroundHighBytes = BackgroundLowBytes - step;
        Lruvecs = new LruVec[arena.Nodes.Length];
        for (int n = 0; n < Lruvecs.Length; n++) Lruvecs[n] = new LruVec(id, arena.Nodes[n], arena.Frames);
    }

    /// <summary>
    /// Charges <paramref name="bytes"/>. Ordinary charges (<paramref name="forReclaim"/> false) must stay under the
    /// limit less the headroom; reclaim's own charges may use the headroom. Never goes over the limit.
    /// </summary>
    internal bool TryCharge(long bytes, bool forReclaim)
    {
        long ceiling = forReclaim ? LimitBytes : LimitBytes - HeadroomBytes;
        while (true)
        {
            long cur = Volatile.Read(ref _charged);
            if (cur + bytes > ceiling) return false;
            if (Interlocked.CompareExchange(ref _charged, cur + bytes, cur) == cur)
            {
                long peak;
                while ((peak = Volatile.Read(ref _peak)) < cur + bytes && Interlocked.CompareExchange(ref _peak, cur + bytes, peak) != peak) { }
                return true;
            }
        }
    }

    /// <summary>Whether the group is over its background-reclaim wake mark (kswapd should reclaim from it).</summary>
    internal bool OverBackgroundLow => Volatile.Read(ref _charged) > BackgroundLowBytes;

    /// <summary>Whether the group is still over the mark background reclaim brings it under.</summary>
    internal bool OverBackgroundHigh => Volatile.Read(ref _charged) > BackgroundHighBytes;

    /// <summary>Returns a charge.</summary>
    internal void Uncharge(long bytes)
    {
        long now = Interlocked.Add(ref _charged, -bytes);
        Debug.Assert(now >= 0, "group uncharged below zero");
    }

    /// <summary>Charges a pool object (reclaim's own charge).</summary>
    internal bool TryChargePool(long bytes)
    {
        if (!TryCharge(bytes, forReclaim: true)) return false;
        Interlocked.Add(ref _poolCharged, bytes);
        return true;
    }

    /// <summary>Returns a pool object's charge.</summary>
    internal void UnchargePool(long bytes)
    {
        Interlocked.Add(ref _poolCharged, -bytes);
        Uncharge(bytes);
    }

    /// <summary>Pages on the group's LRU lists (resident application pages).</summary>
    internal long LruPages
    {
        get { long s = 0; foreach (LruVec l in Lruvecs) s += l.ActivePages + l.InactivePages; return s; }
    }

    // ---------------------------------------------------------------- pressure stall information

    // The state is two counts; "some" holds while a thread is stalled, "full" while every active thread is (a stalled
    // thread that is not active, kswapd, makes it full too). Every change first adds the time the old state held to
    // the totals of that state, with one clock read for both, then changes the counts: so a "full" interval is always
    // inside a "some" interval of the same length, and full <= some at every moment, open intervals included
    // (StallTime reads them with one clock read too).

    /// <summary>A thread starts using the group (an access that may stall).</summary>
    internal void EnterActive() => ChangeStallState(stalled: 0, active: 1);

    /// <summary>A thread stops using the group.</summary>
    internal void LeaveActive() => ChangeStallState(stalled: 0, active: -1);

    /// <summary>The calling thread starts waiting on reclaim (psi_memstall_enter).</summary>
    internal void StallEnter() => ChangeStallState(stalled: 1, active: 0);

    /// <summary>The calling thread stops waiting on reclaim (psi_memstall_leave).</summary>
    internal void StallLeave() => ChangeStallState(stalled: -1, active: 0);

    /// <summary>
    /// Nanoseconds so far during which at least one thread was stalled on reclaim (<paramref name="someNs"/>) and
    /// during which every thread using the group was (<paramref name="fullNs"/>), an interval still open included;
    /// <paramref name="fullNs"/> is never more than <paramref name="someNs"/>.
    /// </summary>
    internal void StallTime(out long someNs, out long fullNs)
    {
        long some, full;
        lock (_psiLock)
        {
            long delta = Stopwatch.GetTimestamp() - _stateSince;
            some = _someTicks;
            full = _fullTicks;
            if (_stalled > 0)
            {
                some += delta;
                if (_stalled >= _active) full += delta;
            }
        }
        someNs = TicksToNs(some);
        fullNs = TicksToNs(full);
    }

    private void ChangeStallState(int stalled, int active)
    {
        lock (_psiLock)
        {
            // Time accrues only while a thread is stalled: with none stalled before or after the change (every fault of
            // an unpressured group), the clock is not read.
            if (_stalled > 0 || stalled > 0)
            {
                long now = Stopwatch.GetTimestamp();
                if (_stalled > 0)
                {
                    long delta = now - _stateSince;
                    _someTicks += delta;
                    if (_stalled >= _active) _fullTicks += delta;
                }
                _stateSince = now;
            }
            _stalled += stalled;
            _active += active;
            Debug.Assert(_stalled >= 0 && _active >= 0, "stall accounting left more than it entered");
        }
    }

    // Monotonic, so that full <= some in ticks stays so in nanoseconds.
    private static long TicksToNs(long ticks) => (long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
}
