using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Pitrix.Core;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine;

public static partial class TaskLedger
{
    /// <summary>Claimable: ready with its backoff passed, or running under a lapsed lease (its worker is gone).</summary>
    private const string ClaimablePostgres = """
        (("Status" = 'ready' AND ("NotBefore" IS NULL OR "NotBefore" <= @now)) OR ("Status" = 'running' AND "LeaseExpiresAt" < @now))
        """;

    /// <summary>
    /// One statement claims on PostgreSQL: lock the oldest claimable rows others have not locked, lease
    /// them, close a lapsed attempt as lease_lost, start an attempt, start pending jobs, and log
    /// job.started / task.started. Rows another claimer changed first fail the re-check under the lock.
    /// </summary>
    private const string ClaimPostgresHead = """
        WITH picked AS (
            SELECT "Id" FROM job_tasks
            WHERE
        """;

    private const string ClaimPostgresTail = """

            ORDER BY "CreatedAt"
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE job_tasks AS t
            SET "Status" = 'running', "LeaseOwner" = @owner, "LeaseExpiresAt" = @expires, "Attempts" = t."Attempts" + 1, "StartedAt" = @now
            FROM picked
            WHERE t."Id" = picked."Id"
            RETURNING t.*
        ), numbered AS (
            SELECT c."Id", c."JobId", c."ClusterId", c."Key", c."Kind", c."Attempts", row_number() OVER (ORDER BY c."CreatedAt") AS n
            FROM claimed AS c
        ), lost AS (
            UPDATE job_task_attempts AS a SET "Outcome" = 'lease_lost', "FinishedAt" = @now
            FROM claimed AS c
            WHERE a."TaskId" = c."Id" AND a."Outcome" = 'running'
        ), attempts AS (
            INSERT INTO job_task_attempts ("Id", "TaskId", "Number", "Worker", "StartedAt", "Outcome")
            SELECT (@attempt_ids)[n.n], n."Id", n."Attempts", @owner, @now, 'running' FROM numbered AS n
        ), started AS (
            UPDATE jobs AS j SET "Status" = 'running', "StartedAt" = @now
            WHERE j."Id" IN (SELECT "JobId" FROM claimed) AND j."Status" = 'pending'
            RETURNING j."Id", j."ClusterId"
        ), logged AS (
            INSERT INTO events ("ClusterId", "JobId", "TaskId", "Type", "Data", "At")
            SELECT e."ClusterId", e."JobId", e."TaskId", e."Type", e."Data", @now
            FROM (
                SELECT 0 AS o, 0::bigint AS n, s."ClusterId", s."Id" AS "JobId", NULL::text AS "TaskId", 'job.started' AS "Type", json_build_object()::text AS "Data"
                FROM started AS s
                UNION ALL
                SELECT 1, n.n, n."ClusterId", n."JobId", n."Id", 'task.started', json_build_object('key', n."Key", 'kind', n."Kind", 'attempt', n."Attempts")::text
                FROM numbered AS n
            ) AS e
            ORDER BY e.o, e.n
        )
        SELECT * FROM claimed
        """;

    private const string ClaimOldestPostgres = ClaimPostgresHead + ClaimablePostgres + ClaimPostgresTail;

    private const string ClaimChosenPostgres = ClaimPostgresHead + ClaimablePostgres + """ AND "Id" = ANY(@chosen)""" + ClaimPostgresTail;

    /// <summary>Serializes limited claims across processes (PostgreSQL transaction-level advisory lock).</summary>
    private const long LimitedClaimLock = 0x5049_5452_4958_0001;

