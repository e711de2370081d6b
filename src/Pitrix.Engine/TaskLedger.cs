using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pitrix.Core;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine;

/// <summary>
/// The durable task ledger under the engine: jobs are stored with their whole task DAG before anything
/// runs; workers claim ready tasks under a lease (owner + expiry), heartbeat, and complete or fail them.
/// Claims are conditional: on PostgreSQL one <c>UPDATE … FOR UPDATE SKIP LOCKED … RETURNING</c>
/// statement, on SQLite (one process) a conditional update per task, so two workers never both hold a
/// task, and a task whose worker died is taken over after its lease lapses. Every other change to a job
/// is one transaction that first locks all the job's task rows (PostgreSQL <c>FOR UPDATE</c>; SQLite's
/// transactions are immediate, so the only writer), which makes releasing dependents, finishing the
/// job and readying compensations atomic even when sibling tasks finish together in different processes.
/// Every change appends its events (<see cref="EngineEvent"/>) in the same transaction. Each operation is
/// its own unit of work: it starts from a clear change tracker and commits before returning.
/// </summary>
public static partial class TaskLedger
{
    /// <summary>
    /// Stores a job and its planned tasks (validated as a DAG) with a <c>job.created</c> event; tasks
    /// without dependencies are ready at once. <paramref name="runtimeId"/> (copied to every task) puts the
    /// job under that runtime's concurrency limit.
    /// </summary>
    public static async Task<Result<Job>> EnqueueAsync(PitrixDbContext db, string clusterId, TaskPlan plan, string? requestedBy, DateTimeOffset now, CancellationToken cancellationToken, string? runtimeId = null)
    {
        var job = new Job { Id = Id.New(IdPrefix.Job), ClusterId = clusterId, RuntimeId = runtimeId, Action = plan.Action, Status = JobStatus.Pending, RequestedBy = requestedBy, CreatedAt = now };
        var added = AddJob(db, job, plan, now);
        if (added is not null)
        {
            return added;
        }

        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return job;
    }

    /// <summary>
    /// Adds <paramref name="job"/> (new, or a queued one already stored and tracked) with its planned tasks to
    /// the context, validated as a DAG; the caller saves. Returns the plan's error, if any.
    /// </summary>
    public static Error? AddJob(PitrixDbContext db, Job job, TaskPlan plan, DateTimeOffset now)
    {
        var order = plan.Validate();
        if (!order.IsSuccess)
        {
            return order.Error!;
        }

        if (db.Entry(job).State == EntityState.Detached)
        {
            db.Jobs.Add(job);
        }

        job.Status = JobStatus.Pending;
        var sequence = 0;
        foreach (var planned in order.Value!)
        {
            var retry = planned.Retry ?? RetryPolicy.None;
            var dependencies = planned.DependsOn.Distinct(StringComparer.Ordinal).ToList();
            var ready = dependencies.Count == 0 && !planned.Compensation;
            db.JobTasks.Add(new JobTask
            {
                Id = Id.New(IdPrefix.JobTask),
                JobId = job.Id,
                ClusterId = job.ClusterId,
                RuntimeId = job.RuntimeId,
                Key = planned.Key,
                Kind = planned.Kind,
                DependsOn = dependencies,
                PendingDependencies = dependencies.Count,
                Status = ready ? JobTaskStatus.Ready : JobTaskStatus.Pending,
                ReadyAt = ready ? now : null,
                IdempotencyKey = $"{job.Id}/{planned.Key}",
                Input = planned.Input,
                MaxAttempts = Math.Max(1, retry.MaxAttempts),
                AttemptBudget = Math.Max(1, retry.MaxAttempts),
                BackoffBaseMilliseconds = retry.BaseMilliseconds,
                BackoffMaxMilliseconds = retry.MaxMilliseconds,
                TimeoutSeconds = planned.TimeoutSeconds,
                Compensation = planned.Compensation,

                // Creation order breaks ties between ready tasks: topological order, then plan order.
                CreatedAt = now.AddTicks(sequence++),
            });
        }

        EngineEvents.Append(db, job.ClusterId, job.Id, null, EngineEventTypes.JobCreated, new { plan.Action, TaskCount = plan.Tasks.Count }, now);
        return null;
    }

