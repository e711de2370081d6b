using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Core.Hosting;
using Pitrix.Core.Runtimes;
using Pitrix.Engine;

namespace Pitrix.Providers.Fake;

public static class FakeServiceCollectionExtensions
{
    /// <summary>
    /// FAKE cloud for engine tests: the <c>fake</c> runtime provider, its task kinds, and the fake app format
    /// standing in for <paramref name="format"/> packages. The cloud lives in <c>{data directory}/fake-cloud</c>.
    /// </summary>
    public static IServiceCollection AddFakeCloud(this IServiceCollection services, string format = "vmcluster")
    {
        services.TryAddSingleton(sp => new FakeCloud(Path.Combine(sp.GetRequiredService<DataDirectory>().Path, "fake-cloud")));
        services.AddSingleton<IRuntimeProvider, FakeRuntimeProvider>();
        services.AddSingleton<IAppFormat>(new FakeAppFormat(format));
        services.AddSingleton<ITaskHandler>(sp => new FakeCreateInstanceHandler(sp.GetRequiredService<FakeCloud>(), sp.GetRequiredService<IServiceScopeFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.AddTaskHandler<FakeRunHandler>();
        foreach (var op in new[] { "start_instance", "stop_instance", "resize_instance", "delete_instance" })
        {
            services.AddSingleton<ITaskHandler>(sp => FakeInstanceHandler.Create(op, sp.GetRequiredService<FakeCloud>(), sp.GetRequiredService<TimeProvider>()));
        }

        return services;
    }
}

/// <summary>FAKE runtime provider <c>fake</c>: any zone, no credential, always valid.</summary>
public sealed class FakeRuntimeProvider : IRuntimeProvider
{
    public string Name => "fake";

    public string DisplayName => "Fake cloud (tests only)";

    public bool RequiresCredential => false;

    public string? ValidateZone(string zone) => null;

    public Task<RuntimeValidationReport> ValidateAsync(RuntimeValidationContext context, CancellationToken cancellationToken) =>
        Task.FromResult(new RuntimeValidationReport([new RuntimeCheck("fake", true, "The fake cloud is always there.")]));
}
