using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using BatchSwap.Access;
using BatchSwap.Faults;
using BatchSwap.MemCg;
using BatchSwap.Stats;

namespace BatchSwap.Workloads.Workloads;

/// <summary>What <see cref="Stress.Run"/> does.</summary>
public sealed record StressOptions
{
    /// <summary>How long the mixed load runs before the final verification, in seconds (&gt; 0).</summary>
    public double Seconds { get; init; } = 10;
    /// <summary>Worker threads sharing one memory group, 1 to 256.</summary>
    public int Threads { get; init; } = 8;
    /// <summary>The tier's memory.</summary>
    public long MemoryBytes { get; init; } = 48L << 20;
    /// <summary>Largest region a worker allocates, in pages.</summary>
    public int MaxRegionPages { get; init; } = 1024;
    /// <summary>Faults to inject.</summary>
    public FaultPlan Faults { get; init; } = FaultPlan.None;
    /// <summary>Seed of the workers' choices.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the option (as the CLI spells it) and its range.</summary>
    public void Validate()
    {
        if (!(Seconds > 0 && Seconds <= 86400)) throw new ArgumentException($"--seconds must be in (0, 86400], got {Seconds}");
        if (Threads is < 1 or > 256) throw new ArgumentException($"--threads must be in [1, 256], got {Threads}");
        if (MaxRegionPages is < 1 or > 1 << 20) throw new ArgumentException($"--max-region-pages must be in [1, 1048576], got {MaxRegionPages}");
        ArgumentNullException.ThrowIfNull(Faults);
    }
}

/// <summary>The outcome of a stress run. Pass when <see cref="Mismatches"/>, <see cref="PagesLost"/> and <see cref="UnexpectedErrors"/> are 0.</summary>
public sealed record StressReport
{
    /// <summary>The options run.</summary>
    public required StressOptions Options { get; init; }
    /// <summary>Whether the mixed load was cancelled before <see cref="StressOptions.Seconds"/> (the verification still ran).</summary>
    public bool Interrupted { get; init; }
    /// <summary>Wall time of the mixed load.</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>Operations run, by kind (allocate, write, read, free, reallocate, pin).</summary>
    public required IReadOnlyDictionary<string, long> Operations { get; init; }
    /// <summary>Tunable changes made while the load ran.</summary>
    public long TunableChanges { get; init; }
    /// <summary>Live pages verified at the end.</summary>
    public long PagesVerified { get; init; }
    /// <summary>Pages that read back different from what was written (must be 0).</summary>
    public long Mismatches { get; init; }
    /// <summary>Pages that could not be read although no read error was injected (must be 0).</summary>
    public long PagesLost { get; init; }
    /// <summary>Reads that failed loudly (PageDataLostException) because a read error was injected; retried.</summary>
    public long LostLoudly { get; init; }
    /// <summary>Pages still unreadable after retries at the end, with read errors injected.</summary>
    public long LostLoudlyAtEnd { get; init; }
    /// <summary>Allocations refused because the group was exhausted (a loud, allowed outcome under faults).</summary>
    public long OutOfMemory { get; init; }
    /// <summary>Any other exception (must be 0); the first is in <see cref="FirstError"/>.</summary>
    public long UnexpectedErrors { get; init; }
    /// <summary>The first unexpected exception, or null.</summary>
    public string? FirstError { get; init; }
    /// <summary>Faults injected, by kind.</summary>
    public required IReadOnlyDictionary<string, long> FaultsInjected { get; init; }
    /// <summary>Engine exceptions contained.</summary>
    public long EngineExceptionsContained { get; init; }
    /// <summary>The tier's counters at the end.</summary>
    public required CounterSnapshot Counters { get; init; }

    /// <summary>
    /// Whether the tier was ever under pressure: some page was swapped out (to the pool or the swap file). A run that
    /// never swapped tested no reclaim, writeback or fault-in, whatever it verified.
    /// </summary>
    public bool UnderPressure => Counters[Counter.Zswpout] + Counters[Counter.Pswpout] > 0;
    /// <summary>Whether nothing was lost or garbled.</summary>
    public bool Passed => Mismatches == 0 && PagesLost == 0 && UnexpectedErrors == 0;

