using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Catalog.Indexing;
using Pitrix.Catalog.Repos;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Core.Identity;
using Pitrix.Core.Security;
using Pitrix.Persistence;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Catalog.Tests.Indexing;

/// <summary>
/// The catalog's real services on a real database (one per fixture) and a real HTTP repo server. Each
/// test makes its own user and repos, so tests sharing the database do not see each other's rows.
/// </summary>
public abstract class IndexerFixture : IAsyncLifetime
{
    public const int MaxIndexBytes = 256 * 1024;

    private TestDatabase? _database;
    private ServiceProvider? _services;

    public abstract string DatabaseKind { get; }

    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "pitrix-indexer-" + Guid.NewGuid().ToString("N")[..8]);

    public RepoFileServer Http { get; } = new();

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("Not started.");

    public RepoSyncer Syncer => Services.GetRequiredService<RepoSyncer>();

    public RepoSyncRequests Requests => Services.GetRequiredService<RepoSyncRequests>();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDirectory);
        _database = DatabaseKind == "postgres" ? await TestDatabase.PostgresAsync() : TestDatabase.Sqlite(WorkDirectory);
        _services = BuildServices(_database, WorkDirectory, instanceId: "test-instance");
        await using (var scope = _services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().Database.MigrateAsync();
        }

        await Http.StartAsync();
    }

    /// <summary>A second "server instance" on the same database, as when several run on one PostgreSQL.</summary>
    public ServiceProvider OtherInstance(string instanceId) => BuildServices(_database!, WorkDirectory, instanceId);

    private static ServiceProvider BuildServices(TestDatabase database, string keysDirectory, string instanceId)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fetch:AllowLoopback"] = "true",
            ["Fetch:Timeout"] = "00:00:20",
            ["Indexer:PollInterval"] = "00:00:00.200",
            ["Indexer:InstanceId"] = instanceId,
            ["Indexer:MaxIndexBytes"] = MaxIndexBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddPitrixPersistence(new DatabaseOptions { Provider = database.Provider, ConnectionString = database.ConnectionString });
        // The server's real key ring (ASP.NET Data Protection), in the fixture's own directory.
        services.AddDataProtection().SetApplicationName("pitrix").PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(keysDirectory, "keys")));
        services.AddSingleton<ISecretProtector, Pitrix.Api.Security.SecretProtector>();
        services.AddPitrixCatalog(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public async Task DisposeAsync()
    {
        await Http.DisposeAsync();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp directory is cleaned by the OS eventually.
        }
    }

    /// <summary>Runs <paramref name="action"/> with a fresh context, as a request or a sync would.</summary>
    public async Task<T> WithDbAsync<T>(Func<PitrixDbContext, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<PitrixDbContext>());
    }

    public Task WithDbAsync(Func<PitrixDbContext, Task> action) => WithDbAsync(async db =>
    {
        await action(db);
        return true;
    });

    /// <summary>Creates an owner and a repo at <paramref name="url"/>.</summary>
    public Task<Repo> CreateRepoAsync(string url, RepoCredential? credential = null, string fetchPackages = PackageFetchPolicy.All, int syncIntervalSeconds = 600) =>
        WithDbAsync(async db =>
        {
            var now = DateTimeOffset.UtcNow;
            var name = "u" + Guid.NewGuid().ToString("N")[..10];
            var user = new User { Id = Id.New(IdPrefix.User), Name = name, NormalizedName = name, PasswordHash = "x", CreatedAt = now, UpdatedAt = now };
            db.Users.Add(user);
            var repo = new Repo
            {
                Id = Id.New(IdPrefix.Repo),
                Name = "repo-" + name,
                Type = url.StartsWith("file:", StringComparison.Ordinal) ? RepoType.File : RepoType.Http,
                Url = url,
                CredentialCiphertext = credential?.Protect(Services.GetRequiredService<ISecretProtector>()),
                OwnerId = user.Id,
                FetchPackages = fetchPackages,
                SyncIntervalSeconds = syncIntervalSeconds,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Repos.Add(repo);
            await db.SaveChangesAsync();
            return repo;
        });

    /// <summary>Queues a manual sync and runs it here.</summary>
    public async Task<RepoSync> SyncAsync(string repoId)
    {
        var sync = await WithDbAsync(db => Requests.RequestAsync(db, repoId, SyncTrigger.Manual, "tester", CancellationToken.None));
        var result = await Syncer.RunAsync(sync.Id, CancellationToken.None);
        Assert.Equal(SyncRunOutcome.Completed, result.Outcome);
        return result.Sync!;
    }

    public Task<List<App>> AppsAsync(string repoId) =>
        WithDbAsync(db => db.Apps.AsNoTracking().Where(a => a.RepoId == repoId).OrderBy(a => a.Name).ToListAsync());

    public Task<List<AppVersion>> VersionsAsync(string repoId) =>
        WithDbAsync(db => db.AppVersions.AsNoTracking().Where(v => v.RepoId == repoId).OrderBy(v => v.Version).ToListAsync());

    public Task<Repo> RepoAsync(string repoId) => WithDbAsync(db => db.Repos.AsNoTracking().SingleAsync(r => r.Id == repoId));

    /// <summary>A directory repo holding a fresh copy of the samples.</summary>
    public RepoSite CopyOfSamples() => RepoSite.CopyOfSamples(WorkDirectory);

    /// <summary>The same copy served over HTTP.</summary>
    public (RepoSite Site, string Url) ServedCopyOfSamples()
    {
        var site = Http.Add(CopyOfSamples());
        return (site, Http.UrlOf(site).AbsoluteUri);
    }

    public static string FileUrl(RepoSite site) => new Uri(site.Directory + "/").AbsoluteUri;
}

public sealed class SqliteIndexerFixture : IndexerFixture
{
    public override string DatabaseKind => "sqlite";
}

public sealed class PostgresIndexerFixture : IndexerFixture
{
    public override string DatabaseKind => "postgres";
}
