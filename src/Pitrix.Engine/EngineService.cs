using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine;

/// <summary>Engine settings (section <c>Engine</c>); concurrency is set here only.</summary>
public sealed class EngineOptions
{
    public const string SectionName = "Engine";

    /// <summary>Names this worker in leases; unique per process.</summary>
    public string InstanceId { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>How often an idle worker looks for ready tasks.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A task's lease; renewed every third of it while the task runs.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Tasks this process runs at once.</summary>
    public int MaxConcurrentTasks { get; set; } = 20;
}

public sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions options) =>
        options.MaxConcurrentTasks is < 1 or > 1000 ? ValidateOptionsResult.Fail("Engine:MaxConcurrentTasks must be 1 to 1000.")
        : options.LeaseDuration < TimeSpan.FromSeconds(1) ? ValidateOptionsResult.Fail("Engine:LeaseDuration must be at least 1 second.")
        : options.PollInterval <= TimeSpan.Zero ? ValidateOptionsResult.Fail("Engine:PollInterval must be positive.")
        : string.IsNullOrWhiteSpace(options.InstanceId) ? ValidateOptionsResult.Fail("Engine:InstanceId must not be empty.")
        : ValidateOptionsResult.Success;
}

/// <summary>
/// An engine worker (server role <c>engine</c>): claims ready tasks under a lease, runs each with its
/// handler under the task's timeout while heartbeating, and records the outcome. Several workers —
/// threads or processes on one PostgreSQL — share the work through the ledger's conditional claims.
/// </summary>
public sealed partial class EngineService(
    IServiceScopeFactory scopes,
    IEnumerable<ITaskHandler> handlers,
    IOptions<EngineOptions> options,
    TimeProvider time,
    ILogger<EngineService> logger) : BackgroundService
{
    private readonly Dictionary<string, ITaskHandler> _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);
    private readonly EngineOptions _options = options.Value;
    private int _running;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Starting(logger, _options.InstanceId, _options.MaxConcurrentTasks);
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await ClaimAndStartAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ClaimFailed(logger, ex);
            }

            if (claimed == 0)
            {
                try
                {
                    await Task.Delay(_options.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task<int> ClaimAndStartAsync(CancellationToken stoppingToken)
    {
        var free = _options.MaxConcurrentTasks - Volatile.Read(ref _running);
        if (free <= 0)
        {
            return 0;
        }

        IReadOnlyList<JobTask> tasks;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            tasks = await TaskLedger.ClaimAsync(db, _options.InstanceId, time.GetUtcNow(), _options.LeaseDuration, free, stoppingToken);
        }

        foreach (var task in tasks)
        {
            Interlocked.Increment(ref _running);
            _ = Task.Run(() => RunAsync(task, stoppingToken), CancellationToken.None);
        }

        return tasks.Count;
    }

    private async Task RunAsync(JobTask task, CancellationToken stoppingToken)
    {
        try
        {
            var outcome = await ExecuteWithHeartbeatAsync(task, stoppingToken);
            if (outcome is null)
            {
                return;
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            var now = time.GetUtcNow();
            var recorded = outcome.Succeeded
                ? await TaskLedger.CompleteAsync(db, task.Id, _options.InstanceId, outcome.Output, now, CancellationToken.None)
                : await TaskLedger.FailAsync(db, task.Id, _options.InstanceId, outcome.ErrorCode ?? "task.failed", outcome.ErrorMessage ?? "The task failed.", outcome.Output, outcome.Retryable, Random.Shared.NextDouble(), now, CancellationToken.None);
            if (!recorded)
            {
                Log.LeaseLost(logger, task.Id, task.Key);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RunFailed(logger, ex, task.Id);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>Runs the handler under the task's timeout, renewing the lease; null when the server is stopping (the lease then lapses and another worker resumes the task).</summary>
    private async Task<TaskOutcome?> ExecuteWithHeartbeatAsync(JobTask task, CancellationToken stoppingToken)
    {
        if (!_handlers.TryGetValue(task.Kind, out var handler))
        {
            return TaskOutcome.Failure("task.unknown_kind", $"No handler for task kind '{task.Kind}' is registered on engine {_options.InstanceId}.", retryable: false);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(task.TimeoutSeconds), time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken);
        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(task, run, heartbeatStop.Token);
        try
        {
            var context = new TaskContext(task.Id, task.JobId, task.Key, task.Kind, task.IdempotencyKey, task.Input, task.Attempts);
            return await handler.RunAsync(context, run.Token);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return TaskOutcome.Failure("task.timeout", $"Task '{task.Key}' did not finish within {task.TimeoutSeconds} s.", retryable: true);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TaskOutcome.Failure("task.crashed", $"{ex.GetType().Name}: {ex.Message}", retryable: true);
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }
    }

    private async Task HeartbeatAsync(JobTask task, CancellationTokenSource run, CancellationToken stop)
    {
        var interval = _options.LeaseDuration / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stop);
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
                if (!await TaskLedger.HeartbeatAsync(db, task.Id, _options.InstanceId, time.GetUtcNow(), _options.LeaseDuration, stop))
                {
                    // Taken over (or cancelled): stop working on it.
                    Log.LeaseLost(logger, task.Id, task.Key);
                    await run.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.HeartbeatFailed(logger, ex, task.Id);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Engine worker {InstanceId} started (at most {Max} tasks at once)")]
        public static partial void Starting(ILogger logger, string instanceId, int max);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming tasks failed; retrying after the poll interval")]
        public static partial void ClaimFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease of task {TaskId} ({Key}); its result is discarded")]
        public static partial void LeaseLost(ILogger logger, string taskId, string key);

        [LoggerMessage(Level = LogLevel.Error, Message = "Recording the outcome of task {TaskId} failed; its lease will lapse and it will run again")]
        public static partial void RunFailed(ILogger logger, Exception exception, string taskId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of task {TaskId} failed")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception, string taskId);
    }
}
