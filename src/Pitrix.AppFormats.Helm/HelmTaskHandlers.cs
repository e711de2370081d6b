using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Catalog.Indexing;
using Pitrix.Core.Engine;
using Pitrix.Core.Security;
using Pitrix.Engine.Clusters;
using Pitrix.Packages.Archives;
using Pitrix.Persistence;
using Pitrix.Providers.Kubernetes;

namespace Pitrix.AppFormats.Helm;

/// <summary>
/// What the helm handlers share: a runtime's <see cref="HelmTarget"/> (its kubeconfig decrypted only in memory,
/// read per task, never cached) and an app version's chart unpacked once into a private directory.
/// </summary>
public sealed class HelmRuntimeContext(IServiceScopeFactory scopes, ISecretProtector protector, PackageStore packages) : IDisposable
{
    private readonly string _charts = CreatePrivateDirectory();
    private readonly ConcurrentDictionary<string, Task<string>> _chartPaths = new(StringComparer.Ordinal);

    public async Task<HelmTarget> TargetAsync(string? runtimeId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var runtime = await db.Runtimes.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runtimeId, cancellationToken)
            ?? throw new HelmReleaseException("runtime.not_found", $"Runtime {runtimeId} no longer exists.");
        var (_, secret) = await RuntimeSecrets.ReadAsync(db, protector, runtime, cancellationToken);
        if (string.IsNullOrWhiteSpace(secret))
        {
            throw new HelmReleaseException("runtime.credential_missing", $"Runtime {runtime.Name} has no kubeconfig credential.");
        }

        // Checked as validation does: a kubeconfig that would make helm read files or run programs never reaches it.
        try
        {
            Kubeconfigs.Load(secret, runtime.Labels.GetValueOrDefault(KubernetesRuntimeProvider.ContextLabel));
        }
        catch (KubeconfigException e)
        {
            throw new HelmReleaseException(e.Code, e.Message);
        }

        return new HelmTarget(secret, runtime.Labels.GetValueOrDefault(KubernetesRuntimeProvider.ContextLabel), runtime.Zone);
    }

    /// <summary>The namespace of a runtime's releases (its zone), read without its credential: enough to render a chart.</summary>
    public async Task<string> NamespaceAsync(string runtimeId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        return await db.Runtimes.AsNoTracking().Where(r => r.Id == runtimeId).Select(r => r.Zone).SingleOrDefaultAsync(cancellationToken)
            ?? throw new HelmReleaseException("runtime.not_found", $"Runtime {runtimeId} no longer exists.");
    }

    /// <summary>The directory of the version's chart, unpacked from its package once per process; a failed unpack is tried again next time.</summary>
    public async Task<string> ChartAsync(string versionId)
    {
        var unpacking = _chartPaths.GetOrAdd(versionId, UnpackAsync);
        try
        {
            return await unpacking;
        }
        catch
        {
            _chartPaths.TryRemove(KeyValuePair.Create(versionId, unpacking));
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_charts, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary directory.
        }
    }

    private async Task<string> UnpackAsync(string versionId)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var version = await db.AppVersions.AsNoTracking().SingleOrDefaultAsync(v => v.Id == versionId)
            ?? throw new HelmReleaseException("app_version.not_found", $"App version {versionId} no longer exists.");
        var archive = await packages.GetPackageAsync(db, version, CancellationToken.None);
        using var stream = new MemoryStream(archive, writable: false);
        var files = (await SafeArchive.ReadAsync(stream, null, CancellationToken.None)).ContentFiles;
        var directory = Path.Combine(_charts, versionId);
        if (Directory.Exists(directory))
        {
            return directory;
        }

        var staging = $"{directory}.{Guid.NewGuid():N}.tmp";

        foreach (var (path, content) in files)
        {
            var target = Path.GetFullPath(Path.Combine(staging, path));
            if (!target.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new HelmReleaseException("package.unsafe_path", $"The package of {versionId} holds a path outside the chart: {path}.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, content);
        }

        Directory.Move(staging, directory);
        return directory;
    }

    private static string CreatePrivateDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("pitrix-charts-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return directory;
    }
}

/// <summary>
/// <see cref="HelmTaskKinds.Release"/>: repairs a release left pending, then one helm operation — install (or,
/// for a retried task whose install landed, nothing), upgrade, rollback (to <c>revision</c> or the one before),
/// uninstall keeping history (delete), rollback of an uninstalled release (recover), or purge (cease).
/// </summary>
public sealed class HelmReleaseHandler(HelmRuntimeContext runtimes, HelmReleases helm) : ITaskHandler
{
    public string Kind => HelmTaskKinds.Release;

