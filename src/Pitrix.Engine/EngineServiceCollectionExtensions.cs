using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Engine.Clusters;

namespace Pitrix.Engine;

public static class EngineServiceCollectionExtensions
{
    /// <summary>Runs an engine worker in this process (role <c>engine</c>) with the <c>noop</c> task kind; other kinds are added with <see cref="AddTaskHandler{T}"/>.</summary>
    public static IServiceCollection AddEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EngineOptions>().Bind(configuration.GetSection(EngineOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>());
        services.AddEngineSignal();
        services.AddClusters(configuration);
        services.AddTaskHandler<NoopTaskHandler>();
        services.AddHostedService<EngineService>();
        services.AddHostedService<ClusterReconciler>();
        return services;
    }

    /// <summary>
    /// Cluster operations, for every role that serves or runs cluster actions: the app formats (added as
    /// <see cref="IAppFormat"/> singletons), the observer applying finished jobs, and the event signal.
    /// </summary>
    public static IServiceCollection AddClusters(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AppFormatRegistry>();
        services.TryAddScoped<ClusterOperations>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IJobFinishedObserver, ClusterJobObserver>());
        services.AddEngineSignal();
        return services;
    }

    /// <summary>
    /// Registers <see cref="IEngineSignal"/> (for event-log readers such as Server-Sent Events) and, on
    /// PostgreSQL, the listener that relays other processes' notifications to it. <see cref="AddEngine"/>
    /// includes it; hosts without the engine role call it alone.
    /// </summary>
    public static IServiceCollection AddEngineSignal(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        if (services.Any(d => d.ServiceType == typeof(EngineSignal)))
        {
            return services;
        }

        services.AddSingleton<EngineSignal>();
        services.AddSingleton<IEngineSignal>(sp => sp.GetRequiredService<EngineSignal>());
        services.AddHostedService<PostgresEngineListener>();
        return services;
    }

    public static IServiceCollection AddTaskHandler<T>(this IServiceCollection services)
        where T : class, ITaskHandler
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITaskHandler, T>());
        return services;
    }
}
