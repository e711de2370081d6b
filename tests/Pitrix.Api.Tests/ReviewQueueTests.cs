using System.Net;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>The review queue (<c>GET /reviews</c>) and the users of a group (<c>GET /users?group_id=</c>); once per database backend.</summary>
public abstract class ReviewQueueTests(ServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task ReviewQueue_ListsVersionsAwaitingReview_ThatTheCallerMayReview()
    {
        using var admin = await Server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        var otherGroup = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("other") });
        var developerName = ServerFixture.Unique("dev");
        using var developer = await Server.CreateUserAsync(developerName, ["developer"], [group.Id]);
        using var isv = await Server.CreateUserAsync(ServerFixture.Unique("isv"), ["isv"], [group.Id]);
        using var outsider = await Server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [otherGroup.Id]);

        // Four apps sharing a word: a draft, a submitted one, one in review, and another group's submitted one.
        var word = "rq" + Guid.NewGuid().ToString("N")[..8];
        var draft = await UploadAsync(developer, word + "-draft");
        var submitted = await UploadAsync(developer, word + "-submitted");
        var inReview = await UploadAsync(developer, word + "-inreview");
        var foreign = await UploadAsync(outsider, word + "-foreign");
        await MoveAsync(developer, submitted, "submit");
        await MoveAsync(developer, inReview, "submit");
        await MoveAsync(admin, inReview, "review");
        await MoveAsync(outsider, foreign, "submit");

        // Admins see every version awaiting review, the longest waiting first, with who and when.
        var queue = await admin.GetAsync($"/api/v1/reviews?q={word}");
        Assert.True(queue.Status == HttpStatusCode.OK, queue.ToString());
        Assert.Equal(3, (int)queue.Body!["total"]!);
        var items = queue.Body["items"]!.AsArray();
        Assert.Equal([submitted, inReview, foreign], items.Select(i => (string)i!["id"]!).ToArray());
        var first = items[0]!;
        Assert.Equal(word + "-submitted", (string?)first["app_name"]);
        Assert.Equal("submitted", (string?)first["status"]);
        Assert.Equal(developerName, (string?)first["owner_name"]);
        Assert.StartsWith("uploads-", (string?)first["repo_name"], StringComparison.Ordinal);
        Assert.NotNull((string?)first["submitted_at"]);
        Assert.Equal("in_review", (string?)items[1]!["status"]);

        // Filters: one status, any status, newest first, paging.
        var drafts = await admin.GetAsync($"/api/v1/reviews?q={word}&status=draft");
        Assert.Equal(draft, (string)Assert.Single(drafts.Body!["items"]!.AsArray())!["id"]!);
        Assert.Null((string?)drafts.Body["items"]![0]!["submitted_at"]);
        Assert.Equal(4, (int)(await admin.GetAsync($"/api/v1/reviews?q={word}&status=any")).Body!["total"]!);
        var newest = await admin.GetAsync($"/api/v1/reviews?q={word}&sort=-status_changed_at&limit=1");
        Assert.Equal(foreign, (string)Assert.Single(newest.Body!["items"]!.AsArray())!["id"]!);
        Assert.Equal(3, (int)newest.Body["total"]!);

        // An isv reviews their own group's versions only; developers and users have no queue.
        var isvQueue = await isv.GetAsync($"/api/v1/reviews?q={word}");
        Assert.Equal([submitted, inReview], isvQueue.Body!["items"]!.AsArray().Select(i => (string)i!["id"]!).ToArray());
        var refused = await developer.GetAsync("/api/v1/reviews");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("access.role_required", refused.Code);

        var badStatus = await admin.GetAsync("/api/v1/reviews?status=pending");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.Status);
        Assert.NotNull(badStatus.Body!["errors"]!["status"]);

        // Passed, it leaves the queue.
        await MoveAsync(admin, inReview, "pass");
        Assert.Equal(2, (int)(await admin.GetAsync($"/api/v1/reviews?q={word}")).Body!["total"]!);
    }

    [Fact]
    public async Task Users_FilteredByGroup_AreItsMembers()
    {
        using var admin = await Server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("team") });
        using var member = await Server.CreateUserAsync(ServerFixture.Unique("member"), ["user"], [group.Id]);
        using var stranger = await Server.CreateUserAsync(ServerFixture.Unique("stranger"), ["user"]);

        var members = await admin.GetAsync($"/api/v1/users?group_id={group.Id}");
        Assert.Equal(HttpStatusCode.OK, members.Status);
        Assert.Equal([member.UserId!], members.Body!["items"]!.AsArray().Select(u => (string)u!["id"]!).ToArray());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsync($"/api/v1/groups/{group.Id}/members/{stranger.UserId}")).Status);
        Assert.Equal(2, (int)(await admin.GetAsync($"/api/v1/users?group_id={group.Id}")).Body!["total"]!);
        Assert.Equal(0, (int)(await admin.GetAsync("/api/v1/users?group_id=grp-none")).Body!["total"]!);
    }

    private static async Task<string> UploadAsync(ApiSession developer, string name)
    {
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0", name);
        var uploaded = await developer.UploadAsync("/api/v1/apps", archive);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        return uploaded.Id;
    }

    private static async Task MoveAsync(ApiSession session, string versionId, string action)
    {
        var moved = await session.PostAsync($"/api/v1/app_versions/{versionId}:{action}", new { message = "ok" });
        Assert.True(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
    }
}

public sealed class SqliteReviewQueueTests(SqliteServerFixture fixture) : ReviewQueueTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresReviewQueueTests(PostgresServerFixture fixture) : ReviewQueueTests(fixture), IClassFixture<PostgresServerFixture>;
