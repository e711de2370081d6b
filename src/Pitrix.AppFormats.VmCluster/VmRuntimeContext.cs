using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Core.Cloud;
using Pitrix.Core.Clusters;
using Pitrix.Core.Runtimes;
using Pitrix.Core.Security;
using Pitrix.Persistence;

namespace Pitrix.AppFormats.VmCluster;

/// <summary>An app version's package files as the gzip tar a node installs, and how many files it holds.</summary>
public sealed record AppFilesBundle(byte[] Archive, int FileCount);

/// <summary>Where a runtime's frontgate lives: its id (the identity in its certificate) and the address its drones dial.</summary>
public sealed record FrontgateLocation(string Id, string NetworkId, string Address);

/// <summary>
/// What the vmcluster handlers share: the cloud driver of a runtime (opened once per runtime, with its
/// credential decrypted only in memory), the runtime's network and frontgate naming, and node records.
/// </summary>
/// <remarks>
/// One network and one frontgate per runtime: the network's idempotency key is <c>network/{runtime}</c>, the
/// frontgate's instance key <c>frontgate/{runtime}</c> and its id <c>fg-{runtime}</c>. A node's instance and
/// volume keys are <c>node/{node}</c> and <c>volume/{node}</c>: one of each over the node's life, found again
/// by any retry or compensation.
/// </remarks>
public sealed class VmRuntimeContext(IServiceScopeFactory scopes, IEnumerable<IVmRuntimeProvider> providers, ISecretProtector protector)
{
    public const int FrontgatePort = 9111;

    private readonly ConcurrentDictionary<string, (ICloudDriver Driver, Runtime Runtime)> _drivers = new(StringComparer.Ordinal);

    // An app version's files bundle, made once for all the nodes a job installs it on (a version's package never changes).
    private readonly ConcurrentDictionary<string, Task<AppFilesBundle>> _bundles = new(StringComparer.Ordinal);

    private const int MaxBundles = 8;

    public static string FrontgateId(string runtimeId) => $"fg-{runtimeId}";

    public static string InstanceKey(string nodeId) => $"node/{nodeId}";

    public static string VolumeKey(string nodeId) => $"volume/{nodeId}";

    /// <summary>The driver of a runtime; throws <see cref="CloudException"/> when the runtime or its provider is gone.</summary>
    public async Task<(ICloudDriver Driver, Runtime Runtime)> OpenAsync(string? runtimeId, CancellationToken cancellationToken)
    {
        if (runtimeId is null)
        {
            throw CloudException.InvalidRequest("The task has no runtime.");
        }

        if (_drivers.TryGetValue(runtimeId, out var open))
        {
            return open;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var runtime = await db.Runtimes.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runtimeId, cancellationToken)
            ?? throw CloudException.NotFound("runtime", runtimeId);
        var provider = providers.FirstOrDefault(p => p.Name == runtime.Provider)
            ?? throw new CloudException("runtime.provider_unavailable", $"Provider '{runtime.Provider}' cannot run VM clusters on this server.", retryable: false);
        var (endpoint, secret) = await RuntimeSecrets.ReadAsync(db, protector, runtime, cancellationToken);

        var driver = provider.OpenDriver(new CloudTarget(runtime.Id, runtime.Zone, endpoint, secret) { Labels = runtime.Labels });
        return _drivers.GetOrAdd(runtimeId, (driver, runtime));
    }

    /// <summary>
    /// The address range of a runtime's network: the runtime's <c>network.cidr</c> label, or else its provider's
    /// <see cref="IVmRuntimeProvider.DefaultNetworkCidr"/>.
    /// </summary>
    public string NetworkCidr(Runtime runtime) =>
        runtime.Labels.TryGetValue("network.cidr", out var cidr)
            ? cidr
            : (providers.FirstOrDefault(p => p.Name == runtime.Provider)
                ?? throw new CloudException("runtime.provider_unavailable", $"Provider '{runtime.Provider}' cannot run VM clusters on this server.", retryable: false))
                .DefaultNetworkCidr(new CloudTarget(runtime.Id, runtime.Zone, null, null) { Labels = runtime.Labels });

    /// <summary>The runtime's network, made if missing.</summary>
    public Task<CloudNetwork> EnsureNetworkAsync(ICloudDriver driver, Runtime runtime, CancellationToken cancellationToken) =>
        driver.EnsureNetworkAsync(new CloudNetworkRequest($"network/{runtime.Id}", $"pitrix-{runtime.Id}", NetworkCidr(runtime)), cancellationToken);

    /// <summary>The runtime's frontgate, once its instance has an address; null before.</summary>
    public static async Task<FrontgateLocation?> FindFrontgateAsync(ICloudDriver driver, Runtime runtime, CancellationToken cancellationToken)
    {
        var instance = await driver.FindInstanceAsync($"frontgate/{runtime.Id}", cancellationToken);
        return instance?.PrivateIp is { } ip
            ? new FrontgateLocation(FrontgateId(runtime.Id), instance.NetworkId, $"https://{ip}:{FrontgatePort}")
            : null;
    }

    public async Task<ClusterNode?> FindNodeAsync(string nodeId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        return await db.ClusterNodes.AsNoTracking().SingleOrDefaultAsync(n => n.Id == nodeId, cancellationToken);
    }

    /// <summary>
    /// The files bundle of an app version, made by <paramref name="make"/> once and shared by every node's install
    /// task; a failed make is forgotten so the next task tries again. At most <see cref="MaxBundles"/> are kept.
    /// </summary>
    public async Task<AppFilesBundle> BundleAsync(string versionId, Func<Task<AppFilesBundle>> make)
    {
        if (_bundles.Count >= MaxBundles && !_bundles.ContainsKey(versionId))
        {
            _bundles.Clear();
        }

        // Two tasks racing on a new version may both make it; one result is kept.
        var making = _bundles.GetOrAdd(versionId, _ => make());
        try
        {
            return await making;
        }
        catch
        {
            _bundles.TryRemove(KeyValuePair.Create(versionId, making));
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> with a fresh database context.</summary>
    public async Task<T> WithDbAsync<T>(Func<PitrixDbContext, Task<T>> work)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<PitrixDbContext>());
    }
}