    public async Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var input = JsonNode.Parse(context.Input) as JsonObject ?? [];
        var op = (string?)input["op"] ?? "";
        var release = (string?)input["release"] ?? "";
        try
        {
            var target = await runtimes.TargetAsync(context.RuntimeId, cancellationToken);

            // One status read serves the repair and the operation; it is read again only after a repair changed it.
            var status = await helm.StatusAsync(target, release, cancellationToken);
            var repaired = await helm.RepairAsync(target, release, status, cancellationToken);
            if (repaired is not null)
            {
                status = await helm.StatusAsync(target, release, cancellationToken);
            }

            var done = op switch
            {
                "install" => await InstallAsync(target, release, status, input, cancellationToken),
                "upgrade" => await UpgradeAsync(target, release, input, cancellationToken),
                "rollback" => await RollbackAsync(target, release, (int?)input["revision"], (string?)input["chart"], cancellationToken),
                "recover" => await RecoverAsync(target, release, status, cancellationToken),
                "uninstall" => await UninstallAsync(target, release, status, keepHistory: true, cancellationToken),
                "purge" => await UninstallAsync(target, release, status, keepHistory: false, cancellationToken),
                _ => throw new HelmReleaseException("helm.invalid_task", $"Unknown helm operation '{op}'."),
            };
            return TaskOutcome.Success(repaired is null ? done : $"{repaired}; {done}");
        }
        catch (HelmReleaseException e)
        {
            return Failure(e);
        }
    }

    /// <summary>A helm failure as a task outcome: a release locked by another operation, or a timeout, is worth retrying.</summary>
    internal static TaskOutcome Failure(HelmReleaseException e) =>
        TaskOutcome.Failure(e.Code, e.Message, retryable: e.Code is HelmReleaseException.Timeout or HelmReleaseException.Locked);

    private async Task<string> InstallAsync(HelmTarget target, string release, HelmReleaseInfo? status, JsonObject input, CancellationToken cancellationToken)
    {
        var chart = await runtimes.ChartAsync((string)input["app_version_id"]!);
        if (status is { Status: "deployed" })
        {
            return $"release {release} is already installed (revision {status.Revision})";
        }

        var installed = status is null
            ? await helm.InstallAsync(target, release, chart, Values(input), cancellationToken, createNamespace: !await NamespaceExistsAsync(target, cancellationToken))
            : await helm.UpgradeAsync(target, release, chart, Values(input), cancellationToken);
        return $"installed release {release}: revision {installed.Revision}, {installed.Chart}, {installed.Status}";
    }

    private async Task<string> UpgradeAsync(HelmTarget target, string release, JsonObject input, CancellationToken cancellationToken)
    {
        var chart = await runtimes.ChartAsync((string)input["app_version_id"]!);
        var upgraded = await helm.UpgradeAsync(target, release, chart, Values(input), cancellationToken);
        return $"upgraded release {release}: revision {upgraded.Revision}, {upgraded.Chart}, {upgraded.Status}";
    }

    private async Task<string> RollbackAsync(HelmTarget target, string release, int? revision, string? chart, CancellationToken cancellationToken)
    {
        var history = await helm.HistoryAsync(target, release, cancellationToken);
        var to = RollbackRevision(release, history, revision, chart);
        await helm.RollbackAsync(target, release, to, cancellationToken);
        return $"rolled release {release} back to revision {to}";
    }

    /// <summary>
    /// The revision a rollback returns to: <paramref name="revision"/> when given, else the newest earlier deployed
    /// (or superseded) revision of <paramref name="chart"/> (name-version), else the newest earlier one.
    /// </summary>
    internal static int RollbackRevision(string release, IReadOnlyList<HelmRevision> history, int? revision, string? chart)
    {
        var current = (history.Count > 0 ? history[^1] : null) ?? throw new HelmReleaseException(HelmReleaseException.NotFound, $"Release {release} has no revisions.");
        var earlier = history.Where(r => r.Revision < current.Revision && r.Status is "superseded" or "deployed").ToList();
        var to = revision
            ?? (chart is null ? null : earlier.LastOrDefault(r => r.Chart == chart)?.Revision)
            ?? (earlier.Count > 0 ? earlier[^1].Revision : (int?)null)
            ?? throw new HelmReleaseException(NoPreviousRevision, $"Release {release} has no revision before {current.Revision} to roll back to.");
        return history.Any(r => r.Revision == to)
            ? to
            : throw new HelmReleaseException("helm.no_such_revision", $"Release {release} has no revision {to}; it has {string.Join(", ", history.Select(r => r.Revision))}.");
    }

    internal const string NoPreviousRevision = "helm.no_previous_revision";

    private async Task<string> RecoverAsync(HelmTarget target, string release, HelmReleaseInfo? status, CancellationToken cancellationToken)
    {
        if (status is null)
        {
            throw new HelmReleaseException(HelmReleaseException.NotFound, $"Release {release} is gone (purged); it cannot be recovered.");
        }

        if (status.Status != "uninstalled")
        {
            return $"release {release} is {status.Status} (revision {status.Revision}); nothing to recover";
        }

        await helm.RollbackAsync(target, release, status.Revision, cancellationToken);
        return $"recovered release {release} from revision {status.Revision}";
    }

    private async Task<string> UninstallAsync(HelmTarget target, string release, HelmReleaseInfo? status, bool keepHistory, CancellationToken cancellationToken)
    {
        if (status is null || (keepHistory && status.Status == "uninstalled"))
        {
            return $"release {release} is already {(status is null ? "gone" : "uninstalled")}";
        }

        await helm.UninstallAsync(target, release, keepHistory, cancellationToken);
        return keepHistory ? $"uninstalled release {release}, history kept" : $"purged release {release}";
    }

    /// <summary>
    /// Whether the runtime's namespace exists. An identity that may not read namespaces is taken to have its own
    /// (validation said so): helm's <c>--create-namespace</c> would fail for it, as it may not create namespaces either.
    /// </summary>
    private static async Task<bool> NamespaceExistsAsync(HelmTarget target, CancellationToken cancellationToken)
    {
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(target.Kubeconfig, target.Context));
        try
        {
            await client.CoreV1.ReadNamespaceAsync(target.Namespace, cancellationToken: cancellationToken);
            return true;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.Forbidden)
        {
            return true;
        }
        catch (HttpRequestException e)
        {
            throw new HelmReleaseException("kubernetes.unavailable", $"The API server could not be read: {e.Message}");
        }
    }

    /// <summary>The user's values as a values file (JSON is YAML); null when there are none.</summary>
    private static string? Values(JsonObject input) =>
        input["values"] is JsonObject { Count: > 0 } values ? values.ToJsonString() : null;
}

