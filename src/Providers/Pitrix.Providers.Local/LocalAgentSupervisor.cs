using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local;

/// <summary>
/// What systemd is to a VM's agent: at start, and every <see cref="Interval"/> after, every local zone's running
/// instances whose agent is not running get it started again (<see cref="LocalCloud.RecoverAsync"/>), so nodes
/// and frontgates come back after the machine rebooted or an agent crashed, without waiting for a job to look.
/// </summary>
public sealed partial class LocalAgentSupervisor(LocalRuntimeProvider provider, IOptions<LocalRuntimeOptions> options, TimeProvider time, ILogger<LocalAgentSupervisor> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        do
        {
            await RecoverAllAsync(stoppingToken);
        }
        while (await WaitAsync(stoppingToken));
    }

    /// <summary>One pass over every zone that has instances; returns how many agents were started.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task<int> RecoverAllAsync(CancellationToken cancellationToken)
    {
        var started = 0;
        if (!Directory.Exists(provider.WorkRoot))
        {
            return 0;
        }

        foreach (var zone in Directory.EnumerateDirectories(provider.WorkRoot))
        {
            if (!Directory.Exists(Path.Combine(zone, "state", "instances")) || provider.ValidateZone(Path.GetFileName(zone)) is not null)
            {
                continue;
            }

            var name = Path.GetFileName(zone);
            try
            {
                var cloud = new LocalCloud(zone, options.Value, launcher: null, time);
                var count = await cloud.RecoverAsync(cancellationToken);
                if (count > 0)
                {
                    LogRestarted(count, name);
                }

                started += count;
            }
            catch (Exception ex) when (ex is CloudException or IOException)
            {
                LogFailed(ex, name);
            }
        }

        return started;
    }

    private async Task<bool> WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Interval, time, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started {Count} agent(s) of running instances in local zone {Zone} that were not running.")]
    private partial void LogRestarted(int count, string zone);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the agents of local zone {Zone}.")]
    private partial void LogFailed(Exception exception, string zone);
}

public static class LocalAgentSupervisorServiceCollectionExtensions
{
    /// <summary>Runs the <see cref="LocalAgentSupervisor"/> in this process (the engine role).</summary>
    public static IServiceCollection AddLocalAgentSupervisor(this IServiceCollection services)
    {
        services.AddLocalProvider();
        services.AddHostedService<LocalAgentSupervisor>();
        return services;
    }
}