    /// <summary>
    /// Claims up to <paramref name="limit"/> tasks for <paramref name="owner"/>: ready ones whose backoff
    /// has passed, and running ones whose lease expired (their worker is gone), oldest first. Each claim
    /// starts an attempt.
    /// </summary>
    public static Task<IReadOnlyList<JobTask>> ClaimAsync(PitrixDbContext db, string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        ClaimAsync(db, owner, now, lease, limit, ClaimLimits.None, cancellationToken);

    /// <summary>
    /// Claims as <see cref="ClaimAsync(PitrixDbContext, string, DateTimeOffset, TimeSpan, int, CancellationToken)"/>
    /// does, without exceeding <paramref name="limits"/>: tasks running (under an unexpired lease) in every
    /// process are counted, and claimers that apply limits take turns so two cannot both fill the last slot.
    /// </summary>
    public static async Task<IReadOnlyList<JobTask>> ClaimAsync(PitrixDbContext db, string owner, DateTimeOffset now, TimeSpan lease, int limit, ClaimLimits limits, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        if (limit <= 0)
        {
            return [];
        }

        var postgres = db.Database.IsNpgsql();
        if (limits.IsUnlimited && postgres)
        {
            return await ClaimPostgresAsync(db, ClaimOldestPostgres, owner, now, lease, limit, chosen: null, cancellationToken);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!limits.IsUnlimited && postgres)
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LimitedClaimLock})", cancellationToken);
        }

        IReadOnlyList<string>? chosen = null;
        if (!limits.IsUnlimited)
        {
            chosen = await ChooseWithinLimitsAsync(db, now, limit, limits, cancellationToken);
            if (chosen.Count == 0)
            {
                return [];
            }
        }

        IReadOnlyList<JobTask> claimed;
        if (postgres)
        {
            claimed = await ClaimPostgresAsync(db, ClaimChosenPostgres, owner, now, lease, limit, chosen, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return claimed;
        }

        claimed = await ClaimSqliteAsync(db, owner, now, lease, limit, chosen, cancellationToken);
        await CommitAsync(db, transaction, cancellationToken);
        return claimed;
    }

    private static async Task<IReadOnlyList<JobTask>> ClaimPostgresAsync(PitrixDbContext db, string sql, string owner, DateTimeOffset now, TimeSpan lease, int limit, IReadOnlyList<string>? chosen, CancellationToken cancellationToken)
    {
        var attemptIds = new string[limit];
        for (var i = 0; i < attemptIds.Length; i++)
        {
            attemptIds[i] = Id.New(IdPrefix.JobTaskAttempt);
        }

        var parameters = new List<NpgsqlParameter>
        {
            new("now", NpgsqlDbType.TimestampTz) { Value = now },
            new("expires", NpgsqlDbType.TimestampTz) { Value = now + lease },
            new("owner", NpgsqlDbType.Text) { Value = owner },
            new("limit", NpgsqlDbType.Integer) { Value = limit },
            new("attempt_ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attemptIds },
        };
        if (chosen is not null)
        {
            parameters.Add(new NpgsqlParameter("chosen", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = chosen.ToArray() });
        }

        var claimed = await db.JobTasks.FromSqlRaw(sql, [.. parameters]).AsNoTracking().ToListAsync(cancellationToken);
        return [.. claimed.OrderBy(t => t.CreatedAt)];
    }

    /// <summary>
    /// The claimable tasks that fit the limits, oldest first: the running count (unexpired leases, every
    /// process) is taken in total and per runtime; runtimes at their limit are left out of the search.
    /// </summary>
    private static async Task<IReadOnlyList<string>> ChooseWithinLimitsAsync(PitrixDbContext db, DateTimeOffset now, int limit, ClaimLimits limits, CancellationToken cancellationToken)
    {
        var running = await db.JobTasks.AsNoTracking()
            .Where(t => t.Status == JobTaskStatus.Running && t.LeaseExpiresAt >= now)
            .GroupBy(t => t.RuntimeId)
            .Select(g => new { RuntimeId = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var free = limit;
        if (limits.GlobalMaxRunning > 0)
        {
            free = Math.Min(free, limits.GlobalMaxRunning - running.Sum(r => r.Count));
        }

        if (free <= 0)
        {
            return [];
        }

        var runningByRuntime = running.Where(r => r.RuntimeId is not null).ToDictionary(r => r.RuntimeId!, r => r.Count, StringComparer.Ordinal);
        var full = runningByRuntime.Where(r => limits.For(r.Key) > 0 && r.Value >= limits.For(r.Key)).Select(r => r.Key).ToList();
        var candidates = await Claimable(db, now)
            .Where(t => t.RuntimeId == null || !full.Contains(t.RuntimeId))
            .OrderBy(t => t.CreatedAt)
            .Select(t => new { t.Id, t.RuntimeId })
            .Take(free * 4)
            .ToListAsync(cancellationToken);
        var chosen = new List<string>(free);
        foreach (var candidate in candidates)
        {
            if (chosen.Count == free)
            {
                break;
            }

            if (candidate.RuntimeId is { } runtimeId && limits.For(runtimeId) is > 0 and var runtimeLimit)
            {
                var count = runningByRuntime.GetValueOrDefault(runtimeId);
                if (count >= runtimeLimit)
                {
                    continue;
                }

                runningByRuntime[runtimeId] = count + 1;
            }

            chosen.Add(candidate.Id);
        }

        return chosen;
    }

    private static IQueryable<JobTask> Claimable(PitrixDbContext db, DateTimeOffset now) =>
        db.JobTasks.AsNoTracking().Where(t => (t.Status == JobTaskStatus.Ready && (t.NotBefore == null || t.NotBefore <= now))
            || (t.Status == JobTaskStatus.Running && t.LeaseExpiresAt < now));

    /// <summary>
    /// SQLite (one process, inside an immediate transaction): a conditional update per candidate, kept so
    /// the claim stays safe even if another connection wrote between the read and the update.
    /// </summary>
    private static async Task<IReadOnlyList<JobTask>> ClaimSqliteAsync(PitrixDbContext db, string owner, DateTimeOffset now, TimeSpan lease, int limit, IReadOnlyList<string>? chosen, CancellationToken cancellationToken)
    {
        var query = Claimable(db, now);
        if (chosen is not null)
        {
            query = query.Where(t => chosen.Contains(t.Id));
        }

        var candidates = await query.OrderBy(t => t.CreatedAt).Select(t => new { t.Id, t.Status, t.Attempts }).Take(limit * 2).ToListAsync(cancellationToken);
        var claimed = new List<JobTask>();
        var expires = now + lease;
        foreach (var candidate in candidates)
        {
            if (claimed.Count == limit)
            {
                break;
            }

            // The row must still be exactly as seen: same status and attempt count (a takeover of an
            // expired lease also re-checks the expiry), so a concurrent claimer wins at most once.
            var won = await db.JobTasks
                .Where(t => t.Id == candidate.Id && t.Status == candidate.Status && t.Attempts == candidate.Attempts
                    && (t.Status == JobTaskStatus.Ready || t.LeaseExpiresAt < now))
                .ExecuteUpdateAsync(
                    u => u.SetProperty(t => t.Status, JobTaskStatus.Running)
                        .SetProperty(t => t.LeaseOwner, owner)
                        .SetProperty(t => t.LeaseExpiresAt, expires)
                        .SetProperty(t => t.Attempts, t => t.Attempts + 1)
                        .SetProperty(t => t.StartedAt, now),
                    cancellationToken);
            if (won == 0)
            {
                continue;
            }

            var task = await db.JobTasks.AsNoTracking().SingleAsync(t => t.Id == candidate.Id, cancellationToken);
            if (candidate.Status == JobTaskStatus.Running)
            {
                await db.JobTaskAttempts.Where(a => a.TaskId == task.Id && a.Outcome == "running")
                    .ExecuteUpdateAsync(u => u.SetProperty(a => a.Outcome, "lease_lost").SetProperty(a => a.FinishedAt, now), cancellationToken);
            }

            db.JobTaskAttempts.Add(new JobTaskAttempt { Id = Id.New(IdPrefix.JobTaskAttempt), TaskId = task.Id, Number = task.Attempts, Worker = owner, StartedAt = now, Outcome = "running" });
            var started = await db.Jobs.Where(j => j.Id == task.JobId && j.Status == JobStatus.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.StartedAt, now), cancellationToken);
            if (started == 1)
            {
                EngineEvents.Append(db, task.ClusterId, task.JobId, null, EngineEventTypes.JobStarted, new { }, now);
            }

            EngineEvents.Append(db, task.ClusterId, task.JobId, task.Id, EngineEventTypes.TaskStarted, new { task.Key, task.Kind, Attempt = task.Attempts }, now);
            claimed.Add(task);
        }

        return claimed;
    }
}
