namespace Pitrix.Engine;

/// <summary>
/// What a ledger change did: whether it applied (false when the worker no longer holds the task, or the
/// job was already over), and whether it finished the job (set its <c>FinishedAt</c>), in which case job-finished
/// observers are due.
/// </summary>
public sealed record LedgerOutcome(bool Applied, string? JobId = null, string? ClusterId = null, string? JobStatus = null, bool JobFinished = false)
{
    public static LedgerOutcome NotApplied { get; } = new(false);
}

/// <summary>
/// Limits on how many tasks may run at once across every engine process sharing the database: in total
/// (<see cref="GlobalMaxRunning"/>) and per runtime (<see cref="PerRuntime"/>, overridden per runtime id by
/// <see cref="RuntimeOverrides"/>). Zero means unlimited. Tasks without a runtime count only toward the total.
/// </summary>
public sealed record ClaimLimits(int GlobalMaxRunning = 0, int PerRuntime = 0, IReadOnlyDictionary<string, int>? RuntimeOverrides = null)
{
    public static ClaimLimits None { get; } = new();

    public bool IsUnlimited => GlobalMaxRunning <= 0 && PerRuntime <= 0 && (RuntimeOverrides is null || RuntimeOverrides.Values.All(v => v <= 0));

    /// <summary>The limit of one runtime; 0 when unlimited.</summary>
    public int For(string runtimeId) =>
        RuntimeOverrides is not null && RuntimeOverrides.TryGetValue(runtimeId, out var limit) ? Math.Max(0, limit) : Math.Max(0, PerRuntime);
}
