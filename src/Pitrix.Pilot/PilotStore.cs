using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;
using Pitrix.Persistence;

namespace Pitrix.Pilot;

/// <summary>
/// Everything Pilot keeps in the database: frontgates, the nodes that enrolled through them, their
/// health and the results of their commands. Reports are accepted only for nodes that enrolled through
/// the reporting frontgate, so one private network cannot speak for another's nodes.
/// </summary>
internal sealed partial class PilotStore(IServiceScopeFactory scopes, CommandResultSignals signals, TimeProvider time, ILogger<PilotStore> logger)
{
    // Command output is kept as the tail the drone sends, bounded again here so a misbehaving
    // frontgate cannot fill the database.
    private const int MaxTailLength = 16 * 1024;

    public async Task FrontgateConnectedAsync(string frontgateId, string version, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await UpsertAsync(
            db => db.AgentFrontgates.FirstOrDefaultAsync(f => f.Id == frontgateId, cancellationToken),
            () => new AgentFrontgate { Id = frontgateId },
            frontgate =>
            {
                frontgate.Version = Truncate(version, 64);
                frontgate.ConnectedAt = now;
                frontgate.LastSeenAt = now;
            },
            cancellationToken);
    }

    public async Task FrontgateSeenAsync(string frontgateId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        await db.AgentFrontgates.Where(f => f.Id == frontgateId).ExecuteUpdateAsync(s => s.SetProperty(f => f.LastSeenAt, at), cancellationToken);
    }

    /// <summary>Records that <paramref name="nodeId"/> enrolled through <paramref name="frontgateId"/>, which from now on speaks for it.</summary>
    public async Task NodeEnrolledAsync(string nodeId, string frontgateId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await UpsertAsync(
            db => db.AgentNodes.FirstOrDefaultAsync(n => n.NodeId == nodeId, cancellationToken),
            () => new AgentNode { NodeId = nodeId },
            node =>
            {
                node.FrontgateId = frontgateId;
                node.EnrolledAt = now;
                node.LastSeenAt = now;
            },
            cancellationToken);
    }

    public async Task<AgentNode?> FindNodeAsync(string nodeId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        return await db.AgentNodes.AsNoTracking().FirstOrDefaultAsync(n => n.NodeId == nodeId, cancellationToken);
    }

    /// <summary>Stores a command result unless one is stored for the node and task already (the first report wins). False when the report was refused or a duplicate.</summary>
    public async Task<bool> SaveCommandResultAsync(string frontgateId, CommandResult result, CancellationToken cancellationToken) =>
        (await SaveCommandResultsAsync([(frontgateId, result)], cancellationToken))[0];

