using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Engine;
using Pitrix.Persistence;
using Xunit;

namespace Pitrix.Engine.Tests;

/// <summary>The ledger's event log, ReadyAt, and cancel and retry of jobs.</summary>
public abstract class EngineControlTests(LedgerDatabase database)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = new(2027, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static PlannedTask T(string key, params string[] dependsOn) => new(key, "noop", dependsOn);

    private static string Cluster() => "cl-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<JobTask> ClaimOneAsync(PitrixDbContext db, string jobId, string key, DateTimeOffset now, string owner = "w")
    {
        var claimed = await TaskLedger.ClaimAsync(db, owner, now, Lease, 50, CancellationToken.None);
        return Assert.Single(claimed, t => t.JobId == jobId && t.Key == key);
    }

    private static async Task<Dictionary<string, JobTask>> TasksAsync(PitrixDbContext db, string jobId) =>
        await db.JobTasks.AsNoTracking().Where(t => t.JobId == jobId).ToDictionaryAsync(t => t.Key);

    [Fact]
    public async Task Events_RecordEveryChange_WithSnakeCaseData_AndReadyAtFollowsReadiness()
    {
        await using var db = database.Open();
        var now = T0.AddDays(1);
        var cluster = Cluster();
        var plan = new TaskPlan("create",
        [
            T("a"),
            new PlannedTask("b", "noop", ["a"], Retry: new RetryPolicy(2, 1000, 1000)),
            new PlannedTask("undo-a", "noop", ["a"], Compensation: true),
        ]);
        var job = (await TaskLedger.EnqueueAsync(db, cluster, plan, null, now, CancellationToken.None, runtimeId: "rt-events")).Value!;
        Assert.Equal("rt-events", job.RuntimeId);
        Assert.Equal(now, (await TasksAsync(db, job.Id))["a"].ReadyAt);

        var a = await ClaimOneAsync(db, job.Id, "a", now);
        Assert.Equal(cluster, a.ClusterId);
        Assert.Equal("rt-events", a.RuntimeId);
        var done = now.AddSeconds(1);
        Assert.True((await TaskLedger.CompleteAsync(db, a.Id, "w", new string('x', 600) + "END", done, CancellationToken.None)).Applied);
        Assert.Equal(done, (await TasksAsync(db, job.Id))["b"].ReadyAt);

        var b = await ClaimOneAsync(db, job.Id, "b", done);
        var failed = done.AddSeconds(1);
        await TaskLedger.FailAsync(db, b.Id, "w", "driver.busy", "busy", null, retryable: true, jitter: 1.0, failed, CancellationToken.None);
        Assert.Equal(failed.AddSeconds(1), (await TasksAsync(db, job.Id))["b"].ReadyAt);
        await ClaimOneAsync(db, job.Id, "b", failed.AddSeconds(1));
        var outcome = await TaskLedger.FailAsync(db, b.Id, "w", "quota.exceeded", "no quota", null, retryable: false, jitter: 0, failed.AddSeconds(2), CancellationToken.None);
        Assert.False(outcome.JobFinished);
        var undo = await ClaimOneAsync(db, job.Id, "undo-a", failed.AddSeconds(2));
        outcome = await TaskLedger.CompleteAsync(db, undo.Id, "w", null, failed.AddSeconds(3), CancellationToken.None);
        Assert.True(outcome.JobFinished);
        Assert.Equal((job.Id, cluster, JobStatus.Failed), (outcome.JobId, outcome.ClusterId, outcome.JobStatus));

        var events = await db.Events.AsNoTracking().Where(e => e.ClusterId == cluster).OrderBy(e => e.Seq).ToListAsync();
        Assert.Equal(
            ["job.created", "job.started", "task.started", "task.succeeded", "task.started", "task.retrying", "task.started", "task.failed", "job.failed", "task.started", "task.succeeded", "job.finished"],
            events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(job.Id, e.JobId));
        JsonElement Data(int i) => JsonDocument.Parse(events[i].Data).RootElement;
        Assert.Equal("create", Data(0).GetProperty("action").GetString());
        Assert.Equal(3, Data(0).GetProperty("task_count").GetInt32());
        Assert.Equal("noop", Data(2).GetProperty("kind").GetString());
        Assert.Equal(1, Data(2).GetProperty("attempt").GetInt32());
        var tail = Data(3).GetProperty("output").GetString()!;
        Assert.Equal(500, tail.Length);
        Assert.EndsWith("END", tail, StringComparison.Ordinal);
        Assert.Equal(a.Id, events[3].TaskId);
        Assert.Equal("driver.busy", Data(5).GetProperty("code").GetString());
        Assert.Equal(1, Data(5).GetProperty("attempt").GetInt32());
        Assert.Equal(failed.AddSeconds(1), Data(5).GetProperty("not_before").GetDateTimeOffset());
        Assert.Equal("b", Data(8).GetProperty("task_key").GetString());
        Assert.Equal("quota.exceeded", Data(8).GetProperty("code").GetString());
        Assert.Equal("failed", Data(11).GetProperty("status").GetString());
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Seq < p.Second.Seq));
    }

    [Fact]
    public async Task CancelJob_CancelsWaitingAndRunningTasks_RunsCompensation_ThenFinishes()
    {
        await using var db = database.Open();
        var now = T0.AddDays(2);
        var plan = new TaskPlan("create", [T("a"), T("b", "a"), T("c", "b"), new PlannedTask("undo-a", "noop", ["a"], Compensation: true)]);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), plan, null, now, CancellationToken.None)).Value!;
        var a = await ClaimOneAsync(db, job.Id, "a", now);
        await TaskLedger.CompleteAsync(db, a.Id, "w", null, now, CancellationToken.None);
        var b = await ClaimOneAsync(db, job.Id, "b", now);

        var cancelled = await TaskLedger.CancelJobAsync(db, job.Id, now.AddSeconds(1), CancellationToken.None);
        Assert.True(cancelled.Value!.Applied);
        Assert.False(cancelled.Value.JobFinished);
        var tasks = await TasksAsync(db, job.Id);
        Assert.Equal(JobTaskStatus.Succeeded, tasks["a"].Status);
        Assert.Equal(JobTaskStatus.Cancelled, tasks["b"].Status);
        Assert.Equal(JobTaskStatus.Cancelled, tasks["c"].Status);
        Assert.Equal(JobTaskStatus.Ready, tasks["undo-a"].Status);
        Assert.False(await TaskLedger.HeartbeatAsync(db, b.Id, "w", now.AddSeconds(2), Lease, CancellationToken.None));
        Assert.False((await TaskLedger.CompleteAsync(db, b.Id, "w", "late", now.AddSeconds(2), CancellationToken.None)).Applied);
        Assert.Equal("cancelled", (await db.JobTaskAttempts.AsNoTracking().SingleAsync(a => a.TaskId == b.Id)).Outcome);

        var undo = await ClaimOneAsync(db, job.Id, "undo-a", now.AddSeconds(2));
        Assert.True((await TaskLedger.CompleteAsync(db, undo.Id, "w", null, now.AddSeconds(3), CancellationToken.None)).JobFinished);
        var finished = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id);
        Assert.Equal(JobStatus.Cancelled, finished.Status);
        Assert.Equal(now.AddSeconds(3), finished.FinishedAt);

        Assert.False((await TaskLedger.CancelJobAsync(db, job.Id, now.AddSeconds(4), CancellationToken.None)).Value!.Applied);
        Assert.Equal("job.not_found", (await TaskLedger.CancelJobAsync(db, "job-missing", now, CancellationToken.None)).Error!.Code);
        var types = await db.Events.AsNoTracking().Where(e => e.JobId == job.Id).OrderBy(e => e.Seq).Select(e => e.Type).ToListAsync();
        Assert.Equal(["job.cancelled", "task.cancelled", "task.cancelled"], types.SkipWhile(t => t != "job.cancelled").Take(3));
    }

    [Fact]
    public async Task CancelJob_BeforeAnythingRan_FinishesAtOnce_WithoutCompensation()
    {
        await using var db = database.Open();
        var now = T0.AddDays(3);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), new TaskPlan("create", [T("a"), new PlannedTask("undo-a", "noop", ["a"], Compensation: true)]), null, now, CancellationToken.None)).Value!;
        var cancelled = (await TaskLedger.CancelJobAsync(db, job.Id, now, CancellationToken.None)).Value!;
        Assert.True(cancelled.JobFinished);
        var tasks = await TasksAsync(db, job.Id);
        Assert.Equal(JobTaskStatus.Cancelled, tasks["a"].Status);
        Assert.Equal(JobTaskStatus.Skipped, tasks["undo-a"].Status);
        Assert.DoesNotContain(await TaskLedger.ClaimAsync(db, "w", now, Lease, 50, CancellationToken.None), t => t.JobId == job.Id);
    }

    [Fact]
    public async Task RetryJob_AfterFailure_ResumesAtTheFailedTask_WithAFreshBudget_KeepingHistory()
    {
        await using var db = database.Open();
        var now = T0.AddDays(4);
        var plan = new TaskPlan("create", [T("a"), new PlannedTask("b", "noop", ["a"], Retry: new RetryPolicy(2, 1, 1)), T("c", "b")]);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), plan, null, now, CancellationToken.None)).Value!;
        Assert.Equal("job.not_retryable", (await TaskLedger.RetryJobAsync(db, job.Id, now, CancellationToken.None)).Error!.Code);
        var a = await ClaimOneAsync(db, job.Id, "a", now);
        await TaskLedger.CompleteAsync(db, a.Id, "w", "a-out", now, CancellationToken.None);
        var b = await ClaimOneAsync(db, job.Id, "b", now);
        await TaskLedger.FailAsync(db, b.Id, "w", "x.y", "first", null, retryable: true, jitter: 0, now, CancellationToken.None);
        await ClaimOneAsync(db, job.Id, "b", now.AddSeconds(1));
        Assert.True((await TaskLedger.FailAsync(db, b.Id, "w", "x.y", "second", null, retryable: true, jitter: 0, now.AddSeconds(1), CancellationToken.None)).JobFinished);

        var retried = await TaskLedger.RetryJobAsync(db, job.Id, now.AddSeconds(2), CancellationToken.None);
        Assert.Equal(JobStatus.Pending, retried.Value!.Status);
        var tasks = await TasksAsync(db, job.Id);
        Assert.Equal((JobTaskStatus.Succeeded, "a-out"), (tasks["a"].Status, tasks["a"].Output));
        Assert.Equal((JobTaskStatus.Ready, 2, 4), (tasks["b"].Status, tasks["b"].Attempts, tasks["b"].MaxAttempts));
        Assert.Equal((JobTaskStatus.Pending, 1), (tasks["c"].Status, tasks["c"].PendingDependencies));
        Assert.Equal(now.AddSeconds(2), tasks["b"].ReadyAt);

        var third = await ClaimOneAsync(db, job.Id, "b", now.AddSeconds(2));
        Assert.Equal(3, third.Attempts);
        await TaskLedger.CompleteAsync(db, b.Id, "w", null, now.AddSeconds(3), CancellationToken.None);
        var c = await ClaimOneAsync(db, job.Id, "c", now.AddSeconds(3));
        Assert.True((await TaskLedger.CompleteAsync(db, c.Id, "w", null, now.AddSeconds(4), CancellationToken.None)).JobFinished);
        var final = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id);
        Assert.Equal((JobStatus.Succeeded, (string?)null), (final.Status, final.ErrorCode));
        Assert.Equal(["failed", "failed", "succeeded"], await db.JobTaskAttempts.AsNoTracking().Where(x => x.TaskId == b.Id).OrderBy(x => x.Number).Select(x => x.Outcome).ToListAsync());
        Assert.Contains("job.retried", await db.Events.AsNoTracking().Where(e => e.JobId == job.Id).Select(e => e.Type).ToListAsync());
    }

    [Fact]
    public async Task RetryJob_AfterACompensationRan_RunsTheWholeDagAgain()
    {
        await using var db = database.Open();
        var now = T0.AddDays(5);
        var plan = new TaskPlan("create", [T("a"), T("b", "a"), new PlannedTask("undo-a", "noop", ["a"], Compensation: true)]);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), plan, null, now, CancellationToken.None)).Value!;
        var a = await ClaimOneAsync(db, job.Id, "a", now);
        await TaskLedger.CompleteAsync(db, a.Id, "w", null, now, CancellationToken.None);
        var b = await ClaimOneAsync(db, job.Id, "b", now);
        await TaskLedger.FailAsync(db, b.Id, "w", "x.y", "broken", null, retryable: false, jitter: 0, now, CancellationToken.None);
        var undo = await ClaimOneAsync(db, job.Id, "undo-a", now);
        await TaskLedger.CompleteAsync(db, undo.Id, "w", null, now, CancellationToken.None);

        Assert.True((await TaskLedger.RetryJobAsync(db, job.Id, now.AddSeconds(1), CancellationToken.None)).IsSuccess);
        var tasks = await TasksAsync(db, job.Id);
        Assert.Equal(JobTaskStatus.Ready, tasks["a"].Status);
        Assert.Equal((JobTaskStatus.Pending, 1), (tasks["b"].Status, tasks["b"].PendingDependencies));
        Assert.Equal((JobTaskStatus.Pending, 1), (tasks["undo-a"].Status, tasks["undo-a"].PendingDependencies));
        Assert.Equal(2, tasks["b"].MaxAttempts);
        await TaskLedger.CancelJobAsync(db, job.Id, now.AddSeconds(1), CancellationToken.None);
    }
}

