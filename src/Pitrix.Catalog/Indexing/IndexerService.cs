using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Core.Catalog;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Indexing;

/// <summary>
/// The indexer role: queues scheduled syncs, runs queued ones (oldest first, at most
/// <see cref="IndexerOptions.MaxConcurrentSyncs"/> at once, one per repo), and fails syncs whose runner
/// died (its repo lease lapsed). Several instances may run on one PostgreSQL: syncs are claimed and repos
/// leased with conditional UPDATEs. Wakes on <see cref="IndexerSignal"/> or every poll interval.
/// </summary>
public sealed partial class IndexerService(
    IServiceScopeFactory scopes,
    RepoSyncer syncer,
    RepoSyncRequests requests,
    IndexerSignal signal,
    IOptions<IndexerOptions> options,
    TimeProvider timeProvider,
    ILogger<IndexerService> logger) : BackgroundService
{
    public const string AbandonedCode = "sync.abandoned";

    private readonly Dictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _leaseHeldUntil = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Starting(logger, options.Value.InstanceId, options.Value.MaxConcurrentSyncs);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // A database hiccup must not stop the indexer; the next pass tries again.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.PassFailed(logger, ex);
                }

                await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Running syncs see the same token and put themselves back in the queue.
            await Task.WhenAll(_running.Values);
        }
    }

    /// <summary>
    /// One pass of the loop: fail abandoned syncs, queue due scheduled syncs, start queued ones in free
    /// slots. Returns the number of syncs started. The started runs continue in the background.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken stoppingToken)
    {
        foreach (var done in _running.Where(r => r.Value.IsCompleted).Select(r => r.Key).ToList())
        {
            _running.Remove(done);
        }

        var now = timeProvider.GetUtcNow();
        foreach (var lapsed in _leaseHeldUntil.Where(h => h.Value <= now).Select(h => h.Key).ToList())
        {
            _leaseHeldUntil.TryRemove(lapsed, out _);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
        await FailAbandonedAsync(db, now, stoppingToken);
        await QueueScheduledAsync(db, now, stoppingToken);

        var free = options.Value.MaxConcurrentSyncs - _running.Count;
        if (free <= 0)
        {
            return 0;
        }

        var queued = await db.RepoSyncs.AsNoTracking()
            .Where(s => s.Status == SyncStatus.Queued)
            .OrderBy(s => s.QueuedAt)
            .Take(free + _running.Count + _leaseHeldUntil.Count + 8)
            .Select(s => new { s.Id, s.RepoId })
            .ToListAsync(stoppingToken);
        var started = 0;
        foreach (var sync in queued.DistinctBy(s => s.RepoId))
        {
            if (started == free)
            {
                break;
            }

            if (_running.ContainsKey(sync.RepoId) || _leaseHeldUntil.ContainsKey(sync.RepoId))
            {
                continue;
            }

            _running[sync.RepoId] = RunAsync(sync.Id, sync.RepoId, stoppingToken);
            started++;
        }

        return started;
    }

    private async Task RunAsync(string syncId, string repoId, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            var result = await syncer.RunAsync(syncId, stoppingToken);
            if (result.Outcome == SyncRunOutcome.LeaseHeld)
            {
                // Another instance is syncing this repo: look again after a poll interval, not in a tight loop.
                _leaseHeldUntil[repoId] = timeProvider.GetUtcNow() + options.Value.PollInterval;
                return;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // Recorded and logged; the loop carries on with other repos.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RunFailed(logger, ex, syncId);
        }

        // A slot is free: look for more work now.
        signal.Notify();
    }

    /// <summary>Fails running syncs whose lease lapsed or was lost: their runner crashed or was cut off.</summary>
    private async Task FailAbandonedAsync(PitrixDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var running = await db.RepoSyncs.AsNoTracking().Where(s => s.Status == SyncStatus.Running)
            .Select(s => new { s.Id, s.RepoId, s.Worker }).ToListAsync(cancellationToken);
        if (running.Count == 0)
        {
            return;
        }

        var repoIds = running.Select(s => s.RepoId).Distinct().ToList();
        var leases = await db.Repos.AsNoTracking().Where(r => repoIds.Contains(r.Id))
            .Select(r => new { r.Id, r.SyncLeaseOwner, r.SyncLeaseExpiresAt })
            .ToDictionaryAsync(r => r.Id, StringComparer.Ordinal, cancellationToken);
        foreach (var sync in running)
        {
            var owner = RepoLease.Owner(sync.Worker ?? "", sync.Id);
            if (leases.TryGetValue(sync.RepoId, out var lease) && lease.SyncLeaseOwner == owner && lease.SyncLeaseExpiresAt >= now)
            {
                continue;
            }

            var message = $"The instance running this sync ({sync.Worker}) stopped renewing the repo's lease; it crashed or lost the database.";
            var failed = await db.RepoSyncs.Where(s => s.Id == sync.Id && s.Status == SyncStatus.Running)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(x => x.Status, SyncStatus.Failed).SetProperty(x => x.FinishedAt, now)
                        .SetProperty(x => x.ErrorCode, AbandonedCode).SetProperty(x => x.ErrorMessage, message),
                    cancellationToken);
            if (failed == 0)
            {
                continue;
            }

            // Free the repo (the old holder's heartbeat then fails and it stops) and record the outcome.
            await RepoLease.ReleaseAsync(db, sync.RepoId, owner, cancellationToken);
            var error = AbandonedCode + ": " + message;
            await db.Repos.Where(r => r.Id == sync.RepoId)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(r => r.LastSyncId, sync.Id).SetProperty(r => r.LastSyncStatus, SyncStatus.Failed)
                        .SetProperty(r => r.LastSyncAt, (DateTimeOffset?)now).SetProperty(r => r.LastSyncError, error),
                    cancellationToken);
            Log.Abandoned(logger, sync.Id, sync.RepoId, sync.Worker);
        }
    }

    /// <summary>Queues a schedule sync for each repo whose next sync time has come; one instance wins each repo.</summary>
    private async Task QueueScheduledAsync(PitrixDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var due = await db.Repos.AsNoTracking()
            .Where(r => r.NextSyncAt != null && r.NextSyncAt <= now && r.SyncIntervalSeconds > 0 && r.Type != RepoType.Upload && r.Url != null)
            .OrderBy(r => r.NextSyncAt)
            .Select(r => new { r.Id, r.NextSyncAt, r.SyncIntervalSeconds })
            .Take(100)
            .ToListAsync(cancellationToken);
        foreach (var repo in due)
        {
            DateTimeOffset? next = now.AddSeconds(repo.SyncIntervalSeconds);
            var observed = repo.NextSyncAt;
            var won = await db.Repos.Where(r => r.Id == repo.Id && r.NextSyncAt == observed)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.NextSyncAt, next), cancellationToken);
            if (won == 1)
            {
                await requests.RequestAsync(db, repo.Id, SyncTrigger.Schedule, null, cancellationToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Indexer {InstanceId} started (up to {MaxConcurrentSyncs} syncs at once)")]
        public static partial void Starting(ILogger logger, string instanceId, int maxConcurrentSyncs);

        [LoggerMessage(Level = LogLevel.Error, Message = "Indexer pass failed; retrying at the next poll")]
        public static partial void PassFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Error, Message = "Sync {SyncId} could not be run")]
        public static partial void RunFailed(ILogger logger, Exception exception, string syncId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Sync {SyncId} of repo {RepoId} was abandoned by {Worker}; marked failed")]
        public static partial void Abandoned(ILogger logger, string syncId, string repoId, string? worker);
    }
}
