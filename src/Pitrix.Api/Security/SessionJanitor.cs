using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Persistence;

namespace Pitrix.Api.Security;

/// <summary>
/// Deletes sign-in sessions that ended (expired or revoked) more than a week ago, hourly, so the
/// sessions table does not grow forever. The week keeps refresh-token reuse detectable for a while.
/// </summary>
public sealed partial class SessionJanitor(IServiceScopeFactory scopes, TimeProvider time, ILogger<SessionJanitor> logger) : BackgroundService
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var removed = await PurgeAsync(scope.ServiceProvider.GetRequiredService<PitrixDbContext>(), time.GetUtcNow(), stoppingToken);
                if (removed > 0)
                {
                    LogPurged(logger, removed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public static Task<int> PurgeAsync(PitrixDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - Retention;
        return db.Sessions.Where(s => s.ExpiresAt < cutoff || (s.RevokedAt != null && s.RevokedAt < cutoff)).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} ended sign-in sessions")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove ended sign-in sessions")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