public sealed class SqliteEngineControlTests(SqliteLedgerDatabase database) : EngineControlTests(database), IClassFixture<SqliteLedgerDatabase>;

public sealed class PostgresEngineControlTests(PostgresLedgerDatabase database) : EngineControlTests(database), IClassFixture<PostgresLedgerDatabase>;

/// <summary>Claim limits, on a database of their own so no other test's running task counts toward them.</summary>
public abstract class ClaimLimitTests(LedgerDatabase database)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = new(2027, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private static PlannedTask T(string key) => new(key, "noop", []);

    private static string Cluster() => "cl-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task GlobalLimit_CountsTasksRunningInEveryWorker()
    {
        await using var db = database.Open();
        var now = T0.AddDays(6);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), new TaskPlan("bulk", [T("t1"), T("t2"), T("t3"), T("t4"), T("t5")]), null, now, CancellationToken.None)).Value!;
        var limits = new ClaimLimits(GlobalMaxRunning: 3);
        try
        {
            Assert.Equal(2, (await TaskLedger.ClaimAsync(db, "w1", now, Lease, 2, limits, CancellationToken.None)).Count);
            var second = await TaskLedger.ClaimAsync(db, "w2", now, Lease, 10, limits, CancellationToken.None);
            Assert.Single(second);
            Assert.Empty(await TaskLedger.ClaimAsync(db, "w3", now, Lease, 10, limits, CancellationToken.None));
            await TaskLedger.CompleteAsync(db, second[0].Id, "w2", null, now, CancellationToken.None);
            Assert.Single(await TaskLedger.ClaimAsync(db, "w3", now, Lease, 10, limits, CancellationToken.None));

            // A lapsed lease no longer counts: its task is taken over within the limit.
            Assert.Equal(3, (await TaskLedger.ClaimAsync(db, "w4", now + Lease + TimeSpan.FromSeconds(1), Lease, 10, limits, CancellationToken.None)).Count);
        }
        finally
        {
            await TaskLedger.CancelJobAsync(db, job.Id, now, CancellationToken.None);
        }
    }

    [Fact]
    public async Task RuntimeLimit_AppliesPerRuntime_WithOverrides()
    {
        await using var db = database.Open();
        var now = T0.AddDays(7);
        var four = new TaskPlan("bulk", [T("t1"), T("t2"), T("t3"), T("t4")]);
        var onA = (await TaskLedger.EnqueueAsync(db, Cluster(), four, null, now, CancellationToken.None, runtimeId: "rt-a")).Value!;
        var onB = (await TaskLedger.EnqueueAsync(db, Cluster(), four, null, now, CancellationToken.None, runtimeId: "rt-b")).Value!;
        var anywhere = (await TaskLedger.EnqueueAsync(db, Cluster(), four, null, now, CancellationToken.None)).Value!;
        var limits = new ClaimLimits(PerRuntime: 2, RuntimeOverrides: new Dictionary<string, int> { ["rt-b"] = 1 });
        try
        {
            var claimed = await TaskLedger.ClaimAsync(db, "w1", now, Lease, 20, limits, CancellationToken.None);
            Assert.Equal(2, claimed.Count(t => t.JobId == onA.Id));
            Assert.Equal(1, claimed.Count(t => t.JobId == onB.Id));
            Assert.Equal(4, claimed.Count(t => t.JobId == anywhere.Id));
            Assert.Empty(await TaskLedger.ClaimAsync(db, "w2", now, Lease, 20, limits, CancellationToken.None));
            await TaskLedger.CompleteAsync(db, claimed.First(t => t.JobId == onB.Id).Id, "w1", null, now, CancellationToken.None);
            var next = Assert.Single(await TaskLedger.ClaimAsync(db, "w2", now, Lease, 20, limits, CancellationToken.None));
            Assert.Equal(onB.Id, next.JobId);
        }
        finally
        {
            foreach (var job in new[] { onA, onB, anywhere })
            {
                await TaskLedger.CancelJobAsync(db, job.Id, now, CancellationToken.None);
            }
        }
    }
}

public sealed class SqliteClaimLimitTests(SqliteLedgerDatabase database) : ClaimLimitTests(database), IClassFixture<SqliteLedgerDatabase>;

public sealed class PostgresClaimLimitTests(PostgresLedgerDatabase database) : ClaimLimitTests(database), IClassFixture<PostgresLedgerDatabase>;
