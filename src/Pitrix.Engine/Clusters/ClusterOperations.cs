using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pitrix.Core;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine.Clusters;

/// <summary>Cluster settings (section <c>Clusters</c>).</summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Clusters";

    /// <summary>How long a deleted cluster can be recovered before it is ceased (its resources released for good).</summary>
    public TimeSpan DeleteGracePeriod { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>A job started (or queued) for a cluster.</summary>
public sealed record ClusterJob(Cluster Cluster, Job Job);

/// <summary>
/// Starts cluster jobs under the cluster's lease — one job per cluster at a time; a second is refused
/// with <c>cluster.busy</c> or queued behind it — and applies a finished job's result to the cluster
/// (status, nodes, sizes, version) before releasing the lease and starting the next queued job.
/// </summary>
public sealed class ClusterOperations(PitrixDbContext db, AppFormatRegistry formats, TimeProvider time, IOptions<ClusterOptions> options)
{
    /// <summary>The event a cluster's change of status, version or nodes is announced with.</summary>
    public const string ClusterUpdated = "cluster.updated";

    private static readonly Dictionary<string, string[]> AllowedFrom = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [ClusterAction.Start] = [ClusterStatus.Stopped],
        [ClusterAction.Stop] = [ClusterStatus.Active],
        [ClusterAction.Restart] = [ClusterStatus.Active],
        [ClusterAction.Delete] = [ClusterStatus.Active, ClusterStatus.Stopped, ClusterStatus.Failed, ClusterStatus.Suspended],
        [ClusterAction.Recover] = [ClusterStatus.Deleted],
        [ClusterAction.Cease] = [ClusterStatus.Deleted, ClusterStatus.Failed],
        [ClusterAction.Resize] = [ClusterStatus.Active, ClusterStatus.Stopped],
        [ClusterAction.ScaleOut] = [ClusterStatus.Active],
        [ClusterAction.ScaleIn] = [ClusterStatus.Active],
        [ClusterAction.UpdateConfig] = [ClusterStatus.Active, ClusterStatus.Stopped],
        [ClusterAction.Upgrade] = [ClusterStatus.Active, ClusterStatus.Stopped],
        [ClusterAction.Rollback] = [ClusterStatus.Active, ClusterStatus.Stopped],
        [ClusterAction.Custom] = [ClusterStatus.Active],
    };

    /// <summary>Stores a new cluster (pending) with its roles and nodes, and its create job, planned.</summary>
    public async Task<Result<ClusterJob>> CreateAsync(ClusterCreate request, CancellationToken cancellationToken)
    {
        var format = formats.Find(request.Format);
        if (!format.IsSuccess)
        {
            return format.Error!;
        }

        var (cluster, roles, nodes, job) = NewCluster(request);
        var plan = await PlanAsync(format.Value!, job, cluster, roles, nodes, JobParameters.Read(job.Parameters), cancellationToken);
        if (!plan.IsSuccess)
        {
            return plan.Error!;
        }

        db.ChangeTracker.Clear();
        db.Clusters.Add(cluster);
        db.ClusterRoles.AddRange(roles);
        db.ClusterNodes.AddRange(nodes);
        if (TaskLedger.AddJob(db, job, plan.Value!, job.CreatedAt) is { } invalid)
        {
            return invalid;
        }

        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return new ClusterJob(cluster, job);
    }

    /// <summary>The task DAG creating this cluster would run; nothing is stored.</summary>
    public async Task<Result<TaskPlan>> PlanCreateAsync(ClusterCreate request, CancellationToken cancellationToken)
    {
        var format = formats.Find(request.Format);
        if (!format.IsSuccess)
        {
            return format.Error!;
        }

        var (cluster, roles, nodes, job) = NewCluster(request);
        return await PlanAsync(format.Value!, job, cluster, roles, nodes, JobParameters.Read(job.Parameters), cancellationToken);
    }

    /// <summary>
    /// Starts an action under the cluster's lease. A busy cluster refuses with <c>409 cluster.busy</c>
    /// naming the running job, unless the request asks to queue.
    /// </summary>
    public async Task<Result<Job>> SubmitAsync(string clusterId, ClusterActionRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        for (var round = 0; round < 3; round++)
        {
            db.ChangeTracker.Clear();
            var cluster = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == clusterId, cancellationToken);
            if (cluster is null)
            {
                return Error.NotFound("cluster", clusterId);
            }

            var job = new Job
            {
                Id = Id.New(IdPrefix.Job),
                ClusterId = cluster.Id,
                RuntimeId = cluster.RuntimeId,
                Action = request.Action,
                Status = JobStatus.Queued,
                RequestedBy = request.RequestedBy,
                CreatedAt = now,
                Parameters = JobParameters.Write(request.Parameters, request.Target),
                KeepOnFailure = request.KeepOnFailure,
            };
            var holder = await HolderAsync(cluster, cancellationToken);
            if (holder is not null && request.Force)
            {
                await ReleaseForcedAsync(cluster, holder, now, cancellationToken);
                continue;
            }

            if (holder is not null)
            {
                if (!request.Queue)
                {
                    return Busy(cluster, holder);
                }

                db.Jobs.Add(job);
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
                return job;
            }

            var started = await StartAsync(cluster, job, cancellationToken);
            if (started is { IsSuccess: false, Error.Code: "cluster.lease_taken" })
            {
                continue;
            }

            return started;
        }

        return Error.Conflict("cluster.busy", $"Cluster '{clusterId}' is changing hands between jobs; try again.");
    }

    /// <summary>The task DAG the action would run now, without running it.</summary>
    public async Task<Result<TaskPlan>> PlanActionAsync(string clusterId, ClusterActionRequest request, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var cluster = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == clusterId, cancellationToken);
        if (cluster is null)
        {
            return Error.NotFound("cluster", clusterId);
        }

        var job = new Job { Id = "job-preview", ClusterId = clusterId, Action = request.Action, Status = JobStatus.Pending, CreatedAt = time.GetUtcNow(), KeepOnFailure = request.KeepOnFailure, Parameters = JobParameters.Write(request.Parameters, request.Target) };
        var prepared = await PrepareAsync(cluster, job, cancellationToken);
        return prepared.IsSuccess ? prepared.Value!.Plan : prepared.Error!;
    }

    /// <summary>
    /// Applies a finished job to its cluster and releases the lease, then starts the next queued job.
    /// Idempotent: an applied job is left alone. Returns false when the job is not finished yet.
    /// </summary>
    public async Task<bool> ApplyAsync(string jobId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null || job.Applied)
        {
            return job is not null;
        }

        if (!IsFinished(job))
        {
            return false;
        }

        var cluster = await db.Clusters.SingleOrDefaultAsync(c => c.Id == job.ClusterId, cancellationToken);
        job.Applied = true;
        if (cluster is not null && cluster.LeaseJobId == job.Id)
        {
            await ApplyResultAsync(cluster, job, cancellationToken);
            cluster.LeaseJobId = null;
            cluster.UpdatedAt = time.GetUtcNow();
            EngineEvents.Append(db, cluster.Id, job.Id, null, ClusterUpdated, new { cluster.Status, Reason = cluster.StatusReason, cluster.AppVersionId, JobStatus = job.Status }, cluster.UpdatedAt);
        }

        // One applier per outcome: the job is claimed only while it is still unapplied with the outcome read above.
        // An apply that read the job before another applied it (or before a retry reopened it and took the lease
        // again, which the lease token alone cannot tell) changes nothing. The cluster is saved only when its lease
        // holder has not moved meanwhile.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var finishedAt = job.FinishedAt;
        var claimed = await db.Jobs.Where(j => j.Id == jobId && !j.Applied && j.FinishedAt == finishedAt)
            .ExecuteUpdateAsync(u => u.SetProperty(j => j.Applied, true), cancellationToken);
        if (claimed == 0)
        {
            db.ChangeTracker.Clear();
            return true;
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return true;
        }

        db.ChangeTracker.Clear();
        if (cluster is not null)
        {
            await StartNextQueuedAsync(cluster.Id, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// One pass of the engine's cluster housekeeping: applies finished jobs not yet applied (a crash
    /// between a job's end and its application is repaired here), starts queued jobs of free clusters, and
    /// ceases deleted clusters whose grace period is over. Returns how many things it did.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var done = 0;
        db.ChangeTracker.Clear();
        var finished = await db.Jobs.AsNoTracking()
            .Where(j => !j.Applied && j.FinishedAt != null)
            .OrderBy(j => j.FinishedAt).Select(j => j.Id).Take(200).ToListAsync(cancellationToken);
        foreach (var id in finished)
        {
            done += await ApplyAsync(id, cancellationToken) ? 1 : 0;
        }

        var queuedClusters = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Queued)
            .Select(j => j.ClusterId).Distinct().Take(200).ToListAsync(cancellationToken);
        foreach (var clusterId in queuedClusters)
        {
            done += await StartNextQueuedAsync(clusterId, cancellationToken) ? 1 : 0;
        }

        var expiry = time.GetUtcNow() - options.Value.DeleteGracePeriod;
        var expired = await db.Clusters.AsNoTracking()
            .Where(c => c.Status == ClusterStatus.Deleted && c.DeletedAt != null && c.DeletedAt < expiry)
            .Select(c => c.Id).Take(50).ToListAsync(cancellationToken);
        foreach (var clusterId in expired)
        {
            var ceased = await SubmitAsync(clusterId, new ClusterActionRequest(ClusterAction.Cease, [], null, Queue: false, KeepOnFailure: false, RequestedBy: "system"), cancellationToken);
            done += ceased.IsSuccess ? 1 : 0;
        }

        return done;
    }

    /// <summary>
    /// Cancels a job: a queued one simply never runs; a running one stops cleanly (the ledger cancels its
    /// tasks and runs its compensation), and its result is applied to the cluster when it has finished.
    /// </summary>
    public async Task<Result<Job>> CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var now = time.GetUtcNow();
        var queued = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Queued).ExecuteUpdateAsync(
            u => u.SetProperty(j => j.Status, JobStatus.Cancelled).SetProperty(j => j.FinishedAt, now).SetProperty(j => j.Applied, true),
            cancellationToken);
        if (queued == 0 && await TaskLedger.CancelJobAsync(db, jobId, now, cancellationToken) is not { IsSuccess: true, Value.Applied: true })
        {
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, cancellationToken);
            return Error.Conflict("job.not_cancellable", $"Job {jobId} is {job.Status}; only queued, pending or running jobs can be cancelled.");
        }

        await ApplyAsync(jobId, cancellationToken);
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, cancellationToken);
    }

    /// <summary>
    /// Runs a failed or cancelled job again from where it failed (the ledger decides which tasks run again).
    /// The job takes the cluster's lease again, so the cluster must be free.
    /// </summary>
    public async Task<Result<Job>> RetryAsync(string jobId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, cancellationToken);
        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled) || job.FinishedAt is null || !await db.JobTasks.AnyAsync(t => t.JobId == jobId, cancellationToken))
        {
            return Error.Conflict("job.not_retryable", $"Job {jobId} is {job.Status}{(job.FinishedAt is null && JobStatus.IsFinal(job.Status) ? " and still cleaning up" : "")}; only a finished failed or cancelled job that was planned can be retried.");
        }

        await ApplyAsync(jobId, cancellationToken);
        var cluster = await db.Clusters.AsNoTracking().SingleAsync(c => c.Id == job.ClusterId, cancellationToken);
        if (await HolderAsync(cluster, cancellationToken) is { } holder)
        {
            return Busy(cluster, holder);
        }

        // The lease first (the ledger's retry is its own transaction): should the retry be refused, or the
        // process die before it, the lease points at a finished, unapplied job, which applying releases.
        var now = time.GetUtcNow();
        var observed = (await db.Clusters.AsNoTracking().SingleAsync(c => c.Id == cluster.Id, cancellationToken)).LeaseJobId;
        if (!await TakeLeaseAsync(cluster.Id, observed, jobId, cancellationToken))
        {
            return Error.Conflict("cluster.busy", $"Cluster '{cluster.Name}' was taken by another job; try again.");
        }

        // Nodes the job created come back into play; the retried tasks find or recreate their instances by idempotency key.
        await db.ClusterNodes.Where(n => n.ClusterId == cluster.Id && n.CreatedByJobId == jobId && (n.Status == NodeStatus.Deleted || n.Status == NodeStatus.Failed))
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.Status, NodeStatus.Pending).SetProperty(n => n.UpdatedAt, now), cancellationToken);
        var retried = await TaskLedger.RetryJobAsync(db, jobId, now, cancellationToken);
        if (!retried.IsSuccess)
        {
            // Give back the lease taken above: applying the (unchanged) finished job again releases it.
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(u => u.SetProperty(j => j.Applied, false), cancellationToken);
            await ApplyAsync(jobId, cancellationToken);
            return retried.Error!;
        }

        db.ChangeTracker.Clear();
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, cancellationToken);
    }

    /// <summary>The unfinished job holding the cluster's lease, or null when it is free. A finished holder is applied on the way.</summary>
    public async Task<Job?> HolderAsync(Cluster cluster, CancellationToken cancellationToken)
    {
        if (cluster.LeaseJobId is null)
        {
            return null;
        }

        var holder = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == cluster.LeaseJobId, cancellationToken);
        if (holder is null || holder.Applied)
        {
            return null;
        }

        if (IsFinished(holder))
        {
            await ApplyAsync(holder.Id, cancellationToken);

            // Applying may have started a queued job, which now holds the lease.
            var next = await db.Clusters.AsNoTracking().Where(c => c.Id == cluster.Id).Select(c => c.LeaseJobId).SingleAsync(cancellationToken);
            return next is null || next == holder.Id ? null : await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == next && !j.Applied, cancellationToken);
        }

        return holder;
    }

    public static bool IsFinished(Job job) => JobStatus.IsFinal(job.Status) && job.FinishedAt is not null;

    private static Error Busy(Cluster cluster, Job holder) =>
        new(ErrorKind.Conflict, "cluster.busy", $"Cluster '{cluster.Name}' is running job {holder.Id} ({holder.Action}, {holder.Status}); wait for it, or send the request again with \"queue\": true to run after it.")
        {
            Extensions = new Dictionary<string, object?> { ["job_id"] = holder.Id, ["job_action"] = holder.Action },
        };

    private (Cluster Cluster, List<ClusterRole> Roles, List<ClusterNode> Nodes, Job Job) NewCluster(ClusterCreate request)
    {
        var now = time.GetUtcNow();
        var clusterId = Id.New(IdPrefix.Cluster);
        var job = new Job
        {
            Id = Id.New(IdPrefix.Job),
            ClusterId = clusterId,
            RuntimeId = request.RuntimeId,
            Action = ClusterAction.Create,
            Status = JobStatus.Pending,
            RequestedBy = request.RequestedBy,
            CreatedAt = now,
            KeepOnFailure = request.KeepOnFailure,
            Parameters = JobParameters.Write([], request.Design),
        };
        var cluster = new Cluster
        {
            Id = clusterId,
            Name = request.Name,
            Description = request.Description,
            AppId = request.AppId,
            AppVersionId = request.AppVersionId,
            RuntimeId = request.RuntimeId,
            Format = request.Format,
            OwnerId = request.OwnerId,
            GroupId = request.GroupId,
            Visibility = request.Visibility,
            ConfigValues = request.Design.Values.ToJsonString(),
            Spec = request.Design.Spec,
            Status = ClusterStatus.Pending,
            Labels = new Dictionary<string, string>(request.Labels, StringComparer.Ordinal),
            LeaseJobId = job.Id,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var roles = request.Design.Roles.Select(r => new ClusterRole
        {
            ClusterId = clusterId,
            Name = r.Name,
            Count = r.Count,
            Cpu = r.Cpu,
            Memory = r.Memory,
            Gpu = r.Gpu,
            VolumeSize = r.VolumeSize,
            Env = new Dictionary<string, string>(r.Env, StringComparer.Ordinal),
        }).ToList();
        var nodes = new List<ClusterNode>();
        foreach (var role in request.Design.Roles)
        {
            for (var i = 0; i < role.Count; i++)
            {
                nodes.Add(NewNode(clusterId, role.Name, nodes.Count + 1, job.Id, now));
            }
        }

        return (cluster, roles, nodes, job);
    }

    private static ClusterNode NewNode(string clusterId, string role, int serverId, string jobId, DateTimeOffset now) => new()
    {
        Id = Id.New(IdPrefix.ClusterNode),
        ClusterId = clusterId,
        Role = role,
        ServerId = serverId,
        Status = NodeStatus.Pending,
        CreatedByJobId = jobId,
        CreatedAt = now,
        UpdatedAt = now,
    };

    private async Task<Result<TaskPlan>> PlanAsync(IAppFormat format, Job job, Cluster cluster, IReadOnlyList<ClusterRole> roles, IReadOnlyList<ClusterNode> nodes, (JsonObject Parameters, ClusterDesign? Target) parameters, CancellationToken cancellationToken)
    {
        var runtime = await db.Runtimes.AsNoTracking().Where(r => r.Id == cluster.RuntimeId).Select(r => new { r.Provider, r.Zone }).SingleOrDefaultAsync(cancellationToken);
        if (runtime is null)
        {
            return Error.Validation("cluster.runtime_missing", $"Runtime '{cluster.RuntimeId}' of cluster '{cluster.Name}' no longer exists.");
        }

        var state = new ClusterState(cluster, runtime.Provider, runtime.Zone, roles, nodes);
        try
        {
            return format.Plan(new PlanRequest(job.Id, job.Action, state, parameters.Parameters, parameters.Target, job.KeepOnFailure));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException or System.Text.Json.JsonException)
        {
            return Error.Validation("plan.failed", $"The {cluster.Format} format could not plan '{job.Action}': {ex.Message}");
        }
    }

    /// <summary>Checks the action against the cluster's status, adds the nodes it creates, and plans it.</summary>
    private async Task<Result<(TaskPlan Plan, List<ClusterNode> NewNodes)>> PrepareAsync(Cluster cluster, Job job, CancellationToken cancellationToken)
    {
        if (!AllowedFrom.TryGetValue(job.Action, out var allowed))
        {
            return Error.Validation("cluster.unknown_action", $"'{job.Action}' is not a cluster action; actions are {string.Join(", ", ClusterAction.All.Where(a => a != ClusterAction.Create))}.");
        }

        var forced = job.Action == ClusterAction.Cease && JobParameters.Read(job.Parameters).Parameters["force"]?.GetValue<bool>() == true;
        if (!allowed.Contains(cluster.Status) && !forced)
        {
            return Error.Conflict("cluster.invalid_state", $"Cluster '{cluster.Name}' is {cluster.Status}; '{job.Action}' needs it {string.Join(" or ", allowed)}.");
        }

        var format = formats.Find(cluster.Format);
        if (!format.IsSuccess)
        {
            return format.Error!;
        }

        var roles = await db.ClusterRoles.AsNoTracking().Where(r => r.ClusterId == cluster.Id).OrderBy(r => r.Name).ToListAsync(cancellationToken);
        var nodes = await db.ClusterNodes.AsNoTracking().Where(n => n.ClusterId == cluster.Id && n.Status != NodeStatus.Deleted).OrderBy(n => n.ServerId).ToListAsync(cancellationToken);
        var parameters = JobParameters.Read(job.Parameters);
        var newNodes = new List<ClusterNode>();
        var checkedParameters = CheckParameters(job.Action, parameters.Parameters, roles, nodes);
        if (checkedParameters is not null)
        {
            return checkedParameters;
        }

        if (job.Action == ClusterAction.ScaleOut)
        {
            var nextServerId = await db.ClusterNodes.Where(n => n.ClusterId == cluster.Id).MaxAsync(n => (int?)n.ServerId, cancellationToken) ?? 0;
            foreach (var (role, count) in parameters.Parameters["roles"]!.AsObject())
            {
                for (var i = 0; i < count!.GetValue<int>(); i++)
                {
                    newNodes.Add(NewNode(cluster.Id, role, ++nextServerId, job.Id, time.GetUtcNow()));
                }
            }
        }

        var plan = await PlanAsync(format.Value!, job, cluster, roles, [.. nodes, .. newNodes], parameters, cancellationToken);
        return plan.IsSuccess ? (plan.Value!, newNodes) : plan.Error!;
    }

    private static Error? CheckParameters(string action, JsonObject parameters, IReadOnlyList<ClusterRole> roles, IReadOnlyList<ClusterNode> nodes)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var roleNames = roles.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        switch (action)
        {
            case ClusterAction.ScaleOut:
                if (parameters["roles"] is not JsonObject add || add.Count == 0)
                {
                    errors["roles"] = ["Required: the nodes to add per role, for example {\"roles\": {\"worker\": 2}}."];
                    break;
                }

                foreach (var (role, count) in add)
                {
                    if (!roleNames.Contains(role))
                    {
                        errors[$"roles.{role}"] = [$"The cluster has no role '{role}' (roles: {string.Join(", ", roleNames)})."];
                    }
                    else if (count is not JsonValue v || !v.TryGetValue<int>(out var n) || n is < 1 or > 200)
                    {
                        errors[$"roles.{role}"] = ["Must be an integer from 1 to 200."];
                    }
                }

                break;
            case ClusterAction.ScaleIn:
                if (parameters["node_ids"] is not JsonArray ids || ids.Count == 0)
                {
                    errors["node_ids"] = ["Required: the ids of the nodes to remove."];
                    break;
                }

                var live = nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var id in ids.Select(i => i?.ToString() ?? ""))
                {
                    if (!live.Contains(id))
                    {
                        errors[$"node_ids"] = [.. errors.GetValueOrDefault("node_ids", []), $"'{id}' is not a node of this cluster."];
                    }
                }

                break;
            case ClusterAction.Resize:
                if (parameters["roles"] is not JsonObject sizes || sizes.Count == 0)
                {
                    errors["roles"] = ["Required: new sizes per role, for example {\"roles\": {\"worker\": {\"cpu\": 4, \"memory\": 8192}}}."];
                    break;
                }

                foreach (var (role, size) in sizes)
                {
                    var current = roles.FirstOrDefault(r => r.Name == role);
                    if (current is null)
                    {
                        errors[$"roles.{role}"] = [$"The cluster has no role '{role}'."];
                        continue;
                    }

                    if (size is not JsonObject fields || fields.Count == 0)
                    {
                        errors[$"roles.{role}"] = ["Must be an object with cpu, memory, gpu or volume_size."];
                        continue;
                    }

                    foreach (var (field, value) in fields)
                    {
                        var (min, max) = field switch { "cpu" => (1, 1024), "memory" => (64, 16 * 1024 * 1024), "gpu" => (0, 64), "volume_size" => (current.VolumeSize, 1024 * 1024), _ => (-1, -1) };
                        if (min < 0)
                        {
                            errors[$"roles.{role}.{field}"] = ["Unknown size field; use cpu, memory, gpu or volume_size."];
                        }
                        else if (value is not JsonValue v || !v.TryGetValue<int>(out var n) || n < min || n > max)
                        {
                            errors[$"roles.{role}.{field}"] = [field == "volume_size" ? $"Must be an integer from the current {current.VolumeSize} GiB (volumes only grow) to {max}." : $"Must be an integer from {min} to {max}."];
                        }
                    }
                }

                break;
            case ClusterAction.Custom:
                if (parameters["name"] is not JsonValue name || !name.TryGetValue<string>(out var text) || string.IsNullOrWhiteSpace(text))
                {
                    errors["name"] = ["Required: the name of the package's custom action."];
                }

                break;
        }

        return errors.Count == 0 ? null : Error.Validation("cluster.invalid_parameters", $"The '{action}' parameters are invalid.", errors);
    }

    /// <summary>Takes the free lease for <paramref name="job"/>, plans it and stores its tasks, all in one transaction.</summary>
    private async Task<Result<Job>> StartAsync(Cluster cluster, Job job, CancellationToken cancellationToken)
    {
        var prepared = await PrepareAsync(cluster, job, cancellationToken);
        if (!prepared.IsSuccess)
        {
            return prepared.Error!;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await TakeLeaseAsync(cluster.Id, cluster.LeaseJobId, job.Id, cancellationToken))
        {
            return Error.Conflict("cluster.lease_taken", "Another job took the cluster first.");
        }

        if (db.Entry(job).State == EntityState.Detached && await db.Jobs.AnyAsync(j => j.Id == job.Id, cancellationToken))
        {
            db.Jobs.Attach(job);
        }

        db.ClusterNodes.AddRange(prepared.Value.NewNodes);
        if (TaskLedger.AddJob(db, job, prepared.Value.Plan, time.GetUtcNow()) is { } invalid)
        {
            return invalid;
        }

        await TaskLedger.CommitAsync(db, transaction, cancellationToken);
        return job;
    }

    /// <summary>Gives the lease to <paramref name="jobId"/> if its holder is still <paramref name="observed"/> (a conditional update: of two takers, one wins).</summary>
    private async Task<bool> TakeLeaseAsync(string clusterId, string? observed, string jobId, CancellationToken cancellationToken) =>
        await db.Clusters.Where(c => c.Id == clusterId && c.LeaseJobId == observed)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.LeaseJobId, jobId).SetProperty(c => c.UpdatedAt, time.GetUtcNow()), cancellationToken) == 1;

    private async Task<bool> StartNextQueuedAsync(string clusterId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            db.ChangeTracker.Clear();
            var next = await db.Jobs.AsNoTracking().Where(j => j.ClusterId == clusterId && j.Status == JobStatus.Queued)
                .OrderBy(j => j.CreatedAt).FirstOrDefaultAsync(cancellationToken);
            var cluster = await db.Clusters.AsNoTracking().SingleOrDefaultAsync(c => c.Id == clusterId, cancellationToken);
            if (next is null || cluster is null || await HolderAsync(cluster, cancellationToken) is not null)
            {
                return false;
            }

            cluster = await db.Clusters.AsNoTracking().SingleAsync(c => c.Id == clusterId, cancellationToken);
            var started = await StartAsync(cluster, next, cancellationToken);
            if (started.IsSuccess)
            {
                return true;
            }

            if (started.Error!.Code == "cluster.lease_taken")
            {
                return false;
            }

            // The queued action no longer fits the cluster (its state changed meanwhile): it fails, the next one is tried.
            db.ChangeTracker.Clear();
            var now = time.GetUtcNow();
            await db.Jobs.Where(j => j.Id == next.Id && j.Status == JobStatus.Queued).ExecuteUpdateAsync(
                u => u.SetProperty(j => j.Status, JobStatus.Failed)
                    .SetProperty(j => j.ErrorCode, started.Error.Code)
                    .SetProperty(j => j.ErrorMessage, started.Error.Message)
                    .SetProperty(j => j.FinishedAt, now)
                    .SetProperty(j => j.Applied, true),
                cancellationToken);
        }

        return false;
    }

    /// <summary>Force: the running job is cancelled and its result will not be applied; the lease is freed for the cease that follows.</summary>
    private async Task ReleaseForcedAsync(Cluster cluster, Job holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await TaskLedger.CancelJobAsync(db, holder.Id, now, cancellationToken);
        db.ChangeTracker.Clear();
        await db.Jobs.Where(j => j.Id == holder.Id).ExecuteUpdateAsync(u => u.SetProperty(j => j.Applied, true), cancellationToken);
        await db.Clusters.Where(c => c.Id == cluster.Id && c.LeaseJobId == holder.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.LeaseJobId, (string?)null), cancellationToken);
    }

    private async Task ApplyResultAsync(Cluster cluster, Job job, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var nodes = await db.ClusterNodes.Where(n => n.ClusterId == cluster.Id && n.Status != NodeStatus.Deleted).ToListAsync(cancellationToken);
        var roles = await db.ClusterRoles.Where(r => r.ClusterId == cluster.Id).ToListAsync(cancellationToken);
        var (parameters, target) = JobParameters.Read(job.Parameters);
        var created = nodes.Where(n => n.CreatedByJobId == job.Id).ToList();
        if (job.Status != JobStatus.Succeeded)
        {
            // What this job created was removed by its compensation, unless kept for debugging or the cleanup failed.
            var cleaned = !job.KeepOnFailure && !await db.JobTasks.AnyAsync(t => t.JobId == job.Id && t.Compensation && t.Status != JobTaskStatus.Succeeded && t.Status != JobTaskStatus.Skipped, cancellationToken);
            foreach (var node in created)
            {
                node.Status = cleaned ? NodeStatus.Deleted : NodeStatus.Failed;
                node.UpdatedAt = now;
            }

            if (job.Action == ClusterAction.Create)
            {
                cluster.Status = ClusterStatus.Failed;
            }

            cluster.StatusReason = job.Status == JobStatus.Cancelled
                ? $"Job {job.Id} ({job.Action}) was cancelled."
                : $"Job {job.Id} ({job.Action}) failed: {job.ErrorMessage}";
            RecountRoles(roles, nodes);
            return;
        }

        cluster.StatusReason = null;
        void SetNodes(string status, Func<ClusterNode, bool>? which = null)
        {
            foreach (var node in nodes.Where(which ?? (_ => true)))
            {
                node.Status = status;
                node.UpdatedAt = now;
            }
        }

        switch (job.Action)
        {
            case ClusterAction.Create or ClusterAction.Start or ClusterAction.Restart or ClusterAction.Recover:
                cluster.Status = ClusterStatus.Active;
                cluster.DeletedAt = null;
                SetNodes(NodeStatus.Running);
                break;
            case ClusterAction.Stop:
                cluster.Status = ClusterStatus.Stopped;
                SetNodes(NodeStatus.Stopped);
                break;
            case ClusterAction.Delete:
                cluster.Status = ClusterStatus.Deleted;
                cluster.DeletedAt = now;
                SetNodes(NodeStatus.Stopped);
                break;
            case ClusterAction.Cease:
                cluster.Status = ClusterStatus.Ceased;
                SetNodes(NodeStatus.Deleted);
                break;
            case ClusterAction.ScaleOut:
                SetNodes(NodeStatus.Running, n => n.CreatedByJobId == job.Id);
                break;
            case ClusterAction.ScaleIn:
                var removed = parameters["node_ids"]!.AsArray().Select(i => i?.ToString()).ToHashSet(StringComparer.Ordinal);
                SetNodes(NodeStatus.Deleted, n => removed.Contains(n.Id));
                break;
            case ClusterAction.Resize:
                foreach (var (name, size) in parameters["roles"]!.AsObject())
                {
                    var role = roles.Single(r => r.Name == name);
                    role.Cpu = size!["cpu"]?.GetValue<int>() ?? role.Cpu;
                    role.Memory = size["memory"]?.GetValue<int>() ?? role.Memory;
                    role.Gpu = size["gpu"]?.GetValue<int>() ?? role.Gpu;
                    role.VolumeSize = size["volume_size"]?.GetValue<int>() ?? role.VolumeSize;
                }

                break;
            case ClusterAction.UpdateConfig or ClusterAction.Upgrade or ClusterAction.Rollback when target is not null:
                if (job.Action != ClusterAction.UpdateConfig)
                {
                    cluster.PreviousConfigValues = cluster.ConfigValues;
                }

                cluster.ConfigValues = target.Values.ToJsonString();
                cluster.Spec = target.Spec;
                foreach (var role in roles)
                {
                    if (target.Roles.FirstOrDefault(r => r.Name == role.Name) is { } designed)
                    {
                        role.Env = new Dictionary<string, string>(designed.Env, StringComparer.Ordinal);
                    }
                }

                if (job.Action != ClusterAction.UpdateConfig && parameters["app_version_id"]?.GetValue<string>() is { } version)
                {
                    cluster.PreviousAppVersionId = cluster.AppVersionId;
                    cluster.AppVersionId = version;
                }

                break;
        }

        RecountRoles(roles, nodes);
    }

    private static void RecountRoles(List<ClusterRole> roles, List<ClusterNode> nodes)
    {
        foreach (var role in roles)
        {
            role.Count = nodes.Count(n => n.Role == role.Name && n.Status != NodeStatus.Deleted);
        }
    }
}
