using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pitrix.Engine.Clusters;

/// <summary>
/// The engine's cluster housekeeping (role <c>engine</c>): applies finished jobs to their clusters, starts
/// queued jobs, and ceases deleted clusters after their grace period. Jobs are applied at once when they
/// finish in this process; this pass repairs whatever a crash interrupted.
/// </summary>
public sealed partial class ClusterReconciler(IServiceScopeFactory scopes, TimeProvider time, ILogger<ClusterReconciler> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<ClusterOperations>().ReconcileAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }

            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster reconciliation failed; trying again shortly")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