    /// <summary>Extends the lease of a task this owner holds; false when it was lost (taken over or cancelled).</summary>
    public static async Task<bool> HeartbeatAsync(PitrixDbContext db, string taskId, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        await db.JobTasks.AsNoTracking().Where(t => t.Id == taskId && t.LeaseOwner == owner && t.Status == JobTaskStatus.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(t => t.LeaseExpiresAt, now + lease), cancellationToken) == 1;

    /// <summary>
    /// Marks a task this owner holds succeeded and releases its dependents; the job succeeds when every
    /// task but the compensations has. Not applied when the lease was lost or the task was cancelled (the
    /// result is then discarded).
    /// </summary>
    public static async Task<LedgerOutcome> CompleteAsync(PitrixDbContext db, string taskId, string owner, string? output, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tasks = await LockJobTasksAsync(db, jobId: null, taskId, cancellationToken);
        var task = tasks.Find(t => t.Id == taskId);
        if (task is null || task.Status != JobTaskStatus.Running || task.LeaseOwner != owner)
        {
            return LedgerOutcome.NotApplied;
        }

        var job = await db.Jobs.SingleAsync(j => j.Id == task.JobId, cancellationToken);
        await FinishAttemptAsync(db, task, "succeeded", null, null, output, now, cancellationToken);
        task.Status = JobTaskStatus.Succeeded;
        task.Output = output;
        task.FinishedAt = now;
        task.LeaseOwner = null;
        task.LeaseExpiresAt = null;
        EngineEvents.Append(db, job.ClusterId, job.Id, task.Id, EngineEventTypes.TaskSucceeded, new { task.Key, Output = EngineEvents.Tail(output) }, now);

        // The job's task rows are locked, so these decrements cannot race a sibling finishing elsewhere.
        foreach (var dependent in tasks.Where(t => t.Status == JobTaskStatus.Pending && t.DependsOn.Contains(task.Key)))
        {
            dependent.PendingDependencies--;
            if (dependent.PendingDependencies <= 0 && !dependent.Compensation)
            {
                MakeReady(dependent, now);
            }
        }

        if (!task.Compensation && job.Status == JobStatus.Running && tasks.All(t => t.Compensation || t.Status == JobTaskStatus.Succeeded))
        {
            job.Status = JobStatus.Succeeded;
            foreach (var compensation in tasks.Where(t => t.Compensation && t.Status == JobTaskStatus.Pending))
            {
                compensation.Status = JobTaskStatus.Skipped;
            }

            EngineEvents.Append(db, job.ClusterId, job.Id, null, EngineEventTypes.JobSucceeded, new { }, now);
        }

        var finished = TryFinish(db, job, tasks, now);
        await CommitAsync(db, transaction, cancellationToken);
        return new LedgerOutcome(true, job.Id, job.ClusterId, job.Status, finished);
    }

    /// <summary>
    /// Records a failed attempt. A retryable failure with attempts left makes the task ready again after a
    /// jittered exponential backoff; otherwise the task and its job fail: tasks not started are skipped and
    /// the compensation tasks (which undo what the job created) become ready.
    /// </summary>
    public static async Task<LedgerOutcome> FailAsync(PitrixDbContext db, string taskId, string owner, string code, string message, string? output, bool retryable, double jitter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tasks = await LockJobTasksAsync(db, jobId: null, taskId, cancellationToken);
        var task = tasks.Find(t => t.Id == taskId);
        if (task is null || task.Status != JobTaskStatus.Running || task.LeaseOwner != owner)
        {
            return LedgerOutcome.NotApplied;
        }

        var job = await db.Jobs.SingleAsync(j => j.Id == task.JobId, cancellationToken);
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
            task.ReadyAt = task.NotBefore;
            EngineEvents.Append(db, job.ClusterId, job.Id, task.Id, EngineEventTypes.TaskRetrying, new { task.Key, Attempt = task.Attempts, Code = code, Message = message, task.NotBefore }, now);
            await CommitAsync(db, transaction, cancellationToken);
            return new LedgerOutcome(true, job.Id, job.ClusterId, job.Status);
        }

        task.Status = JobTaskStatus.Failed;
        task.FinishedAt = now;
        EngineEvents.Append(db, job.ClusterId, job.Id, task.Id, EngineEventTypes.TaskFailed, new { task.Key, Code = code, Message = message }, now);
        if (task.Compensation)
        {
            // A failed compensation is kept visible on the failed job; the rest of the cleanup still runs.
            job.ErrorMessage += $" Cleanup task '{task.Key}' also failed: {message}";
        }
        else if (!JobStatus.IsFinal(job.Status))
        {
            job.Status = JobStatus.Failed;
            job.FailedTaskId = task.Id;
            job.ErrorCode = code;
            job.ErrorMessage = $"Task '{task.Key}' ({task.Kind}) failed after {task.Attempts} attempt(s): {message}";
            foreach (var other in tasks.Where(t => !t.Compensation && t.Status is JobTaskStatus.Pending or JobTaskStatus.Ready))
            {
                other.Status = JobTaskStatus.Skipped;
            }

            foreach (var compensation in tasks.Where(t => t.Compensation && t.Status == JobTaskStatus.Pending))
            {
                MakeReady(compensation, now);
            }

            EngineEvents.Append(db, job.ClusterId, job.Id, null, EngineEventTypes.JobFailed, new { TaskKey = task.Key, Code = code, Message = message }, now);
        }

        var finished = TryFinish(db, job, tasks, now);
        await CommitAsync(db, transaction, cancellationToken);
        return new LedgerOutcome(true, job.Id, job.ClusterId, job.Status, finished);
    }

