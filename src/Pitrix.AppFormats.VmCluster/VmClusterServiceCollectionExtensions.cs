using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pitrix.Core.Clusters;
using Pitrix.Engine;

namespace Pitrix.AppFormats.VmCluster;

public static class VmClusterServiceCollectionExtensions
{
    /// <summary>The <c>vmcluster</c> app format (design and plan), for every role that serves or runs cluster actions.</summary>
    public static IServiceCollection AddVmClusterFormat(this IServiceCollection services)
    {
        services.AddSingleton<IAppFormat, VmClusterFormat>();
        return services;
    }

    /// <summary>
    /// The task handlers of the <c>vmcluster</c> format and the node health copier, for the engine role. They
    /// need an <see cref="Core.Agents.IAgentNetwork"/> (Pilot) and the <see cref="Core.Cloud.IVmRuntimeProvider"/>s
    /// of the enabled providers in the same process.
    /// </summary>
    public static IServiceCollection AddVmClusterTasks(this IServiceCollection services)
    {
        services.TryAddSingleton<VmRuntimeContext>();
        services.AddTaskHandler<EnsureFrontgateHandler>();
        services.AddTaskHandler<CreateVolumeHandler>();
        services.AddTaskHandler<CreateInstanceHandler>();
        services.AddTaskHandler<InstanceHandler>();
        services.AddTaskHandler<ResizeVolumeHandler>();
        services.AddTaskHandler<RemoveNodeHandler>();
        services.AddTaskHandler<WaitAgentHandler>();
        services.AddTaskHandler<InstallFilesHandler>();
        services.AddTaskHandler<RegisterMetadataHandler>();
        services.AddTaskHandler<DeregisterMetadataHandler>();
        services.AddTaskHandler<ConfigWatchHandler>();
        services.AddTaskHandler<HealthCheckHandler>();
        services.AddTaskHandler<RunHandler>();
        services.AddTaskHandler<ReleaseFrontgateHandler>();
        services.AddHostedService<NodeHealthSync>();
        return services;
    }
}