    /// <summary>A Markdown summary.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.AppendLine(ci, $"| | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(ci, $"| duration | {Elapsed.TotalSeconds:F1} s, {Options.Threads} threads, one group, {Options.MemoryBytes >> 20} MiB tier |");
        sb.AppendLine(ci, $"| faults planned | `{Options.Faults}` |");
        sb.AppendLine(ci, $"| faults injected | {string.Join(", ", FaultsInjected.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}"))} |");
        sb.AppendLine(ci, $"| operations | {Operations.Values.Sum():N0} ({string.Join(", ", Operations.Select(kv => $"{kv.Key} {kv.Value:N0}"))}) |");
        sb.AppendLine(ci, $"| tunable changes | {TunableChanges:N0} (batch size, max_pool_percent, shrinker, zswap.enabled, compressor lz4/zstd/snappy/deflate/deflate-fast) |");
        sb.AppendLine(ci, $"| traffic | zswpout {Counters[Counter.Zswpout]:N0}, zswpin {Counters[Counter.Zswpin]:N0}, pswpout {Counters[Counter.Pswpout]:N0}, pswpin {Counters[Counter.Pswpin]:N0}, written back {Counters[Counter.WrittenBackPages]:N0}, pool objects moved by compaction {Counters[Counter.ZswapCompactObjects]:N0} (frames freed {Counters[Counter.PagesCompacted]:N0}, busy {Counters[Counter.ZswapCompactBusy]:N0}) |");
        sb.AppendLine(ci, $"| pages verified at the end | {PagesVerified:N0} |");
        sb.AppendLine(ci, $"| mismatches | {Mismatches} |");
        sb.AppendLine(ci, $"| pages lost | {PagesLost} |");
        sb.AppendLine(ci, $"| reads failed loudly (injected read errors, retried) | {LostLoudly} (still unreadable at the end: {LostLoudlyAtEnd}) |");
        sb.AppendLine(ci, $"| allocations refused (group exhausted) | {OutOfMemory} |");
        sb.AppendLine(ci, $"| engine exceptions contained | {EngineExceptionsContained} |");
        sb.AppendLine(ci, $"| unexpected errors | {UnexpectedErrors}{(FirstError is null ? "" : $" (first: {FirstError})")} |");
        return sb.ToString();
    }
}

/// <summary>
/// The concurrency stress: worker threads sharing one memory group allocate, write, read, pin, free and reallocate
/// regions while reclaim and writeback run, and a tuner changes tunables (the codec among them) at run time; it ends
/// by verifying every live page. Each page's content is a function of (region serial, page, version), so a worker
/// knows what every page of its regions must hold.
/// </summary>
public static class Stress
{
    private static readonly string[] OpNames = ["allocate", "write", "read", "pin", "free", "reallocate"];
    private static readonly string[] Codecs = ["lz4", "zstd", "snappy", "deflate", "deflate-fast"];

    /// <summary>Runs the stress; <paramref name="progress"/> gets a line about once a second.</summary>
    /// <remarks>
    /// When <paramref name="cancel"/> is signalled the mixed load stops early (<see cref="StressReport.Interrupted"/>);
    /// the final verification still runs, so what was written is still checked.
    /// </remarks>
    public static StressReport Run(StressOptions options, Action<string>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var tier = new MemoryTier(new TierOptions { MemoryBytes = options.MemoryBytes, Faults = options.Faults, Engines = Math.Min(Environment.ProcessorCount, 4) });
        MemoryGroup group = tier.CreateGroup("stress", tier.FrameBytes / 2);
        bool readErrors = options.Faults.InjectsReadErrors;
        var state = new Shared(readErrors);
        var workers = new Worker[options.Threads];
        var stop = new ManualResetEventSlim();
        var sw = Stopwatch.StartNew();
        var threads = new Thread[options.Threads];
        for (int t = 0; t < threads.Length; t++)
        {
            workers[t] = new Worker(tier, group, options, t, state);
            Worker w = workers[t];
            threads[t] = new Thread(() => w.Loop(stop)) { IsBackground = true, Name = $"stress-{t}" };
            threads[t].Start();
        }
        long tunableChanges = 0;
        var rng = new Random(options.Seed);
        long nextProgress = 1000;
        while (sw.Elapsed.TotalSeconds < options.Seconds && state.UnexpectedErrors == 0 && !cancel.IsCancellationRequested)
        {
            Thread.Sleep(20);
            switch (rng.Next(6))
            {
                case 0:
                    // One time in eight back to automatic, so that lists sized by the controller meet manual ones.
                    tier.Tunables.Set("vm.compress-batchsize", rng.Next(8) == 0 ? "auto" : rng.Next(1, 33).ToString(CultureInfo.InvariantCulture));
                    break;
                case 1: tier.Tunables.Set("zswap.max_pool_percent", rng.Next(2, 40).ToString(CultureInfo.InvariantCulture)); break;
                case 2: tier.Tunables.Set("zswap.shrinker_enabled", rng.Next(2) == 0 ? "Y" : "N"); break;
                case 3: tier.Tunables.Set("zswap.enabled", rng.Next(5) == 0 ? "N" : "Y"); break;
                case 4: tier.Tunables.Set("zswap.compressor", Codecs[rng.Next(Codecs.Length)]); break;
                default: tier.Tunables.Set("vm.page-cluster", rng.Next(0, 6).ToString(CultureInfo.InvariantCulture)); break;
            }
            tunableChanges++;
            if (progress is not null && sw.ElapsedMilliseconds >= nextProgress)
            {
                nextProgress += 1000;
                progress($"{sw.Elapsed.TotalSeconds:F0} s: {workers.Sum(w => w.Ops.Sum()):N0} ops, {state.Mismatches} mismatches, {state.Lost} lost, {state.LostLoudly} lost loudly (retried)");
            }
        }
        stop.Set();
        foreach (Thread t in threads) t.Join();
        TimeSpan elapsed = sw.Elapsed;
        tier.Tunables.Set("zswap.enabled", "Y");

        long verified = 0, lostAtEnd = 0;
        foreach (Worker w in workers)
        {
            (long v, long l) = w.VerifyAll();
            verified += v;
            lostAtEnd += l;
            w.FreeAll();
        }
        var ops = new Dictionary<string, long>();
        for (int k = 0; k < OpNames.Length; k++) ops[OpNames[k]] = workers.Sum(w => w.Ops[k]);
        return new StressReport
        {
            Interrupted = cancel.IsCancellationRequested,
            Options = options,
            Elapsed = elapsed,
            Operations = ops,
            TunableChanges = tunableChanges,
            PagesVerified = verified,
            Mismatches = state.Mismatches,
            PagesLost = state.Lost,
            LostLoudly = state.LostLoudly,
            LostLoudlyAtEnd = lostAtEnd,
            OutOfMemory = state.OutOfMemory,
            UnexpectedErrors = state.UnexpectedErrors,
            FirstError = state.FirstError,
            FaultsInjected = tier.InjectedFaults(),
            EngineExceptionsContained = tier.EngineExceptionsContained,
            Counters = tier.Snapshot(),
        };
    }

