using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Pitrix.Testing;

/// <summary>Keeps every log line of a test server (category, message, exception), so a test can check what was logged and what never was.</summary>
public sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    /// <summary>
    /// Whether any file under <paramref name="directory"/> holds <paramref name="needle"/> (UTF-8), and which.
    /// A file that vanishes between listing and reading (SQLite's -shm and -wal come and go) holds nothing.
    /// </summary>
    public static string? FileContaining(string directory, string needle)
    {
        var bytes = Encoding.UTF8.GetBytes(needle);
        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .FirstOrDefault(file => ReadIfPresent(file).AsSpan().IndexOf(bytes) >= 0);
    }

    private static byte[] ReadIfPresent(string file)
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
    }
}
