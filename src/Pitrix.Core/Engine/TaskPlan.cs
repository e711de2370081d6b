namespace Pitrix.Core.Engine;

/// <summary>How a task is retried after a retryable failure: exponential backoff with full jitter, capped.</summary>
public sealed record RetryPolicy(int MaxAttempts = 1, int BaseMilliseconds = 1000, int MaxMilliseconds = 60_000)
{
    public static RetryPolicy None { get; } = new();

    /// <summary>
    /// The wait before attempt <paramref name="nextAttempt"/> (2 or more): a uniformly random delay up to
    /// base·2^(n-2), capped, so retries of many tasks spread out instead of arriving together.
    /// </summary>
    public static TimeSpan Delay(int nextAttempt, int baseMilliseconds, int maxMilliseconds, double random)
    {
        var exponent = Math.Clamp(nextAttempt - 2, 0, 30);
        var ceiling = Math.Min((double)maxMilliseconds, baseMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(Math.Clamp(random, 0, 1) * ceiling);
    }
}

/// <summary>One task of a plan: its key, kind, dependencies (keys) and settings.</summary>
public sealed record PlannedTask(string Key, string Kind, IReadOnlyList<string> DependsOn, string Input = "{}", RetryPolicy? Retry = null, int TimeoutSeconds = 600, bool Compensation = false);

/// <summary>A job's task DAG as an app format plans it, before it is stored.</summary>
public sealed record TaskPlan(string Action, IReadOnlyList<PlannedTask> Tasks)
{
    /// <summary>
    /// Checks the plan is a DAG: keys unique and well-formed, dependencies known, no cycles. Returns the
    /// tasks in a topological order (ties by plan order) or the error.
    /// </summary>
    public Result<IReadOnlyList<PlannedTask>> Validate()
    {
        var byKey = new Dictionary<string, PlannedTask>(StringComparer.Ordinal);
        foreach (var task in Tasks)
        {
            if (string.IsNullOrWhiteSpace(task.Key) || task.Key.Length > 128)
            {
                return Invalid("A task key is 1-128 characters.");
            }

            if (!byKey.TryAdd(task.Key, task))
            {
                return Invalid($"Task key '{task.Key}' appears twice.");
            }
        }

        foreach (var task in Tasks)
        {
            if (task.DependsOn.FirstOrDefault(d => !byKey.ContainsKey(d)) is { } unknown)
            {
                return Invalid($"Task '{task.Key}' depends on unknown task '{unknown}'.");
            }
        }

        // Kahn's algorithm; whatever is left has a cycle.
        var remaining = Tasks.ToDictionary(t => t.Key, t => t.DependsOn.Distinct(StringComparer.Ordinal).Count(), StringComparer.Ordinal);
        var dependents = Tasks.SelectMany(t => t.DependsOn.Distinct(StringComparer.Ordinal).Select(d => (d, t.Key))).ToLookup(p => p.d, p => p.Key, StringComparer.Ordinal);
        var order = new List<PlannedTask>(Tasks.Count);
        var ready = new Queue<string>(Tasks.Where(t => remaining[t.Key] == 0).Select(t => t.Key));
        while (ready.Count > 0)
        {
            var key = ready.Dequeue();
            order.Add(byKey[key]);
            foreach (var dependent in dependents[key])
            {
                if (--remaining[dependent] == 0)
                {
                    ready.Enqueue(dependent);
                }
            }
        }

        if (order.Count != Tasks.Count)
        {
            var cycle = Tasks.Where(t => remaining[t.Key] > 0).Select(t => t.Key);
            return Invalid($"The tasks {string.Join(", ", cycle)} depend on each other in a cycle.");
        }

        return order;
    }

    private static Error Invalid(string message) => Error.Validation("plan.invalid", message);
}
