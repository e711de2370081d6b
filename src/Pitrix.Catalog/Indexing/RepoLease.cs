using Microsoft.EntityFrameworkCore;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Indexing;

/// <summary>
/// The per-repo sync lease, taken and kept with single conditional UPDATEs so that only one of several
/// server instances on one database syncs a repo at a time, and a crashed holder's lease simply lapses.
/// </summary>
public static class RepoLease
{
    /// <summary>The owner recorded for one run: the instance and the sync, so two runs in one process are told apart.</summary>
    public static string Owner(string instanceId, string syncId) => instanceId + "#" + syncId;

    /// <summary>Takes the lease when it is free or lapsed; returns whether this caller now holds it.</summary>
    public static async Task<bool> TryAcquireAsync(PitrixDbContext db, string repoId, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken)
    {
        DateTimeOffset? expires = now + duration;
        var taken = await db.Repos
            .Where(r => r.Id == repoId && (r.SyncLeaseOwner == null || r.SyncLeaseExpiresAt == null || r.SyncLeaseExpiresAt < now))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.SyncLeaseOwner, owner).SetProperty(r => r.SyncLeaseExpiresAt, expires), cancellationToken);
        return taken == 1;
    }

    /// <summary>Extends the lease; false when it was lost (lapsed and taken by another instance).</summary>
    public static async Task<bool> ExtendAsync(PitrixDbContext db, string repoId, string owner, DateTimeOffset now, TimeSpan duration, CancellationToken cancellationToken)
    {
        DateTimeOffset? expires = now + duration;
        var kept = await db.Repos
            .Where(r => r.Id == repoId && r.SyncLeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.SyncLeaseExpiresAt, expires), cancellationToken);
        return kept == 1;
    }

    public static Task<int> ReleaseAsync(PitrixDbContext db, string repoId, string owner, CancellationToken cancellationToken) =>
        db.Repos
            .Where(r => r.Id == repoId && r.SyncLeaseOwner == owner)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.SyncLeaseOwner, (string?)null).SetProperty(r => r.SyncLeaseExpiresAt, (DateTimeOffset?)null), cancellationToken);
}
