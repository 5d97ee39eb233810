using System.Globalization;

namespace BatchSwap.Workloads.Workloads;

/// <summary>A trace line that cannot be read; the message names the file and line.</summary>
public sealed class TraceFormatException(string message) : Exception(message);

/// <summary>
/// A page access trace: lines of <c>worker,page,r|w</c> (commas or whitespace between the three fields), blank lines
/// and <c>#</c> comments ignored. Worker and page are whole numbers from 0; the operation is <c>r</c>/<c>read</c> or
/// <c>w</c>/<c>write</c> (case-insensitive). Each worker's operations keep their order in the file.
/// </summary>
public sealed class Trace
{
    // Per worker: operations as page << 1 | write.
    private readonly long[][] _ops;

    private Trace(long[][] ops, long[] pages)
    {
        _ops = ops;
        PagesPerWorker = pages;
    }

    /// <summary>Workers (the largest worker number + 1).</summary>
    public int Workers => _ops.Length;

    /// <summary>Pages each worker's region needs (its largest page + 1; 0 for a worker with no line).</summary>
    public long[] PagesPerWorker { get; }

    /// <summary>Operations over all workers.</summary>
    public long Ops => _ops.Sum(o => (long)o.Length);

    /// <summary>The largest worker number accepted.</summary>
    public const int MaxWorkers = 1024;

    /// <summary>The largest page number accepted (a region holds at most 2^31 pages).</summary>
    public const long MaxPage = int.MaxValue - 1;

    /// <summary>Reads a trace file.</summary>
    /// <exception cref="TraceFormatException">A line is malformed (message: "FILE line N: …"), or the file has no operation.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Trace Load(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, Path.GetFileName(path));
    }

    /// <summary>Reads a trace from <paramref name="reader"/>; <paramref name="name"/> is used in messages.</summary>
    public static Trace Parse(TextReader reader, string name)
    {
        var ops = new List<List<long>>();
        var maxPage = new List<long>();
        int lineNo = 0;
        char[] separators = [',', ' ', '\t', ';'];
        while (reader.ReadLine() is string line)
        {
            lineNo++;
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            string text = (hash >= 0 ? line[..hash] : line).Trim();
            if (text.Length == 0) continue;
            string[] f = text.Split(separators, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3) throw Bad(name, lineNo, $"expected 'worker,page,r|w' (3 fields), got {f.Length} in '{text}'");
            if (!int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int worker) || worker >= MaxWorkers)
                throw Bad(name, lineNo, $"worker '{f[0]}' is not a whole number in [0, {MaxWorkers - 1}]");
            if (!long.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out long page) || page > MaxPage)
                throw Bad(name, lineNo, $"page '{f[1]}' is not a whole number in [0, {MaxPage}]");
            bool write = f[2].ToLowerInvariant() switch
            {
                "r" or "read" => false,
                "w" or "write" => true,
                _ => throw Bad(name, lineNo, $"operation '{f[2]}' is not r, w, read or write"),
            };
            while (ops.Count <= worker) { ops.Add([]); maxPage.Add(-1); }
            ops[worker].Add(page << 1 | (write ? 1L : 0L));
            if (page > maxPage[worker]) maxPage[worker] = page;
        }
        if (ops.Count == 0) throw new TraceFormatException($"{name}: no operations (expected lines of 'worker,page,r|w')");
        return new Trace(ops.Select(o => o.ToArray()).ToArray(), maxPage.Select(m => m + 1).ToArray());
    }

    private static TraceFormatException Bad(string name, int line, string what) => new($"{name} line {line}: {what}");

    /// <summary>Replays the trace on <paramref name="tier"/>: each worker fills its pages, then runs its lines in order (see <see cref="OpsLoad"/>).</summary>
    public OpsResult Replay(MemoryTier tier, PageSources.IPageSource source, int order,
        Action<string, long, long>? progress = null, CancellationToken cancel = default)
    {
        var seqs = _ops.Select(o => (IOpSequence)new Sequence(o)).ToArray();
        return OpsLoad.Run(tier, source, PagesPerWorker, order, seqs, Ops, progress, cancel);
    }

    private sealed class Sequence(long[] ops) : IOpSequence
    {
        private int _next;

        public bool Next(out long page, out bool write)
        {
            if (_next >= ops.Length) { page = 0; write = false; return false; }
            long op = ops[_next++];
            page = op >> 1;
            write = (op & 1) != 0;
            return true;
        }
    }
}
