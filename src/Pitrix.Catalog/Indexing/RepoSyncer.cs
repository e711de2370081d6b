using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Catalog.Apps;
using Pitrix.Catalog.Fetching;
using Pitrix.Catalog.Repos;
using Pitrix.Core.Catalog;
using Pitrix.Core.Security;
using Pitrix.Packages;
using Pitrix.Packages.Repos;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Indexing;

/// <summary>What <see cref="RepoSyncer.RunAsync"/> did with a sync.</summary>
public enum SyncRunOutcome
{
    /// <summary>The sync ran to an end state (succeeded, partially succeeded or failed: see the record).</summary>
    Completed,

    /// <summary>Another run holds the repo's lease; the sync stays queued for later.</summary>
    LeaseHeld,

    /// <summary>The sync is not queued (another run claimed it, or it already finished).</summary>
    NotQueued,

    /// <summary>The server is stopping; the sync was put back in the queue to run again.</summary>
    Requeued,

    NotFound,
}

/// <summary>The closed result of one <see cref="RepoSyncer.RunAsync"/> call, with the sync record as it ended.</summary>
public sealed record SyncRunResult(SyncRunOutcome Outcome, RepoSync? Sync);

/// <summary>
/// Runs one repo sync: takes the repo's lease, fetches the index (conditional GET; an unchanged index is
/// not parsed), merges it into apps and versions in one transaction, then reads the packages whose
/// details are pending, and records the outcome on the sync and the repo.
/// </summary>
public sealed partial class RepoSyncer(
    IServiceScopeFactory scopes,
    RepoSource source,
    PackageStore packages,
    ISecretProtector protector,
    IOptions<IndexerOptions> options,
    TimeProvider timeProvider,
    ILogger<RepoSyncer> logger)
{
    public string InstanceId => options.Value.InstanceId;

    public async Task<SyncRunResult> RunAsync(string syncId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var sync = await db.RepoSyncs.AsNoTracking().SingleOrDefaultAsync(s => s.Id == syncId, cancellationToken);
        if (sync is null)
        {
            return new SyncRunResult(SyncRunOutcome.NotFound, null);
        }

        if (sync.Status != SyncStatus.Queued)
        {
            return new SyncRunResult(SyncRunOutcome.NotQueued, sync);
        }

        var owner = RepoLease.Owner(settings.InstanceId, syncId);
        var startedAt = timeProvider.GetUtcNow();
        if (!await RepoLease.TryAcquireAsync(db, sync.RepoId, owner, startedAt, settings.LeaseDuration, cancellationToken))
        {
            Log.LeaseHeld(logger, syncId, sync.RepoId);
            return new SyncRunResult(SyncRunOutcome.LeaseHeld, sync);
        }

        try
        {
            var worker = settings.InstanceId;
            var claimed = await db.RepoSyncs.Where(s => s.Id == syncId && s.Status == SyncStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, SyncStatus.Running).SetProperty(x => x.Worker, worker).SetProperty(x => x.StartedAt, startedAt), CancellationToken.None);
            if (claimed == 0)
            {
                return new SyncRunResult(SyncRunOutcome.NotQueued, await db.RepoSyncs.AsNoTracking().SingleOrDefaultAsync(s => s.Id == syncId, CancellationToken.None));
            }

            Log.Started(logger, syncId, sync.RepoId, sync.Trigger);
            var report = new SyncReport();
            var stopwatch = Stopwatch.StartNew();
            var requeue = false;
            using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var stopHeartbeat = new CancellationTokenSource();
            var leaseLost = new StrongBox<bool>();
            var heartbeat = HeartbeatAsync(sync.RepoId, owner, work, leaseLost, stopHeartbeat.Token);
            try
            {
                await SyncAsync(db, sync.RepoId, report, work.Token);
            }
            catch (FetchException ex)
            {
                report.Fail(ex.Code, ex.Message);
            }
            catch (PackageException ex) when (ex.Code.StartsWith("index.", StringComparison.Ordinal))
            {
                report.Fail(ex.Code, ex.Message);
            }
            catch (OperationCanceledException) when (leaseLost.Value && !cancellationToken.IsCancellationRequested)
            {
                report.Fail("sync.lease_lost", "The repo's sync lease lapsed and another instance took it; this run stopped.");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                requeue = true;
            }
#pragma warning disable CA1031 // One sync's unexpected failure must be recorded on it, not bring down the indexer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.Crashed(logger, ex, syncId, sync.RepoId);
                report.Fail("sync.internal", "The sync failed unexpectedly; the server log has the details.");
            }
            finally
            {
                await stopHeartbeat.CancelAsync();
                await heartbeat;
            }

            var finished = await FinishAsync(syncId, report, requeue);
            if (finished is not null)
            {
                Log.Finished(logger, syncId, sync.RepoId, finished.Status, stopwatch.ElapsedMilliseconds, report.Unchanged, report.Added, report.Updated, report.Removed, report.Failed, report.ErrorCode);
            }

            return new SyncRunResult(requeue ? SyncRunOutcome.Requeued : SyncRunOutcome.Completed, finished);
        }
        finally
        {
            await using var releaseScope = scopes.CreateAsyncScope();
            await RepoLease.ReleaseAsync(releaseScope.ServiceProvider.GetRequiredService<PitrixDbContext>(), sync.RepoId, owner, CancellationToken.None);
        }
    }

    private async Task SyncAsync(PitrixDbContext db, string repoId, SyncReport report, CancellationToken cancellationToken)
    {
        var repo = await db.Repos.SingleAsync(r => r.Id == repoId, cancellationToken);
        if (repo.Url is null || repo.Type == RepoType.Upload)
        {
            report.Fail("sync.not_syncable", "Upload repos have no index to sync; their versions arrive by upload.");
            return;
        }

        var credentials = RepoCredential.ForFetch(protector, repo);
        IndexFetch? fetched = await source.FetchIndexAsync(repo.Url, credentials, repo.IndexETag, repo.IndexLastModified, cancellationToken);
        if (fetched.NotModified || string.Equals(fetched.Sha256, repo.IndexDigest, StringComparison.Ordinal))
        {
            report.Unchanged = true;
            if (!fetched.NotModified && (fetched.ETag != repo.IndexETag || fetched.LastModified != repo.IndexLastModified))
            {
                repo.IndexETag = Clip(fetched.ETag, 512);
                repo.IndexLastModified = fetched.LastModified;
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        else
        {
            var (sha256, etag, lastModified) = (fetched.Sha256, Clip(fetched.ETag, 512), fetched.LastModified);
            RepoIndex? index = RepoIndex.Parse(fetched.Body);

            // The index bytes (up to 32 MiB) are not needed once parsed: let them go before the repo's rows are loaded.
            fetched = null;
            var plan = await PlanAsync(db, repo, index, report, cancellationToken);

            // Nor is the parsed index (tens of MiB for a big repo) once merged: let it go before the writes.
            index = null;
            await ApplyPlanAsync(db, repo, plan, sha256, etag, lastModified, cancellationToken);
        }

        await FetchDetailsAsync(db, repo, credentials, report, cancellationToken);
    }

    /// <summary>The metadata phase, in memory: one load of the repo's apps and versions, the merge.</summary>
    private async Task<MergePlan> PlanAsync(PitrixDbContext db, Repo repo, RepoIndex index, SyncReport report, CancellationToken cancellationToken)
    {
        var apps = await db.Apps.AsNoTracking().Where(a => a.RepoId == repo.Id).ToListAsync(cancellationToken);
        var versions = await db.AppVersions.AsNoTracking().Where(v => v.RepoId == repo.Id).ToListAsync(cancellationToken);
        return IndexMerge.Apply(repo, index, apps, versions, report, timeProvider.GetUtcNow());
    }

    /// <summary>
    /// The metadata phase's writes: one transaction, saved in chunks with the change tracker cleared
    /// between them so a first sync of a large repo does not hold every row's snapshot at once.
    /// </summary>
    private static async Task ApplyPlanAsync(PitrixDbContext db, Repo repo, MergePlan plan, string sha256, string? etag, DateTimeOffset? lastModified, CancellationToken cancellationToken)
    {
        // Chunks of 2,000 rows raised the first sync's peak heap on PostgreSQL by ~60 MiB (EF's commands and
        // Npgsql's buffers for a whole chunk) and saved no time over 500.
        const int chunk = 500;
        db.ChangeTracker.Clear();
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var apps in plan.NewApps.Chunk(chunk))
            {
                db.Apps.AddRange(apps);
                await SaveChunkAsync(db, cancellationToken);
            }

            foreach (var apps in plan.ChangedApps.Chunk(chunk))
            {
                db.Apps.UpdateRange(apps);
                await SaveChunkAsync(db, cancellationToken);
            }

            foreach (var versions in plan.NewVersions.Chunk(chunk))
            {
                db.AppVersions.AddRange(versions);
                await SaveChunkAsync(db, cancellationToken);
            }

            foreach (var versions in plan.ChangedVersions.Chunk(chunk))
            {
                db.AppVersions.UpdateRange(versions);
                await SaveChunkAsync(db, cancellationToken);
            }

            await db.Repos.Where(r => r.Id == repo.Id).ExecuteUpdateAsync(
                s => s.SetProperty(r => r.IndexDigest, sha256).SetProperty(r => r.IndexETag, etag).SetProperty(r => r.IndexLastModified, lastModified),
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = true;
        }

        repo.IndexDigest = sha256;
        repo.IndexETag = etag;
        repo.IndexLastModified = lastModified;
        db.Attach(repo);
    }

    private static async Task SaveChunkAsync(PitrixDbContext db, CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    /// <summary>
    /// The details phase, after the metadata phase committed: reads the packages the fetch policy asks
    /// for, a few at a time, and writes what they hold one by one on this context.
    /// </summary>
    private async Task FetchDetailsAsync(PitrixDbContext db, Repo repo, FetchCredentials? credentials, SyncReport report, CancellationToken cancellationToken)
    {
        var pending = await db.AppVersions.AsNoTracking()
            .Where(v => v.RepoId == repo.Id && v.DetailsStatus == DetailsStatus.Pending && v.Status != AppVersionStatus.Removed && v.Status != AppVersionStatus.Deleted)
            .Select(v => v.Id)
            .ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return;
        }

        var wanted = repo.FetchPackages switch
        {
            PackageFetchPolicy.All => pending.ToHashSet(StringComparer.Ordinal),
            PackageFetchPolicy.Latest => (await db.AppVersions.AsNoTracking()
                    .Where(v => v.RepoId == repo.Id && v.Status != AppVersionStatus.Removed && v.Status != AppVersionStatus.Deleted)
                    .Select(v => new { v.Id, v.AppId, v.SortKey })
                    .ToListAsync(cancellationToken))
                .GroupBy(v => v.AppId)
                .Select(g => g.MaxBy(v => v.SortKey, StringComparer.Ordinal)!.Id)
                .ToHashSet(StringComparer.Ordinal),
            _ => new HashSet<string>(StringComparer.Ordinal),
        };
        var now = timeProvider.GetUtcNow();
        foreach (var ids in pending.Where(id => !wanted.Contains(id)).Chunk(1000))
        {
            await db.AppVersions.Where(v => ids.Contains(v.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.DetailsStatus, DetailsStatus.Skipped).SetProperty(v => v.UpdatedAt, now), cancellationToken);
        }

        var targets = new List<AppVersion>();
        foreach (var ids in pending.Where(wanted.Contains).Chunk(1000))
        {
            targets.AddRange(await db.AppVersions.Where(v => ids.Contains(v.Id)).ToListAsync(cancellationToken));
        }

        if (targets.Count == 0)
        {
            return;
        }

        var appNames = await db.Apps.AsNoTracking().Where(a => a.RepoId == repo.Id).Select(a => new { a.Id, a.Name })
            .ToDictionaryAsync(a => a.Id, a => a.Name, StringComparer.Ordinal, cancellationToken);
        var details = new PackageDetails(packages, repo, credentials, options.Value.PackageFetchConcurrency);
        await foreach (var outcome in details.ReadAsync(targets, cancellationToken))
        {
            var version = outcome.Version;
            if (outcome.Archive is not null)
            {
                report.PackagesFetched++;
            }

            if (outcome.ErrorCode is not null)
            {
                version.DetailsStatus = DetailsStatus.Failed;
                version.DetailsError = Clip($"{outcome.ErrorCode}: {outcome.ErrorMessage}", 1000);
                report.AddError(appNames.GetValueOrDefault(version.AppId, ""), version.Version, outcome.ErrorCode, outcome.ErrorMessage ?? "");
                Log.PackageFailed(logger, repo.Id, version.Version, outcome.ErrorCode);
            }
            else
            {
                await PackageDetails.StoreAsync(db, version, outcome.Archive!, outcome.Contents!, cancellationToken);
            }

            version.UpdatedAt = timeProvider.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }

        // Derived app fields (icon, readme, maintainers) follow the versions just read.
        var touched = targets.Select(v => v.AppId).ToHashSet(StringComparer.Ordinal);
        var apps = await db.Apps.Where(a => touched.Contains(a.Id)).ToListAsync(cancellationToken);
        var versionsByApp = (await db.AppVersions.Where(v => touched.Contains(v.AppId)).ToListAsync(cancellationToken)).ToLookup(v => v.AppId, StringComparer.Ordinal);
        foreach (var app in apps)
        {
            AppCatalog.Apply(app, versionsByApp[app.Id].ToList(), timeProvider.GetUtcNow());
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task HeartbeatAsync(string repoId, string owner, CancellationTokenSource work, StrongBox<bool> leaseLost, CancellationToken stop)
    {
        var settings = options.Value;
        var every = settings.LeaseDuration / 3;
        while (true)
        {
            try
            {
                await Task.Delay(every, timeProvider, stop);
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
                if (!await RepoLease.ExtendAsync(db, repoId, owner, timeProvider.GetUtcNow(), settings.LeaseDuration, stop))
                {
                    leaseLost.Value = true;
                    Log.LeaseLost(logger, repoId, owner);
                    await work.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed heartbeat is retried at the next beat; the lease outlives two misses.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.HeartbeatFailed(logger, ex, repoId);
            }
        }
    }

    /// <summary>Writes the outcome on a fresh context (the sync's own may hold a failed unit of work).</summary>
    private async Task<RepoSync?> FinishAsync(string syncId, SyncReport report, bool requeue)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        var sync = await db.RepoSyncs.SingleOrDefaultAsync(s => s.Id == syncId, CancellationToken.None);
        if (sync is null || sync.Status != SyncStatus.Running || sync.Worker != InstanceId)
        {
            // Marked abandoned by another instance meanwhile: its verdict stands.
            return sync;
        }

        if (requeue)
        {
            sync.Status = SyncStatus.Queued;
            sync.Worker = null;
            sync.StartedAt = null;
            await db.SaveChangesAsync(CancellationToken.None);
            return sync;
        }

        var now = timeProvider.GetUtcNow();
        sync.Status = report.Status;
        sync.FinishedAt = now;
        sync.Unchanged = report.Unchanged;
        sync.Added = report.Added;
        sync.Updated = report.Updated;
        sync.Removed = report.Removed;
        sync.Failed = report.Failed;
        sync.PackagesFetched = report.PackagesFetched;
        sync.ErrorCode = report.ErrorCode;
        sync.ErrorMessage = report.ErrorMessage;
        sync.Errors = report.Errors.ToList();
        if (await db.Repos.SingleOrDefaultAsync(r => r.Id == sync.RepoId, CancellationToken.None) is { } repo)
        {
            repo.LastSyncId = sync.Id;
            repo.LastSyncStatus = sync.Status;
            repo.LastSyncAt = now;
            repo.LastSyncError = report.ErrorCode is null ? null : $"{report.ErrorCode}: {report.ErrorMessage}";
            repo.NextSyncAt = repo.SyncIntervalSeconds > 0 ? now.AddSeconds(repo.SyncIntervalSeconds) : null;
        }

        await db.SaveChangesAsync(CancellationToken.None);
        if (report.Added + report.Updated + report.Removed >= AnalyzeThreshold)
        {
            // A large change leaves the planner with stale statistics (right after a first sync PostgreSQL
            // estimated 4 apps instead of 1,800 and chose full scans for search); refresh them now.
            await db.Database.ExecuteSqlRawAsync(db is SqlitePitrixDbContext ? "PRAGMA optimize;" : "ANALYZE apps, app_versions;", CancellationToken.None);
        }

        return sync;
    }

    /// <summary>Rows changed by a sync from which table statistics are refreshed.</summary>
    public const int AnalyzeThreshold = 200;

    private static string? Clip(string? text, int max) => text is null ? null : SyncReport.Clip(text, max);
}
