namespace Pitrix.Core.Engine;

/// <summary>
/// What a task handler is given: the task (with its idempotency key, which drivers use to look before
/// they create), its input, and the cluster and runtime its job acts on.
/// </summary>
public sealed record TaskContext(string TaskId, string JobId, string Key, string Kind, string IdempotencyKey, string Input, int Attempt, string ClusterId = "", string? RuntimeId = null);

/// <summary>How a task run ended. A retryable failure is retried under the task's retry policy.</summary>
public sealed record TaskOutcome(bool Succeeded, string? Output, string? ErrorCode = null, string? ErrorMessage = null, bool Retryable = false)
{
    public static TaskOutcome Success(string? output = null) => new(true, output);

    public static TaskOutcome Failure(string code, string message, bool retryable, string? output = null) => new(false, output, code, message, retryable);
}

/// <summary>Runs the tasks of one kind (<c>run_instances</c>, <c>helm_install</c>…). Registered explicitly in the host.</summary>
public interface ITaskHandler
{
    string Kind { get; }

    Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken);
}