    /// <summary>Results all workers add to.</summary>
    private sealed class Shared(bool readErrors)
    {
        public readonly bool ReadErrors = readErrors;
        public long Mismatches, Lost, LostLoudly, OutOfMemory, UnexpectedErrors, Serial;
        public string? FirstError;

        public void Unexpected(Exception e)
        {
            if (Interlocked.Increment(ref UnexpectedErrors) == 1) FirstError = e.GetType().Name + ": " + e.Message;
        }
    }

    /// <summary>One worker: a few region slots it alone uses, and the version of every page in them.</summary>
    private sealed class Worker
    {
        private const int Slots = 3;
        private readonly MemoryTier _tier;
        private readonly MemoryGroup _group;
        private readonly StressOptions _options;
        private readonly Shared _shared;
        private readonly Random _rng;
        private readonly Region?[] _regions = new Region?[Slots];
        private readonly long[] _serials = new long[Slots];
        private readonly int[][] _versions = new int[Slots][];
        private readonly byte[] _page = new byte[4096], _want = new byte[4096];
        public readonly long[] Ops = new long[OpNames.Length];

        public Worker(MemoryTier tier, MemoryGroup group, StressOptions options, int id, Shared shared)
        {
            _tier = tier;
            _group = group;
            _options = options;
            _shared = shared;
            _rng = new Random(options.Seed * 7919 + id);
        }

        public void Loop(ManualResetEventSlim stop)
        {
            while (!stop.IsSet)
            {
                try
                {
                    Step();
                }
                catch (MemoryGroupExhaustedException)
                {
                    Interlocked.Increment(ref _shared.OutOfMemory);
                }
                catch (Exception e)
                {
                    _shared.Unexpected(e);
                    return;
                }
            }
        }

        private void Step()
        {
            int s = _rng.Next(Slots);
            Region? r = _regions[s];
            if (r is null) { Allocate(s); Ops[0]++; return; }
            int roll = _rng.Next(1000); // a region lives about 100 steps of its slot
            long p = _rng.NextInt64(r.PageCount);
            if (roll < 450) { Write(s, p); Ops[1]++; }
            else if (roll < 900) { Check(s, p, final: false); Ops[2]++; }
            else if (roll < 990)
            {
                // Writable and read-only pins both: a writable pin drops a retained copy, a read-only one keeps it.
                bool readOnly = (roll & 1) == 0;
                Retry(() =>
                {
                    if (readOnly)
                    {
                        using ReadOnlyPageLease ro = r.PinReadOnly(p);
                        if (!ro.Span.SequenceEqual(Expected(s, p))) Interlocked.Increment(ref _shared.Mismatches);
                        return;
                    }
                    using PageLease lease = r.Pin(p);
                    if (!lease.Span.SequenceEqual(Expected(s, p))) Interlocked.Increment(ref _shared.Mismatches);
                });
                Ops[3]++;
            }
            else if (roll < 994) { Free(s); Ops[4]++; }
            else { Free(s); Allocate(s); Ops[5]++; }
        }

