using Microsoft.Extensions.Logging;

namespace TeamsMediaBridge.Tests;

/// <summary>
/// A logger factory that hands every formatted line to a callback, on the logging thread: a
/// test can wait for a line, or hold the thread that writes it to widen a race on purpose.
/// </summary>
internal sealed class WatchedLogs(Action<string> onLine) : ILoggerFactory, ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(onLine);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(Action<string> onLine) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            onLine(formatter(state, exception));
    }
}
