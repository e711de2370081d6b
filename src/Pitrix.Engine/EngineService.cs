using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
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

    /// <summary>Names this worker in leases; unique per process. Default: machine/process id/random suffix.</summary>
    public string InstanceId { get; set; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>
    /// How often an idle worker looks for ready tasks when nothing wakes it (tasks released in this
    /// process and, on PostgreSQL, NOTIFY from other processes wake it at once). Default: 00:00:00.500.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A task's lease; renewed every third of it while the task runs. Default: 00:00:30.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Tasks this process runs at once. Default: 20.</summary>
    public int MaxConcurrentTasks { get; set; } = 20;

    /// <summary>Tasks running at once across every engine process on the database; 0 for no limit. Default: 0.</summary>
    public int GlobalMaxRunningTasks { get; set; }

    /// <summary>Tasks running at once per runtime across every engine process; 0 for no limit. Default: 0.</summary>
    public int MaxTasksPerRuntime { get; set; }

    /// <summary>Per-runtime overrides of <see cref="MaxTasksPerRuntime"/> (<c>Engine:RuntimeLimits:{runtimeId}</c>; 0 for no limit). Default: none.</summary>
    public Dictionary<string, int> RuntimeLimits { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The claim limits these settings make.</summary>
    public ClaimLimits ClaimLimits => new(GlobalMaxRunningTasks, MaxTasksPerRuntime, RuntimeLimits);
}

public sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions options) =>
        options.MaxConcurrentTasks is < 1 or > 1000 ? ValidateOptionsResult.Fail("Engine:MaxConcurrentTasks must be 1 to 1000.")
        : options.LeaseDuration < TimeSpan.FromSeconds(1) ? ValidateOptionsResult.Fail("Engine:LeaseDuration must be at least 1 second.")
        : options.PollInterval <= TimeSpan.Zero ? ValidateOptionsResult.Fail("Engine:PollInterval must be positive.")
        : string.IsNullOrWhiteSpace(options.InstanceId) ? ValidateOptionsResult.Fail("Engine:InstanceId must not be empty.")
        : options.GlobalMaxRunningTasks < 0 ? ValidateOptionsResult.Fail("Engine:GlobalMaxRunningTasks must be 0 (no limit) or more.")
        : options.MaxTasksPerRuntime < 0 ? ValidateOptionsResult.Fail("Engine:MaxTasksPerRuntime must be 0 (no limit) or more.")
        : options.RuntimeLimits.FirstOrDefault(l => l.Value < 0) is { Key: not null } negative ? ValidateOptionsResult.Fail($"Engine:RuntimeLimits:{negative.Key} must be 0 (no limit) or more.")
        : ValidateOptionsResult.Success;
}

