using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>Uploads, the review workflow, search, categories, runtime matching and the Helm index; once per database backend.</summary>
public abstract class CatalogTests(ServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    /// <summary>A vendor group with a developer, an isv and a user, plus an outsider in another group.</summary>
    private sealed record Vendor(string GroupId, ApiSession Developer, ApiSession Isv, ApiSession User, ApiSession Outsider, ApiSession Admin) : IDisposable
    {
        public void Dispose()
        {
            Developer.Dispose();
            Isv.Dispose();
            User.Dispose();
            Outsider.Dispose();
            Admin.Dispose();
        }
    }

    private async Task<Vendor> VendorAsync()
    {
        var admin = await Server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        var other = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("other") });
        return new Vendor(
            group.Id,
            await Server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [group.Id]),
            await Server.CreateUserAsync(ServerFixture.Unique("isv"), ["isv"], [group.Id]),
            await Server.CreateUserAsync(ServerFixture.Unique("user"), ["user"], [group.Id]),
            await Server.CreateUserAsync(ServerFixture.Unique("outsider"), ["developer"], [other.Id]),
            admin);
    }

    private static Task<(string Name, byte[] Archive)> PackageAsync(string sample = "zookeeper", string version = "1.0.0", string? name = null, Action<string>? edit = null) =>
        SamplePackages.BuildAsync(sample, version, name, edit);

    private static async Task<(string AppId, string VersionId)> UploadAsync(ApiSession session, byte[] archive, IReadOnlyDictionary<string, string>? fields = null)
    {
        var uploaded = await session.UploadAsync("/api/v1/apps", archive, fields: fields);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        return ((string)uploaded.Body!["app_id"]!, uploaded.Id);
    }

    private static async Task ReleaseAsync(ApiSession author, ApiSession reviewer, string versionId)
    {
        foreach (var (session, action) in new[] { (author, "submit"), (reviewer, "review"), (reviewer, "pass"), (author, "release") })
        {
            var moved = await session.PostAsync($"/api/v1/app_versions/{versionId}:{action}", new { message = "ok" });
            Assert.True(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
        }
    }

    [Fact]
    public async Task Search_FindsNamesWhoseSuffixLooksLikeANumber()
    {
        // PostgreSQL's parser reads "zk-87940821" as a word and a negative number, and "8e0995b2" alone as a
        // number followed by a word: every such name must still be found by its own words.
        using var v = await VendorAsync();
        var digits = Random.Shared.Next(10_000_000, 99_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var scientific = $"{Random.Shared.Next(1, 9)}e{Random.Shared.Next(1000, 9999)}b{Random.Shared.Next(1, 9)}";
        foreach (var name in new[] { $"num-{digits}", $"sci-{scientific}" })
        {
            var (_, archive) = await PackageAsync(name: name);
            var (_, versionId) = await UploadAsync(v.Developer, archive);
            await ReleaseAsync(v.Developer, v.Admin, versionId);
        }

        foreach (var q in new[] { $"num-{digits}", digits, $"sci-{scientific}", scientific, scientific[..4] })
        {
            var found = await v.User.GetAsync($"/api/v1/apps?q={Uri.EscapeDataString(q)}");
            Assert.True((int)found.Body!["total"]! == 1, $"q={q}: {found}");
        }
    }

    [Fact]
    public async Task Upload_ReviewToActive_ThenVisibleToGroupOnly_AndHistoryRecorded()
    {
        using var v = await VendorAsync();
        var (name, archive) = await PackageAsync(edit: dir =>
        {
            var path = Path.Combine(dir, "package.json");
            var metadata = JsonNode.Parse(File.ReadAllText(path))!;
            metadata["screenshots"] = new JsonArray("https://example.com/shot-1.png");
            File.WriteAllText(path, metadata.ToJsonString());
        });
        var uploaded = await v.Developer.UploadAsync("/api/v1/apps", archive, fields: new Dictionary<string, string> { ["message"] = "first cut" });
        Assert.Equal(HttpStatusCode.Created, uploaded.Status);
        Assert.Equal("draft", (string?)uploaded.Body!["status"]);
        Assert.Equal(name, (string?)uploaded.Body["app_name"]);
        Assert.NotNull((string?)uploaded.Body["readme"]);
        Assert.NotNull(uploaded.Body["config"]!["properties"]);
        Assert.Contains("local", uploaded.Body["providers"]!.AsArray().Select(p => (string?)p));
        var versionId = uploaded.Id;
        var appId = (string)uploaded.Body["app_id"]!;

        // A draft is for its authors: the group's user and the outsider do not see it anywhere.
        Assert.Equal(HttpStatusCode.OK, (await v.Developer.GetAsync($"/api/v1/apps/{appId}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await v.Isv.GetAsync($"/api/v1/app_versions/{versionId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/apps/{appId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/app_versions/{versionId}")).Status);
        Assert.Equal(0, (int)(await v.User.GetAsync($"/api/v1/apps?q={name}")).Body!["total"]!);

        // The developer may not review their own work; a reviewer may not release it; wrong states are refused.
        Assert.Equal("app_version.invalid_transition", (await v.Developer.PostAsync($"/api/v1/app_versions/{versionId}:release")).Code);
        Assert.Equal(HttpStatusCode.OK, (await v.Developer.PostAsync($"/api/v1/app_versions/{versionId}:submit", new { message = "please" })).Status);
        var selfReview = await v.Developer.PostAsync($"/api/v1/app_versions/{versionId}:review");
        Assert.Equal(HttpStatusCode.Forbidden, selfReview.Status);
        Assert.Equal("app_version.forbidden_transition", selfReview.Code);
        Assert.Equal(HttpStatusCode.OK, (await v.Admin.PostAsync($"/api/v1/app_versions/{versionId}:review")).Status);
        var noReason = await v.Admin.PostAsync($"/api/v1/app_versions/{versionId}:reject", new { });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.Status);
        Assert.Equal(HttpStatusCode.OK, (await v.Admin.PostAsync($"/api/v1/app_versions/{versionId}:pass", new { message = "looks good" })).Status);
        var released = await v.Developer.PostAsync($"/api/v1/app_versions/{versionId}:release");
        Assert.Equal("active", (string?)released.Body!["status"]);

        // Released: the group sees it in lists, search and get; the outsider still sees nothing.
        var search = await v.User.GetAsync($"/api/v1/apps?q={name}");
        Assert.Equal(1, (int)search.Body!["total"]!);
        Assert.Equal("https://example.com/shot-1.png", (string?)search.Body["items"]![0]!["screenshots"]![0]);
        Assert.Equal("/api/v1/apps/" + appId + "/icon", (string?)search.Body["items"]![0]!["icon"]);
        Assert.Equal("1.0.0", (string?)search.Body["items"]![0]!["active_version"]);
        Assert.Equal(HttpStatusCode.OK, (await v.User.GetAsync($"/api/v1/app_versions/{versionId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.Outsider.GetAsync($"/api/v1/apps/{appId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.Outsider.GetAsync($"/api/v1/apps/{appId}/versions")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.Outsider.GetAsync($"/api/v1/app_versions/{versionId}/runtimes")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.Outsider.GetAsync($"/api/v1/app_versions/{versionId}/package")).Status);
        Assert.Equal(0, (int)(await v.Outsider.GetAsync($"/api/v1/apps?q={name}")).Body!["total"]!);
        Assert.Equal(0, (int)(await v.Outsider.GetAsync($"/api/v1/apps?status=any&q={name}")).Body!["total"]!);

        // The history says who did what.
        var events = await v.Developer.GetAsync($"/api/v1/app_versions/{versionId}/events");
        Assert.Equal(["upload", "submit", "review", "pass", "release"], events.Body!.AsArray().Select(e => (string)e!["action"]!).ToArray());
        Assert.Equal("admin", (string?)events.Body[3]!["actor_name"]);
        Assert.Equal("looks good", (string?)events.Body[3]!["message"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await v.User.GetAsync($"/api/v1/app_versions/{versionId}/events")).Status);

        // A newer draft does not disturb the released version.
        var (_, archive2) = await PackageAsync(version: "1.1.0", name: name);
        var second = await v.Developer.UploadAsync($"/api/v1/apps/{appId}/versions", archive2);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        var app = await v.User.GetAsync($"/api/v1/apps/{appId}");
        Assert.Equal("1.0.0", (string?)app.Body!["active_version"]);
        Assert.Equal(1, (int)(await v.User.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["total"]!);
        Assert.Equal(2, (int)(await v.Developer.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["total"]!);

        // The package downloads as uploaded.
        using var download = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/app_versions/{versionId}/package");
        download.Headers.Authorization = new AuthenticationHeaderValue("Bearer", v.User.Token);
        using var response = await v.User.Http.SendAsync(download);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(archive, await response.Content.ReadAsByteArrayAsync());

        // Suspended by a reviewer: the author cannot recover it.
        Assert.Equal(HttpStatusCode.OK, (await v.Admin.PostAsync($"/api/v1/app_versions/{versionId}:suspend", new { message = "CVE" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/apps/{appId}")).Status);
        Assert.Equal("app_version.forbidden_transition", (await v.Developer.PostAsync($"/api/v1/app_versions/{versionId}:recover")).Code);
        Assert.Equal(HttpStatusCode.OK, (await v.Admin.PostAsync($"/api/v1/app_versions/{versionId}:recover")).Status);
        Assert.Equal(HttpStatusCode.OK, (await v.User.GetAsync($"/api/v1/apps/{appId}")).Status);
    }

    [Fact]
    public async Task Upload_BadPackages_AreRefusedWithCodes_AndNothingIsStored()
    {
        using var v = await VendorAsync();
        var (name, broken) = await PackageAsync(edit: dir => File.WriteAllText(Path.Combine(dir, "config.json"), "{ not json"));
        var lint = await v.Developer.UploadAsync("/api/v1/apps", broken);
        Assert.Equal(HttpStatusCode.BadRequest, lint.Status);
        Assert.Equal("package.lint_failed", lint.Code);
        Assert.NotNull(lint.Body!["errors"]!["config.json"]);

        var hostile = await v.Developer.UploadAsync("/api/v1/apps", HostileArchive());
        Assert.Equal(HttpStatusCode.BadRequest, hostile.Status);
        Assert.StartsWith("archive.", hostile.Code, StringComparison.Ordinal);

        var notGzip = await v.Developer.UploadAsync("/api/v1/apps", Encoding.UTF8.GetBytes("hello"));
        Assert.Equal(HttpStatusCode.BadRequest, notGzip.Status);
        Assert.NotNull(notGzip.Code);

        var notMultipart = await v.Developer.PostAsync("/api/v1/apps", new { package = "x" });
        Assert.Equal("request.multipart_required", notMultipart.Code);

        var userUpload = await v.User.UploadAsync("/api/v1/apps", broken);
        Assert.Equal(HttpStatusCode.Forbidden, userUpload.Status);

        Assert.Equal(0, (int)(await v.Developer.GetAsync($"/api/v1/apps?status=any&q={name}")).Body!["total"]!);

        // A submitted version is immutable: uploading the same number again conflicts, and the stored one is untouched.
        var (good, archive) = await PackageAsync();
        var (_, versionId) = await UploadAsync(v.Developer, archive);
        Assert.Equal(HttpStatusCode.OK, (await v.Developer.PostAsync($"/api/v1/app_versions/{versionId}:submit")).Status);
        var (_, again) = await PackageAsync(name: good, edit: dir => File.AppendAllText(Path.Combine(dir, "README.md"), "\nchanged"));
        var duplicate = await v.Developer.UploadAsync("/api/v1/apps", again);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Equal("app_version.exists", duplicate.Code);
        Assert.Equal("submitted", (string?)(await v.Developer.GetAsync($"/api/v1/app_versions/{versionId}")).Body!["status"]);
    }

    [Fact]
    public async Task Search_RanksNameMatchesFirst_FiltersAndPages()
    {
        using var v = await VendorAsync();
        var tag = "zq" + Guid.NewGuid().ToString("N")[..6];
        var (byName, a1) = await PackageAsync(name: tag + "-db");
        var (byDescription, a2) = await PackageAsync(name: ServerFixture.Unique("other"), edit: dir =>
        {
            var path = Path.Combine(dir, "package.json");
            var metadata = JsonNode.Parse(File.ReadAllText(path))!;
            metadata["description"] = $"A tool that works with {tag} clusters";
            File.WriteAllText(path, metadata.ToJsonString());
        });
        foreach (var archive in new[] { a1, a2 })
        {
            var (_, versionId) = await UploadAsync(v.Developer, archive);
            await ReleaseAsync(v.Developer, v.Admin, versionId);
        }

        var results = await v.User.GetAsync($"/api/v1/apps?q={tag}");
        Assert.Equal(2, (int)results.Body!["total"]!);
        Assert.Equal(byName, (string?)results.Body["items"]![0]!["name"]);
        Assert.Equal(byDescription, (string?)results.Body["items"]![1]!["name"]);

        var prefix = await v.User.GetAsync($"/api/v1/apps?q={tag[..5]}");
        Assert.Equal(2, (int)prefix.Body!["total"]!);

        var paged = await v.User.GetAsync($"/api/v1/apps?q={tag}&limit=1&offset=1");
        Assert.True(paged.Status == HttpStatusCode.OK, paged.ToString());
        Assert.Equal(byDescription, (string?)paged.Body!["items"]![0]!["name"]);
        Assert.Equal(2, (int)paged.Body["total"]!);

        var helmOnly = await v.User.GetAsync($"/api/v1/apps?q={tag}&format=helm");
        Assert.Equal(0, (int)helmOnly.Body!["total"]!);
        var kube = await v.User.GetAsync($"/api/v1/apps?q={tag}&provider=kubernetes");
        Assert.Equal(0, (int)kube.Body!["total"]!);
        var local = await v.User.GetAsync($"/api/v1/apps?q={tag}&provider=local");
        Assert.Equal(2, (int)local.Body!["total"]!);

        // Query syntax of the search engines is never interpreted.
        foreach (var hostile in new[] { "\"", "a OR b", "*", "name:x", "')--", "!&|" })
        {
            var response = await v.User.GetAsync($"/api/v1/apps?q={Uri.EscapeDataString(hostile)}");
            Assert.Equal(HttpStatusCode.OK, response.Status);
        }
    }

    [Fact]
    public async Task Categories_AdminManages_AuthorsAssign_CountsOnlyVisibleApps()
    {
        using var v = await VendorAsync();
        var created = await v.Admin.PostAsync("/api/v1/categories", new { name = ServerFixture.Unique("Databases"), locale = new Dictionary<string, string> { ["zh-cn"] = "数据库" } });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("数据库", (string?)created.Body!["locale"]!["zh-cn"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await v.Isv.PostAsync("/api/v1/categories", new { name = "x" })).Status);
        Assert.Equal("category.name_taken", (await v.Admin.PostAsync("/api/v1/categories", new { name = (string)created.Body["name"]! })).Code);

        var (_, archive) = await PackageAsync();
        var (appId, versionId) = await UploadAsync(v.Developer, archive);
        await ReleaseAsync(v.Developer, v.Admin, versionId);
        Assert.Equal(HttpStatusCode.Forbidden, (await v.User.PutAsync($"/api/v1/apps/{appId}/categories", new { category_ids = new[] { created.Id } })).Status);
        Assert.Equal("validation.failed", (await v.Developer.PutAsync($"/api/v1/apps/{appId}/categories", new { category_ids = new[] { "ctg-nope" } })).Code);
        var assigned = await v.Developer.PutAsync($"/api/v1/apps/{appId}/categories", new { category_ids = new[] { created.Id } });
        Assert.Equal(created.Id, (string?)assigned.Body!["categories"]![0]!["id"]);

        Assert.Equal(1, (int)(await v.User.GetAsync($"/api/v1/apps?category={created.Id}")).Body!["total"]!);
        Assert.Equal(1, (int)(await v.User.GetAsync($"/api/v1/categories/{created.Id}")).Body!["app_count"]!);
        Assert.Equal(0, (int)(await v.Outsider.GetAsync($"/api/v1/categories/{created.Id}")).Body!["app_count"]!);
        Assert.Equal(0, (int)(await v.Outsider.GetAsync($"/api/v1/apps?category={created.Id}")).Body!["total"]!);

        Assert.Equal(HttpStatusCode.NoContent, (await v.Admin.DeleteAsync($"/api/v1/categories/{created.Id}")).Status);
        Assert.Empty((await v.User.GetAsync($"/api/v1/apps/{appId}")).Body!["categories"]!.AsArray());
    }

    [Fact]
    public async Task Runtimes_MatchRepoProvidersAndEverySelector_AmongThoseTheCallerMayUse()
    {
        using var v = await VendorAsync();
        var repo = await v.Isv.PostAsync("/api/v1/repos", new
        {
            name = ServerFixture.Unique("prod-apps"),
            providers = new[] { "local" },
            selectors = new[] { "env in (prod,staging)", "!legacy" },
        });
        Assert.Equal(HttpStatusCode.Created, repo.Status);
        Assert.Equal("upload", (string?)repo.Body!["type"]);
        Assert.Equal("group", (string?)repo.Body["visibility"]);

        var (_, archive) = await PackageAsync();
        var (_, versionId) = await UploadAsync(v.Developer, archive, new Dictionary<string, string> { ["repo_id"] = repo.Id });
        await ReleaseAsync(v.Developer, v.Isv, versionId);

        async Task<string> RuntimeAsync(ApiSession owner, object labels, string visibility = "private")
        {
            var created = await owner.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("rt"), provider = "local", labels, visibility, group_id = visibility == "group" ? v.GroupId : null });
            Assert.Equal(HttpStatusCode.Created, created.Status);
            return created.Id;
        }

        var prod = await RuntimeAsync(v.User, new Dictionary<string, string> { ["env"] = "prod" });
        var staging = await RuntimeAsync(v.Isv, new Dictionary<string, string> { ["env"] = "staging" }, "group");
        var dev = await RuntimeAsync(v.User, new Dictionary<string, string> { ["env"] = "dev" });
        var legacy = await RuntimeAsync(v.User, new Dictionary<string, string> { ["env"] = "prod", ["legacy"] = "" });
        var othersPrivate = await RuntimeAsync(v.Outsider, new Dictionary<string, string> { ["env"] = "prod" });

        var matched = await v.User.GetAsync($"/api/v1/app_versions/{versionId}/runtimes");
        Assert.Equal(HttpStatusCode.OK, matched.Status);
        var ids = matched.Body!.AsArray().Select(r => (string)r!["id"]!).ToHashSet();
        Assert.Contains(prod, ids);
        Assert.Contains(staging, ids);
        Assert.DoesNotContain(dev, ids);
        Assert.DoesNotContain(legacy, ids);
        Assert.DoesNotContain(othersPrivate, ids);

        var badSelector = await v.Isv.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("bad"), selectors = new[] { "env in prod" } });
        Assert.Equal(HttpStatusCode.BadRequest, badSelector.Status);
        Assert.NotNull(badSelector.Body!["errors"]!["selectors"]);
    }

    [Fact]
    public async Task HelmIndex_PublicWithoutCredentials_PrivateWithBasicApiToken_NeverOthers()
    {
        using var v = await VendorAsync();
        var publicRepo = await v.Admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("public"), visibility = "public" });
        Assert.Equal(HttpStatusCode.Created, publicRepo.Status);
        var (name, archive) = await PackageAsync();
        var (_, versionId) = await UploadAsync(v.Admin, archive, new Dictionary<string, string> { ["repo_id"] = publicRepo.Id });
        var (draftName, draft) = await PackageAsync();
        await UploadAsync(v.Admin, draft, new Dictionary<string, string> { ["repo_id"] = publicRepo.Id });
        await ReleaseAsync(v.Admin, v.Admin, versionId);

        using var anonymous = Server.Anonymous();
        var index = await anonymous.GetAsync($"/api/v1/repos/{publicRepo.Id}/index.yaml?format=all");
        Assert.Equal(HttpStatusCode.OK, index.Status);
        Assert.Contains($"{name}:", index.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(draftName, index.Text, StringComparison.Ordinal);
        Assert.Contains($"/api/v1/app_versions/{versionId}/package", index.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(name, (await anonymous.GetAsync($"/api/v1/repos/{publicRepo.Id}/index.yaml")).Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/v1/app_versions/{versionId}/package")).Status);

        // A group's repo: anonymous callers are challenged, the outsider sees nothing, a member uses Basic + API token.
        var (privateName, privateArchive) = await PackageAsync();
        var (_, privateVersion) = await UploadAsync(v.Developer, privateArchive);
        await ReleaseAsync(v.Developer, v.Admin, privateVersion);
        var groupRepo = (string)(await v.Developer.GetAsync($"/api/v1/app_versions/{privateVersion}")).Body!["repo_id"]!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/repos/{groupRepo}/index.yaml")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.Outsider.GetAsync($"/api/v1/repos/{groupRepo}/index.yaml")).Status);

        var token = await v.User.PostAsync("/api/v1/me/tokens", new { name = "helm" });
        var me = await v.User.GetAsync("/api/v1/me");
        using var basic = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/repos/{groupRepo}/index.yaml?format=all");
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{(string)me.Body!["name"]!}:{(string)token.Body!["token"]!}")));
        using var basicResponse = await anonymous.Http.SendAsync(basic);
        Assert.Equal(HttpStatusCode.OK, basicResponse.StatusCode);
        Assert.Contains(privateName, await basicResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var password = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/repos/{groupRepo}/index.yaml");
        password.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{(string)me.Body["name"]!}:password-{(string)me.Body["name"]!}")));
        using var passwordResponse = await anonymous.Http.SendAsync(password);
        Assert.Equal(HttpStatusCode.Unauthorized, passwordResponse.StatusCode);
    }

    [Fact]
    public async Task SyncedRepo_BringsAppsWithDetails_WebhookResyncs_AndStaysPrivate()
    {
        using var v = await VendorAsync();
        var url = new Uri(RepoFiles.Path("samples", "repo") + "/").AbsoluteUri;
        Assert.Equal(HttpStatusCode.BadRequest, (await v.Isv.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("disk"), url })).Status);
        var repo = await v.Admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("samples"), url, visibility = "private" });
        Assert.Equal(HttpStatusCode.Created, repo.Status);
        var first = await WaitForSyncAsync(v.Admin, repo.Id);
        Assert.Equal("succeeded", (string?)first["status"]);
        Assert.Equal("created", (string?)first["trigger"]);
        Assert.Equal(4, (int)first["added"]!);

        var apps = await v.Admin.GetAsync($"/api/v1/apps?repo={repo.Id}&limit=50");
        Assert.Equal(4, (int)apps.Body!["total"]!);
        var web = apps.Body["items"]!.AsArray().Single(a => (string?)a!["name"] == "hello-web")!;
        Assert.Equal("helm", (string?)web["format"]);
        var webVersion = await v.Admin.GetAsync($"/api/v1/app_versions/{(string)web["active_version_id"]!}");
        Assert.Equal("stored", (string?)webVersion.Body!["details_status"]);
        Assert.Contains("replicaCount", (string?)webVersion.Body["values_yaml"], StringComparison.Ordinal);
        Assert.Equal(["kubernetes"], webVersion.Body["providers"]!.AsArray().Select(p => (string)p!).ToArray());
        using var download = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/app_versions/{(string)web["active_version_id"]!}/package");
        download.Headers.Authorization = new AuthenticationHeaderValue("Bearer", v.Admin.Token);
        using var downloaded = await v.Admin.Http.SendAsync(download);
        Assert.Equal(await File.ReadAllBytesAsync(RepoFiles.Path("samples", "repo", "hello-web-0.1.0.tgz")), await downloaded.Content.ReadAsByteArrayAsync());

        // Private: nothing of it reaches another user, in any list, search or index.
        Assert.Equal(0, (int)(await v.User.GetAsync($"/api/v1/apps?repo={repo.Id}&status=any")).Body!["total"]!);
        Assert.Equal(0, (int)(await v.User.GetAsync("/api/v1/apps?q=zookeeper&status=any")).Body!["items"]!.AsArray().Count(a => (string?)a!["repo_id"] == repo.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/repos/{repo.Id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/repos/{repo.Id}/syncs")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/repos/{repo.Id}/index.yaml")).Status);
        Assert.DoesNotContain((await v.User.GetAsync("/api/v1/repos?limit=200")).Body!["items"]!.AsArray(), r => (string?)r!["id"] == repo.Id);
        Assert.Equal(HttpStatusCode.NotFound, (await v.User.GetAsync($"/api/v1/apps/{(string)web["id"]!}")).Status);

        // Webhook: refused without the secret; with a GitHub-style signature it queues a sync.
        using var anonymous = Server.Anonymous();
        var body = Encoding.UTF8.GetBytes("""{"ref":"refs/heads/main"}""");
        Assert.Equal("webhook.invalid_signature", (await PostWebhookAsync(anonymous, repo.Id, body, "sha256=00")).Code);
        var rotated = await v.Admin.PostAsync($"/api/v1/repos/{repo.Id}:rotate_webhook_secret");
        var secret = (string)rotated.Body!["secret"]!;
        Assert.EndsWith($"/api/v1/repos/{repo.Id}/webhook", (string?)rotated.Body["webhook_url"], StringComparison.Ordinal);
        Assert.DoesNotContain(secret, (await v.Admin.GetAsync($"/api/v1/repos/{repo.Id}")).Text, StringComparison.Ordinal);
        var signature = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        var accepted = await PostWebhookAsync(anonymous, repo.Id, body, signature);
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        var second = await WaitForSyncAsync(v.Admin, repo.Id);
        Assert.Equal("webhook", (string?)second["trigger"]);
        Assert.True((bool)second["unchanged"]!);
        Assert.Equal(2, (int)(await v.Admin.GetAsync($"/api/v1/repos/{repo.Id}/syncs")).Body!["total"]!);

        Assert.Equal("repo.not_syncable", (await v.Isv.PostAsync($"/api/v1/repos/{(string)(await v.Isv.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("up") })).Body!["id"]!}:sync")).Code);
    }

    [Fact]
    public async Task ValidateRepo_ReportsReachabilityAndIndex_WithoutSaving()
    {
        using var v = await VendorAsync();
        var good = await v.Admin.PostAsync("/api/v1/repos:validate", new { url = new Uri(RepoFiles.Path("samples", "repo") + "/").AbsoluteUri });
        Assert.True((bool)good.Body!["ok"]!, good.Text);
        Assert.Equal(4, (int)good.Body["apps"]!);
        var missing = await v.Admin.PostAsync("/api/v1/repos:validate", new { url = new Uri(Path.Combine(Path.GetTempPath(), "no-such-repo") + "/").AbsoluteUri });
        Assert.False((bool)missing.Body!["ok"]!);
        Assert.NotNull((string?)missing.Body["error_code"]);
        var metadata = await v.Developer.PostAsync("/api/v1/repos:validate", new { url = "http://169.254.169.254/latest/" });
        Assert.False((bool)metadata.Body!["ok"]!);
        Assert.Equal("fetch.address_denied", (string?)metadata.Body["error_code"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await v.Developer.PostAsync("/api/v1/repos:validate", new { url = "ftp://example.com/" })).Status);
    }

    private static async Task<JsonNode> WaitForSyncAsync(ApiSession session, string repoId)
    {
        for (var i = 0; i < 300; i++)
        {
            var latest = (await session.GetAsync($"/api/v1/repos/{repoId}/syncs?limit=1")).Body!["items"]!.AsArray().FirstOrDefault();
            if (latest is not null && (string?)latest["status"] is "succeeded" or "partially_succeeded" or "failed")
            {
                return latest;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The sync of {repoId} did not finish in 30 s.");
    }

    private static async Task<ApiResponse> PostWebhookAsync(ApiSession anonymous, string repoId, byte[] body, string signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/repos/{repoId}/webhook") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Hub-Signature-256", signature);
        using var response = await anonymous.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiResponse(response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null, text, response.Headers);
    }

    /// <summary>A gzip tar whose entry climbs out of the extraction directory.</summary>
    private static byte[] HostileArchive()
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
        {
            writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, "../../etc/evil") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("x")) });
        }

        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            tar.Position = 0;
            tar.CopyTo(gzip);
        }

        return output.ToArray();
    }
}

public sealed class SqliteCatalogTests(SqliteServerFixture fixture) : CatalogTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresCatalogTests(PostgresServerFixture fixture) : CatalogTests(fixture), IClassFixture<PostgresServerFixture>;
