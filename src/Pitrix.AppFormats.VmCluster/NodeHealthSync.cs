using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Core.Agents;
using Pitrix.Core.Clusters;
using Pitrix.Engine;
using Pitrix.Persistence;

namespace Pitrix.AppFormats.VmCluster;

/// <summary>
/// Copies the health the drones report (persisted by Pilot) onto the nodes of running vmcluster clusters, so
/// the cluster view shows it: <c>healthy</c>, <c>unhealthy</c>, or <c>unknown</c> for a node with no report or
/// a stale one (older than <see cref="StaleAfter"/>: the drone stopped reporting).
/// </summary>
public sealed class NodeHealthSync(IServiceScopeFactory scopes, IAgentNetwork agents, TimeProvider time, ILogger<NodeHealthSync> logger)
    : PeriodicPass(Interval, time, logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(3);

    /// <summary>One pass: returns how many nodes changed.</summary>
    public override async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var nodes = await db.ClusterNodes
            .Where(n => n.Status == NodeStatus.Running && db.Clusters.Any(c => c.Id == n.ClusterId && c.Format == VmClusterFormat.FormatName && c.Status == ClusterStatus.Active))
            .ToListAsync(cancellationToken);
        if (nodes.Count == 0)
        {
            return 0;
        }

        var reports = await agents.GetNodeHealthAsync([.. nodes.Select(n => n.Id)], cancellationToken);
        var now = Time.GetUtcNow();
        var changed = 0;
        foreach (var node in nodes)
        {
            var health = reports.TryGetValue(node.Id, out var report) && now - report.CheckedAt < StaleAfter
                ? report.State switch
                {
                    AgentHealthState.Healthy => NodeHealth.Healthy,
                    AgentHealthState.Unhealthy or AgentHealthState.Degraded => NodeHealth.Unhealthy,
                    _ => NodeHealth.Unknown,
                }
                : NodeHealth.Unknown;
            if (node.Health != health)
            {
                node.Health = health;
                node.UpdatedAt = now;
                changed++;
            }
        }

        if (changed > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return changed;
    }
}
