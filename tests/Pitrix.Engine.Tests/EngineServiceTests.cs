using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Core.Engine;
using Pitrix.Persistence;
using Xunit;

namespace Pitrix.Engine.Tests;

/// <summary>The engine worker end to end on a real database: DAG execution, retries, timeouts, unknown kinds.</summary>
public abstract class EngineServiceTests(LedgerDatabase database)
{
    private async Task<(ServiceProvider Services, IHostedService Engine)> StartEngineAsync(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Engine:PollInterval"] = "00:00:00.050",
            ["Engine:LeaseDuration"] = "00:00:03",
            ["Engine:InstanceId"] = "engine-test-" + Guid.NewGuid().ToString("N")[..6],
        };
        foreach (var setting in settings ?? [])
        {
            values[setting.Key] = setting.Value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddPitrixPersistence(new DatabaseOptions { Provider = database.Provider, ConnectionString = database.ConnectionString });
        services.AddEngine(configuration);
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        // Every hosted service of the engine: the worker and, on PostgreSQL, the NOTIFY listener.
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        return (provider, new HostedGroup(hosted));
    }

    private sealed class HostedGroup(List<IHostedService> services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            foreach (var service in services)
            {
                await service.StopAsync(cancellationToken);
            }
        }
    }

    /// <summary>Enqueues through a context from the engine's own services, as an API in the same process would.</summary>
    private static async Task<Job> EnqueueInProcessAsync(IServiceProvider services, TaskPlan plan, string? runtimeId = null)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        return (await TaskLedger.EnqueueAsync(db, "cl-" + Guid.NewGuid().ToString("N")[..12], plan, "tester", DateTimeOffset.UtcNow, CancellationToken.None, runtimeId)).Value!;
    }

    /// <summary>
    /// A task kind that sleeps 150 ms and records how many of its job's handlers ran at once. Measured in
    /// the handlers, not from attempt timestamps: a claim's timestamp is taken before it waits for the
    /// database, so stored intervals can seem to overlap when the runs did not.
    /// </summary>
    private sealed class ProbeHandler : ITaskHandler
    {
        private readonly Dictionary<string, (int Running, int Most)> _byJob = new(StringComparer.Ordinal);

        public string Kind => "probe";

        public int MostAtOnce(string jobId)
        {
            lock (_byJob)
            {
                return _byJob[jobId].Most;
            }
        }

        public async Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken)
        {
            lock (_byJob)
            {
                var (running, most) = _byJob.GetValueOrDefault(context.JobId);
                _byJob[context.JobId] = (running + 1, Math.Max(most, running + 1));
            }

            try
            {
                await Task.Delay(150, cancellationToken);
                return TaskOutcome.Success(context.RuntimeId);
            }
            finally
            {
                lock (_byJob)
                {
                    var (running, most) = _byJob[context.JobId];
                    _byJob[context.JobId] = (running - 1, most);
                }
            }
        }
    }

    private static TaskPlan Probes(int count) => new("bulk", Enumerable.Range(0, count).Select(i => new PlannedTask($"t{i}", "probe", [])).ToList());

    private static PlannedTask Sleep(string key, int milliseconds, params string[] dependsOn) => new(key, NoopTaskHandler.KindName, dependsOn, $$"""{"delay_ms":{{milliseconds}}}""");

    [Fact]
    public async Task Engine_WakesAtOnce_WhenATaskIsEnqueuedOrReleased_NotAtThePollInterval()
    {
        // A 30 s poll interval: only the in-process wake-up can run this five-task chain within seconds.
        var (services, engine) = await StartEngineAsync(new() { ["Engine:PollInterval"] = "00:00:30" });
        await using var _ = services;
        try
        {
            var job = await EnqueueInProcessAsync(services, new TaskPlan("chain", [Sleep("a", 0), Sleep("b", 0, "a"), Sleep("c", 0, "b"), Sleep("d", 0, "c"), Sleep("e", 0, "d")]));
            var done = await WaitAsync(job.Id, TimeSpan.FromSeconds(25));
            Assert.Equal(JobStatus.Succeeded, done.Status);

            // Every start well before the 30 s poll would have come (generous, for a loaded machine).
            await using var db = database.Open();
            var latencies = await db.JobTasks.AsNoTracking().Where(t => t.JobId == job.Id)
                .Join(db.JobTaskAttempts, t => t.Id, a => a.TaskId, (t, a) => new { t.ReadyAt, a.StartedAt }).ToListAsync();
            Assert.Equal(5, latencies.Count);
            Assert.All(latencies, l => Assert.True(l.StartedAt - l.ReadyAt!.Value < TimeSpan.FromSeconds(10), $"ready {l.ReadyAt:O}, started {l.StartedAt:O}"));
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Engine_CancelledJob_StopsItsRunningHandler_AndFreesTheSlotAtOnce()
    {
        // One slot and a 30 s lease (heartbeats every 10 s): only the cancellation signal frees the slot quickly.
        var (services, engine) = await StartEngineAsync(new() { ["Engine:MaxConcurrentTasks"] = "1", ["Engine:LeaseDuration"] = "00:00:30" });
        await using var _ = services;
        try
        {
            var slow = await EnqueueInProcessAsync(services, new TaskPlan("create", [Sleep("forever", 60_000)]));
            await using (var db = database.Open())
            {
                for (var i = 0; i < 200 && !await db.JobTasks.AnyAsync(t => t.JobId == slow.Id && t.Status == JobTaskStatus.Running); i++)
                {
                    await Task.Delay(25);
                }
            }

            await using (var scope = services.CreateAsyncScope())
            {
                var cancelled = await TaskLedger.CancelJobAsync(scope.ServiceProvider.GetRequiredService<PitrixDbContext>(), slow.Id, DateTimeOffset.UtcNow, CancellationToken.None);
                Assert.True(cancelled.Value!.JobFinished);
            }

            var next = await EnqueueInProcessAsync(services, new TaskPlan("create", [Sleep("quick", 0)]));
            Assert.Equal(JobStatus.Succeeded, (await WaitAsync(next.Id, TimeSpan.FromSeconds(5))).Status);
            await using var check = database.Open();
            Assert.Equal(JobTaskStatus.Cancelled, (await check.JobTasks.AsNoTracking().SingleAsync(t => t.JobId == slow.Id)).Status);
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Engine_TellsJobFinishedObservers_EvenAfterOneThrows()
    {
        var recorder = new RecordingObserver();
        var (services, engine) = await StartEngineAsync(configure: s => s.AddSingleton<IJobFinishedObserver, ThrowingObserver>().AddSingleton<IJobFinishedObserver>(recorder));
        await using var _ = services;
        try
        {
            var job = await EnqueueInProcessAsync(services, new TaskPlan("create", [Sleep("a", 0), Sleep("b", 0, "a")]));
            await WaitAsync(job.Id);
            var seen = await recorder.Finished.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal((job.Id, job.ClusterId), seen);
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    private sealed class ThrowingObserver : IJobFinishedObserver
    {
        public Task OnJobFinishedAsync(string jobId, string clusterId, CancellationToken cancellationToken) => throw new InvalidOperationException("observer broken");
    }

    private sealed class RecordingObserver : IJobFinishedObserver
    {
        public TaskCompletionSource<(string, string)> Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task OnJobFinishedAsync(string jobId, string clusterId, CancellationToken cancellationToken)
        {
            Finished.TrySetResult((jobId, clusterId));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Signal_WakesEventReaders_WhenEventsAreSavedInThisProcess()
    {
        var (services, engine) = await StartEngineAsync();
        await using var _ = services;
        try
        {
            var signal = services.GetRequiredService<IEngineSignal>();
            // The engine itself may save events meanwhile, which wake readers too: wait until a reader is asleep.
            var latest = services.GetRequiredService<EngineSignal>().LatestSeq;
            var waiting = signal.WaitAsync(long.MaxValue - 1, TimeSpan.FromSeconds(30), CancellationToken.None);
            for (var tries = 0; waiting.IsCompleted && tries < 50; tries++)
            {
                await Task.Delay(20);
                latest = services.GetRequiredService<EngineSignal>().LatestSeq;
                waiting = signal.WaitAsync(long.MaxValue - 1, TimeSpan.FromSeconds(30), CancellationToken.None);
            }

            Assert.False(waiting.IsCompleted);
            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
                EngineEvents.Append(db, "cl-signal", null, null, "cluster.updated", new { NodeCount = 3 }, DateTimeOffset.UtcNow);
                await db.SaveChangesAsync();
            }

            await waiting.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(services.GetRequiredService<EngineSignal>().LatestSeq > latest);
            await using var check = database.Open();
            Assert.Equal("""{"node_count":3}""", (await check.Events.AsNoTracking().SingleAsync(e => e.ClusterId == "cl-signal")).Data);
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Engine_RunsAtMostMaxConcurrentTasks()
    {
        var probe = new ProbeHandler();
        var (services, engine) = await StartEngineAsync(new() { ["Engine:MaxConcurrentTasks"] = "2" }, s => s.AddSingleton<ITaskHandler>(probe));
        await using var _ = services;
        try
        {
            var job = await EnqueueInProcessAsync(services, Probes(6));
            await WaitAsync(job.Id);
            Assert.Equal(2, probe.MostAtOnce(job.Id));
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Engine_RuntimeLimitsFromConfiguration_HoldBackOnlyThatRuntime()
    {
        var probe = new ProbeHandler();
        var (services, engine) = await StartEngineAsync(new() { ["Engine:MaxTasksPerRuntime"] = "3", ["Engine:RuntimeLimits:rt-narrow"] = "1", ["Engine:GlobalMaxRunningTasks"] = "50" }, s => s.AddSingleton<ITaskHandler>(probe));
        await using var _ = services;
        try
        {
            var narrow = await EnqueueInProcessAsync(services, Probes(4), runtimeId: "rt-narrow");
            var wide = await EnqueueInProcessAsync(services, Probes(6), runtimeId: "rt-wide");
            await WaitAsync(narrow.Id);
            await WaitAsync(wide.Id);
            Assert.Equal(1, probe.MostAtOnce(narrow.Id));
            Assert.Equal(3, probe.MostAtOnce(wide.Id));

            // The handler saw the job's runtime in its context.
            await using var db = database.Open();
            Assert.All(await db.JobTasks.AsNoTracking().Where(t => t.JobId == narrow.Id).Select(t => t.Output).ToListAsync(), o => Assert.Equal("rt-narrow", o));
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    private async Task<Job> WaitAsync(string jobId, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            await using var db = database.Open();
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
            if (JobStatus.IsFinal(job.Status) && job.FinishedAt is not null)
            {
                return job;
            }

            await Task.Delay(50);
        }

        await using var final = database.Open();
        var states = await final.JobTasks.AsNoTracking().Where(t => t.JobId == jobId)
            .Select(t => t.Key + "=" + t.Status + "/" + t.Attempts + "/" + t.PendingDependencies + "/" + (t.ErrorCode ?? "-")).ToListAsync();
        throw new TimeoutException($"Job {jobId} did not finish in {(within ?? TimeSpan.FromSeconds(15)).TotalSeconds} s: {string.Join(", ", states)}");
    }

    private async Task<Job> EnqueueAsync(TaskPlan plan)
    {
        await using var db = database.Open();
        var result = await TaskLedger.EnqueueAsync(db, "cl-" + Guid.NewGuid().ToString("N")[..12], plan, "tester", DateTimeOffset.UtcNow, CancellationToken.None);
        return result.Value!;
    }

    [Fact]
    public async Task Engine_RunsADagToTheEnd_RetryingAFlakyTask()
    {
        var (services, engine) = await StartEngineAsync();
        await using var _ = services;
        try
        {
            var flaky = new PlannedTask("configure", NoopTaskHandler.KindName, ["create-a", "create-b"], """{"fail_attempts":1,"code":"driver.busy"}""", new RetryPolicy(3, 20, 100));
            var job = await EnqueueAsync(new TaskPlan("create",
            [
                new PlannedTask("create-a", NoopTaskHandler.KindName, [], """{"delay_ms":50}"""),
                new PlannedTask("create-b", NoopTaskHandler.KindName, [], """{"delay_ms":50}"""),
                flaky,
                new PlannedTask("start", NoopTaskHandler.KindName, ["configure"]),
            ]));
            var done = await WaitAsync(job.Id);
            Assert.Equal(JobStatus.Succeeded, done.Status);

            await using var db = database.Open();
            var tasks = await db.JobTasks.AsNoTracking().Where(t => t.JobId == job.Id).ToDictionaryAsync(t => t.Key);
            Assert.All(tasks.Values, t => Assert.Equal(JobTaskStatus.Succeeded, t.Status));
            Assert.Equal(2, tasks["configure"].Attempts);
            Assert.Equal("configure done on attempt 2", tasks["configure"].Output);
            // Order from the event log (its sequence follows commits; wall-clock stamps are taken before a worker
            // waits for the database, so on a loaded machine they can cross).
            var events = await db.Events.AsNoTracking().Where(e => e.JobId == job.Id).ToListAsync();
            long Seq(string type, string key) => events.Where(e => e.Type == type && e.TaskId == tasks[key].Id).Max(e => e.Seq);
            Assert.True(Seq(EngineEventTypes.TaskStarted, "configure") > Seq(EngineEventTypes.TaskSucceeded, "create-a"));
            Assert.True(Seq(EngineEventTypes.TaskStarted, "configure") > Seq(EngineEventTypes.TaskSucceeded, "create-b"));
            Assert.True(Seq(EngineEventTypes.TaskStarted, "start") > Seq(EngineEventTypes.TaskSucceeded, "configure"));
            var attempts = await db.JobTaskAttempts.AsNoTracking().Where(a => a.TaskId == tasks["configure"].Id).OrderBy(a => a.Number).ToListAsync();
            Assert.Equal("driver.busy", attempts[0].ErrorCode);
            Assert.Equal("succeeded", attempts[1].Outcome);
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Engine_TimeoutAndUnknownKind_FailTheirJobsWithCodes()
    {
        var (services, engine) = await StartEngineAsync();
        await using var _ = services;
        try
        {
            var slow = await EnqueueAsync(new TaskPlan("stop", [new PlannedTask("slow", NoopTaskHandler.KindName, [], """{"delay_ms":10000}""", TimeoutSeconds: 1)]));
            var unknown = await EnqueueAsync(new TaskPlan("stop", [new PlannedTask("mystery", "teleport", [])]));
            var timedOut = await WaitAsync(slow.Id);
            Assert.Equal(JobStatus.Failed, timedOut.Status);
            Assert.Equal("task.timeout", timedOut.ErrorCode);
            var refused = await WaitAsync(unknown.Id);
            Assert.Equal("task.unknown_kind", refused.ErrorCode);
            Assert.Contains("teleport", refused.ErrorMessage, StringComparison.Ordinal);
        }
        finally
        {
            await engine.StopAsync(CancellationToken.None);
        }
    }
}

public sealed class SqliteEngineServiceTests(SqliteLedgerDatabase database) : EngineServiceTests(database), IClassFixture<SqliteLedgerDatabase>;

public sealed class PostgresEngineServiceTests(PostgresLedgerDatabase database) : EngineServiceTests(database), IClassFixture<PostgresLedgerDatabase>;