/// <summary>
/// <see cref="HelmTaskKinds.Ready"/>: the release observed from the API server (<see cref="ReleaseObserver"/>), its
/// cluster view stored after each read; succeeds when every resource is current, fails for good when one failed.
/// Between reads it watches the namespace's pods and workloads, so readiness is seen as soon as it comes; after
/// <see cref="WatchBudget"/> it fails retryably, handing its worker back, and the engine runs it again.
/// </summary>
public sealed class HelmReadyHandler(HelmRuntimeContext runtimes, ReleaseObserver observer, IServiceScopeFactory scopes, TimeProvider time) : ITaskHandler
{
    /// <summary>How long one attempt watches for changes before it returns to the engine.</summary>
    public static readonly TimeSpan WatchBudget = TimeSpan.FromSeconds(20);

    public string Kind => HelmTaskKinds.Ready;

    /// <summary>Between reads of an API server that cannot be reached, within one attempt.</summary>
    public static readonly TimeSpan UnreachablePause = TimeSpan.FromSeconds(2);

    public async Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var input = JsonNode.Parse(context.Input) as JsonObject ?? [];
        var release = (string?)input["release"] ?? "";
        var deadline = time.GetUtcNow() + WatchBudget;
        while (true)
        {
            try
            {
                return await WatchAsync(context, release, deadline, cancellationToken);
            }
            catch (HelmReleaseException e)
            {
                return HelmReleaseHandler.Failure(e);
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TimeoutException)
            {
                // An API server out of reach spends the attempt's whole budget, as a release not yet ready does:
                // the attempts then outlast an outage of about as long as a slow rollout, not 45 quick failures.
                if (time.GetUtcNow() + UnreachablePause >= deadline)
                {
                    return TaskOutcome.Failure("kubernetes.unavailable", $"The API server could not be read: {e.Message}", retryable: true);
                }

                await Task.Delay(UnreachablePause, time, cancellationToken);
            }
        }
    }

    private async Task<TaskOutcome> WatchAsync(TaskContext context, string release, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var target = await runtimes.TargetAsync(context.RuntimeId, cancellationToken);
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(target.Kubeconfig, target.Context));
        while (true)
        {
            var observed = await observer.ObserveAsync(client, target, release, cancellationToken);
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
                await ClusterObservationStore.SaveAsync(db, observed.ToObservation(context.ClusterId, time.GetUtcNow()), context.JobId, cancellationToken);
            }

            var summary = JsonSerializer.Serialize(observed.Status.Resources.Select(r => new { kind = r.Kind, name = r.Name, state = r.State.ToString(), message = r.Message, desired = r.Desired, ready = r.Ready }));
            switch (observed.Status.State)
            {
                case ResourceState.Current:
                    return TaskOutcome.Success(summary);
                case ResourceState.Failed:
                    return TaskOutcome.Failure("helm.release_failed", $"Release {release} failed: {observed.Message}", retryable: false, summary);
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return TaskOutcome.Failure("helm.not_ready", $"Release {release} is not ready: {observed.Message}", retryable: true, summary);
            }

            // A watch the identity may not open (or one the API server dropped) falls back to reading every 2 s.
            if (!await ReleaseObserver.WaitForChangeAsync(client, target.Namespace, observed.Workloads.Select(w => w.Kind), left, cancellationToken))
            {
                var pause = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, (deadline - time.GetUtcNow()).Ticks));
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, time, cancellationToken);
                }
            }
        }
    }
}
