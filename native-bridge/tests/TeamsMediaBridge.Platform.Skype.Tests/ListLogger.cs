using Microsoft.Extensions.Logging;

namespace TeamsMediaBridge.Platform.Skype.Tests;

/// <summary>Keeps every log line the adapter writes, with its level and exception.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message, Exception? Error)> Lines { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Add((logLevel, formatter(state, exception), exception));
}
