using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Engine;
using Pitrix.Engine;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>
/// Job, task and cluster changes as Server-Sent Events: <c>GET /api/v1/events?cluster=ID</c> (or
/// <c>job=ID</c>). Each event carries its sequence number as <c>id</c>, so a client that reconnects with
/// <c>Last-Event-ID</c> (or <c>?after=</c>) continues where it stopped. <c>follow=false</c> sends what
/// is there and closes.
/// </summary>
public static class EventEndpoints
{
    /// <summary>How long delivered sequence numbers are remembered: on PostgreSQL a transaction holding a lower number can commit after a higher one, and is still delivered within this window.</summary>
    private static readonly TimeSpan LateCommitWindow = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void MapEventEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/events", StreamAsync).WithTags("Events").WithName("event.stream").WithMetadata(new ResourceTypeMetadata("event"));
    }

    private static async Task<IResult> StreamAsync(
        [FromQuery(Name = "cluster")] string? clusterId,
        [FromQuery(Name = "job")] string? jobId,
        [FromQuery(Name = "after")] long? after,
        [FromQuery(Name = "follow")] bool? follow,
        HttpContext context,
        Caller caller,
        PitrixDbContext db,
        IEngineSignal signal,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (clusterId is null && jobId is null)
        {
            return Problems.From(new FieldErrors().Add("cluster", "Give cluster=ID or job=ID: the events of one cluster or one job.").ToError()!);
        }

        if (jobId is not null)
        {
            var jobCluster = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.ClusterId).SingleOrDefaultAsync(cancellationToken);
            if (jobCluster is null || (clusterId is not null && clusterId != jobCluster))
            {
                return Problems.From(Error.NotFound("job", jobId));
            }

            clusterId = jobCluster;
        }

        var cluster = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == clusterId, cancellationToken);
        if (cluster is null || !AccessPolicy.CanRead(caller.Principal, cluster))
        {
            return Problems.From(jobId is null ? Error.NotFound("cluster", clusterId!) : Error.NotFound("job", jobId));
        }

        var cursor = after ?? (long.TryParse(context.Request.Headers["Last-Event-ID"], out var last) ? last : 0);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);

        // Delivered sequence numbers of the last few seconds, so a late commit below the cursor is still sent once.
        var delivered = new Dictionary<long, DateTimeOffset>();
        var lowWater = cursor;
        var lastWrite = time.GetUtcNow();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var floor = lowWater;
                var query = db.Events.AsNoTracking().Where(e => e.ClusterId == clusterId && e.Seq > floor);
                if (jobId is not null)
                {
                    query = query.Where(e => e.JobId == jobId || e.JobId == null);
                }

                var batch = await query.OrderBy(e => e.Seq).Take(500).ToListAsync(cancellationToken);
                var now = time.GetUtcNow();
                foreach (var item in batch.Where(e => !delivered.ContainsKey(e.Seq)))
                {
                    await WriteAsync(response, item, cancellationToken);
                    delivered[item.Seq] = now;
                    cursor = Math.Max(cursor, item.Seq);
                }

                if (batch.Count > 0)
                {
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = now;
                }

                foreach (var old in delivered.Where(d => now - d.Value > LateCommitWindow).Select(d => d.Key).ToList())
                {
                    delivered.Remove(old);
                    lowWater = Math.Max(lowWater, old);
                }

                if (batch.Count == 500)
                {
                    continue;
                }

                if (follow == false)
                {
                    break;
                }

                if (now - lastWrite >= KeepAlive)
                {
                    await response.WriteAsync(": keep-alive\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = now;
                }

                // Woken by new events (in this process, or NOTIFY from another); a short cap catches late commits.
                await signal.WaitAsync(cursor, delivered.Count > 0 ? TimeSpan.FromSeconds(1) : KeepAlive, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }

        return Results.Empty;
    }

    private static async Task WriteAsync(HttpResponse response, EngineEvent item, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["seq"] = item.Seq,
            ["cluster_id"] = item.ClusterId,
            ["job_id"] = item.JobId,
            ["task_id"] = item.TaskId,
            ["type"] = item.Type,
            ["at"] = item.At,
            ["data"] = JsonNode.Parse(item.Data),
        };
        var text = new StringBuilder()
            .Append("id: ").Append(item.Seq).Append('\n')
            .Append("event: ").Append(item.Type).Append('\n')
            .Append("data: ").Append(payload.ToJsonString(Json)).Append("\n\n");
        await response.WriteAsync(text.ToString(), cancellationToken);
    }
}