        private void Allocate(int s)
        {
            int pages = _rng.Next(1, _options.MaxRegionPages + 1);
            int order = _rng.Next(4) == 0 ? _rng.Next(1, 5) : 0;
            _regions[s] = _tier.Allocate((long)pages * 4096, order, _group);
            _serials[s] = Interlocked.Increment(ref _shared.Serial);
            _versions[s] = new int[pages];
            // Fill it, as a program fills what it allocates: this is what makes the group reclaim.
            for (long p = 0; p < pages; p++) Write(s, p);
            Ops[1] += pages;
        }

        private void Free(int s)
        {
            _regions[s]!.Dispose();
            _regions[s] = null;
        }

        public void FreeAll()
        {
            for (int s = 0; s < Slots; s++) if (_regions[s] is not null) Free(s);
        }

        private void Write(int s, long p)
        {
            int v = _versions[s][p] + 1;
            Fill(_page, _serials[s], p, v);
            Retry(() => _regions[s]!.Write(p, _page));
            _versions[s][p] = v;
        }

        /// <summary>Reads one page and compares; returns false when it stayed unreadable.</summary>
        private bool Check(int s, long p, bool final)
        {
            if (!Retry(() => _regions[s]!.Read(p, _page), final)) return false;
            if (!_page.AsSpan().SequenceEqual(Expected(s, p))) Interlocked.Increment(ref _shared.Mismatches);
            return true;
        }

        private ReadOnlySpan<byte> Expected(int s, long p)
        {
            Fill(_want, _serials[s], p, _versions[s][p]);
            return _want;
        }

        /// <summary>Runs an access, retrying a loud failure when read errors are injected.</summary>
        private bool Retry(Action access, bool final = false)
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    access();
                    return true;
                }
                catch (PageDataLostException) when (_shared.ReadErrors)
                {
                    Interlocked.Increment(ref _shared.LostLoudly);
                    if (attempt >= 20) { if (final) return false; throw; }
                }
                catch (PageDataLostException)
                {
                    Interlocked.Increment(ref _shared.Lost);
                    if (final) return false;
                    throw new InvalidOperationException("a page was lost although no read error was injected");
                }
            }
        }

        public (long Verified, long Lost) VerifyAll()
        {
            long verified = 0, lost = 0;
            for (int s = 0; s < Slots; s++)
            {
                Region? r = _regions[s];
                if (r is null) continue;
                for (long p = 0; p < r.PageCount; p++)
                {
                    try
                    {
                        if (Check(s, p, final: true)) verified++; else lost++;
                    }
                    catch (MemoryGroupExhaustedException)
                    {
                        Interlocked.Increment(ref _shared.OutOfMemory);
                        lost++;
                    }
                }
            }
            return (verified, lost);
        }

        /// <summary>The content of version <paramref name="v"/> of a page: zeros before the first write, else one of five kinds.</summary>
        private static void Fill(Span<byte> page, long serial, long p, int v)
        {
            if (v == 0) { page.Clear(); return; }
            ulong x = (ulong)serial * 0x9E3779B97F4A7C15UL ^ (ulong)p * 0xBF58476D1CE4E5B9UL ^ (ulong)v * 0x94D049BB133111EBUL;
            switch ((int)(x % 5))
            {
                case 0: page.Clear(); break;
                case 1: for (int i = 0; i < page.Length; i += 8) BinaryPrimitives.WriteUInt64LittleEndian(page[i..], x); break;
                case 2:
                    for (int i = 0; i < page.Length; i++) page[i] = (byte)"the quick brown fox jumps "[(i + (int)(x % 7)) % 26];
                    break;
                case 3:
                    for (int i = 0; i < page.Length; i += 8) BinaryPrimitives.WriteUInt64LittleEndian(page[i..], 0x00007f0000000000UL + (x & 0xFFFF) * 64 + (ulong)i);
                    break;
                default:
                    for (int i = 0; i < page.Length; i += 8) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; BinaryPrimitives.WriteUInt64LittleEndian(page[i..], x); }
                    break;
            }
            // Every version differs: the first 16 bytes name it.
            BinaryPrimitives.WriteInt64LittleEndian(page, serial ^ (p << 20));
            BinaryPrimitives.WriteInt32LittleEndian(page[8..], v);
        }
    }
}
