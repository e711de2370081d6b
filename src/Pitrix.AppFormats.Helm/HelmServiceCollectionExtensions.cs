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

    /// <summary>The helm task handlers, for the engine role: the helm binary of <see cref="HelmOptions"/>.</summary>
    public static IServiceCollection AddHelmTasks(this IServiceCollection services)
    {
        services.TryAddSingleton<HelmRuntimeContext>();
        services.TryAddSingleton(sp => new HelmReleases(sp.GetRequiredService<HelmCli>()));
        services.AddTaskHandler<HelmReleaseHandler>();
        services.AddTaskHandler<HelmReadyHandler>();
        return services;
    }
}
