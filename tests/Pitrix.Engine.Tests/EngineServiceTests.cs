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
    private async Task<(ServiceProvider Services, IHostedService Engine)> StartEngineAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Engine:PollInterval"] = "00:00:00.050",
            ["Engine:LeaseDuration"] = "00:00:03",
            ["Engine:InstanceId"] = "engine-test-" + Guid.NewGuid().ToString("N")[..6],
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddPitrixPersistence(new DatabaseOptions { Provider = database.Provider, ConnectionString = database.ConnectionString });
        services.AddEngine(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var engine = provider.GetServices<IHostedService>().OfType<EngineService>().Single();
        await engine.StartAsync(CancellationToken.None);
        return (provider, engine);
    }

    private async Task<Job> WaitAsync(string jobId)
    {
        for (var i = 0; i < 300; i++)
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
        throw new TimeoutException($"Job {jobId} did not finish in 15 s: {string.Join(", ", states)}");
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
            // PostgreSQL keeps microseconds, so allow for rounding when comparing one task's end with the next one's start.
            var slack = TimeSpan.FromMilliseconds(1);
            Assert.True(tasks["configure"].StartedAt + slack >= tasks["create-a"].FinishedAt && tasks["configure"].StartedAt + slack >= tasks["create-b"].FinishedAt);
            Assert.True(tasks["start"].StartedAt + slack >= tasks["configure"].FinishedAt);
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
