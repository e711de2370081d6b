using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pitrix.Engine;

/// <summary>
/// A background service that runs one pass every <c>interval</c> (on <paramref name="time"/>'s clock); a pass that
/// throws is logged and the next one runs on schedule. Subclasses expose their pass so tests can run it directly.
/// </summary>
public abstract partial class PeriodicPass(TimeSpan interval, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The clock passes run on.</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>One pass; returns how many things it changed.</summary>
    public abstract Task<int> SyncAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, Time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SyncAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, GetType().Name, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A pass of {Service} failed; it runs again on schedule.")]
    private static partial void LogFailed(ILogger logger, string service, Exception exception);
}
