using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Engine;
using Pitrix.Engine.Clusters;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Jobs: a job's task DAG with every attempt, and retry or cancel. A job is visible to whoever may see its cluster.</summary>
public static class JobEndpoints
{
    private const string ResourceType = "job";

    public static void MapJobEndpoints(this IEndpointRouteBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Jobs").WithMetadata(new ResourceTypeMetadata(ResourceType));
        jobs.MapGet("/{id}", GetAsync).WithName("job.get");
        jobs.MapPost("/{id}:retry", (string id, Caller caller, PitrixDbContext db, ClusterOperations operations, CancellationToken ct) =>
            ChangeAsync(id, caller, db, () => operations.RetryAsync(id, ct), ct)).WithName("job.retry");
        jobs.MapPost("/{id}:cancel", (string id, Caller caller, PitrixDbContext db, ClusterOperations operations, CancellationToken ct) =>
            ChangeAsync(id, caller, db, () => operations.CancelAsync(id, ct), ct)).WithName("job.cancel");
    }

    internal static JobDto ToDto(Job job, IReadOnlyDictionary<string, (int Total, int Done)> counts) =>
        JobDto.From(job, counts.GetValueOrDefault(job.Id).Total, counts.GetValueOrDefault(job.Id).Done);

    /// <summary>Tasks (compensations excluded) and finished tasks per job.</summary>
    internal static async Task<Dictionary<string, (int Total, int Done)>> TaskCountsAsync(PitrixDbContext db, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        var rows = await db.JobTasks.AsNoTracking().Where(t => jobIds.Contains(t.JobId) && !t.Compensation)
            .GroupBy(t => t.JobId)
            .Select(g => new { JobId = g.Key, Total = g.Count(), Done = g.Count(t => t.Status == JobTaskStatus.Succeeded) })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(r => r.JobId, r => (r.Total, r.Done), StringComparer.Ordinal);
    }

    private static async Task<Result<Job>> FindAsync(PitrixDbContext db, string id, Caller caller, Operation operation, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, cancellationToken);
        var cluster = job is null ? null : await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == job.ClusterId, cancellationToken);
        if (job is null || cluster is null || !AccessPolicy.CanRead(caller.Principal, cluster))
        {
            return Error.NotFound(ResourceType, id);
        }

        return AccessPolicy.Check(caller.Principal, cluster, operation, "cluster") is { } denied ? denied : job;
    }

    private static async Task<Results<Ok<JobDetailDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, id, caller, Operation.Read, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var tasks = await db.JobTasks.AsNoTracking().Where(t => t.JobId == id).OrderBy(t => t.CreatedAt).ToListAsync(cancellationToken);
        var taskIds = tasks.Select(t => t.Id).ToList();
        var attempts = (await db.JobTaskAttempts.AsNoTracking().Where(a => taskIds.Contains(a.TaskId)).ToListAsync(cancellationToken)).ToLookup(a => a.TaskId);
        var counts = await TaskCountsAsync(db, [id], cancellationToken);
        return TypedResults.Ok(new JobDetailDto(ToDto(found.Value!, counts), tasks.Select(t => TaskDto.From(t, attempts[t.Id])).ToList()));
    }

    private static async Task<Results<Ok<JobDto>, ProblemHttpResult>> ChangeAsync(string id, Caller caller, PitrixDbContext db, Func<Task<Result<Job>>> change, CancellationToken cancellationToken)
    {
        var found = await FindAsync(db, id, caller, Operation.Write, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var changed = await change();
        if (!changed.IsSuccess)
        {
            return Problems.From(changed.Error!);
        }

        var counts = await TaskCountsAsync(db, [id], cancellationToken);
        return TypedResults.Ok(ToDto(changed.Value!, counts));
    }
}
