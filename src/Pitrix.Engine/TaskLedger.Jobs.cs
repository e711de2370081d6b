using Microsoft.EntityFrameworkCore;
using Pitrix.Core;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine;

public static partial class TaskLedger
{
    /// <summary>
    /// Cancels a pending or running job: its waiting and running tasks (compensations aside) become
    /// cancelled — a running task's worker loses it at its next lease check, which cancels the handler and
    /// discards its result — and, if any task had started, the compensations become ready to undo what the
    /// job created. The job is finished at once when nothing is left to run. Not applied (no error) when the
    /// job is already over; <c>job.not_found</c> when there is no such job.
    /// </summary>
    public static async Task<Result<LedgerOutcome>> CancelJobAsync(PitrixDbContext db, string jobId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tasks = await LockJobTasksAsync(db, jobId, taskId: null, cancellationToken);
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null)
        {
            return Error.NotFound("job", jobId);
        }

        if (JobStatus.IsFinal(job.Status))
        {
            return new LedgerOutcome(false, job.Id, job.ClusterId, job.Status);
        }

        var started = tasks.Exists(t => !t.Compensation && t.Attempts > 0);
        job.Status = JobStatus.Cancelled;
        EngineEvents.Append(db, job.ClusterId, job.Id, null, EngineEventTypes.JobCancelled, new { }, now);
        var running = tasks.Where(t => !t.Compensation && t.Status == JobTaskStatus.Running).Select(t => t.Id).ToList();
        if (running.Count > 0)
        {
            var attempts = await db.JobTaskAttempts.Where(a => running.Contains(a.TaskId) && a.Outcome == "running").ToListAsync(cancellationToken);
            foreach (var attempt in attempts)
            {
                attempt.Outcome = "cancelled";
                attempt.FinishedAt = now;
            }
        }

        foreach (var task in tasks.Where(t => !t.Compensation && t.Status is JobTaskStatus.Pending or JobTaskStatus.Ready or JobTaskStatus.Running))
        {
            task.Status = JobTaskStatus.Cancelled;
            task.FinishedAt = now;
            task.LeaseOwner = null;
            task.LeaseExpiresAt = null;
            EngineEvents.Append(db, job.ClusterId, job.Id, task.Id, EngineEventTypes.TaskCancelled, new { task.Key }, now);
        }

        foreach (var compensation in tasks.Where(t => t.Compensation && t.Status == JobTaskStatus.Pending))
        {
            // Nothing ran, so nothing needs undoing.
            if (started)
            {
                MakeReady(compensation, now);
            }
            else
            {
                compensation.Status = JobTaskStatus.Skipped;
            }
        }

        var finished = TryFinish(db, job, tasks, now);
        await CommitAsync(db, transaction, cancellationToken);
        return new LedgerOutcome(true, job.Id, job.ClusterId, job.Status, finished);
    }

    /// <summary>
    /// Runs a failed or cancelled job again (once its cleanup has finished). If no compensation has
    /// succeeded, the job resumes: its failed, cancelled and skipped tasks wait again for the dependencies
    /// not yet succeeded, and the succeeded ones are kept. If a compensation has undone part of the job,
    /// the whole DAG runs again. Each task gets a fresh attempt budget on top of the attempts it used (the
    /// attempt history is kept), compensations wait again, and a <c>job.retried</c> event is appended.
    /// </summary>
    public static async Task<Result<Job>> RetryJobAsync(PitrixDbContext db, string jobId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tasks = await LockJobTasksAsync(db, jobId, taskId: null, cancellationToken);
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job is null)
        {
            return Error.NotFound("job", jobId);
        }

        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled))
        {
            return Error.Conflict("job.not_retryable", $"Job {jobId} is {job.Status}; only failed or cancelled jobs can be retried.");
        }

        if (job.FinishedAt is null)
        {
            return Error.Conflict("job.not_retryable", $"Job {jobId} is still cleaning up; retry it when it has finished.");
        }

        var undone = tasks.Exists(t => t.Compensation && t.Status == JobTaskStatus.Succeeded);
        var reset = tasks.Where(t => t.Compensation || undone || t.Status is JobTaskStatus.Failed or JobTaskStatus.Cancelled or JobTaskStatus.Skipped).ToList();
        foreach (var task in reset)
        {
            task.Status = JobTaskStatus.Pending;
            task.MaxAttempts = Math.Max(task.MaxAttempts, task.Attempts + Math.Max(1, task.AttemptBudget));
            task.NotBefore = null;
            task.ReadyAt = null;
            task.LeaseOwner = null;
            task.LeaseExpiresAt = null;
            task.ErrorCode = null;
            task.ErrorMessage = null;
            task.Output = null;
            task.StartedAt = null;
            task.FinishedAt = null;
        }

        var succeeded = tasks.Where(t => t.Status == JobTaskStatus.Succeeded).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var task in reset)
        {
            task.PendingDependencies = task.DependsOn.Count(d => !succeeded.Contains(d));
            if (task.PendingDependencies == 0 && !task.Compensation)
            {
                MakeReady(task, now);
            }
        }

        job.Status = JobStatus.Pending;
        job.FinishedAt = null;
        // In the same transaction as FinishedAt: a reconciler never sees the old outcome as one still to apply.
        job.Applied = false;
        job.FailedTaskId = null;
        job.ErrorCode = null;
        job.ErrorMessage = null;
        EngineEvents.Append(db, job.ClusterId, job.Id, null, EngineEventTypes.JobRetried, new { FullReset = undone, TasksReset = reset.Count(t => !t.Compensation) }, now);
        await CommitAsync(db, transaction, cancellationToken);
        return job;
    }
}