    /// <summary>
    /// Stores command results in one transaction, each unless one is stored for its node and task already (the
    /// first report wins) or its frontgate does not speak for its node. Returns, per report, whether it was stored.
    /// </summary>
    public async Task<IReadOnlyList<bool>> SaveCommandResultsAsync(IReadOnlyList<(string FrontgateId, CommandResult Result)> reports, CancellationToken cancellationToken)
    {
        var stored = new bool[reports.Count];
        var valid = new List<int>(reports.Count);
        for (var i = 0; i < reports.Count; i++)
        {
            var (frontgateId, result) = reports[i];
            if (string.IsNullOrEmpty(result.TaskId) || result.TaskId.Length > 160)
            {
                Log.ReportRefused(logger, frontgateId, "command_result", result.NodeId, "the task id is empty or longer than 160 characters");
            }
            else
            {
                valid.Add(i);
            }
        }

        if (valid.Count == 0)
        {
            return stored;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var nodeIds = valid.Select(i => reports[i].Result.NodeId).Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var taskIds = valid.Select(i => reports[i].Result.TaskId).Distinct(StringComparer.Ordinal).ToList();
        var nodes = await db.AgentNodes.Where(n => nodeIds.Contains(n.NodeId)).ToDictionaryAsync(n => n.NodeId, StringComparer.Ordinal, cancellationToken);
        var existing = (await db.AgentCommandResults.Where(r => nodeIds.Contains(r.NodeId) && taskIds.Contains(r.TaskId)).Select(r => new { r.NodeId, r.TaskId }).ToListAsync(cancellationToken))
            .Select(r => (r.NodeId, r.TaskId))
            .ToHashSet();
        var now = time.GetUtcNow();
        var added = new List<int>();
        foreach (var i in valid)
        {
            var (frontgateId, result) = reports[i];
            if (!nodes.TryGetValue(result.NodeId, out var node) || node.FrontgateId != frontgateId)
            {
                Log.ReportRefused(logger, frontgateId, "command_result", result.NodeId, "the node did not enroll through this frontgate");
                continue;
            }

            node.LastSeenAt = now;
            if (!existing.Add((result.NodeId, result.TaskId)))
            {
                Log.DuplicateResult(logger, frontgateId, result.NodeId, result.TaskId);
                continue;
            }

            db.AgentCommandResults.Add(new AgentCommandRecord
            {
                NodeId = result.NodeId,
                TaskId = result.TaskId,
                FrontgateId = frontgateId,
                ExitCode = result.ExitCode,
                Duration = result.Duration?.ToTimeSpan() ?? TimeSpan.Zero,
                StdoutTail = Tail(result.StdoutTail),
                StderrTail = Tail(result.StderrTail),
                TimedOut = result.TimedOut,
                FinishedAt = result.FinishedAt?.ToDateTimeOffset() ?? now,
                ErrorCode = NullIfEmpty(Truncate(result.ErrorCode, 64)),
                ErrorMessage = NullIfEmpty(Truncate(result.ErrorMessage, 2048)),
                ReceivedAt = now,
            });
            added.Add(i);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // Another stream (or server) stored one of them between the check and the insert; theirs stands.
            // Alone, this report is a duplicate; in a batch, each is stored on its own so the others still land.
            if (reports.Count == 1)
            {
                Log.DuplicateResult(logger, reports[0].FrontgateId, reports[0].Result.NodeId, reports[0].Result.TaskId);
                return stored;
            }

            foreach (var i in valid)
            {
                stored[i] = await SaveCommandResultAsync(reports[i].FrontgateId, reports[i].Result, cancellationToken);
            }

            return stored;
        }

        foreach (var i in added)
        {
            stored[i] = true;
            signals.Stored(reports[i].Result.NodeId, reports[i].Result.TaskId);
        }

        return stored;
    }

    public async Task<AgentCommandRecord?> FindCommandResultAsync(string nodeId, string taskId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        return await db.AgentCommandResults.AsNoTracking().FirstOrDefaultAsync(r => r.NodeId == nodeId && r.TaskId == taskId, cancellationToken);
    }

    /// <summary>Stores a node's health unless a newer check is stored already (reports may arrive out of order across reconnects).</summary>
    public async Task<bool> SaveNodeHealthAsync(string frontgateId, NodeHealth health, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var node = await OwnedNodeAsync(db, frontgateId, health.NodeId, "node_health", cancellationToken);
        if (node is null)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var checkedAt = health.CheckedAt?.ToDateTimeOffset() ?? now;
        node.LastSeenAt = now;
        var newer = node.HealthCheckedAt is null || checkedAt >= node.HealthCheckedAt;
        if (newer)
        {
            node.HealthState = health.State switch
            {
                HealthState.Healthy => AgentHealthState.Healthy,
                HealthState.Degraded => AgentHealthState.Degraded,
                HealthState.Unhealthy => AgentHealthState.Unhealthy,
                _ => AgentHealthState.Unknown,
            };
            node.HealthDetail = NullIfEmpty(Truncate(health.Detail, 1024));
            node.HealthCheckedAt = checkedAt;
        }

        await db.SaveChangesAsync(cancellationToken);
        return newer;
    }

    public async Task<Dictionary<string, AgentNodeHealth>> GetNodeHealthAsync(IReadOnlyCollection<string> nodeIds, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, AgentNodeHealth>(StringComparer.Ordinal);
        if (nodeIds.Count == 0)
        {
            return result;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var ids = nodeIds.Distinct(StringComparer.Ordinal).ToList();
        var nodes = await db.AgentNodes.AsNoTracking()
            .Where(n => ids.Contains(n.NodeId) && n.HealthState != null && n.HealthCheckedAt != null)
            .ToListAsync(cancellationToken);
        foreach (var node in nodes)
        {
            result[node.NodeId] = new AgentNodeHealth(node.NodeId, node.HealthState!.Value, node.HealthDetail, node.HealthCheckedAt!.Value);
        }

        return result;
    }

    private async Task<AgentNode?> OwnedNodeAsync(PitrixDbContext db, string frontgateId, string nodeId, string report, CancellationToken cancellationToken)
    {
        var node = string.IsNullOrEmpty(nodeId) ? null : await db.AgentNodes.FirstOrDefaultAsync(n => n.NodeId == nodeId, cancellationToken);
        if (node is null || node.FrontgateId != frontgateId)
        {
            Log.ReportRefused(logger, frontgateId, report, nodeId, "the node did not enroll through this frontgate");
            return null;
        }

        return node;
    }

    /// <summary>Loads a row and changes it, or adds it when missing; when a concurrent insert wins the race, changes theirs.</summary>
    private async Task UpsertAsync<T>(Func<PitrixDbContext, Task<T?>> find, Func<T> create, Action<T> change, CancellationToken cancellationToken)
        where T : class
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            var row = await find(db);
            if (row is null)
            {
                row = create();
                db.Add(row);
            }

            change(row);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException ex) when (attempt == 0 && DbErrors.IsUniqueViolation(ex))
            {
                // Inserted by someone else meanwhile: the second attempt finds and updates it.
            }
        }
    }

    private static string Tail(string value) => value.Length <= MaxTailLength ? value : value[^MaxTailLength..];

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Report} report from frontgate {FrontgateId} about node {NodeId}: {Reason}")]
        public static partial void ReportRefused(ILogger logger, string frontgateId, string report, string nodeId, string reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored a repeated result of task {TaskId} on node {NodeId} from frontgate {FrontgateId}; the first one stands")]
        public static partial void DuplicateResult(ILogger logger, string frontgateId, string nodeId, string taskId);
    }
}
