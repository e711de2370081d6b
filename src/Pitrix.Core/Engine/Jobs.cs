namespace Pitrix.Core.Engine;

/// <summary>Job status: pending → running → succeeded | failed | cancelled.</summary>
public static class JobStatus
{
    /// <summary>Waiting for the cluster's lease (the caller asked to queue behind a running job); planned when it gets it.</summary>
    public const string Queued = "queued";
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>Task status: pending (waiting for dependencies) → ready → running → succeeded | failed | skipped | cancelled.</summary>
public static class JobTaskStatus
{
    public const string Pending = "pending";
    public const string Ready = "ready";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Skipped or Cancelled;
}

/// <summary>One requested action on a cluster (create, stop, scale…), carried out as a DAG of tasks.</summary>
public sealed class Job
{
    public required string Id { get; init; }

    /// <summary>The cluster acted on (clusters arrive with the lifecycle API).</summary>
    public required string ClusterId { get; init; }

    /// <summary>The runtime the job acts on, copied to its tasks for per-runtime concurrency limits.</summary>
    public string? RuntimeId { get; init; }

    public required string Action { get; init; }

    public required string Status { get; set; }

    public string? RequestedBy { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>Set when nothing of the job runs any more: its last task, or its last compensation, has finished.</summary>
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The task whose final failure failed the job.</summary>
    public string? FailedTaskId { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>The action's parameters as the caller gave them (JSON object), kept to plan a queued job and to apply its result.</summary>
    public string Parameters { get; set; } = "{}";

    /// <summary>Leave what a failed job created in place, for debugging (no compensation is planned).</summary>
    public bool KeepOnFailure { get; init; }

    /// <summary>The job's result has been applied to its cluster (status, nodes, sizes) and the cluster's lease released.</summary>
    public bool Applied { get; set; }
}

/// <summary>
/// One step of a job. Stored before execution; leased by a worker (owner + expiry, renewed by
/// heartbeat) while it runs, so a crashed worker's task is taken over once the lease lapses.
/// </summary>
public sealed class JobTask
{
    public required string Id { get; init; }

    public required string JobId { get; init; }

    /// <summary>The job's cluster, copied so task events and handlers need not load the job.</summary>
    public string ClusterId { get; init; } = "";

    /// <summary>The job's runtime, copied so claims can apply per-runtime limits.</summary>
    public string? RuntimeId { get; init; }

    /// <summary>Unique within the job; dependencies name keys.</summary>
    public required string Key { get; init; }

    /// <summary>What runs it (a handler registered for this kind: <c>run_instances</c>, <c>helm_install</c>…).</summary>
    public required string Kind { get; init; }

    public List<string> DependsOn { get; init; } = [];

    /// <summary>Dependencies not yet succeeded; the task becomes ready at zero.</summary>
    public int PendingDependencies { get; set; }

    public required string Status { get; set; }

    /// <summary>Passed to drivers so a retried task looks before it creates.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>JSON input for the handler.</summary>
    public string Input { get; init; } = "{}";

    public int Attempts { get; set; }

    /// <summary>Attempts allowed in total; a retried job raises it by <see cref="AttemptBudget"/> so attempt history is kept.</summary>
    public int MaxAttempts { get; set; } = 1;

    /// <summary>The attempts the plan gave the task (its retry policy), granted again when its job is retried.</summary>
    public int AttemptBudget { get; init; } = 1;

    public int TimeoutSeconds { get; init; } = 600;

    public int BackoffBaseMilliseconds { get; init; } = 1000;

    public int BackoffMaxMilliseconds { get; init; } = 60_000;

    /// <summary>A ready task is not started before this (retry backoff).</summary>
    public DateTimeOffset? NotBefore { get; set; }

    /// <summary>
    /// When the task last became ready to run (enqueued, released by its dependencies, readied by a
    /// failure or retry; for a retry after backoff, its <see cref="NotBefore"/>). Scheduling latency is
    /// the start of the attempt minus this.
    /// </summary>
    public DateTimeOffset? ReadyAt { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>A compensation task runs only when the job fails (it undoes what the job created).</summary>
    public bool Compensation { get; init; }

    public string? Output { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>One run of a task, kept with its outcome, error and output tail.</summary>
public sealed class JobTaskAttempt
{
    public required string Id { get; init; }

    public required string TaskId { get; init; }

    public int Number { get; init; }

    public required string Worker { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>running, succeeded, failed, timed_out, lease_lost or cancelled.</summary>
    public required string Outcome { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    public string? Output { get; set; }
}
