using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pitrix.Catalog.Fetching;
using Pitrix.Catalog.Indexing;

namespace Pitrix.Catalog;

public static class CatalogServiceCollectionExtensions
{
    /// <summary>
    /// Registers the catalog's services: the safe fetcher (<c>Fetch</c> section), the indexer's options
    /// (<c>Indexer</c> section, validated at start), sync requests, the syncer, package store, repo probe.
    /// Needs <c>PitrixDbContext</c> (AddPitrixPersistence) and an <c>ISecretProtector</c> registered by the host.
    /// Does not start the indexer: call <see cref="AddIndexer"/> on servers with the <c>indexer</c> role.
    /// </summary>
    public static IServiceCollection AddPitrixCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.Any(s => s.ServiceType == typeof(SafeFetcher)))
        {
            services.AddOptions<FetchOptions>().Bind(configuration.GetSection(FetchOptions.SectionName));
            services.AddSingleton<SafeFetcher>();
        }

        services.AddOptions<IndexerOptions>().Bind(configuration.GetSection(IndexerOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IndexerOptions>, IndexerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IndexerSignal>();
        services.TryAddSingleton<RepoSyncRequests>();
        services.TryAddSingleton<RepoSource>();
        services.TryAddSingleton<PackageStore>();
        services.TryAddSingleton<RepoSyncer>();
        services.TryAddSingleton<RepoProbe>();
        return services;
    }

    /// <summary>Runs the indexer (<see cref="IndexerService"/>) in this process. Requires <see cref="AddPitrixCatalog"/>.</summary>
    public static IServiceCollection AddIndexer(this IServiceCollection services)
    {
        services.AddHostedService<IndexerService>();
        return services;
    }
}
