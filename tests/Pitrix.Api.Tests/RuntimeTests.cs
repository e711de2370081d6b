using System.Net;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>Runtimes, credentials, visibility and groups; runs once per database backend.</summary>
public abstract class RuntimeTests(ServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task CreateRuntime_Local_CanBeReadListedAndValidated()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("owner"), ["user"]);
        var zone = ServerFixture.Unique("zone");
        var created = await user.PostAsync("/api/v1/runtimes", new { name = "dev", provider = "local", zone, labels = new Dictionary<string, string> { ["env"] = "dev", ["pitrix.dev/tier"] = "gold" } });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("private", (string?)created.Body!["visibility"]);
        Assert.Equal("gold", (string?)created.Body["labels"]!["pitrix.dev/tier"]);

        var fetched = await user.GetAsync($"/api/v1/runtimes/{created.Id}");
        Assert.Equal(zone, (string?)fetched.Body!["zone"]);

        var listed = await user.GetAsync($"/api/v1/runtimes?owner_id={user.UserId}");
        Assert.Equal(1, (int)listed.Body!["total"]!);

        var validation = await user.PostAsync($"/api/v1/runtimes/{created.Id}:validate");
        Assert.Equal(HttpStatusCode.OK, validation.Status);
        Assert.True((bool)validation.Body!["ok"]!, validation.Text);
        Assert.True(Directory.Exists(Path.Combine(Server.DataDirectory, "local", zone)));
    }

    [Fact]
    public async Task CreateRuntime_BadInput_Returns400WithFields_AndStoresNothing()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("typo"), ["user"]);
        var unknownProvider = await user.PostAsync("/api/v1/runtimes", new { name = "x", provider = "mars" });
        Assert.Equal(HttpStatusCode.BadRequest, unknownProvider.Status);
        Assert.Contains("mars", (string?)unknownProvider.Body!["errors"]!["provider"]![0], StringComparison.Ordinal);

        var badZone = await user.PostAsync("/api/v1/runtimes", new { name = "x", provider = "local", zone = "../../etc" });
        Assert.NotNull(badZone.Body!["errors"]!["zone"]);

        var missing = await user.PostAsync("/api/v1/runtimes", new { provider = "local" });
        Assert.NotNull(missing.Body!["errors"]!["name"]);

        var badLabel = await user.PostAsync("/api/v1/runtimes", new { name = "x", provider = "local", labels = new Dictionary<string, string> { ["bad key!"] = "v" } });
        Assert.Equal(HttpStatusCode.BadRequest, badLabel.Status);

        Assert.Equal(0, (int)(await user.GetAsync($"/api/v1/runtimes?owner_id={user.UserId}")).Body!["total"]!);
    }

    [Fact]
    public async Task CreateRuntime_DuplicateName_Returns409()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("twice"), ["user"]);
        Assert.Equal(HttpStatusCode.Created, (await user.PostAsync("/api/v1/runtimes", new { name = "same", provider = "local" })).Status);
        var again = await user.PostAsync("/api/v1/runtimes", new { name = "same", provider = "local" });
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("runtime.name_taken", again.Code);
    }

    [Fact]
    public async Task CreateRuntime_ConcurrentDuplicates_OneWinsOthersGet409()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("racer"), ["user"]);
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => user.PostAsync("/api/v1/runtimes", new { name = "raced", provider = "local" })));
        Assert.Single(responses, r => r.Status == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.Status != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
        Assert.Equal(1, (int)(await user.GetAsync($"/api/v1/runtimes?owner_id={user.UserId}")).Body!["total"]!);
    }

    [Fact]
    public async Task OtherUsersPrivateRuntime_IsNotFound_AndSurvivesDeleteAttempt()
    {
        using var owner = await Server.CreateUserAsync(ServerFixture.Unique("alice"), ["user"]);
        using var other = await Server.CreateUserAsync(ServerFixture.Unique("mallory"), ["developer"]);
        var runtime = await owner.PostAsync("/api/v1/runtimes", new { name = "mine", provider = "local" });

        Assert.Equal("runtime.not_found", (await other.GetAsync($"/api/v1/runtimes/{runtime.Id}")).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/v1/runtimes/{runtime.Id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PatchAsync($"/api/v1/runtimes/{runtime.Id}", new { name = "stolen" })).Status);
        Assert.Equal(0, (int)(await other.GetAsync($"/api/v1/runtimes?owner_id={owner.UserId}")).Body!["total"]!);

        var still = await owner.GetAsync($"/api/v1/runtimes/{runtime.Id}");
        Assert.Equal("mine", (string?)still.Body!["name"]);
    }

    [Fact]
    public async Task PublicRuntime_OnlyAdminCreates_OthersReadButCannotChange()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("pub"), ["isv"]);
        var denied = await user.PostAsync("/api/v1/runtimes", new { name = "shared", provider = "local", visibility = "public" });
        Assert.Equal(HttpStatusCode.Forbidden, denied.Status);
        Assert.Equal("access.public_requires_admin", denied.Code);

        using var admin = await Server.LoginAdminAsync();
        var shared = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("public"), provider = "local", visibility = "public" });
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/api/v1/runtimes/{shared.Id}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await user.PostAsync($"/api/v1/runtimes/{shared.Id}:validate")).Status);
        var change = await user.PatchAsync($"/api/v1/runtimes/{shared.Id}", new { description = "mine now" });
        Assert.Equal(HttpStatusCode.Forbidden, change.Status);
        Assert.Equal("access.forbidden", change.Code);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.DeleteAsync($"/api/v1/runtimes/{shared.Id}")).Status);
    }

    [Fact]
    public async Task GroupRuntime_VisibleToGroupAndSubgroups_ManagedByIsvOnly()
    {
        using var admin = await Server.LoginAdminAsync();
        var org = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        var team = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("team"), parent_id = org.Id });
        using var developer = await Server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [org.Id]);
        using var teammate = await Server.CreateUserAsync(ServerFixture.Unique("mate"), ["developer"], [team.Id]);
        using var vendorAdmin = await Server.CreateUserAsync(ServerFixture.Unique("vadmin"), ["isv"], [org.Id]);
        using var outsider = await Server.CreateUserAsync(ServerFixture.Unique("out"), ["isv"]);

        var notMember = await outsider.PostAsync("/api/v1/runtimes", new { name = "x", provider = "local", visibility = "group", group_id = org.Id });
        Assert.Equal("access.group_not_member", notMember.Code);

        var runtime = await developer.PostAsync("/api/v1/runtimes", new { name = "team-rt", provider = "local", visibility = "group", group_id = org.Id });
        Assert.Equal(HttpStatusCode.Created, runtime.Status);

        Assert.Equal(HttpStatusCode.OK, (await teammate.GetAsync($"/api/v1/runtimes/{runtime.Id}")).Status);
        Assert.Equal(1, (int)(await teammate.GetAsync("/api/v1/runtimes?visibility=group")).Body!["total"]!);
        Assert.Equal(HttpStatusCode.Forbidden, (await teammate.PatchAsync($"/api/v1/runtimes/{runtime.Id}", new { description = "x" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await vendorAdmin.PatchAsync($"/api/v1/runtimes/{runtime.Id}", new { description = "managed" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/api/v1/runtimes/{runtime.Id}")).Status);

        // The vendor admin of the parent group sees and manages what a subgroup shares.
        var teamRuntime = await teammate.PostAsync("/api/v1/runtimes", new { name = "squad-rt", provider = "local", visibility = "group", group_id = team.Id });
        Assert.Equal(HttpStatusCode.Created, teamRuntime.Status);
        var listed = await vendorAdmin.GetAsync($"/api/v1/runtimes?owner_id={teammate.UserId}");
        Assert.Equal(teamRuntime.Id, (string?)listed.Body!["items"]![0]!["id"]);
        Assert.Equal(HttpStatusCode.NoContent, (await vendorAdmin.DeleteAsync($"/api/v1/runtimes/{teamRuntime.Id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync($"/api/v1/runtimes/{runtime.Id}x")).Status);
    }

    [Fact]
    public async Task Credential_SecretIsWriteOnly_AndNeverReturned()
    {
        const string secret = "AKIA-SUPER-SECRET-VALUE-0123456789";
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("keys"), ["user"]);
        var created = await user.PostAsync("/api/v1/credentials", new { name = "aws", provider = "local", endpoint_url = "https://example.invalid", secret });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.True((bool)created.Body!["has_secret"]!);

        var responses = new List<ApiResponse>
        {
            created,
            await user.GetAsync($"/api/v1/credentials/{created.Id}"),
            await user.GetAsync("/api/v1/credentials"),
            await user.PatchAsync($"/api/v1/credentials/{created.Id}", new { secret = secret + "-rotated" }),
        };
        var runtime = await user.PostAsync("/api/v1/runtimes", new { name = "with-cred", provider = "local", credential_id = created.Id });
        responses.Add(runtime);
        responses.Add(await user.PostAsync($"/api/v1/runtimes/{runtime.Id}:validate"));
        responses.Add(await user.GetAsync("/api/v1/audit?limit=200"));
        foreach (var response in responses)
        {
            Assert.DoesNotContain(secret, response.Text, StringComparison.Ordinal);
        }

        var inUse = await user.DeleteAsync($"/api/v1/credentials/{created.Id}");
        Assert.Equal(HttpStatusCode.Conflict, inUse.Status);
        Assert.Equal("credential.in_use", inUse.Code);
    }

    [Fact]
    public async Task Credential_CannotBePublic_AndOthersCannotUseIt()
    {
        using var owner = await Server.CreateUserAsync(ServerFixture.Unique("credowner"), ["user"]);
        using var other = await Server.CreateUserAsync(ServerFixture.Unique("credthief"), ["user"]);
        var isPublic = await owner.PostAsync("/api/v1/credentials", new { name = "p", provider = "local", secret = "s", visibility = "public" });
        Assert.Equal(HttpStatusCode.BadRequest, isPublic.Status);
        Assert.NotNull(isPublic.Body!["errors"]!["visibility"]);

        var credential = await owner.PostAsync("/api/v1/credentials", new { name = "c", provider = "local", secret = "s" });
        var borrowed = await other.PostAsync("/api/v1/runtimes", new { name = "borrow", provider = "local", credential_id = credential.Id });
        Assert.Equal(HttpStatusCode.NotFound, borrowed.Status);
        Assert.Equal("credential.not_found", borrowed.Code);
    }

    [Fact]
    public async Task List_PagingSortAndSearch_FollowConventions()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("pager"), ["user"]);
        foreach (var name in new[] { "charlie", "alpha", "bravo" })
        {
            await user.PostAsync("/api/v1/runtimes", new { name, provider = "local" });
        }

        var page = await user.GetAsync($"/api/v1/runtimes?limit=2&sort=name&owner_id={user.UserId}");
        Assert.Equal(3, (int)page.Body!["total"]!);
        Assert.Equal("alpha,bravo", string.Join(",", page.Body["items"]!.AsArray().Select(i => (string?)i!["name"])));
        Assert.Equal(2, (int)page.Body["next_offset"]!);

        var descending = await user.GetAsync($"/api/v1/runtimes?sort=-name&offset=1&owner_id={user.UserId}");
        Assert.Equal("bravo,alpha", string.Join(",", descending.Body!["items"]!.AsArray().Select(i => (string?)i!["name"])));

        var search = await user.GetAsync($"/api/v1/runtimes?q=rav&owner_id={user.UserId}");
        Assert.Equal("bravo", (string?)search.Body!["items"]![0]!["name"]);

        foreach (var bad in new[] { "limit=0", "limit=201", "limit=ten", "offset=-1", "sort=password" })
        {
            var response = await user.GetAsync("/api/v1/runtimes?" + bad);
            Assert.Equal(HttpStatusCode.BadRequest, response.Status);
            Assert.Equal("validation.failed", response.Code);
            Assert.NotNull(response.Body!["errors"]!.AsObject().Single().Value);
        }
    }

    [Fact]
    public async Task Providers_ListsLocal()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("prov"), ["user"]);
        var providers = await user.GetAsync("/api/v1/providers");
        Assert.Contains("local", providers.Body!.AsArray().Select(p => (string?)p!["name"]));
    }
}

public sealed class SqliteRuntimeTests(SqliteServerFixture fixture) : RuntimeTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresRuntimeTests(PostgresServerFixture fixture) : RuntimeTests(fixture), IClassFixture<PostgresServerFixture>;
