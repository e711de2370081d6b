using Microsoft.EntityFrameworkCore;
using Pitrix.Core;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine;

/// <summary>
/// The durable task ledger under the engine: jobs are stored with their whole task DAG before anything
/// runs; workers claim ready tasks under a lease (owner + expiry), heartbeat, and complete or fail them.
/// Every state change is a conditional UPDATE on the row, so two workers — in one process or in several
/// on one PostgreSQL — never both hold a task, and a task whose worker died is taken over after its
/// lease lapses. Each operation is its own unit of work: it starts from a clear change tracker (rows
/// change under conditional updates that bypass it) and saves before returning.
/// </summary>
public static class TaskLedger
{
    /// <summary>Stores a job and its planned tasks (validated as a DAG); tasks without dependencies are ready at once.</summary>
    public static async Task<Result<Job>> EnqueueAsync(PitrixDbContext db, string clusterId, TaskPlan plan, string? requestedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var order = plan.Validate();
        if (!order.IsSuccess)
        {
            return order.Error!;
        }

        var job = new Job { Id = Id.New(IdPrefix.Job), ClusterId = clusterId, Action = plan.Action, Status = JobStatus.Pending, RequestedBy = requestedBy, CreatedAt = now };
        db.Jobs.Add(job);
        var sequence = 0;
        foreach (var planned in order.Value!)
        {
            var retry = planned.Retry ?? RetryPolicy.None;
            var dependencies = planned.DependsOn.Distinct(StringComparer.Ordinal).ToList();
            db.JobTasks.Add(new JobTask
            {
                Id = Id.New(IdPrefix.JobTask),
                JobId = job.Id,
                Key = planned.Key,
                Kind = planned.Kind,
                DependsOn = dependencies,
                PendingDependencies = dependencies.Count,
                Status = dependencies.Count == 0 && !planned.Compensation ? JobTaskStatus.Ready : JobTaskStatus.Pending,
                IdempotencyKey = $"{job.Id}/{planned.Key}",
                Input = planned.Input,
                MaxAttempts = Math.Max(1, retry.MaxAttempts),
                BackoffBaseMilliseconds = retry.BaseMilliseconds,
                BackoffMaxMilliseconds = retry.MaxMilliseconds,
                TimeoutSeconds = planned.TimeoutSeconds,
                Compensation = planned.Compensation,

                // Creation order breaks ties between ready tasks: topological order, then plan order.
                CreatedAt = now.AddTicks(sequence++),
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return job;
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> tasks for <paramref name="owner"/>: ready ones whose backoff
    /// has passed, and running ones whose lease expired (their worker is gone). Each claim starts an attempt.
    /// </summary>
    public static async Task<IReadOnlyList<JobTask>> ClaimAsync(PitrixDbContext db, string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var candidates = await db.JobTasks.AsNoTracking()
            .Where(t => (t.Status == JobTaskStatus.Ready && (t.NotBefore == null || t.NotBefore <= now))
                || (t.Status == JobTaskStatus.Running && t.LeaseExpiresAt < now))
            .OrderBy(t => t.CreatedAt)
            .Select(t => new { t.Id, t.Status, t.Attempts })
            .Take(limit * 2)
            .ToListAsync(cancellationToken);
        var claimed = new List<JobTask>();
        var expires = now + lease;
        foreach (var candidate in candidates)
        {
            if (claimed.Count == limit)
            {
                break;
            }

            // The row must still be exactly as seen: same status and attempt count (a takeover of an
            // expired lease also re-checks the expiry), so a concurrent claimer wins at most once.
            var won = await db.JobTasks
                .Where(t => t.Id == candidate.Id && t.Status == candidate.Status && t.Attempts == candidate.Attempts
                    && (t.Status == JobTaskStatus.Ready || t.LeaseExpiresAt < now))
                .ExecuteUpdateAsync(
                    u => u.SetProperty(t => t.Status, JobTaskStatus.Running)
                        .SetProperty(t => t.LeaseOwner, owner)
                        .SetProperty(t => t.LeaseExpiresAt, expires)
                        .SetProperty(t => t.Attempts, t => t.Attempts + 1)
                        .SetProperty(t => t.StartedAt, now),
                    cancellationToken);
            if (won == 0)
            {
                continue;
            }

            var task = await db.JobTasks.AsNoTracking().SingleAsync(t => t.Id == candidate.Id, cancellationToken);
            if (candidate.Status == JobTaskStatus.Running)
            {
                await db.JobTaskAttempts.Where(a => a.TaskId == task.Id && a.Outcome == "running")
                    .ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, "lease_lost").SetProperty(a => a.FinishedAt, now), cancellationToken);
            }

            db.JobTaskAttempts.Add(new JobTaskAttempt { Id = Id.New(IdPrefix.JobTaskAttempt), TaskId = task.Id, Number = task.Attempts, Worker = owner, StartedAt = now, Outcome = "running" });
            await db.Jobs.Where(j => j.Id == task.JobId && j.Status == JobStatus.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.StartedAt, now), cancellationToken);
            claimed.Add(task);
        }

        await db.SaveChangesAsync(cancellationToken);
        return claimed;
    }

    /// <summary>Extends the lease of a task this owner holds; false when it was lost (taken over or cancelled).</summary>
    public static async Task<bool> HeartbeatAsync(PitrixDbContext db, string taskId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        await db.JobTasks.AsNoTracking().Where(t => t.Id == taskId && t.LeaseOwner == owner && t.Status == JobTaskStatus.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.LeaseExpiresAt, now + lease), cancellationToken) == 1;

    /// <summary>
    /// Marks a task this owner holds succeeded and releases its dependents; the job succeeds when every
    /// task but the compensations has. False when the lease was lost (the result is then discarded).
    /// </summary>
    public static async Task<bool> CompleteAsync(PitrixDbContext db, string taskId, string owner, string? output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var task = await db.JobTasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, cancellationToken);
        var won = task is null ? 0 : await db.JobTasks
            .Where(t => t.Id == taskId && t.LeaseOwner == owner && t.Status == JobTaskStatus.Running)
            .ExecuteUpdateAsync(
                u => u.SetProperty(t => t.Status, JobTaskStatus.Succeeded)
                    .SetProperty(t => t.Output, output)
                    .SetProperty(t => t.FinishedAt, now)
                    .SetProperty(t => t.LeaseOwner, (string?)null)
                    .SetProperty(t => t.LeaseExpiresAt, (DateTimeOffset?)null),
                cancellationToken);
        if (won == 0)
        {
            return false;
        }

        await FinishAttemptAsync(db, task!, "succeeded", null, null, output, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);

        // Dependents are released with atomic decrements: siblings finishing at the same moment in other
        // workers must not overwrite each other's counts.
        var siblings = await db.JobTasks.AsNoTracking().Where(t => t.JobId == task!.JobId && t.Id != taskId).Select(t => new { t.Id, t.DependsOn }).ToListAsync(cancellationToken);
        var dependents = siblings.Where(t => t.DependsOn.Contains(task!.Key)).Select(t => t.Id).ToList();
        if (dependents.Count > 0)
        {
            await db.JobTasks.Where(t => dependents.Contains(t.Id) && t.Status == JobTaskStatus.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.PendingDependencies, t => t.PendingDependencies - 1), cancellationToken);
            await db.JobTasks.Where(t => dependents.Contains(t.Id) && t.Status == JobTaskStatus.Pending && !t.Compensation && t.PendingDependencies <= 0)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, JobTaskStatus.Ready), cancellationToken);
        }

        // Checked after this task's own update is committed, so of two last tasks finishing together at
        // least the later one sees both done.
        var jobId = task!.JobId;
        if (!await db.JobTasks.AnyAsync(t => t.JobId == jobId && !t.Compensation && t.Status != JobTaskStatus.Succeeded, cancellationToken))
        {
            var finished = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Running)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.Status, JobStatus.Succeeded).SetProperty(j => j.FinishedAt, now), cancellationToken);
            if (finished == 1)
            {
                await db.JobTasks.Where(t => t.JobId == jobId && t.Compensation && t.Status == JobTaskStatus.Pending)
                    .ExecuteUpdateAsync(u => u.SetProperty(t => t.Status, JobTaskStatus.Skipped), cancellationToken);
            }
        }
        else if (task.Compensation && !await db.JobTasks.AnyAsync(t => t.JobId == jobId && t.Compensation && t.Status != JobTaskStatus.Succeeded && t.Status != JobTaskStatus.Failed && t.Status != JobTaskStatus.Skipped, cancellationToken))
        {
            await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Failed && j.FinishedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.FinishedAt, now), cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Records a failed attempt. A retryable failure with attempts left makes the task ready again after a
    /// jittered exponential backoff; otherwise the task and its job fail: tasks not started are skipped and
    /// the compensation tasks (which undo what the job created) become ready.
    /// </summary>
    public static async Task<bool> FailAsync(PitrixDbContext db, string taskId, string owner, string code, string message, string? output, bool retryable, double jitter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var task = await HeldAsync(db, taskId, owner, cancellationToken);
        if (task is null)
        {
            return false;
        }

        task.ErrorCode = code;
        task.ErrorMessage = message;
        task.Output = output;
        task.LeaseOwner = null;
        task.LeaseExpiresAt = null;
        await FinishAttemptAsync(db, task, code == "task.timeout" ? "timed_out" : "failed", code, message, output, now, cancellationToken);
        if (retryable && task.Attempts < task.MaxAttempts)
        {
            task.Status = JobTaskStatus.Ready;
            task.NotBefore = now + RetryPolicy.Delay(task.Attempts + 1, task.BackoffBaseMilliseconds, task.BackoffMaxMilliseconds, jitter);
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }

        task.Status = JobTaskStatus.Failed;
        task.FinishedAt = now;
        var job = await db.Jobs.SingleAsync(j => j.Id == task.JobId, cancellationToken);
        var siblings = await db.JobTasks.Where(t => t.JobId == task.JobId && t.Id != task.Id).ToListAsync(cancellationToken);
        if (!task.Compensation)
        {
            job.Status = JobStatus.Failed;
            job.FailedTaskId = task.Id;
            job.ErrorCode = code;
            job.ErrorMessage = $"Task '{task.Key}' ({task.Kind}) failed after {task.Attempts} attempt(s): {message}";
            foreach (var other in siblings.Where(t => !t.Compensation && t.Status is JobTaskStatus.Pending or JobTaskStatus.Ready))
            {
                other.Status = JobTaskStatus.Skipped;
            }

            var compensations = siblings.Where(t => t.Compensation && t.Status == JobTaskStatus.Pending).ToList();
            foreach (var compensation in compensations)
            {
                compensation.Status = JobTaskStatus.Ready;
            }

            if (compensations.Count == 0)
            {
                job.FinishedAt = now;
            }
        }
        else
        {
            // A failed compensation is kept visible on the failed job; the rest of the cleanup still runs.
            job.ErrorMessage += $" Cleanup task '{task.Key}' also failed: {message}";
        }

        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private static async Task<JobTask?> HeldAsync(PitrixDbContext db, string taskId, string owner, CancellationToken cancellationToken) =>
        await db.JobTasks.SingleOrDefaultAsync(t => t.Id == taskId && t.LeaseOwner == owner && t.Status == JobTaskStatus.Running, cancellationToken);

    private static async Task FinishAttemptAsync(PitrixDbContext db, JobTask task, string outcome, string? code, string? message, string? output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var attempt = await db.JobTaskAttempts.SingleOrDefaultAsync(a => a.TaskId == task.Id && a.Number == task.Attempts, cancellationToken);
        if (attempt is not null)
        {
            attempt.Outcome = outcome;
            attempt.ErrorCode = code;
            attempt.ErrorMessage = message;
            attempt.Output = output;
            attempt.FinishedAt = now;
        }
    }
}
