using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BatchSwap.Telemetry;

/// <summary>
/// The few events of a tier worth a log line: a swap file that could not have direct I/O, swap-device runs that
/// failed, a memory group out of memory. Never called on a hot path: each call site is a failure branch. Device
/// failures are rate-limited (one line a second per kind, with the pages failed since the last line), since a
/// failing disk fails every run.
/// </summary>
internal sealed partial class TierLog
{
    /// <summary>A log that writes nothing (no <see cref="TierOptions.LoggerFactory"/>).</summary>
    public static readonly TierLog None = new(null, "");

    // Where the lines go.
    private readonly ILogger _logger;
    // The tier's name, in every line.
    private readonly string _tier;
    // When the last write-failure and read-failure lines were written (Stopwatch ticks; 0: never).
    private long _lastWriteLine, _lastReadLine;
    // Pages failed since the last line, by kind.
    private long _writeFailedSince, _readFailedSince;

    public TierLog(ILoggerFactory? factory, string tier)
    {
        _logger = factory?.CreateLogger(BatchSwapTelemetry.LoggerCategory) ?? NullLogger.Instance;
        _tier = tier;
    }

    /// <summary>Swap device <paramref name="type"/> asked for O_DIRECT and got buffered I/O.</summary>
    public void DirectIoFallback(int type, string file, string reason) => DirectIoRefused(_tier, type, file, reason);

    /// <summary><paramref name="pages"/> pages failed to write to a swap device (the folios or entries were kept).</summary>
    public void SwapWriteFailed(long pages)
    {
        if (!_logger.IsEnabled(LogLevel.Error)) return;
        Interlocked.Add(ref _writeFailedSince, pages);
        if (!Due(ref _lastWriteLine)) return;
        long n = Interlocked.Exchange(ref _writeFailedSince, 0);
        if (n > 0) SwapWriteFailure(_tier, n);
    }

    /// <summary><paramref name="pages"/> pages failed to read from a swap device (they stay swapped out).</summary>
    public void SwapReadFailed(long pages)
    {
        if (!_logger.IsEnabled(LogLevel.Error)) return;
        Interlocked.Add(ref _readFailedSince, pages);
        if (!Due(ref _lastReadLine)) return;
        long n = Interlocked.Exchange(ref _readFailedSince, 0);
        if (n > 0) SwapReadFailure(_tier, n);
    }

    /// <summary>A group is at its limit and reclaim could free nothing: the allocation throws.</summary>
    public void GroupExhausted(string group, long limitBytes, int order) => GroupOutOfMemory(_tier, group, limitBytes >> 20, order);

    /// <summary>Whether a second has passed since <paramref name="last"/> (then takes the turn).</summary>
    private static bool Due(ref long last)
    {
        long now = Stopwatch.GetTimestamp();
        long prev = Volatile.Read(ref last);
        if (prev != 0 && Stopwatch.GetElapsedTime(prev, now) < TimeSpan.FromSeconds(1)) return false;
        return Interlocked.CompareExchange(ref last, now, prev) == prev;
    }

    [LoggerMessage(EventId = 1, EventName = "DirectIoFallback", Level = LogLevel.Warning,
        Message = "tier {Tier}: swap device {SwapType} ({File}) uses buffered I/O: O_DIRECT {Reason}; swapped pages can stay in the page cache, outside the tier's memory budget")]
    private partial void DirectIoRefused(string tier, int swapType, string file, string reason);

    [LoggerMessage(EventId = 2, EventName = "SwapWriteFailed", Level = LogLevel.Error,
        Message = "tier {Tier}: {Pages} pages failed to write to a swap device (swap_write_fail); their folios stay in memory or in zswap")]
    private partial void SwapWriteFailure(string tier, long pages);

    [LoggerMessage(EventId = 3, EventName = "SwapReadFailed", Level = LogLevel.Error,
        Message = "tier {Tier}: {Pages} pages failed to read from a swap device (swap_read_fail); they stay swapped out and their accesses throw PageDataLostException")]
    private partial void SwapReadFailure(string tier, long pages);

    [LoggerMessage(EventId = 4, EventName = "GroupExhausted", Level = LogLevel.Error,
        Message = "tier {Tier}: memory group '{Group}' is at its limit of {LimitMiB} MiB and reclaim cannot free anything for an order-{Order} folio")]
    private partial void GroupOutOfMemory(string tier, string group, long limitMiB, int order);
}
