using System.Text.Json;
using Pitrix.Core.Engine;

namespace Pitrix.Engine;

/// <summary>
/// The <c>noop</c> task kind, for driving the engine alone (tests, benchmarks): input
/// <c>{"delay_ms": n, "fail_attempts": k, "code": "…"}</c> waits n ms and fails the first k attempts
/// with a retryable error.
/// </summary>
public sealed class NoopTaskHandler(TimeProvider time) : ITaskHandler
{
    public const string KindName = "noop";

    public string Kind => KindName;

    public async Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        using var input = JsonDocument.Parse(context.Input);
        var root = input.RootElement;
        if (root.TryGetProperty("delay_ms", out var delay) && delay.GetInt32() > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(delay.GetInt32()), time, cancellationToken);
        }

        if (root.TryGetProperty("fail_attempts", out var failures) && context.Attempt <= failures.GetInt32())
        {
            var code = root.TryGetProperty("code", out var c) ? c.GetString() ?? "noop.failed" : "noop.failed";
            return TaskOutcome.Failure(code, $"Attempt {context.Attempt} fails as asked.", retryable: true, output: $"attempt {context.Attempt}");
        }

        return TaskOutcome.Success($"{context.Key} done on attempt {context.Attempt}");
    }
}
