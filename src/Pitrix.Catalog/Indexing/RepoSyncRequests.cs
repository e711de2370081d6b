using Microsoft.EntityFrameworkCore;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Indexing;

/// <summary>Queues syncs for the API (repo created, manual sync, webhook) and wakes this process's indexer.</summary>
public sealed class RepoSyncRequests(IndexerSignal signal, TimeProvider timeProvider)
{
    /// <summary>Whether a repo has an index to sync (file and http repos; upload repos do not).</summary>
    public static bool CanSync(Repo repo) => repo.Type is RepoType.File or RepoType.Http && repo.Url is not null;

    /// <summary>
    /// Queues a sync of <paramref name="repoId"/> with <paramref name="trigger"/> (<see cref="SyncTrigger"/>)
    /// and returns it, or returns the sync already queued or running for the repo. Saves at once.
    /// Throws <see cref="InvalidOperationException"/> when the repo does not exist or cannot be synced
    /// (check <see cref="CanSync"/> first).
    /// </summary>
    public async Task<RepoSync> RequestAsync(PitrixDbContext db, string repoId, string trigger, string? requestedBy, CancellationToken cancellationToken)
    {
        var repo = await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == repoId, cancellationToken)
            ?? throw new InvalidOperationException($"Repo {repoId} does not exist.");
        if (!CanSync(repo))
        {
            throw new InvalidOperationException($"Repo {repoId} is an upload repo and has no index to sync.");
        }

        var pending = await db.RepoSyncs.AsNoTracking()
            .Where(s => s.RepoId == repoId && (s.Status == SyncStatus.Queued || s.Status == SyncStatus.Running))
            .OrderBy(s => s.QueuedAt)
            .FirstOrDefaultAsync(cancellationToken);
        if (pending is not null)
        {
            signal.Notify();
            return pending;
        }

        var sync = new RepoSync
        {
            Id = Id.New(IdPrefix.RepoSync),
            RepoId = repoId,
            Trigger = trigger,
            RequestedBy = requestedBy,
            Status = SyncStatus.Queued,
            QueuedAt = timeProvider.GetUtcNow(),
        };
        db.RepoSyncs.Add(sync);
        await db.SaveChangesAsync(cancellationToken);
        signal.Notify();
        return sync;
    }
}
