using System.Diagnostics;
using System.Runtime.InteropServices;

namespace BatchSwap.Compression.Engines;

/// <summary>
/// Compression engines on CPU cores: N long-lived threads, each with its own codec contexts, that take
/// jobs from batches offered to them. The submitting thread claims jobs too (like IAA's poll mode) and never sleeps
/// while a job of its batch is unclaimed; it only spins for jobs that engines are finishing.
/// Jobs are claimed one at a time with an interlocked counter, so the pages of one large folio spread
/// over every engine.
/// </summary>
/// <remarks>
/// <para>Offers: every engine has one slot holding the batch (and run generation) it is asked to help with. A
/// submitter writes its offer into the slots of idle engines; an offer an engine has not picked up yet is simply
/// overwritten by the next one, so the posted state is bounded by the engine count whatever the load (a starved
/// engine finds at most one stale offer, whose generation no longer matches, and leaves it).</para>
/// <para>Wake-ups: an engine that runs out of work spins for a few microseconds (<see cref="SpinMicros"/>) watching
/// its slot, then blocks on its own semaphore. A submitter signals only an engine that is blocked (its state says
/// so), so back-to-back batches cost no system call; an idle machine costs no CPU after the spin.</para>
/// </remarks>
internal sealed unsafe class CpuEngines : IBatchCompressor
{
    /// <summary>Jobs one run takes in a tier: a batch of 32 order-0 folios is one run.</summary>
    public const int DefaultMaxJobs = 32;

    /// <summary>Default spin before an idle engine blocks, µs: about one page's compression, well under a wake-up.</summary>
    public const int DefaultSpinMicros = 20;

    // Engine slot states.
    private const int Idle = 0, Busy = 1, Sleeping = 2;

    // Engine threads.
    private readonly Thread[] _threads;
    // One offer slot per engine (the whole posted state: it cannot grow).
    private readonly EngineSlot[] _slots;
    // Set to stop the engines.
    private volatile bool _stopping;
    // Stopwatch ticks an idle engine spins before it blocks.
    private readonly long _spinTicks;

    // Injected faults, if any.
    private readonly Faults.FaultInjector? _faults;
    // Exceptions contained while running jobs.
    private long _contained;

    // Threads of the tier busy now in its slow paths (faults, reclaim), the submitter included.
    private readonly Func<int> _busyThreads;
    // Cores of the machine.
    private readonly int _cores;
    // Watches the engine threads (tests), or null.
    private readonly IEngineProbe? _probe;

    /// <param name="engines">Engine threads (besides the submitting threads, which work too).</param>
    /// <param name="faults">Injected faults, if any.</param>
    /// <param name="maxJobs">The most jobs one run takes.</param>
    /// <param name="busyThreads">Threads of the tier keeping a core busy now, the submitter included.</param>
    /// <param name="cores">Cores to count idle ones of (the machine's by default; tests set it).</param>
    /// <param name="spinMicros">How long an idle engine looks for an offer before it blocks.</param>
    /// <param name="probe">Watches the engine threads at their decision points (tests); null in production.</param>
    public CpuEngines(int engines, Faults.FaultInjector? faults = null, int maxJobs = 64, Func<int>? busyThreads = null,
        int cores = 0, int spinMicros = DefaultSpinMicros, IEngineProbe? probe = null)
    {
        _probe = probe;
        ArgumentOutOfRangeException.ThrowIfNegative(engines);
        ArgumentOutOfRangeException.ThrowIfNegative(spinMicros);
        _faults = faults;
        _busyThreads = busyThreads ?? (() => 1);
        _cores = cores > 0 ? cores : Environment.ProcessorCount;
        SpinMicros = spinMicros;
        _spinTicks = spinMicros * Stopwatch.Frequency / 1_000_000;
        MaxJobs = maxJobs;
        _slots = new EngineSlot[engines];
        for (int i = 0; i < engines; i++) _slots[i] = new EngineSlot();
        _threads = new Thread[engines];
        for (int i = 0; i < engines; i++)
        {
            int index = i;
            _threads[i] = new Thread(() => EngineLoop(index)) { IsBackground = true, Name = $"batchswap-engine-{i}" };
            _threads[i].Start();
        }
    }