/// <summary>
/// An engine worker (server role <c>engine</c>): claims ready tasks under a lease, runs each with its
/// handler under the task's timeout while heartbeating, and records the outcome. Several workers —
/// threads or processes on one PostgreSQL — share the work through the ledger's conditional claims.
/// It claims again as soon as a task finishes or the <see cref="EngineSignal"/> says tasks became ready,
/// polling only as the fallback; a task cancelled in the ledger is noticed through the same signal (or at
/// the next heartbeat), its handler cancelled and its result discarded.
/// </summary>
public sealed partial class EngineService(
    IServiceScopeFactory scopes,
    IEnumerable<ITaskHandler> handlers,
    EngineSignal signal,
    IOptions<EngineOptions> options,
    TimeProvider time,
    ILogger<EngineService> logger) : BackgroundService
{
    private readonly Dictionary<string, ITaskHandler> _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);
    private readonly EngineOptions _options = options.Value;
    private readonly ClaimLimits _limits = options.Value.ClaimLimits;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _cancellable = new(StringComparer.Ordinal);
    private int _running;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Starting(logger, _options.InstanceId, _options.MaxConcurrentTasks);
        var watcher = WatchCancellationsAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                full = await ClaimAndStartAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ClaimFailed(logger, ex);
            }

            if (!full)
            {
                try
                {
                    await signal.WaitForWorkAsync(_options.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await watcher;
    }

    /// <summary>Claims what fits and starts it; true when as many tasks were claimed as asked for (there may be more).</summary>
    private async Task<bool> ClaimAndStartAsync(CancellationToken stoppingToken)
    {
        var free = _options.MaxConcurrentTasks - Volatile.Read(ref _running);
        if (free <= 0)
        {
            return false;
        }

        IReadOnlyList<JobTask> tasks;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            tasks = await TaskLedger.ClaimAsync(db, _options.InstanceId, time.GetUtcNow(), _options.LeaseDuration, free, _limits, stoppingToken);
        }

        foreach (var task in tasks)
        {
            Interlocked.Increment(ref _running);
            _ = Task.Run(() => RunAsync(task, stoppingToken), CancellationToken.None);
        }

        return tasks.Count == free;
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

            LedgerOutcome recorded;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
                var now = time.GetUtcNow();
                recorded = outcome.Succeeded
                    ? await TaskLedger.CompleteAsync(db, task.Id, _options.InstanceId, outcome.Output, now, CancellationToken.None)
                    : await TaskLedger.FailAsync(db, task.Id, _options.InstanceId, outcome.ErrorCode ?? "task.failed", outcome.ErrorMessage ?? "The task failed.", outcome.Output, outcome.Retryable, Random.Shared.NextDouble(), now, CancellationToken.None);
            }

            if (!recorded.Applied)
            {
                Log.LeaseLost(logger, task.Id, task.Key);
            }
            else if (recorded.JobFinished)
            {
                await NotifyJobFinishedAsync(recorded.JobId!, recorded.ClusterId!, stoppingToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RunFailed(logger, ex, task.Id);
        }
        finally
        {
            Interlocked.Decrement(ref _running);

            // A slot is free: look for work now rather than at the next poll.
            signal.TasksReady();
        }
    }

    private async Task NotifyJobFinishedAsync(string jobId, string clusterId, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        foreach (var observer in scope.ServiceProvider.GetServices<IJobFinishedObserver>())
        {
            try
            {
                await observer.OnJobFinishedAsync(jobId, clusterId, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                Log.ObserverFailed(logger, ex, observer.GetType().Name, jobId);
            }
        }
    }

    /// <summary>
    /// When the ledger signals cancellations (in this process, or by NOTIFY from another), looks up which of
    /// this worker's running tasks it no longer holds and cancels their handlers.
    /// </summary>
    private async Task WatchCancellationsAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await signal.WaitForCancellationsAsync(_options.LeaseDuration / 3, stoppingToken);
                var mine = _cancellable.Keys.ToList();
                if (mine.Count == 0)
                {
                    continue;
                }

                List<string> lost;
                await using (var scope = scopes.CreateAsyncScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
                    var held = await db.JobTasks.AsNoTracking()
                        .Where(t => mine.Contains(t.Id) && t.Status == JobTaskStatus.Running && t.LeaseOwner == _options.InstanceId)
                        .Select(t => t.Id).ToListAsync(stoppingToken);
                    lost = mine.Except(held, StringComparer.Ordinal).ToList();
                }

                foreach (var taskId in lost)
                {
                    if (_cancellable.TryGetValue(taskId, out var run))
                    {
                        Log.TaskCancelled(logger, taskId);
                        await run.CancelAsync();
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.CancellationCheckFailed(logger, ex);
            }
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
        using var lost = new CancellationTokenSource();
        using var run = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken, lost.Token);
        using var heartbeatStop = new CancellationTokenSource();
        _cancellable[task.Id] = lost;
        var heartbeat = HeartbeatAsync(task, lost, heartbeatStop.Token);
        try
        {
            var context = new TaskContext(task.Id, task.JobId, task.Key, task.Kind, task.IdempotencyKey, task.Input, task.Attempts, task.ClusterId, task.RuntimeId);
            var outcome = await handler.RunAsync(context, run.Token);

            // Cancelled (or taken over) while the handler finished anyway: the ledger would refuse the result.
            return lost.IsCancellationRequested ? null : outcome;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested || lost.IsCancellationRequested)
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
            _cancellable.TryRemove(task.Id, out _);
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }
    }

    private async Task HeartbeatAsync(JobTask task, CancellationTokenSource lost, CancellationToken stop)
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
                    await lost.CancelAsync();
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

        [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} was cancelled in the ledger; stopping its handler and discarding its result")]
        public static partial void TaskCancelled(ILogger logger, string taskId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Checking running tasks for cancellation failed")]
        public static partial void CancellationCheckFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Error, Message = "Job-finished observer {Observer} failed for job {JobId}; the owner's reconciliation will catch up")]
        public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, string jobId);
    }
}
