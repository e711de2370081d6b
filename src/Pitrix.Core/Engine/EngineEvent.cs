namespace Pitrix.Core.Engine;

/// <summary>
/// One entry of the engine's event log (table <c>events</c>), which Server-Sent Events streams read in
/// <see cref="Seq"/> order per cluster. Ledger changes append their events in the same transaction as
/// the change, so the log never shows what did not happen.
/// </summary>
public sealed class EngineEvent
{
    /// <summary>Assigned by the database on insert, increasing.</summary>
    public long Seq { get; init; }

    public required string ClusterId { get; init; }

    public string? JobId { get; init; }

    public string? TaskId { get; init; }

    /// <summary>A dotted type such as <c>job.created</c> or <c>task.retrying</c> (see <see cref="EngineEventTypes"/>).</summary>
    public required string Type { get; init; }

    /// <summary>A JSON object with snake_case property names.</summary>
    public string Data { get; init; } = "{}";

    public DateTimeOffset At { get; init; }
}

/// <summary>The event types the ledger appends. Cluster modules add their own (<c>cluster.*</c>).</summary>
public static class EngineEventTypes
{
    public const string JobCreated = "job.created";
    public const string JobStarted = "job.started";
    public const string JobSucceeded = "job.succeeded";
    public const string JobFailed = "job.failed";
    public const string JobCancelled = "job.cancelled";
    public const string JobRetried = "job.retried";
    public const string JobFinished = "job.finished";
    public const string TaskStarted = "task.started";
    public const string TaskSucceeded = "task.succeeded";
    public const string TaskRetrying = "task.retrying";
    public const string TaskFailed = "task.failed";
    public const string TaskCancelled = "task.cancelled";

    /// <summary>
    /// Whether an event of this type can come with tasks becoming ready (a job stored or retried, a task
    /// done releasing its dependents, a failure or cancellation readying compensations, a retry), so idle
    /// workers should look for work. The PostgreSQL trigger on <c>events</c> uses the same list.
    /// </summary>
    public static bool MayReadyTasks(string type) =>
        type is JobCreated or JobRetried or JobFailed or JobCancelled or TaskSucceeded or TaskRetrying;
}
