using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Engine;
using Pitrix.Persistence;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Engine.Tests;

/// <summary>A migrated database for the ledger tests: a SQLite file or a fresh PostgreSQL database.</summary>
public abstract class LedgerDatabase : IAsyncLifetime
{
    private TestDatabase? _database;

    public abstract string Kind { get; }

    public string Provider => (_database ?? throw new InvalidOperationException("Not started.")).Provider;

    public string ConnectionString => (_database ?? throw new InvalidOperationException("Not started.")).ConnectionString;

    private string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("pitrix-engine-").FullName;

    public PitrixDbContext Open()
    {
        var database = _database ?? throw new InvalidOperationException("Not started.");
        return database.Provider == "postgres"
            ? new PostgresPitrixDbContext(new DbContextOptionsBuilder<PostgresPitrixDbContext>().UseNpgsql(database.ConnectionString).Options)
            : new SqlitePitrixDbContext(new DbContextOptionsBuilder<SqlitePitrixDbContext>().UseSqlite(database.ConnectionString + ";Default Timeout=30").Options);
    }

    public async Task InitializeAsync()
    {
        _database = Kind == "postgres" ? await TestDatabase.PostgresAsync() : TestDatabase.Sqlite(Directory);
        await using var db = Open();
        await db.Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

public sealed class SqliteLedgerDatabase : LedgerDatabase
{
    public override string Kind => "sqlite";
}

public sealed class PostgresLedgerDatabase : LedgerDatabase
{
    public override string Kind => "postgres";
}

/// <summary>The task ledger: DAG release, parallelism, retries with backoff, failure with compensation, lease takeover, concurrent claimers.</summary>
public abstract class TaskLedgerTests(LedgerDatabase database)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static PlannedTask T(string key, params string[] dependsOn) => new(key, "noop", dependsOn);

    /// <summary>Each test works on its own cluster id, and only claims tasks of its own jobs.</summary>
    private static string Cluster() => "cl-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<IReadOnlyList<JobTask>> ClaimOwnAsync(PitrixDbContext db, string jobId, string owner, DateTimeOffset now, int limit = 50)
    {
        // Other tests' tasks share the table: claim, keep ours, hand the rest back by completing nothing
        // (their leases are short-lived test leases on other jobs, so tests use disjoint clocks instead).
        var claimed = await TaskLedger.ClaimAsync(db, owner, now, Lease, limit, CancellationToken.None);
        return claimed.Where(t => t.JobId == jobId).ToList();
    }

    [Fact]
    public async Task Diamond_ReleasesDependentsInOrder_RunsSiblingsInParallel_AndSucceeds()
    {
        await using var db = database.Open();
        var now = T0.AddDays(1);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), new TaskPlan("create", [T("d", "b", "c"), T("b", "a"), T("c", "a"), T("a")]), "tester", now, CancellationToken.None)).Value!;

        var first = await ClaimOwnAsync(db, job.Id, "w1", now);
        Assert.Equal(["a"], first.Select(t => t.Key));
        Assert.Empty(await ClaimOwnAsync(db, job.Id, "w1", now));
        Assert.True((await TaskLedger.CompleteAsync(db, first[0].Id, "w1", "ok", now, CancellationToken.None)).Applied);

        var second = await ClaimOwnAsync(db, job.Id, "w2", now);
        Assert.Equal(["b", "c"], second.Select(t => t.Key).Order());
        Assert.True((await TaskLedger.CompleteAsync(db, second[0].Id, "w2", null, now, CancellationToken.None)).Applied);
        Assert.Empty(await ClaimOwnAsync(db, job.Id, "w2", now));
        Assert.True((await TaskLedger.CompleteAsync(db, second[1].Id, "w2", null, now, CancellationToken.None)).Applied);

        var last = await ClaimOwnAsync(db, job.Id, "w1", now);
        Assert.Equal(["d"], last.Select(t => t.Key));
        Assert.Equal(JobStatus.Running, (await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id)).Status);
        Assert.True((await TaskLedger.CompleteAsync(db, last[0].Id, "w1", null, now, CancellationToken.None)).Applied);
        var done = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id);
        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal($"{job.Id}/a", first[0].IdempotencyKey);
    }

    [Fact]
    public async Task RetryableFailure_WaitsForBackoff_ThenRetries_KeepingEveryAttempt()
    {
        await using var db = database.Open();
        var now = T0.AddDays(2);
        var plan = new TaskPlan("create", [new PlannedTask("flaky", "noop", [], Retry: new RetryPolicy(3, 1000, 60_000))]);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), plan, null, now, CancellationToken.None)).Value!;

        var task = Assert.Single(await ClaimOwnAsync(db, job.Id, "w", now));
        Assert.True((await TaskLedger.FailAsync(db, task.Id, "w", "driver.unavailable", "503", "tail", retryable: true, jitter: 1.0, now, CancellationToken.None)).Applied);
        Assert.Empty(await ClaimOwnAsync(db, job.Id, "w", now.AddMilliseconds(999)));
        var retried = Assert.Single(await ClaimOwnAsync(db, job.Id, "w", now.AddMilliseconds(1000)));
        Assert.Equal(2, retried.Attempts);
        Assert.True((await TaskLedger.FailAsync(db, task.Id, "w", "driver.unavailable", "503", null, retryable: true, jitter: 1.0, now.AddSeconds(1), CancellationToken.None)).Applied);
        Assert.Empty(await ClaimOwnAsync(db, job.Id, "w", now.AddMilliseconds(2999)));
        Assert.Single(await ClaimOwnAsync(db, job.Id, "w", now.AddMilliseconds(3000)));
        Assert.True((await TaskLedger.CompleteAsync(db, task.Id, "w", "ok", now.AddSeconds(4), CancellationToken.None)).Applied);

        var attempts = await db.JobTaskAttempts.AsNoTracking().Where(a => a.TaskId == task.Id).OrderBy(a => a.Number).ToListAsync();
        Assert.Equal(["failed", "failed", "succeeded"], attempts.Select(a => a.Outcome));
        Assert.Equal("tail", attempts[0].Output);
        Assert.Equal(JobStatus.Succeeded, (await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id)).Status);
    }

    [Fact]
    public async Task FinalFailure_FailsTheJob_SkipsTheRest_AndRunsCompensation()
    {
        await using var db = database.Open();
        var now = T0.AddDays(3);
        var plan = new TaskPlan("create",
        [
            T("instances"),
            T("volumes"),
            T("configure", "instances", "volumes"),
            T("start", "configure"),
            new PlannedTask("remove-instances", "noop", ["instances"], Compensation: true),
        ]);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), plan, null, now, CancellationToken.None)).Value!;
        var ready = await ClaimOwnAsync(db, job.Id, "w", now);
        Assert.Equal(["instances", "volumes"], ready.Select(t => t.Key).Order());
        await TaskLedger.CompleteAsync(db, ready.Single(t => t.Key == "instances").Id, "w", null, now, CancellationToken.None);
        Assert.True((await TaskLedger.FailAsync(db, ready.Single(t => t.Key == "volumes").Id, "w", "quota.exceeded", "no quota", null, retryable: false, jitter: 0.5, now, CancellationToken.None)).Applied);

        var failed = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("quota.exceeded", failed.ErrorCode);
        Assert.Contains("volumes", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Null(failed.FinishedAt);
        var tasks = await db.JobTasks.AsNoTracking().Where(t => t.JobId == job.Id).ToDictionaryAsync(t => t.Key, t => t.Status);
        Assert.Equal(JobTaskStatus.Skipped, tasks["configure"]);
        Assert.Equal(JobTaskStatus.Skipped, tasks["start"]);
        Assert.Equal(JobTaskStatus.Ready, tasks["remove-instances"]);

        var cleanup = Assert.Single(await ClaimOwnAsync(db, job.Id, "w", now));
        Assert.Equal("remove-instances", cleanup.Key);
        await TaskLedger.CompleteAsync(db, cleanup.Id, "w", null, now, CancellationToken.None);
        var finished = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id);
        Assert.Equal(JobStatus.Failed, finished.Status);
        Assert.NotNull(finished.FinishedAt);
    }

    [Fact]
    public async Task ExpiredLease_IsTakenOver_AndTheOldOwnerCannotComplete()
    {
        await using var db = database.Open();
        var now = T0.AddDays(4);
        var job = (await TaskLedger.EnqueueAsync(db, Cluster(), new TaskPlan("stop", [T("only")]), null, now, CancellationToken.None)).Value!;
        var held = Assert.Single(await ClaimOwnAsync(db, job.Id, "dead-worker", now));
        Assert.Empty(await ClaimOwnAsync(db, job.Id, "other", now + Lease - TimeSpan.FromSeconds(1)));
        Assert.True(await TaskLedger.HeartbeatAsync(db, held.Id, "dead-worker", now + TimeSpan.FromSeconds(10), Lease, CancellationToken.None));
        Assert.Empty(await ClaimOwnAsync(db, job.Id, "other", now + Lease + TimeSpan.FromSeconds(1)));

        var later = now + TimeSpan.FromSeconds(10) + Lease + TimeSpan.FromSeconds(1);
        var taken = Assert.Single(await ClaimOwnAsync(db, job.Id, "other", later));
        Assert.Equal(2, taken.Attempts);
        Assert.False((await TaskLedger.CompleteAsync(db, held.Id, "dead-worker", null, later, CancellationToken.None)).Applied);
        Assert.False(await TaskLedger.HeartbeatAsync(db, held.Id, "dead-worker", later, Lease, CancellationToken.None));
        Assert.True((await TaskLedger.CompleteAsync(db, held.Id, "other", null, later, CancellationToken.None)).Applied);
        var attempts = await db.JobTaskAttempts.AsNoTracking().Where(a => a.TaskId == held.Id).OrderBy(a => a.Number).Select(a => a.Outcome).ToListAsync();
        Assert.Equal(["lease_lost", "succeeded"], attempts);
    }

    [Fact]
    public async Task ConcurrentClaimers_NeverGetTheSameTask()
    {
        var now = T0.AddDays(5);
        string jobId;
        await using (var db = database.Open())
        {
            var plan = new TaskPlan("bulk", Enumerable.Range(0, 60).Select(i => T($"t{i:D2}")).ToList());
            jobId = (await TaskLedger.EnqueueAsync(db, Cluster(), plan, null, now, CancellationToken.None)).Value!.Id;
        }

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<List<string>> WorkerAsync(string owner)
        {
            await using var db = database.Open();
            await start.Task;
            var mine = new List<string>();
            while (true)
            {
                var claimed = await ClaimOwnAsync(db, jobId, owner, now, limit: 1);
                if (claimed.Count == 0 && !await db.JobTasks.AnyAsync(t => t.JobId == jobId && t.Status == JobTaskStatus.Ready))
                {
                    return mine;
                }

                mine.AddRange(claimed.Select(t => t.Id));
                await Task.Delay(5);
            }
        }

        var workers = new[] { WorkerAsync("w1"), WorkerAsync("w2"), WorkerAsync("w3") };
        start.SetResult();
        var results = await Task.WhenAll(workers);
        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(60, all.Count);
        Assert.Equal(60, all.Distinct().Count());
        Assert.True(results.Count(r => r.Count > 0) >= 2, "Only one worker got tasks; the race was not exercised.");
    }

    [Fact]
    public async Task Enqueue_CyclicPlan_IsRefused_AndStoresNothing()
    {
        await using var db = database.Open();
        var cluster = Cluster();
        var result = await TaskLedger.EnqueueAsync(db, cluster, new TaskPlan("x", [T("a", "b"), T("b", "a")]), null, T0, CancellationToken.None);
        Assert.Equal("plan.invalid", result.Error!.Code);
        Assert.False(await db.Jobs.AnyAsync(j => j.ClusterId == cluster));
    }
}

public sealed class SqliteTaskLedgerTests(SqliteLedgerDatabase database) : TaskLedgerTests(database), IClassFixture<SqliteLedgerDatabase>;

public sealed class PostgresTaskLedgerTests(PostgresLedgerDatabase database) : TaskLedgerTests(database), IClassFixture<PostgresLedgerDatabase>;
