using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pitrix.Frontgate.Identity;

/// <summary>
/// Renews the frontgate's certificate with Pilot (<c>Enrollment.Renew</c>, presenting the current one) when
/// half its lifetime has passed; a failed attempt is retried with a growing delay, at most ten minutes apart.
/// </summary>
public sealed partial class CredentialRenewer(
    FrontgateCredentials credentials,
    Uri pilotAddress,
    TimeProvider time,
    ILogger<CredentialRenewer> logger) : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retryDelay = TimeSpan.FromSeconds(5);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wait = credentials.RenewAt - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }

                try
                {
                    await credentials.RenewAsync(pilotAddress, stoppingToken);
                    retryDelay = TimeSpan.FromSeconds(5);
                    var notAfter = credentials.Current.NotAfter.ToUniversalTime();
                    LogRenewed(logger, notAfter);
                }
                catch (Exception exception) when (exception is RpcException or InvalidOperationException or IOException or HttpRequestException)
                {
                    LogRenewFailed(logger, exception.Message, retryDelay.TotalSeconds);
                    await Task.Delay(retryDelay, time, stoppingToken);
                    retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Renewed the frontgate certificate; it is valid until {NotAfter:u}")]
    private static partial void LogRenewed(ILogger logger, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the frontgate certificate failed ({Reason}); trying again in {DelaySeconds:0} s")]
    private static partial void LogRenewFailed(ILogger logger, string reason, double delaySeconds);
}
