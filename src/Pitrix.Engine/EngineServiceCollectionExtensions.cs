using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pitrix.Core.Engine;

namespace Pitrix.Engine;

public static class EngineServiceCollectionExtensions
{
    /// <summary>Runs an engine worker in this process (role <c>engine</c>) with the <c>noop</c> task kind; other kinds are added with <see cref="AddTaskHandler{T}"/>.</summary>
    public static IServiceCollection AddEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EngineOptions>().Bind(configuration.GetSection(EngineOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddTaskHandler<NoopTaskHandler>();
        services.AddHostedService<EngineService>();
        return services;
    }

    public static IServiceCollection AddTaskHandler<T>(this IServiceCollection services)
        where T : class, ITaskHandler
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ITaskHandler, T>());
        return services;
    }
}
