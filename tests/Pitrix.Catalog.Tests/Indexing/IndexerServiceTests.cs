using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Catalog.Indexing;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Xunit;

namespace Pitrix.Catalog.Tests.Indexing;

/// <summary>The background indexer against a real database; runs once per database backend.</summary>
public abstract class IndexerServiceTests(IndexerFixture fixture)
{
    [Fact]
    public async Task Service_PicksUpARequestedSync_AndRunsItToTheEnd()
    {
        var (_, url) = fixture.ServedCopyOfSamples();
        var repo = await fixture.CreateRepoAsync(url);
        using var service = ActivatorUtilities.CreateInstance<IndexerService>(fixture.Services);
        await service.StartAsync(CancellationToken.None);
        try
        {
            var sync = await fixture.WithDbAsync(db => fixture.Requests.RequestAsync(db, repo.Id, SyncTrigger.Created, "alice", CancellationToken.None));

            var finished = await WaitForEndAsync(sync.Id);

            Assert.Equal((SyncStatus.Succeeded, 4, "test-instance"), (finished.Status, finished.Added, finished.Worker));
            Assert.Equal(4, (await fixture.AppsAsync(repo.Id)).Count);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task RunOnce_RunningSyncWithLapsedLease_IsFailedAsAbandoned_AndTheRepoCanSyncAgain()
    {
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(fixture.CopyOfSamples()), syncIntervalSeconds: 0);
        var ghost = new RepoSync { Id = Id.New(IdPrefix.RepoSync), RepoId = repo.Id, Trigger = SyncTrigger.Manual, Status = SyncStatus.Running, Worker = "crashed-host", QueuedAt = DateTimeOffset.UtcNow.AddMinutes(-10), StartedAt = DateTimeOffset.UtcNow.AddMinutes(-10) };
        await fixture.WithDbAsync(async db =>
        {
            db.RepoSyncs.Add(ghost);
            await db.SaveChangesAsync();
            DateTimeOffset? lapsed = DateTimeOffset.UtcNow.AddMinutes(-1);
            var owner = RepoLease.Owner("crashed-host", ghost.Id);
            await db.Repos.Where(r => r.Id == repo.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.SyncLeaseOwner, owner).SetProperty(r => r.SyncLeaseExpiresAt, lapsed));
        });
        using var service = ActivatorUtilities.CreateInstance<IndexerService>(fixture.Services);

        await service.RunOnceAsync(CancellationToken.None);

        var failed = await SyncAsync(ghost.Id);
        Assert.Equal((SyncStatus.Failed, IndexerService.AbandonedCode), (failed.Status, failed.ErrorCode));
        Assert.NotNull(failed.FinishedAt);
        var stored = await fixture.RepoAsync(repo.Id);
        Assert.Equal((ghost.Id, SyncStatus.Failed, (string?)null), (stored.LastSyncId, stored.LastSyncStatus, stored.SyncLeaseOwner));

        var next = await fixture.SyncAsync(repo.Id);
        Assert.NotEqual(ghost.Id, next.Id);
        Assert.Equal((SyncStatus.Succeeded, 4), (next.Status, next.Added));
    }

    [Fact]
    public async Task RunOnce_RunningSyncWithLiveLease_IsLeftAlone()
    {
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(fixture.CopyOfSamples()), syncIntervalSeconds: 0);
        var live = new RepoSync { Id = Id.New(IdPrefix.RepoSync), RepoId = repo.Id, Trigger = SyncTrigger.Manual, Status = SyncStatus.Running, Worker = "busy-host", QueuedAt = DateTimeOffset.UtcNow };
        await fixture.WithDbAsync(async db =>
        {
            db.RepoSyncs.Add(live);
            await db.SaveChangesAsync();
            DateTimeOffset? until = DateTimeOffset.UtcNow.AddMinutes(1);
            var owner = RepoLease.Owner("busy-host", live.Id);
            await db.Repos.Where(r => r.Id == repo.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.SyncLeaseOwner, owner).SetProperty(r => r.SyncLeaseExpiresAt, until));
        });
        using var service = ActivatorUtilities.CreateInstance<IndexerService>(fixture.Services);

        await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(SyncStatus.Running, (await SyncAsync(live.Id)).Status);
        Assert.Equal(RepoLease.Owner("busy-host", live.Id), (await fixture.RepoAsync(repo.Id)).SyncLeaseOwner);
    }

    [Fact]
    public async Task RunOnce_RepoDueForSchedule_GetsAScheduleSync_Once()
    {
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(fixture.CopyOfSamples()), syncIntervalSeconds: 3600);
        await fixture.WithDbAsync(db => db.Repos.Where(r => r.Id == repo.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.NextSyncAt, (DateTimeOffset?)DateTimeOffset.UtcNow.AddSeconds(-5))));
        using var service = ActivatorUtilities.CreateInstance<IndexerService>(fixture.Services);
        await using var other = fixture.OtherInstance("other-instance");
        using var otherService = ActivatorUtilities.CreateInstance<IndexerService>(other);

        await Task.WhenAll(service.RunOnceAsync(CancellationToken.None), otherService.RunOnceAsync(CancellationToken.None));

        var syncs = await fixture.WithDbAsync(db => db.RepoSyncs.AsNoTracking().Where(s => s.RepoId == repo.Id).ToListAsync());
        var scheduled = Assert.Single(syncs);
        Assert.Equal(SyncTrigger.Schedule, scheduled.Trigger);
        var finished = await WaitForEndAsync(scheduled.Id);
        Assert.Equal(SyncStatus.Succeeded, finished.Status);
        Assert.True((await fixture.RepoAsync(repo.Id)).NextSyncAt > DateTimeOffset.UtcNow.AddMinutes(50));
    }

    private Task<RepoSync> SyncAsync(string id) => fixture.WithDbAsync(db => db.RepoSyncs.AsNoTracking().SingleAsync(s => s.Id == id));

    private async Task<RepoSync> WaitForEndAsync(string syncId)
    {
        RepoSync? sync = null;
        await RepoSyncerTests.WaitUntilAsync(async () => (sync = await SyncAsync(syncId)).Status is not (SyncStatus.Queued or SyncStatus.Running));
        return sync!;
    }
}

public sealed class SqliteIndexerServiceTests(SqliteIndexerFixture fixture) : IndexerServiceTests(fixture), IClassFixture<SqliteIndexerFixture>;

public sealed class PostgresIndexerServiceTests(PostgresIndexerFixture fixture) : IndexerServiceTests(fixture), IClassFixture<PostgresIndexerFixture>;
