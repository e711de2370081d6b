using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Clusters;
using Pitrix.Persistence;

namespace Pitrix.Engine.Clusters;

/// <summary>
/// Keeps each cluster's <see cref="ClusterObservation"/>: one row per cluster, replaced by every observation. When
/// what is observed changes (state, replicas, pods, endpoints — not just the time) it appends a
/// <see cref="ClusterObserved"/> event, so the event stream shows drift and progress as it happens.
/// </summary>
public static class ClusterObservationStore
{
    /// <summary>The event type of a changed observation; its data carries the state, message and ready counts.</summary>
    public const string ClusterObserved = "cluster.observed";

    /// <summary>Stores <paramref name="observation"/>; returns whether it differs from the one stored before.</summary>
    /// <remarks>An <see cref="ObservedState.Unreachable"/> observation keeps the workloads, pods and endpoints last seen.</remarks>
    public static async Task<bool> SaveAsync(PitrixDbContext db, ClusterObservation observation, string? jobId, CancellationToken cancellationToken)
    {
        var stored = await db.ClusterObservations.SingleOrDefaultAsync(o => o.ClusterId == observation.ClusterId, cancellationToken);
        if (observation.State == ObservedState.Unreachable && stored is not null)
        {
            observation.Workloads = stored.Workloads;
            observation.Pods = stored.Pods;
            observation.Endpoints = stored.Endpoints;
            observation.Revision = stored.Revision;
        }

        var changed = stored is null || Fingerprint(stored) != Fingerprint(observation);
        if (stored is null)
        {
            db.ClusterObservations.Add(observation);
        }
        else
        {
            stored.ObservedAt = observation.ObservedAt;
            stored.State = observation.State;
            stored.Message = observation.Message;
            stored.Revision = observation.Revision;
            stored.Workloads = observation.Workloads;
            stored.Pods = observation.Pods;
            stored.Endpoints = observation.Endpoints;
        }

        if (changed)
        {
            EngineEvents.Append(db, observation.ClusterId, jobId, null, ClusterObserved, new
            {
                observation.State,
                observation.Message,
                observation.Revision,
                Workloads = observation.Workloads.Select(w => new { w.Kind, w.Name, w.Desired, w.Ready, w.State }),
                Pods = observation.Pods.Count,
                PodsReady = observation.Pods.Count(p => p.Ready),
            }, observation.ObservedAt);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (stored is null)
        {
            // Another observer stored this cluster's first observation at the same moment (or the cluster is gone): theirs stands.
            db.ChangeTracker.Clear();
            return false;
        }

        return changed;
    }

    /// <summary>Removes the observations of clusters that no longer run (deleted or ceased).</summary>
    public static Task<int> ForgetAsync(PitrixDbContext db, IReadOnlyCollection<string> clusterIds, CancellationToken cancellationToken) =>
        db.ClusterObservations.Where(o => clusterIds.Contains(o.ClusterId)).ExecuteDeleteAsync(cancellationToken);

    private static string Fingerprint(ClusterObservation o) =>
        JsonSerializer.Serialize(new { o.State, o.Message, o.Revision, o.Workloads, o.Pods, Endpoints = o.Endpoints.OrderBy(e => e.Key, StringComparer.Ordinal).ToList() });
}
