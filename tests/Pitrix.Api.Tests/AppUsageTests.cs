using System.Net;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>What the developer console reads: "my apps" (<c>authored=true</c>) and clusters per version (<c>/apps/{id}/usage</c>).</summary>
public abstract class AppUsageTests(ServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Usage_CountsClustersPerVersion_OnlyThoseTheCallerMayRead()
    {
        using var admin = await Server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        var other = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("other") });
        using var developer = await Server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [group.Id]);
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("user"), ["user"], [group.Id]);
        using var outsider = await Server.CreateUserAsync(ServerFixture.Unique("outsider"), ["developer"], [other.Id]);

        var (name, archive) = await SamplePackages.BuildAsync();
        var first = await developer.UploadAsync("/api/v1/apps", archive);
        Assert.True(first.Status == HttpStatusCode.Created, first.ToString());
        var appId = (string)first.Body!["app_id"]!;
        foreach (var (session, action) in new[] { (developer, "submit"), (admin, "review"), (admin, "pass"), (developer, "release") })
        {
            Assert.Equal(HttpStatusCode.OK, (await session.PostAsync($"/api/v1/app_versions/{first.Id}:{action}")).Status);
        }

        var (_, archive2) = await SamplePackages.BuildAsync(version: "1.1.0", name: name);
        var second = await developer.UploadAsync($"/api/v1/apps/{appId}/versions", archive2);
        Assert.Equal(HttpStatusCode.Created, second.Status);

        // Nothing deployed yet.
        var empty = await developer.GetAsync($"/api/v1/apps/{appId}/usage");
        Assert.Equal(HttpStatusCode.OK, empty.Status);
        Assert.Equal(0, (int)empty.Body!["clusters"]!);
        Assert.Empty(empty.Body["versions"]!.AsArray());

        // The group's user deploys 1.0.0 twice: once shared with the group, once privately.
        var runtime = await FakeCloudWorld.FakeRuntimeAsync(admin);
        foreach (var shared in new[] { true, false })
        {
            var created = await user.PostAsync("/api/v1/clusters", new
            {
                name = ServerFixture.Unique("cl"),
                app_version_id = first.Id,
                runtime_id = runtime,
                values = new { cluster = new { subnet = "s" } },
                labels = new Dictionary<string, string> { ["fake.latency-ms"] = "60000" },
                visibility = shared ? "group" : "private",
                group_id = shared ? group.Id : null,
            });
            Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        }

        // The developer counts the cluster they may read; an admin reads both; the private one is never revealed.
        var mine = await developer.GetAsync($"/api/v1/apps/{appId}/usage");
        Assert.Equal(1, (int)mine.Body!["clusters"]!);
        var version = Assert.Single(mine.Body["versions"]!.AsArray())!;
        Assert.Equal(first.Id, (string?)version["app_version_id"]);
        Assert.Equal("1.0.0", (string?)version["version"]);
        Assert.Equal(1, (int)version["clusters"]!);
        Assert.Equal(1, (int)version["statuses"]!["pending"]!);
        Assert.Equal(2, (int)(await admin.GetAsync($"/api/v1/apps/{appId}/usage")).Body!["clusters"]!);

        // Usage is for authors and reviewers: a user of the group is refused, an outsider does not see the app.
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync($"/api/v1/apps/{appId}/usage")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/api/v1/apps/{appId}/usage")).Status);
    }

    [Fact]
    public async Task ListApps_Authored_GivesTheAppsTheCallerMayAuthor_DraftsIncluded()
    {
        using var admin = await Server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        using var developer = await Server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [group.Id]);
        var (draftName, draft) = await SamplePackages.BuildAsync();
        Assert.Equal(HttpStatusCode.Created, (await developer.UploadAsync("/api/v1/apps", draft)).Status);

        // A released app of a public store: in the developer's store, not among their apps.
        var store = await FakeCloudWorld.PublicRepoAsync(admin);
        var publicName = ServerFixture.Unique("public");
        await FakeCloudWorld.ReleaseSampleAsync(admin, store, publicName, "1.0.0");

        var authored = await developer.GetAsync("/api/v1/apps?status=any&authored=true&limit=200");
        var names = authored.Body!["items"]!.AsArray().Select(a => (string?)a!["name"]).ToList();
        Assert.Contains(draftName, names);
        Assert.DoesNotContain(publicName, names);
        Assert.Equal(names.Count, (int)authored.Body["total"]!);
        Assert.Contains(publicName, (await developer.GetAsync($"/api/v1/apps?status=any&q={publicName}")).Body!["items"]!.AsArray().Select(a => (string?)a!["name"]));

        // Without status=any, authored still means active apps only, as everywhere else.
        Assert.DoesNotContain(draftName, (await developer.GetAsync("/api/v1/apps?authored=true&limit=200")).Body!["items"]!.AsArray().Select(a => (string?)a!["name"]));
    }
}

public sealed class SqliteAppUsageTests(SqliteFakeCloudServerFixture fixture) : AppUsageTests(fixture), IClassFixture<SqliteFakeCloudServerFixture>;

public sealed class PostgresAppUsageTests(PostgresFakeCloudServerFixture fixture) : AppUsageTests(fixture), IClassFixture<PostgresFakeCloudServerFixture>;