    /// <inheritdoc/>
    public string Name => $"cpu x{Engines}";
    /// <inheritdoc/>
    public int Engines => _threads.Length;
    /// <inheritdoc/>
    public int MaxJobs { get; }
    /// <inheritdoc/>
    /// <remarks>One run of order-0 folios: the engines compress a run's pages in parallel, so a batch gains up to the
    /// jobs a run holds.</remarks>
    public int MaxBatchFolios => Math.Clamp(MaxJobs, 1, Tunables.TunableSet.MaxCompressBatchSize);
    /// <summary>How long an idle engine spins looking for an offer before it blocks, µs.</summary>
    public int SpinMicros { get; }

    /// <inheritdoc/>
    public void Run(JobBatch batch)
    {
        int count = batch.Count;
        if (count == 0) return;
        RunClaim claim = ClaimOfThisThread;
        int gen = claim.Open(batch);
        int helpers = HelpersFor(count);
        if (helpers > 0) Offer(claim, gen, helpers);

        Work(claim, gen, batch.ContextOf);

        // Every job is claimed; wait for the engines to finish theirs, then close the run to engines that come late.
        var spin = new SpinWait();
        while (Volatile.Read(ref claim.Remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
        claim.Close();
    }

    // The submitting thread's claim state: a thread runs one batch at a time, so one serves all its runs.
    [ThreadStatic] private static RunClaim? t_claim;

    /// <summary>The calling thread's claim state (tests reopen it to play a late engine).</summary>
    internal static RunClaim ClaimOfThisThread => t_claim ??= new RunClaim();

    /// <summary>
    /// Engines to ask for help with a run of <paramref name="count"/> jobs. Engines help only where a core is idle:
    /// when every core already runs a thread of the tier, waking an engine would only take a core from another worker
    /// and add a wake-up. The busy count includes the submitter (at least 1), so a lone submitter on two cores gets one
    /// helper for any batch of two jobs or more.
    /// </summary>
    internal int HelpersFor(int count)
    {
        int idleCores = _cores - Math.Max(1, _busyThreads());
        return Math.Max(0, Math.Min(Math.Min(Engines, count - 1), idleCores));
    }

    /// <summary>
    /// Offers run <paramref name="generation"/> of <paramref name="claim"/> to up to <paramref name="helpers"/> engines
    /// that are not busy: first those spinning (free to use), then those blocked (woken). An engine busy with another
    /// batch keeps its core; it is not counted on.
    /// </summary>
    private void Offer(RunClaim claim, int generation, int helpers)
    {
        int n = _slots.Length;
        // Start where the thread id says, so that concurrent submitters spread over the engines.
        int start = (int)((uint)Environment.CurrentManagedThreadId % (uint)n);
        for (int pass = 0; pass < 2 && helpers > 0; pass++)
        {
            int wanted = pass == 0 ? Idle : Sleeping;
            for (int k = 0; k < n && helpers > 0; k++)
            {
                int i = start + k;
                if (i >= n) i -= n;
                EngineSlot slot = _slots[i];
                if (Volatile.Read(ref slot.W.State) != wanted) continue;
                if (TryPost(slot, claim, generation)) helpers--;
            }
        }
    }

    /// <summary>Writes an offer into an engine's slot (overwriting any it did not pick up) and wakes it if blocked.</summary>
    private static bool TryPost(EngineSlot slot, RunClaim claim, int generation)
    {
        // The slot's version is a sequence lock: odd while one submitter writes the offer, so the engine never reads
        // a batch with another offer's generation. A slot another submitter is writing now is left to it.
        long v = Volatile.Read(ref slot.W.Version);
        if ((v & 1) != 0 || Interlocked.CompareExchange(ref slot.W.Version, v + 1, v) != v) return false;
        slot.Claim = claim;
        slot.W.Generation = generation;
        slot.W.Offers++;
        // Full fence: publish the offer before reading the engine's state (it sets Sleeping, then rereads the version).
        Interlocked.Exchange(ref slot.W.Version, v + 2);
        if (Volatile.Read(ref slot.W.State) == Sleeping &&
            Interlocked.CompareExchange(ref slot.W.State, Idle, Sleeping) == Sleeping)
        {
            Interlocked.Increment(ref slot.W.Wakes);
            slot.Wake.Release();
        }

        return true;
    }

    /// <summary>Takes the offer in a slot if there is a new one; false when there is none (or it is being written).</summary>
    private static bool TryTake(EngineSlot slot, ref long seen, out RunClaim? claim, out int generation)
    {
        long v1 = Volatile.Read(ref slot.W.Version);
        claim = null;
        generation = 0;
        if (v1 == seen || (v1 & 1) != 0) return false;
        RunClaim? c = Volatile.Read(ref slot.Claim);
        int g = Volatile.Read(ref slot.W.Generation);
        if (Volatile.Read(ref slot.W.Version) != v1) return false; // overwritten meanwhile: look again
        seen = v1;
        claim = c;
        generation = g;
        return c is not null;
    }

    /// <summary>Claims and runs jobs until none is left unclaimed; returns how many it ran.</summary>
    private int Work(RunClaim claim, int generation, Func<byte, IPageCodecContext> contexts)
    {
        int ran = 0, claimedAll = 0;
        // Read once: if the submitter has moved on to another batch, the generation no longer matches and nothing is claimed.
        JobBatch? batch = Volatile.Read(ref claim.Batch);
        if (batch is null) return 0;
        try
        {
            while (true)
            {
                int first = claim.TryClaim(batch, generation, out int claimed);
                if (first < 0) return ran;
                claimedAll += claimed;
                for (int i = first; i < first + claimed; i++)
                {
                    RunContained(ref batch.Jobs[i], contexts);
                    ran++;
                }
            }
        }
        finally
        {
            // Whatever happened, every job this thread claimed is over: run, or, had anything escaped RunContained,
            // left Pending, which every caller takes as failed. The submitter must never wait for one forever. One
            // update for all of them: the claimers do not pass this line between cores once per job.
            if (claimedAll > 0) Interlocked.Add(ref claim.Remaining, -claimedAll);
        }
    }

    /// <summary>
    /// Runs one job so that nothing it throws escapes: an exception outside the codec (an engine bug, a context
    /// that cannot be made, an injected engine-throw) is contained, counted, and the job run once more from the
    /// start; if that throws too, the job fails (a compression: its folio goes to the swap device; a
    /// decompression: the load fails loudly). The thread lives on either way.
    /// </summary>
    private void RunContained(ref PageJob job, Func<byte, IPageCodecContext> contexts)
    {
        try
        {
            _faults?.EngineThrowPoint();
            PageWork.Run(ref job, contexts(job.CodecId), _faults);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _contained);
            try
            {
                PageWork.Run(ref job, contexts(job.CodecId), _faults);
            }
            catch (Exception)
            {
                job.Result = job.Kind == JobKind.Compress ? JobResult.Failed : JobResult.Corrupt;
            }
        }
    }

    /// <summary>Exceptions thrown while running jobs that the engines contained.</summary>
    public long ContainedExceptions => Volatile.Read(ref _contained);

    /// <summary>The engine threads (for shutdown checks).</summary>
    internal IReadOnlyList<Thread> Threads => _threads;

    /// <summary>Slots offers are posted to: one per engine, fixed at construction.</summary>
    internal int PostedSlots => _slots.Length;

    /// <summary>Offers written but not yet picked up by their engine (at most <see cref="PostedSlots"/>).</summary>
    internal int PendingOffers
    {
        get
        {
            int pending = 0;
            foreach (EngineSlot s in _slots)
            {
                if (Volatile.Read(ref s.W.Version) != Volatile.Read(ref s.W.Seen)) pending++;
            }

            return pending;
        }
    }

    /// <summary>Offers posted so far, over all engines (exact when no run is in progress).</summary>
    internal long OffersPosted => _slots.Sum(s => Volatile.Read(ref s.W.Offers));

    /// <summary>Times submitters woke a blocked engine (each a semaphore release, i.e. a system call).</summary>
    internal long Wakes => _slots.Sum(s => Volatile.Read(ref s.W.Wakes));

    /// <summary>Jobs run by engine threads so far (not by submitters); exact when no run is in progress.</summary>
    internal long JobsRunByEngines => _slots.Sum(s => Volatile.Read(ref s.W.JobsRun));

    /// <summary>Engines blocked now (not spinning, not working).</summary>
    internal int SleepingEngines => _slots.Count(s => Volatile.Read(ref s.W.State) == Sleeping);

    /// <summary>Engines running a batch now.</summary>
    internal int BusyEngines => _slots.Count(s => Volatile.Read(ref s.W.State) == Busy);

    private void EngineLoop(int index)
    {
        EngineSlot slot = _slots[index];
        var contexts = new IPageCodecContext?[8];
        Func<byte, IPageCodecContext> get = id => contexts[id] ??= JobBatch.CreateContext(id);
        long seen = 0;
        try
        {
            while (!_stopping)
            {
                _probe?.BeforeTake(index);
                if (TryTake(slot, ref seen, out RunClaim? claim, out int generation))
                {
                    Volatile.Write(ref slot.W.Seen, seen);
                    Volatile.Write(ref slot.W.State, Busy);
                    try
                    {
                        _probe?.AfterTake(index);
                        slot.W.JobsRun += Work(claim!, generation, get);
                    }
                    catch (Exception)
                    {
                        // Work contains each job's exceptions; anything else must not end the thread either.
                        Interlocked.Increment(ref _contained);
                    }

                    Volatile.Write(ref slot.W.State, Idle);
                    continue;
                }

                Volatile.Write(ref slot.W.Seen, seen);
                if (SpinForOffer(slot, seen)) continue;

                // Block. Dekker with TryPost: state first (full fence), then the version; either this reads the new
                // version or the submitter reads Sleeping and wakes us. An odd version means a submitter is writing:
                // it will read Sleeping when it is done.
                Interlocked.Exchange(ref slot.W.State, Sleeping);
                long v = Volatile.Read(ref slot.W.Version);
                if ((v != seen && (v & 1) == 0) || _stopping)
                {
                    // Work came in after all. If a submitter took us out of Sleeping first, its Release is on the way
                    // and makes one later Wait return at once: a harmless extra turn of the loop.
                    Interlocked.CompareExchange(ref slot.W.State, Idle, Sleeping);
                    continue;
                }

                slot.Wake.Wait();
                // Normally the waker already set Idle; a release left over from a race above returns at once with
                // the state still Sleeping: say awake, so that no submitter wakes us for nothing.
                Interlocked.CompareExchange(ref slot.W.State, Idle, Sleeping);
            }
        }
        finally
        {
            foreach (IPageCodecContext? c in contexts) c?.Dispose();
        }
    }

    /// <summary>Watches the slot for up to the spin time without sleeping, yielding the core to any other runnable
    /// thread as it goes; true when a new offer came in.</summary>
    private bool SpinForOffer(EngineSlot slot, long seen)
    {
        if (_spinTicks <= 0) return false;
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        while (true)
        {
            long v = Volatile.Read(ref slot.W.Version);
            if (v != seen && (v & 1) == 0) return true;
            if (_stopping || Stopwatch.GetTimestamp() >= until) return false;
            Thread.SpinWait(16);
            // A thread of the application may be waiting for this core (the idle-core count only sees the tier's
            // own threads): let it run. With nobody waiting, this returns at once.
            Thread.Yield();
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        // Every engine either sees _stopping before it blocks (it rereads it after saying Sleeping) or gets this release.
        foreach (EngineSlot s in _slots) s.Wake.Release();
        foreach (Thread t in _threads) t.Join();
        foreach (EngineSlot s in _slots) s.Wake.Dispose();
    }

    /// <summary>One engine's offer slot and wake-up, alone on its cache lines.</summary>
    private sealed class EngineSlot
    {
        /// <summary>The hot words, padded.</summary>
        public SlotWords W;
        /// <summary>The run offered (written under <see cref="SlotWords.Version"/>).</summary>
        public RunClaim? Claim;
        /// <summary>Blocks the engine when idle; released by a submitter that takes the engine out of Sleeping.</summary>
        public readonly SemaphoreSlim Wake = new(0);
    }

    /// <summary>
    /// An engine slot's words: what submitters write (the offer) and what the engine writes (its state, progress) in
    /// separate 128-byte blocks, with 128 bytes before and after so that neighbouring objects do not share them.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 4 * ClaimCounters.Padding)]
    private struct SlotWords
    {
        // Written by submitters (offers), read by the engine while it spins.
        /// <summary>Offer sequence lock: even when stable, odd while a submitter writes; +2 per offer.</summary>
        [FieldOffset(ClaimCounters.Padding)] public long Version;
        /// <summary>Generation of the offered run.</summary>
        [FieldOffset(ClaimCounters.Padding + 8)] public int Generation;
        /// <summary>Offers posted to this engine.</summary>
        [FieldOffset(ClaimCounters.Padding + 16)] public long Offers;
        /// <summary>Times a submitter had to wake this engine (a semaphore release).</summary>
        [FieldOffset(ClaimCounters.Padding + 24)] public long Wakes;

        // Written by the engine (State also by a submitter waking it).
        /// <summary><see cref="Idle"/>, <see cref="Busy"/> or <see cref="Sleeping"/>.</summary>
        [FieldOffset(2 * ClaimCounters.Padding)] public int State;
        /// <summary>The last version the engine looked at.</summary>
        [FieldOffset(2 * ClaimCounters.Padding + 8)] public long Seen;
        /// <summary>Jobs this engine ran.</summary>
        [FieldOffset(2 * ClaimCounters.Padding + 16)] public long JobsRun;
    }
}
