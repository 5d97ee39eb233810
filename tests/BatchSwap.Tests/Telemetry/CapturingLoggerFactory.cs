using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BatchSwap.Tests.Telemetry;

/// <summary>An <see cref="ILoggerFactory"/> that keeps every line written, with its category, level and event.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    /// <summary>One line written.</summary>
    public sealed record Line(string Category, LogLevel Level, EventId Event, string Message);

    /// <summary>Every line, in order.</summary>
    public ConcurrentQueue<Line> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue(new Line(category, logLevel, eventId, formatter(state, exception)));
    }
}