    private static void MakeReady(JobTask task, DateTimeOffset now)
    {
        task.Status = JobTaskStatus.Ready;
        task.NotBefore = null;
        task.ReadyAt = now;
    }

    /// <summary>Sets the job's FinishedAt once it is over and none of its tasks is waiting or running (compensations included).</summary>
    private static bool TryFinish(PitrixDbContext db, Job job, List<JobTask> tasks, DateTimeOffset now)
    {
        if (!JobStatus.IsFinal(job.Status) || job.FinishedAt is not null || !tasks.TrueForAll(t => JobTaskStatus.IsFinal(t.Status)))
        {
            return false;
        }

        job.FinishedAt = now;
        EngineEvents.Append(db, job.ClusterId, job.Id, null, EngineEventTypes.JobFinished, new { job.Status }, now);
        return true;
    }

    /// <summary>
    /// Loads every task of a job (given directly or through one of its tasks), tracked and, on PostgreSQL,
    /// locked until the transaction ends. Claims never wait on these locks (they skip locked rows), so a
    /// change to a job waits at most for a claim statement in flight.
    /// </summary>
    private static async Task<List<JobTask>> LockJobTasksAsync(PitrixDbContext db, string? jobId, string? taskId, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            return jobId is not null
                ? await db.JobTasks.FromSql($"""SELECT * FROM job_tasks WHERE "JobId" = {jobId} ORDER BY "Id" FOR UPDATE""").ToListAsync(cancellationToken)
                : await db.JobTasks.FromSql($"""SELECT * FROM job_tasks WHERE "JobId" = (SELECT "JobId" FROM job_tasks WHERE "Id" = {taskId}) ORDER BY "Id" FOR UPDATE""").ToListAsync(cancellationToken);
        }

        // SQLite: Microsoft.Data.Sqlite begins transactions IMMEDIATE, so this connection is already the only writer.
        return jobId is not null
            ? await db.JobTasks.Where(t => t.JobId == jobId).ToListAsync(cancellationToken)
            : await db.JobTasks.Where(t => t.JobId == db.JobTasks.Where(o => o.Id == taskId).Select(o => o.JobId).FirstOrDefault()).ToListAsync(cancellationToken);
    }

    /// <summary>Saves, commits, then wakes this process's waiters for what the change appended.</summary>
    internal static async Task CommitAsync(PitrixDbContext db, IDbContextTransaction transaction, CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var appended = db.ChangeTracker.Entries<EngineEvent>().Select(e => e.Entity).ToList();
        db.ChangeTracker.Clear();
        EngineSignal.Committed(db, appended);
    }

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
