using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Catalog.Blobs;
using Pitrix.Catalog.Indexing;
using Pitrix.Catalog.Repos;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Packages;
using Pitrix.Packages.Repos;
using Xunit;
using Xunit.Abstractions;

namespace Pitrix.Catalog.Tests.Indexing;

/// <summary>Syncs of real repos (directory and HTTP) into a real database; runs once per database backend.</summary>
public abstract class RepoSyncerTests(IndexerFixture fixture, ITestOutputHelper output)
{
    private static readonly string[] SampleApps = ["etcd-cluster", "hello-web", "redis", "zookeeper"];

    [Fact]
    public async Task Sync_FileRepo_AddsAppsVersionsAndStoresDetails()
    {
        var site = fixture.CopyOfSamples();
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site));

        var stopwatch = Stopwatch.StartNew();
        var sync = await fixture.SyncAsync(repo.Id);
        output.WriteLine($"first sync of samples/repo from file:// took {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(SyncStatus.Succeeded, sync.Status);
        Assert.Equal((4, 0, 0, 0, 4, false), (sync.Added, sync.Updated, sync.Removed, sync.Failed, sync.PackagesFetched, sync.Unchanged));
        Assert.Equal("test-instance", sync.Worker);
        Assert.NotNull(sync.StartedAt);
        Assert.NotNull(sync.FinishedAt);
        var apps = await fixture.AppsAsync(repo.Id);
        Assert.Equal(SampleApps, apps.Select(a => a.Name));
        Assert.All(apps, a => Assert.Equal("active", a.Status));
        Assert.Equal("helm", apps.Single(a => a.Name == "hello-web").Format);
        Assert.Equal("vmcluster", apps.Single(a => a.Name == "redis").Format);

        var versions = await fixture.VersionsAsync(repo.Id);
        Assert.Equal(4, versions.Count);
        Assert.All(versions, v =>
        {
            Assert.Equal(AppVersionStatus.Active, v.Status);
            Assert.Equal(DetailsStatus.Stored, v.DetailsStatus);
            Assert.Equal(v.Digest, v.PackageDigest);
            Assert.StartsWith(new Uri(site.Directory + "/").AbsoluteUri, v.PackageUrl, StringComparison.Ordinal);
            Assert.NotNull(v.EntryFingerprint);
        });

        var zookeeper = versions.Single(v => v.AppId == apps.Single(a => a.Name == "zookeeper").Id);
        var helloWeb = versions.Single(v => v.AppId == apps.Single(a => a.Name == "hello-web").Id);
        Assert.Equal("3.8.0", zookeeper.AppVersionLabel);
        Assert.Contains("ZooKeeper", await BlobTextAsync(zookeeper.ReadmeDigest), StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("{", (await BlobTextAsync(zookeeper.ConfigDigest))!.TrimStart(), StringComparison.Ordinal);
        Assert.StartsWith("blob:sha256:", zookeeper.Icon, StringComparison.Ordinal);
        Assert.Equal(zookeeper.Icon, apps.Single(a => a.Name == "zookeeper").Icon);
        Assert.Contains("greeting", await BlobTextAsync(helloWeb.ValuesDigest), StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(helloWeb.ValuesSchemaDigest);
        Assert.NotNull(helloWeb.ReadmeDigest);
        Assert.Null(helloWeb.ConfigDigest);
        Assert.Equal(helloWeb.ReadmeDigest, apps.Single(a => a.Name == "hello-web").ReadmeDigest);

        var stored = await fixture.RepoAsync(repo.Id);
        Assert.Equal((sync.Id, SyncStatus.Succeeded, (string?)null), (stored.LastSyncId, stored.LastSyncStatus, stored.LastSyncError));
        Assert.Equal(sync.FinishedAt!.Value.AddSeconds(600), stored.NextSyncAt!.Value, TimeSpan.FromMilliseconds(1));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(site.IndexPath))), stored.IndexDigest);
        Assert.Null(stored.SyncLeaseOwner);
    }

    [Fact]
    public async Task Sync_HttpRepoTwice_SecondIsNotModified_AndRewritesNothing()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var repo = await fixture.CreateRepoAsync(url);
        var first = await fixture.SyncAsync(repo.Id);
        Assert.Equal((SyncStatus.Succeeded, 4, 4), (first.Status, first.Added, first.PackagesFetched));
        Assert.NotNull((await fixture.RepoAsync(repo.Id)).IndexETag);
        var versionsBefore = await fixture.VersionsAsync(repo.Id);
        var appsBefore = await fixture.AppsAsync(repo.Id);

        var stopwatch = Stopwatch.StartNew();
        var second = await fixture.SyncAsync(repo.Id);
        output.WriteLine($"unchanged sync over HTTP (304) took {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(SyncStatus.Succeeded, second.Status);
        Assert.True(second.Unchanged);
        Assert.Equal((0, 0, 0, 0, 0), (second.Added, second.Updated, second.Removed, second.Failed, second.PackagesFetched));
        Assert.Equal(1, site.Count("index.yaml", 200));
        Assert.Equal(1, site.Count("index.yaml", 304));
        Assert.Equal(4, site.Requests.Count(r => r.Path.EndsWith(".tgz", StringComparison.Ordinal)));
        Assert.Equal(versionsBefore.Select(v => (v.Id, v.UpdatedAt)), (await fixture.VersionsAsync(repo.Id)).Select(v => (v.Id, v.UpdatedAt)));
        Assert.Equal(appsBefore.Select(a => (a.Id, a.UpdatedAt)), (await fixture.AppsAsync(repo.Id)).Select(a => (a.Id, a.UpdatedAt)));
        Assert.Equal(second.Id, (await fixture.RepoAsync(repo.Id)).LastSyncId);
    }

    [Fact]
    public async Task Sync_FileRepoUnchangedIndex_IsUnchangedByDigest()
    {
        var site = fixture.CopyOfSamples();
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site));
        await fixture.SyncAsync(repo.Id);

        var second = await fixture.SyncAsync(repo.Id);

        Assert.True(second.Unchanged);
        Assert.Equal((0, 0, 0), (second.Added, second.Updated, second.PackagesFetched));
    }

    [Fact]
    public async Task Sync_EntryRemovedThenRestored_MarksRemovedAndBack_OthersUntouched()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var repo = await fixture.CreateRepoAsync(url);
        await fixture.SyncAsync(repo.Id);
        var before = await fixture.VersionsAsync(repo.Id);
        var original = await File.ReadAllTextAsync(site.IndexPath);
        await EditIndexAsync(site, index => index.Entries.Remove("redis"));

        var removal = await fixture.SyncAsync(repo.Id);

        Assert.Equal(SyncStatus.Succeeded, removal.Status);
        Assert.False(removal.Unchanged);
        Assert.Equal((0, 0, 1, 0), (removal.Added, removal.Updated, removal.Removed, removal.PackagesFetched));
        var apps = await fixture.AppsAsync(repo.Id);
        var redis = apps.Single(a => a.Name == "redis");
        Assert.Equal("removed", redis.Status);
        var after = await fixture.VersionsAsync(repo.Id);
        Assert.Equal(4, after.Count);
        Assert.Equal(AppVersionStatus.Removed, after.Single(v => v.AppId == redis.Id).Status);
        Assert.Equal(
            before.Where(v => v.AppId != redis.Id).Select(v => (v.Id, v.Status, v.UpdatedAt)),
            after.Where(v => v.AppId != redis.Id).Select(v => (v.Id, v.Status, v.UpdatedAt)));

        await File.WriteAllTextAsync(site.IndexPath, original);
        var restore = await fixture.SyncAsync(repo.Id);

        Assert.Equal((1, 0, 0), (restore.Added, restore.Updated, restore.Removed));
        Assert.Equal(AppVersionStatus.Active, (await fixture.VersionsAsync(repo.Id)).Single(v => v.AppId == redis.Id).Status);
        Assert.Equal("active", (await fixture.AppsAsync(repo.Id)).Single(a => a.Name == "redis").Status);
    }

    [Fact]
    public async Task Sync_EntryChanged_UpdatesOnlyThatVersion_AndRemovedFlagRemovesIt()
    {
        var site = fixture.CopyOfSamples();
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site));
        await fixture.SyncAsync(repo.Id);
        await EditIndexAsync(site, index =>
        {
            Replace(index, "redis", e => e.Metadata["description"] = "A changed description");
            var etcd = index.Entries["etcd-cluster"][0];
            index.Entries["etcd-cluster"][0] = Copy(etcd, removed: true);
        });

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal((0, 1, 1, 0), (sync.Added, sync.Updated, sync.Removed, sync.Failed));
        var apps = await fixture.AppsAsync(repo.Id);
        Assert.Equal("A changed description", apps.Single(a => a.Name == "redis").Description);
        Assert.Equal("removed", apps.Single(a => a.Name == "etcd-cluster").Status);
        Assert.All((await fixture.VersionsAsync(repo.Id)).Where(v => v.AppId == apps.Single(a => a.Name == "redis").Id), v => Assert.Equal(DetailsStatus.Stored, v.DetailsStatus));
    }

    [Fact]
    public async Task Sync_BasicAndBearerRepos_SendCredentials_AndWithoutThemFailWithCatalogIntact()
    {
        var (basic, basicUrl) = fixture.ServedCopyOfSamples();
        basic.Authorization = RepoFileServer.Basic("reader", "s3cret");
        var basicRepo = await fixture.CreateRepoAsync(basicUrl, new RepoCredential("reader", "s3cret", null));
        var (bearer, bearerUrl) = fixture.ServedCopyOfSamples();
        bearer.Authorization = "Bearer tok-1";
        var bearerRepo = await fixture.CreateRepoAsync(bearerUrl, new RepoCredential(null, null, "tok-1"));

        Assert.Equal((SyncStatus.Succeeded, 4, 4), await Outcome(await fixture.SyncAsync(basicRepo.Id)));
        Assert.Equal((SyncStatus.Succeeded, 4, 4), await Outcome(await fixture.SyncAsync(bearerRepo.Id)));

        var anonymous = await fixture.CreateRepoAsync(bearerUrl);
        var denied = await fixture.SyncAsync(anonymous.Id);
        Assert.Equal((SyncStatus.Failed, "fetch.http_status"), (denied.Status, denied.ErrorCode));
        Assert.Contains("401", denied.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(await fixture.AppsAsync(anonymous.Id));
        var stored = await fixture.RepoAsync(anonymous.Id);
        Assert.Equal(SyncStatus.Failed, stored.LastSyncStatus);
        Assert.StartsWith("fetch.http_status", stored.LastSyncError, StringComparison.Ordinal);

        // The token is revoked on the server: the sync fails, and what the catalog had stays.
        bearer.Authorization = "Bearer tok-2";
        await EditIndexAsync(bearer, index => index.Entries.Remove("redis"));
        var revoked = await fixture.SyncAsync(bearerRepo.Id);
        Assert.Equal((SyncStatus.Failed, "fetch.http_status"), (revoked.Status, revoked.ErrorCode));
        Assert.All(await fixture.AppsAsync(bearerRepo.Id), a => Assert.Equal("active", a.Status));
        Assert.All(await fixture.VersionsAsync(bearerRepo.Id), v => Assert.Equal(AppVersionStatus.Active, v.Status));

        async Task<(string, int, int)> Outcome(RepoSync sync) =>
            (sync.Status, sync.Added, (await fixture.VersionsAsync(sync.RepoId)).Count(v => v.DetailsStatus == DetailsStatus.Stored));
    }

    [Theory]
    [InlineData(404)]
    [InlineData(500)]
    public async Task Sync_ServerAnswersError_FailsWithHttpStatus(int status)
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        site.Status = status;
        var repo = await fixture.CreateRepoAsync(url);

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal((SyncStatus.Failed, "fetch.http_status"), (sync.Status, sync.ErrorCode));
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), sync.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(await fixture.AppsAsync(repo.Id));
        Assert.Null((await fixture.RepoAsync(repo.Id)).IndexDigest);
    }

    [Fact]
    public async Task Sync_MissingDirectory_FailsWithFileNotFound()
    {
        var repo = await fixture.CreateRepoAsync(new Uri(Path.Combine(fixture.WorkDirectory, "nowhere") + "/").AbsoluteUri);

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal((SyncStatus.Failed, "fetch.file_not_found"), (sync.Status, sync.ErrorCode));
    }

    [Fact]
    public async Task Sync_MalformedIndex_FailsWithIndexCode_AndChangesNothing()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var repo = await fixture.CreateRepoAsync(url);
        await fixture.SyncAsync(repo.Id);
        var digest = (await fixture.RepoAsync(repo.Id)).IndexDigest;
        var before = await fixture.VersionsAsync(repo.Id);
        await File.WriteAllTextAsync(site.IndexPath, "apiVersion: v1\nentries:\n  redis: [ {version: 1.0.0\n");

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal((SyncStatus.Failed, "index.invalid_yaml"), (sync.Status, sync.ErrorCode));
        Assert.Equal(before.Select(v => (v.Id, v.Status, v.UpdatedAt)), (await fixture.VersionsAsync(repo.Id)).Select(v => (v.Id, v.Status, v.UpdatedAt)));
        Assert.Equal(digest, (await fixture.RepoAsync(repo.Id)).IndexDigest);
    }

    [Fact]
    public async Task Sync_OversizedIndex_FailsWithIndexTooLarge_OverHttpAndFromDirectory()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var padding = new StringBuilder(await File.ReadAllTextAsync(site.IndexPath));
        while (padding.Length <= IndexerFixture.MaxIndexBytes)
        {
            padding.Append("# padding padding padding padding padding padding padding padding\n");
        }

        await File.WriteAllTextAsync(site.IndexPath, padding.ToString());
        var overHttp = await fixture.CreateRepoAsync(url);
        var fromDirectory = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site));

        foreach (var repo in new[] { overHttp, fromDirectory })
        {
            var sync = await fixture.SyncAsync(repo.Id);
            Assert.Equal((SyncStatus.Failed, "index.too_large"), (sync.Status, sync.ErrorCode));
            Assert.Empty(await fixture.AppsAsync(repo.Id));
        }
    }

    [Fact]
    public async Task Sync_DigestMismatch_FailsThatPackageOnly()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        await EditIndexAsync(site, index => Replace(index, "redis", e => e, digest: new string('0', 64)));
        var repo = await fixture.CreateRepoAsync(url);

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal(SyncStatus.PartiallySucceeded, sync.Status);
        Assert.Equal((4, 1), (sync.Added, sync.Failed));
        var error = Assert.Single(sync.Errors);
        Assert.Equal(("redis", "1.0.0", "package.digest_mismatch"), (error.App, error.Version, error.Code));
        var apps = await fixture.AppsAsync(repo.Id);
        var versions = await fixture.VersionsAsync(repo.Id);
        var redis = versions.Single(v => v.AppId == apps.Single(a => a.Name == "redis").Id);
        Assert.Equal((AppVersionStatus.Active, DetailsStatus.Failed, (string?)null), (redis.Status, redis.DetailsStatus, redis.PackageDigest));
        Assert.StartsWith("package.digest_mismatch", redis.DetailsError, StringComparison.Ordinal);
        Assert.Equal(3, versions.Count(v => v.DetailsStatus == DetailsStatus.Stored));
        Assert.Equal(SyncStatus.PartiallySucceeded, (await fixture.RepoAsync(repo.Id)).LastSyncStatus);
    }

    [Fact]
    public async Task Sync_HostilePackage_IsAPerPackageError_OthersAreFine()
    {
        var site = fixture.CopyOfSamples();
        var evil = TraversalArchive();
        await File.WriteAllBytesAsync(Path.Combine(site.Directory, "evil-1.0.0.tgz"), evil);
        await EditIndexAsync(site, index => index.Add(new IndexEntry
        {
            Name = "evil",
            Version = "1.0.0",
            Urls = ["evil-1.0.0.tgz"],
            Digest = Convert.ToHexStringLower(SHA256.HashData(evil)),
            Metadata = { ["format"] = "vmcluster", ["description"] = "Writes outside its directory" },
        }));
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site));

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal(SyncStatus.PartiallySucceeded, sync.Status);
        Assert.Equal((5, 1, 5), (sync.Added, sync.Failed, sync.PackagesFetched));
        var error = Assert.Single(sync.Errors);
        Assert.Equal(("evil", "archive.path_traversal"), (error.App, error.Code));
        Assert.False(File.Exists(Path.Combine(fixture.WorkDirectory, "escape.txt")));
        var versions = await fixture.VersionsAsync(repo.Id);
        Assert.Equal(4, versions.Count(v => v.DetailsStatus == DetailsStatus.Stored));
        Assert.Equal(1, versions.Count(v => v.DetailsStatus == DetailsStatus.Failed));
    }

    [Fact]
    public async Task Sync_BadEntries_AreSkippedWithErrors_AndNeverRemoveExistingVersions()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var repo = await fixture.CreateRepoAsync(url);
        await fixture.SyncAsync(repo.Id);
        await EditIndexAsync(site, index =>
        {
            var redis = index.Entries["redis"][0];
            index.Entries["redis"].Add(Copy(redis));
            Replace(index, "etcd-cluster", e => e, urls: ["http://203.0.113.9/etcd-cluster-1.0.0.tgz"]);
            index.Add(new IndexEntry { Name = "odd", Version = "latest", Urls = ["odd.tgz"] });
            index.Add(new IndexEntry { Name = "bare", Version = "1.0.0" });
            index.Add(new IndexEntry { Name = "other-port", Version = "1.0.0", Urls = [new Uri(new Uri(url), "//127.0.0.1:1/x.tgz").AbsoluteUri] });
        });

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal(SyncStatus.PartiallySucceeded, sync.Status);
        Assert.Equal((0, 0, 0, 5), (sync.Added, sync.Updated, sync.Removed, sync.Failed));
        Assert.Equal(
            new[] { ("bare", "package.urls_missing"), ("etcd-cluster", "package.foreign_host"), ("odd", "package.version_invalid"), ("other-port", "package.foreign_host"), ("redis", "package.version_duplicate") },
            sync.Errors.Select(e => (e.App, e.Code)).OrderBy(e => e.App, StringComparer.Ordinal).ToArray());
        Assert.Equal(SampleApps, (await fixture.AppsAsync(repo.Id)).Select(a => a.Name));
        Assert.All(await fixture.VersionsAsync(repo.Id), v => Assert.Equal(AppVersionStatus.Active, v.Status));
    }

    [Fact]
    public async Task Sync_FileRepoPackageOutsideDirectory_IsRefused()
    {
        var site = fixture.CopyOfSamples();
        await EditIndexAsync(site, index => Replace(index, "redis", e => e, urls: ["../redis-1.0.0.tgz"]));
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site));

        var sync = await fixture.SyncAsync(repo.Id);

        Assert.Equal(("redis", "package.path_escape"), sync.Errors.Select(e => (e.App, e.Code)).Single());
        Assert.Equal(3, sync.Added);
    }

    [Fact]
    public async Task Sync_FetchPolicies_LatestAndNone_SkipPackages()
    {
        var site = fixture.CopyOfSamples();
        await EditIndexAsync(site, index => index.Add(Copy(index.Entries["hello-web"][0], version: "0.0.9")));
        var latest = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site), fetchPackages: PackageFetchPolicy.Latest);
        var none = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(site), fetchPackages: PackageFetchPolicy.None);

        var latestSync = await fixture.SyncAsync(latest.Id);
        var noneSync = await fixture.SyncAsync(none.Id);

        Assert.Equal((5, 4), (latestSync.Added, latestSync.PackagesFetched));
        var latestVersions = await fixture.VersionsAsync(latest.Id);
        Assert.Equal(DetailsStatus.Skipped, latestVersions.Single(v => v.Version == "0.0.9").DetailsStatus);
        Assert.Equal(4, latestVersions.Count(v => v.DetailsStatus == DetailsStatus.Stored));
        Assert.Equal((5, 0), (noneSync.Added, noneSync.PackagesFetched));
        Assert.All(await fixture.VersionsAsync(none.Id), v => Assert.Equal((DetailsStatus.Skipped, (string?)null), (v.DetailsStatus, v.PackageDigest)));
    }

    [Fact]
    public async Task GetPackage_NotStored_FetchesVerifiesStores_ThenServesFromBlob()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var repo = await fixture.CreateRepoAsync(url, fetchPackages: PackageFetchPolicy.None);
        await fixture.SyncAsync(repo.Id);
        var store = fixture.Services.GetRequiredService<PackageStore>();
        var redis = (await fixture.VersionsAsync(repo.Id)).Single(v => v.PackageUrl!.EndsWith("redis-1.0.0.tgz", StringComparison.Ordinal));
        Assert.Null(redis.PackageDigest);

        var bytes = await fixture.WithDbAsync(db => store.GetPackageAsync(db, redis, CancellationToken.None));

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(site.Directory, "redis-1.0.0.tgz")), bytes);
        var stored = (await fixture.VersionsAsync(repo.Id)).Single(v => v.Id == redis.Id);
        Assert.Equal((redis.Digest, (long?)bytes.Length), (stored.PackageDigest, stored.PackageSize));
        var again = await fixture.WithDbAsync(db => store.GetPackageAsync(db, stored, CancellationToken.None));
        Assert.Equal(bytes, again);
        Assert.Equal(1, site.Count("redis-1.0.0.tgz", 200));

        var tampered = (await fixture.VersionsAsync(repo.Id)).Single(v => v.PackageUrl!.EndsWith("etcd-cluster-1.0.0.tgz", StringComparison.Ordinal));
        tampered.Digest = new string('a', 64);
        var mismatch = await Assert.ThrowsAsync<PackageException>(() => fixture.WithDbAsync(db => store.GetPackageAsync(db, tampered, CancellationToken.None)));
        Assert.Equal("package.digest_mismatch", mismatch.Code);

        site.Status = 500;
        var hello = (await fixture.VersionsAsync(repo.Id)).Single(v => v.PackageUrl!.EndsWith("hello-web-0.1.0.tgz", StringComparison.Ordinal));
        var down = await Assert.ThrowsAsync<Fetching.FetchException>(() => fixture.WithDbAsync(db => store.GetPackageAsync(db, hello, CancellationToken.None)));
        Assert.True(down.IsRetryable);
    }

    [Fact]
    public async Task RunAsync_TwiceOnOneSyncAtOnce_OnlyOneRuns()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        site.IndexDelay = TimeSpan.FromMilliseconds(400);
        var repo = await fixture.CreateRepoAsync(url);
        var sync = await fixture.WithDbAsync(db => fixture.Requests.RequestAsync(db, repo.Id, SyncTrigger.Manual, null, CancellationToken.None));

        var results = await Task.WhenAll(fixture.Syncer.RunAsync(sync.Id, CancellationToken.None), fixture.Syncer.RunAsync(sync.Id, CancellationToken.None));

        Assert.Single(results, r => r.Outcome == SyncRunOutcome.Completed);
        Assert.Single(results, r => r.Outcome is SyncRunOutcome.LeaseHeld or SyncRunOutcome.NotQueued);
        Assert.Equal(1, site.Count("index.yaml", 200));
        Assert.Equal(4, (await fixture.VersionsAsync(repo.Id)).Count);
    }

    [Fact]
    public async Task RunAsync_TwoSyncsOfOneRepoOnTwoInstances_TheLeaseLetsOneWork()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        site.IndexDelay = TimeSpan.FromMilliseconds(600);
        var repo = await fixture.CreateRepoAsync(url);
        var first = await fixture.WithDbAsync(db => fixture.Requests.RequestAsync(db, repo.Id, SyncTrigger.Manual, null, CancellationToken.None));
        var second = await fixture.WithDbAsync(async db =>
        {
            // A second queued sync, as a race between two API instances could leave.
            var extra = new RepoSync { Id = Id.New(IdPrefix.RepoSync), RepoId = repo.Id, Trigger = SyncTrigger.Webhook, Status = SyncStatus.Queued, QueuedAt = DateTimeOffset.UtcNow };
            db.RepoSyncs.Add(extra);
            await db.SaveChangesAsync();
            return extra;
        });
        await using var other = fixture.OtherInstance("other-instance");

        var running = fixture.Syncer.RunAsync(first.Id, CancellationToken.None);
        await WaitUntilAsync(async () => (await fixture.RepoAsync(repo.Id)).SyncLeaseOwner is not null);
        var blocked = await other.GetRequiredService<RepoSyncer>().RunAsync(second.Id, CancellationToken.None);
        var done = await running;

        Assert.Equal(SyncRunOutcome.LeaseHeld, blocked.Outcome);
        Assert.Equal(SyncRunOutcome.Completed, done.Outcome);
        Assert.Equal(SyncStatus.Queued, (await fixture.WithDbAsync(db => db.RepoSyncs.AsNoTracking().SingleAsync(s => s.Id == second.Id))).Status);
        Assert.Equal(1, site.Count("index.yaml", 200));

        // Once the lease is free, the other instance runs it; the index has not changed.
        var later = await other.GetRequiredService<RepoSyncer>().RunAsync(second.Id, CancellationToken.None);
        Assert.Equal((SyncRunOutcome.Completed, "other-instance", true), (later.Outcome, later.Sync!.Worker, later.Sync.Unchanged));
    }

    [Fact]
    public async Task RequestAsync_WhileOneIsQueued_ReturnsIt_AndWakesTheIndexer()
    {
        var repo = await fixture.CreateRepoAsync(IndexerFixture.FileUrl(fixture.CopyOfSamples()));
        var signal = fixture.Services.GetRequiredService<IndexerSignal>();
        await signal.WaitAsync(TimeSpan.FromMilliseconds(1), CancellationToken.None);

        var first = await fixture.WithDbAsync(db => fixture.Requests.RequestAsync(db, repo.Id, SyncTrigger.Created, "alice", CancellationToken.None));
        var second = await fixture.WithDbAsync(db => fixture.Requests.RequestAsync(db, repo.Id, SyncTrigger.Manual, "bob", CancellationToken.None));

        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(first.Id, second.Id);
        Assert.Equal((SyncTrigger.Created, "alice", SyncStatus.Queued), (second.Trigger, second.RequestedBy, second.Status));
        Assert.Equal(1, await fixture.WithDbAsync(db => db.RepoSyncs.CountAsync(s => s.RepoId == repo.Id)));

        await fixture.Syncer.RunAsync(first.Id, CancellationToken.None);
        var third = await fixture.WithDbAsync(db => fixture.Requests.RequestAsync(db, repo.Id, SyncTrigger.Webhook, null, CancellationToken.None));
        Assert.NotEqual(first.Id, third.Id);
    }

    [Fact]
    public async Task RepoProbe_ReadsIndexWithoutWriting_AndReportsFailures()
    {
        var (site, url) = fixture.ServedCopyOfSamples();
        var probe = fixture.Services.GetRequiredService<RepoProbe>();

        var ok = await probe.ValidateAsync(url, null, null, CancellationToken.None);
        Assert.Equal(new RepoValidation(true, 4, 4, null, null), ok);
        Assert.Equal(new RepoValidation(true, 4, 4, null, null), await probe.ValidateAsync(IndexerFixture.FileUrl(site), null, null, CancellationToken.None));

        site.Authorization = "Bearer tok-9";
        Assert.True((await probe.ValidateAsync(url, new RepoCredential(null, null, "tok-9"), null, CancellationToken.None)).Ok);
        var denied = await probe.ValidateAsync(url, null, null, CancellationToken.None);
        Assert.Equal((false, "fetch.http_status"), (denied.Ok, denied.ErrorCode));

        site.Authorization = null;
        await File.WriteAllTextAsync(site.IndexPath, "entries: [");
        Assert.Equal("index.invalid_yaml", (await probe.ValidateAsync(url, null, null, CancellationToken.None)).ErrorCode);
        Assert.Equal("repo.url_invalid", (await probe.ValidateAsync("ftp://example.com/", null, null, CancellationToken.None)).ErrorCode);
    }

    private Task<string?> BlobTextAsync(string? digest) => fixture.WithDbAsync(db => BlobStore.GetTextAsync(db, digest, CancellationToken.None));

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true within 20 seconds.");
            await Task.Delay(20);
        }
    }

    private static async Task EditIndexAsync(RepoSite site, Action<RepoIndex> edit)
    {
        var index = RepoIndex.Parse(await File.ReadAllTextAsync(site.IndexPath));
        edit(index);
        await File.WriteAllTextAsync(site.IndexPath, index.ToYaml());
    }

    private static void Replace(RepoIndex index, string name, Func<IndexEntry, IndexEntry> change, string? digest = null, List<string>? urls = null)
    {
        var entry = change(index.Entries[name][0]);
        index.Entries[name][0] = Copy(entry, digest: digest, urls: urls);
    }

    private static void Replace(RepoIndex index, string name, Action<IndexEntry> change) => change(index.Entries[name][0]);

    private static IndexEntry Copy(IndexEntry entry, string? version = null, string? digest = null, List<string>? urls = null, bool removed = false) => new()
    {
        Name = entry.Name,
        Version = version ?? entry.Version,
        Urls = urls ?? entry.Urls.ToList(),
        Digest = digest ?? entry.Digest,
        Created = entry.Created,
        Removed = removed,
        Metadata = new Dictionary<string, object?>(entry.Metadata, StringComparer.Ordinal),
    };

    /// <summary>A gzip tar whose second entry climbs out of the extraction directory.</summary>
    private static byte[] TraversalArchive()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "evil/package.json") { DataStream = new MemoryStream("""{"name":"evil","version":"1.0.0"}"""u8.ToArray()) });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "evil/../../escape.txt") { DataStream = new MemoryStream("gotcha"u8.ToArray()) });
        }

        return buffer.ToArray();
    }
}

public sealed class SqliteRepoSyncerTests(SqliteIndexerFixture fixture, ITestOutputHelper output) : RepoSyncerTests(fixture, output), IClassFixture<SqliteIndexerFixture>;

public sealed class PostgresRepoSyncerTests(PostgresIndexerFixture fixture, ITestOutputHelper output) : RepoSyncerTests(fixture, output), IClassFixture<PostgresIndexerFixture>;
