using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Cli.Tests;

/// <summary>
/// The catalog commands run in-process against a real server (the catalog API of issue 4): a file
/// repo synced from <c>samples/repo</c>, search, an upload by a developer reviewed to active by an
/// admin, categories, and the exit codes of bad input.
/// </summary>
public sealed class CatalogCommandTests(SqliteServerFixture fixture) : IClassFixture<SqliteServerFixture>, IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("pitrix-cli-catalog-").FullName;

    private string ConfigPath => Path.Combine(_home, "pitrix", "config.json");

    private static string SamplesRepoUrl => new Uri(RepoFiles.Path("samples", "repo") + "/").AbsoluteUri;

    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public JsonNode Json => JsonNode.Parse(Output)!;

        public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
    }

    private async Task<Run> PitrixWithInputAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var env = new CliEnvironment(new StringReader(stdin), output, error, ConfigPath, InputIsTerminal: false);
        var code = await CliApp.RunAsync(args, env);
        return new Run(code, output.ToString(), error.ToString());
    }

    private Task<Run> PitrixAsync(params string[] args) => PitrixWithInputAsync("", args);

    /// <summary>Runs a command that must succeed and returns its JSON output.</summary>
    private async Task<JsonNode> JsonAsync(params string[] args)
    {
        var run = await PitrixAsync([.. args, "-o", "json"]);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"pitrix {string.Join(' ', args)}: {run}");
        return run.Json;
    }

    private async Task LoginAsync(string user, string password)
    {
        var login = await PitrixWithInputAsync(password + "\n", "login", "--server", fixture.Server.Address.ToString(), "--username", user, "--password-stdin");
        Assert.True(login.ExitCode == ExitCodes.Ok, login.ToString());
    }

    private Task LoginAdminAsync() => LoginAsync("admin", TestServer.AdminPassword);

    /// <summary>Adds <c>samples/repo</c> as a file repo whose versions are active at once, and waits for its first sync.</summary>
    private async Task<JsonNode> AddSamplesRepoAsync()
    {
        var add = await PitrixAsync("repo", "add", ServerFixture.Unique("samples"), "--url", SamplesRepoUrl, "--default-status", "active", "--sync-interval", "0", "--wait", "-o", "json");
        Assert.True(add.ExitCode == ExitCodes.Ok, add.ToString());
        return add.Json;
    }

    [Fact]
    public async Task RepoAdd_FileRepoWithWait_ThenListGetSyncs_SearchAndDownloadItsApps()
    {
        await LoginAdminAsync();
        var repo = await AddSamplesRepoAsync();
        var repoId = (string)repo["id"]!;
        var name = (string)repo["name"]!;
        Assert.Equal("file", (string?)repo["type"]);
        Assert.Equal(0, (int)repo["sync_interval_seconds"]!);
        Assert.Equal("succeeded", (string?)repo["last_sync"]!["status"]);
        Assert.Equal("created", (string?)repo["last_sync"]!["trigger"]);
        Assert.Equal(4, (int)repo["last_sync"]!["added"]!);

        var list = await JsonAsync("repo", "list", "-q", name);
        Assert.Equal(repoId, (string?)Assert.Single(list["items"]!.AsArray())!["id"]);
        var table = await PitrixAsync("repo", "list", "-q", name);
        Assert.Contains("INTERVAL", table.Output, StringComparison.Ordinal);
        Assert.Contains("manual", table.Output, StringComparison.Ordinal);
        var yaml = await PitrixAsync("repo", "get", repoId, "-o", "yaml");
        Assert.Contains($"name: {name}", yaml.Output, StringComparison.Ordinal);

        var syncs = await PitrixAsync("repo", "syncs", repoId);
        Assert.Equal(ExitCodes.Ok, syncs.ExitCode);
        Assert.Contains("created", syncs.Output, StringComparison.Ordinal);
        Assert.Contains("succeeded", syncs.Output, StringComparison.Ordinal);

        var found = await JsonAsync("app", "search", "zookeeper", "--repo", repoId);
        var zookeeper = Assert.Single(found["items"]!.AsArray(), a => (string?)a!["name"] == "zookeeper")!;
        var appId = (string)zookeeper["id"]!;
        var searchTable = await PitrixAsync("app", "search", "zookeeper", "--repo", repoId);
        Assert.Contains("zookeeper", searchTable.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hello-web", searchTable.Output, StringComparison.Ordinal);

        var app = await PitrixAsync("app", "get", appId);
        Assert.Equal(ExitCodes.Ok, app.ExitCode);
        Assert.Contains("zookeeper", app.Output, StringComparison.Ordinal);
        Assert.Contains("README", app.Output, StringComparison.Ordinal);

        var versions = await JsonAsync("app", "versions", appId);
        var version = Assert.Single(versions["items"]!.AsArray())!;
        Assert.Equal("1.0.0", (string?)version["version"]);
        Assert.Equal("active", (string?)version["status"]);
        var versionId = (string)version["id"]!;
        Assert.Equal("zookeeper", (string?)(await JsonAsync("version", "get", versionId))["app_name"]);

        var downloads = Path.Combine(_home, "downloads");
        var download = await PitrixAsync("app", "download", versionId, "-d", downloads);
        Assert.True(download.ExitCode == ExitCodes.Ok, download.ToString());
        var original = await File.ReadAllBytesAsync(RepoFiles.Path("samples", "repo", "zookeeper-1.0.0.tgz"));
        Assert.Equal(SHA256.HashData(original), SHA256.HashData(await File.ReadAllBytesAsync(download.Output.Trim())));

        var again = await PitrixAsync("repo", "sync", repoId, "--wait");
        Assert.True(again.ExitCode == ExitCodes.Ok, again.ToString());
        Assert.Contains("succeeded", again.Error, StringComparison.Ordinal);
        Assert.Equal(2, (int)(await JsonAsync("repo", "syncs", repoId))["total"]!);
    }

    [Fact]
    public async Task Upload_ByDeveloper_IsReviewedToActiveByAdmin()
    {
        var developer = ServerFixture.Unique("dev");
        (await fixture.Server.CreateUserAsync(developer, ["developer"])).Dispose();
        await LoginAsync(developer, "password-" + developer);

        var uploads = await JsonAsync("repo", "add", ServerFixture.Unique("uploads"));
        Assert.Equal("upload", (string?)uploads["type"]);
        var repoId = (string)uploads["id"]!;

        var uploaded = await PitrixAsync("app", "upload", RepoFiles.Path("samples", "vmcluster", "redis"), "--repo", repoId, "--message", "first cut", "-o", "json");
        Assert.True(uploaded.ExitCode == ExitCodes.Ok, uploaded.ToString());
        Assert.Equal("draft", (string?)uploaded.Json["status"]);
        Assert.Equal("redis", (string?)uploaded.Json["app_name"]);
        Assert.Equal(repoId, (string?)uploaded.Json["repo_id"]);
        var versionId = (string)uploaded.Json["id"]!;
        var appId = (string)uploaded.Json["app_id"]!;

        Assert.Equal("submitted", (string?)(await JsonAsync("version", "submit", versionId))["status"]);
        var selfReview = await PitrixAsync("version", "review", versionId);
        Assert.Equal(ExitCodes.Forbidden, selfReview.ExitCode);
        Assert.Contains("app_version.forbidden_transition", selfReview.Error, StringComparison.Ordinal);

        var duplicate = await PitrixAsync("app", "upload", RepoFiles.Path("samples", "vmcluster", "redis"), "--app", appId);
        Assert.Equal(ExitCodes.Conflict, duplicate.ExitCode);
        Assert.Contains("app_version.exists", duplicate.Error, StringComparison.Ordinal);

        await LoginAdminAsync();
        Assert.Equal("in_review", (string?)(await JsonAsync("version", "review", versionId))["status"]);
        var noReason = await PitrixAsync("version", "reject", versionId);
        Assert.Equal(ExitCodes.Invalid, noReason.ExitCode);
        Assert.Equal("passed", (string?)(await JsonAsync("version", "pass", versionId, "-m", "looks good"))["status"]);
        var early = await PitrixAsync("version", "recover", versionId);
        Assert.Equal(ExitCodes.Conflict, early.ExitCode);
        Assert.Contains("app_version.invalid_transition", early.Error, StringComparison.Ordinal);
        Assert.Equal("active", (string?)(await JsonAsync("version", "release", versionId))["status"]);

        var events = (await JsonAsync("version", "events", versionId)).AsArray();
        var actions = events.Select(e => (string?)e!["action"]).ToList();
        Assert.Equal(["submit", "review", "pass", "release"], actions.Where(a => a is "submit" or "review" or "pass" or "release"));
        Assert.Contains(events, e => (string?)e!["action"] == "pass" && (string?)e["message"] == "looks good");
        var history = await PitrixAsync("version", "events", versionId);
        Assert.Contains("in_review", history.Output, StringComparison.Ordinal);

        var versions = await JsonAsync("app", "versions", appId);
        Assert.Equal("active", (string?)Assert.Single(versions["items"]!.AsArray())!["status"]);
        Assert.Contains((await JsonAsync("app", "list", "--repo", repoId))["items"]!.AsArray(), a => (string?)a!["id"] == appId);
    }

    [Fact]
    public async Task Categories_CreateAssignFilterAndDelete()
    {
        await LoginAdminAsync();
        var name = ServerFixture.Unique("Databases");
        var category = await JsonAsync("category", "create", name, "--locale", "zh-cn=数据库", "--description", "Stores data");
        var categoryId = (string)category["id"]!;
        Assert.Equal("数据库", (string?)category["locale"]!["zh-cn"]);

        var repo = await AddSamplesRepoAsync();
        var apps = await JsonAsync("app", "list", "--repo", (string)repo["id"]!, "--limit", "50");
        var redisId = (string)apps["items"]!.AsArray().Single(a => (string?)a!["name"] == "redis")!["id"]!;

        var assigned = await JsonAsync("app", "categories", redisId, "--category", categoryId);
        Assert.Equal(categoryId, (string?)Assert.Single(assigned["categories"]!.AsArray())!["id"]);
        var inCategory = await JsonAsync("app", "list", "--category", categoryId);
        Assert.Equal(redisId, (string?)Assert.Single(inCategory["items"]!.AsArray())!["id"]);
        var table = await PitrixAsync("app", "list", "--category", categoryId);
        Assert.Contains(name, table.Output, StringComparison.Ordinal);

        Assert.Contains((await JsonAsync("category", "list", "--limit", "200"))["items"]!.AsArray(), c => (string?)c!["id"] == categoryId);
        Assert.Equal("Keeps data", (string?)(await JsonAsync("category", "update", categoryId, "--description", "Keeps data"))["description"]);
        Assert.Equal(name, (string?)(await JsonAsync("category", "get", categoryId))["name"]);

        Assert.Equal(ExitCodes.Ok, (await PitrixAsync("category", "delete", categoryId)).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await PitrixAsync("category", "get", categoryId)).ExitCode);
    }

    [Fact]
    public async Task BadInput_ExitsWithNamedCodes_AndPrintsTheServersCode()
    {
        await LoginAdminAsync();
        var unknown = await PitrixAsync("repo", "get", "repo-doesnotexist");
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.Contains("repo.not_found", unknown.Error, StringComparison.Ordinal);

        var unknownJson = await PitrixAsync("repo", "sync", "repo-doesnotexist", "-o", "json");
        Assert.Equal(ExitCodes.NotFound, unknownJson.ExitCode);
        Assert.Equal("repo.not_found", (string?)JsonNode.Parse(unknownJson.Error)!["code"]);

        Assert.Equal(ExitCodes.Invalid, (await PitrixAsync("version", "reject", "appv-doesnotexist")).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await PitrixAsync("version", "submit", "appv-doesnotexist")).ExitCode);

        var uploads = await JsonAsync("repo", "add", ServerFixture.Unique("uploads"));
        var broken = Path.Combine(_home, "hello-web");
        var source = RepoFiles.Path("samples", "charts", "hello-web");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(broken, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var values = Path.Combine(broken, "values.yaml");
        await File.WriteAllTextAsync(values, (await File.ReadAllTextAsync(values)).Replace("replicaCount: 1", "replicaCount: 500", StringComparison.Ordinal));
        var lint = await PitrixAsync("app", "upload", broken, "--repo", (string)uploads["id"]!);
        Assert.Equal(ExitCodes.Invalid, lint.ExitCode);
        Assert.Contains("package.lint_failed", lint.Error, StringComparison.Ordinal);
        Assert.Contains("/replicaCount", lint.Error, StringComparison.Ordinal);

        var validation = await PitrixAsync("repo", "add", "nowhere", "--url", new Uri(Path.Combine(_home, "no-such-repo") + "/").AbsoluteUri, "--validate-only", "-o", "json");
        Assert.Equal(ExitCodes.Invalid, validation.ExitCode);
        Assert.False((bool)validation.Json["ok"]!);
        Assert.NotNull((string?)validation.Json["error_code"]);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
