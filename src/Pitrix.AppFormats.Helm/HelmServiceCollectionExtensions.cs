using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pitrix.Core.Clusters;
using Pitrix.Engine;
using Pitrix.Packages.Helm;

namespace Pitrix.AppFormats.Helm;

public static class HelmFormatServiceCollectionExtensions
{
    /// <summary>The <c>helm</c> app format (design and plan), for every role that serves or runs cluster actions.</summary>
    public static IServiceCollection AddHelmFormat(this IServiceCollection services)
    {
        services.AddSingleton<IAppFormat, HelmFormat>();
        services.TryAddSingleton<HelmRuntimeContext>();
        services.TryAddSingleton(sp => new HelmReleases(sp.GetRequiredService<HelmCli>()));
        services.AddSingleton<IClusterInspector, HelmClusterInspector>();
        return services;
    }

    /// <summary>The helm task handlers and the drift observer (<see cref="HelmStatusSync"/>), for the engine role: the helm binary of <see cref="HelmOptions"/>.</summary>
    public static IServiceCollection AddHelmTasks(this IServiceCollection services)
    {
        services.TryAddSingleton<HelmRuntimeContext>();
        services.TryAddSingleton(sp => new HelmReleases(sp.GetRequiredService<HelmCli>()));
        services.TryAddSingleton<ReleaseObserver>();
        services.AddTaskHandler<HelmReleaseHandler>();
        services.AddTaskHandler<HelmReadyHandler>();

        // Drift: running releases are re-read from their API servers between jobs.
        services.TryAddSingleton<HelmStatusSync>();
        services.AddHostedService(sp => sp.GetRequiredService<HelmStatusSync>());
        return services;
    }
}
