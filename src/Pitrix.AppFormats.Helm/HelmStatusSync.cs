using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Core.Clusters;
using Pitrix.Engine;
using Pitrix.Engine.Clusters;
using Pitrix.Packages.Helm;
using Pitrix.Persistence;
using Pitrix.Providers.Kubernetes;

namespace Pitrix.AppFormats.Helm;

/// <summary>
/// Re-reads the cluster view of every Helm cluster at rest (active or failed, no job running) from its API server
/// every <see cref="HelmOptions.ObserveInterval"/>, so drift shows: a workload deleted or scaled by hand, pods
/// crashing, a load balancer address arriving. While a job runs, its readiness task observes instead (by watch).
/// A runtime that cannot be read marks its clusters <see cref="ObservedState.Unreachable"/>, keeping what was last
/// seen. Observations of deleted clusters are dropped.
/// </summary>
public sealed class HelmStatusSync(
    IServiceScopeFactory scopes,
    HelmRuntimeContext runtimes,
    ReleaseObserver observer,
    IOptions<HelmOptions> options,
    TimeProvider time,
    ILogger<HelmStatusSync> logger) : PeriodicPass(options.Value.ObserveInterval, time, logger)
{
    /// <summary>One pass: returns how many clusters' observations changed.</summary>
    public override async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var gone = await db.ClusterObservations
            .Where(o => db.Clusters.Any(c => c.Id == o.ClusterId && (c.Status == ClusterStatus.Deleted || c.Status == ClusterStatus.Ceased)))
            .Select(o => o.ClusterId)
            .ToListAsync(cancellationToken);
        if (gone.Count > 0)
        {
            await ClusterObservationStore.ForgetAsync(db, gone, cancellationToken);
        }

        var clusters = await db.Clusters.AsNoTracking()
            .Where(c => c.Format == HelmFormat.FormatName && (c.Status == ClusterStatus.Active || c.Status == ClusterStatus.Failed))
            .Where(c => c.LeaseJobId == null || !db.Jobs.Any(j => j.Id == c.LeaseJobId && j.FinishedAt == null))
            .Select(c => new { c.Id, c.RuntimeId })
            .ToListAsync(cancellationToken);
        var changed = 0;
        foreach (var onRuntime in clusters.GroupBy(c => c.RuntimeId, StringComparer.Ordinal))
        {
            HelmTarget target;
            try
            {
                target = await runtimes.TargetAsync(onRuntime.Key, cancellationToken);
            }
            catch (HelmReleaseException e)
            {
                foreach (var cluster in onRuntime)
                {
                    changed += await SaveAsync(db, Unreachable(cluster.Id, e.Message), cancellationToken);
                }

                continue;
            }

            using var client = new k8s.Kubernetes(Kubeconfigs.Load(target.Kubeconfig, target.Context));
            foreach (var cluster in onRuntime)
            {
                ClusterObservation observation;
                try
                {
                    var observed = await observer.ObserveAsync(client, target, HelmFormat.ReleaseName(cluster.Id), cancellationToken);
                    observation = observed.ToObservation(cluster.Id, Time.GetUtcNow());
                }
                catch (Exception e) when (e is HelmReleaseException or HttpRequestException or k8s.Autorest.HttpOperationException or TimeoutException)
                {
                    observation = Unreachable(cluster.Id, e.Message);
                }

                changed += await SaveAsync(db, observation, cancellationToken);
            }
        }

        return changed;
    }

    private static async Task<int> SaveAsync(PitrixDbContext db, ClusterObservation observation, CancellationToken cancellationToken)
    {
        var changed = await ClusterObservationStore.SaveAsync(db, observation, null, cancellationToken);
        db.ChangeTracker.Clear();
        return changed ? 1 : 0;
    }

    private ClusterObservation Unreachable(string clusterId, string why) => new()
    {
        ClusterId = clusterId,
        ObservedAt = Time.GetUtcNow(),
        State = ObservedState.Unreachable,
        Message = why.Length > 4000 ? why[..4000] + "…" : why,
    };
}
