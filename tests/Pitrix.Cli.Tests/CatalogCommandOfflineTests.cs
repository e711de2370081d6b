using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Cli.Tests;

/// <summary>
/// The catalog commands against canned answers in the shape of the catalog API contract: the requests
/// they send (routes, fields, secrets), how they print, and how they exit. No server is needed;
/// <see cref="CatalogCommandTests"/> runs the same commands against the real one.
/// </summary>
public sealed class CatalogCommandOfflineTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("pitrix-cli-offline-").FullName;
    private readonly FakeApi _api = new();

    public CatalogCommandOfflineTests()
    {
        new CliConfig { Server = "http://pitrix.test", AccessToken = "access-token", User = "admin" }.Save(ConfigPath);
    }

    private string ConfigPath => Path.Combine(_home, "config.json");

    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public JsonNode Json => JsonNode.Parse(Output)!;
    }

    private async Task<Run> PitrixWithInputAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var env = new CliEnvironment(new StringReader(stdin), output, error, ConfigPath, InputIsTerminal: false) { HandlerFactory = () => _api };
        var code = await CliApp.RunAsync(args, env);
        return new Run(code, output.ToString(), error.ToString());
    }

    private Task<Run> PitrixAsync(params string[] args) => PitrixWithInputAsync("", args);

    [Fact]
    public async Task RepoAdd_SendsTheContractsFields_AndReadsTheSecretOnlyFromStdin()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos", HttpStatusCode.Created, Repo("repo-1", "charts", "https://charts.example.com"));
        var run = await PitrixWithInputAsync("s3cret-password\n",
            "repo", "add", "charts", "--url", "https://charts.example.com", "--description", "Our charts", "--username", "bob", "--password-stdin",
            "--provider", "kubernetes", "--provider", "local", "--label", "env=dev", "--selector", "tier in (gold)",
            "--visibility", "group", "--group", "grp-1", "--share-group", "grp-2", "--sync-interval", "1h30m",
            "--default-status", "active", "--fetch-packages", "latest");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var body = _api.Single(HttpMethod.Post, "/api/v1/repos").Json;
        Assert.Equal("charts", (string?)body["name"]);
        Assert.Equal("Our charts", (string?)body["description"]);
        Assert.Equal("https://charts.example.com", (string?)body["url"]);
        Assert.Equal("bob", (string?)body["credential"]!["username"]);
        Assert.Equal("s3cret-password", (string?)body["credential"]!["password"]);
        Assert.Equal(["kubernetes", "local"], body["providers"]!.AsArray().Select(p => (string)p!));
        Assert.Equal("dev", (string?)body["labels"]!["env"]);
        Assert.Equal("tier in (gold)", (string?)body["selectors"]![0]);
        Assert.Equal("group", (string?)body["visibility"]);
        Assert.Equal("grp-1", (string?)body["group_id"]);
        Assert.Equal("grp-2", (string?)body["group_ids"]![0]);
        Assert.Equal(5400, (int)body["sync_interval_seconds"]!);
        Assert.Equal("active", (string?)body["default_status"]);
        Assert.Equal("latest", (string?)body["fetch_packages"]);
        Assert.False(body.AsObject().ContainsKey("clear_credential"));
        Assert.DoesNotContain("s3cret", run.Output + run.Error, StringComparison.Ordinal);
        Assert.Contains("interval", run.Output, StringComparison.Ordinal);
        Assert.Contains("30m", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepoAdd_WithoutUrl_IsAnUploadRepo_WithNullUrlAndNoCredential()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos", HttpStatusCode.Created, Repo("repo-2", "uploads", null));
        var run = await PitrixAsync("repo", "add", "uploads", "--wait", "-o", "json");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var body = _api.Single(HttpMethod.Post, "/api/v1/repos").Json;
        Assert.Null(body["url"]);
        Assert.Null(body["credential"]);
        Assert.Equal("upload", (string?)run.Json["type"]);
        Assert.Contains("no sync to wait for", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_api.Requests, r => r.Path.Contains("/syncs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--password-stdin")]
    [InlineData("--username", "bob")]
    [InlineData("--username", "bob", "--bearer-token-stdin")]
    [InlineData("--password-stdin", "--username", "bob", "--bearer-token-stdin")]
    [InlineData("--sync-interval", "30")]
    [InlineData("--sync-interval", "soon")]
    [InlineData("--label", "novalue")]
    public async Task RepoAdd_BadInput_IsRefusedBeforeAnyRequest(params string[] options)
    {
        var run = await PitrixWithInputAsync("secret\n", ["repo", "add", "r", "--url", "https://x.example.com", .. options]);
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.StartsWith("Error: ", run.Error, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task RepoAdd_UnknownChoice_IsAUsageError()
    {
        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("repo", "add", "r", "--visibility", "everyone")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("repo", "add", "r", "--fetch-packages", "some")).ExitCode);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task RepoAdd_BearerToken_ComesFromStdin()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos", HttpStatusCode.Created, Repo("repo-1", "r", "https://x.example.com"));
        var run = await PitrixWithInputAsync("tok-123\n", "repo", "add", "r", "--url", "https://x.example.com", "--bearer-token-stdin");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var credential = _api.Single(HttpMethod.Post, "/api/v1/repos").Json["credential"]!;
        Assert.Equal("tok-123", (string?)credential["bearer_token"]);
        Assert.Null(credential["password"]);
    }

    [Fact]
    public async Task RepoAdd_ValidateOnly_CallsValidate_CreatesNothing_AndFailsWhenNotOk()
    {
        var pem = Path.Combine(_home, "ca.pem");
        await File.WriteAllTextAsync(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        _api.Respond(HttpMethod.Post, "/api/v1/repos:validate", HttpStatusCode.OK, new JsonObject
        {
            ["ok"] = false, ["url"] = "https://x.example.com", ["apps"] = 0, ["versions"] = 0,
            ["error_code"] = "repo.index_invalid", ["error_message"] = "index.yaml is not YAML",
        });
        var run = await PitrixAsync("repo", "add", "r", "--url", "https://x.example.com", "--ca-file", pem, "--validate-only");

        Assert.Equal(ExitCodes.Invalid, run.ExitCode);
        Assert.Contains("repo.index_invalid", run.Output, StringComparison.Ordinal);
        var body = _api.Single(HttpMethod.Post, "/api/v1/repos:validate").Json;
        Assert.Equal("https://x.example.com", (string?)body["url"]);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", (string?)body["ca_bundle_pem"], StringComparison.Ordinal);
        Assert.Null(body["name"]);
        Assert.DoesNotContain(_api.Requests, r => r.Path == "/api/v1/repos");

        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("repo", "add", "r", "--validate-only")).ExitCode);
    }

    [Fact]
    public async Task RepoAdd_Wait_FollowsTheInitialSync_AndPrintsTheRepoWithIt()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos", HttpStatusCode.Created, Repo("repo-1", "r", "file:///srv/repo"));
        _api.Respond(HttpMethod.Get, "/api/v1/repos/repo-1/syncs?limit=1", HttpStatusCode.OK, Page(Sync("rsync-1", "queued")));
        _api.RespondInTurn(HttpMethod.Get, "/api/v1/repos/repo-1/syncs/rsync-1", Sync("rsync-1", "running", added: 1), Sync("rsync-1", "succeeded", added: 4));
        _api.Respond(HttpMethod.Get, "/api/v1/repos/repo-1", HttpStatusCode.OK, Repo("repo-1", "r", "file:///srv/repo"));

        var run = await PitrixAsync("repo", "add", "r", "--url", "file:///srv/repo", "--wait", "-o", "json");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("succeeded", (string?)run.Json["last_sync"]!["status"]);
        Assert.Equal(4, (int)run.Json["last_sync"]!["added"]!);
        Assert.Contains("Sync rsync-1: queued", run.Error, StringComparison.Ordinal);
        Assert.Contains("Sync rsync-1: running: 1 added", run.Error, StringComparison.Ordinal);
        Assert.Contains("Sync rsync-1: succeeded in 2.5s: 4 added, 0 updated, 0 removed, 0 failed", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepoSync_Wait_PollsUntilFailed_PrintsTheErrors_AndExitsNonZero()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos/repo-1:sync", HttpStatusCode.Accepted, Sync("rsync-7", "queued"));
        var failed = Sync("rsync-7", "failed", failedCount: 1);
        failed["error_code"] = "repo.index_invalid";
        failed["error_message"] = "index.yaml: entries is missing";
        failed["errors"] = new JsonArray(new JsonObject { ["app"] = "redis", ["version"] = "1.0.0", ["code"] = "package.digest_mismatch", ["message"] = "digest differs" });
        _api.RespondInTurn(HttpMethod.Get, "/api/v1/repos/repo-1/syncs/rsync-7", Sync("rsync-7", "running"), failed);

        var run = await PitrixAsync("repo", "sync", "repo-1", "--wait");

        Assert.Equal(ExitCodes.Failure, run.ExitCode);
        Assert.Contains("Sync rsync-7: running", run.Error, StringComparison.Ordinal);
        Assert.Contains("redis 1.0.0: digest differs [package.digest_mismatch]", run.Error, StringComparison.Ordinal);
        Assert.Contains("Error: index.yaml: entries is missing [repo.index_invalid]", run.Error, StringComparison.Ordinal);
        Assert.Contains("failed", run.Output, StringComparison.Ordinal);
        Assert.Equal(2, _api.Requests.Count(r => r.Path == "/api/v1/repos/repo-1/syncs/rsync-7"));
    }

    [Fact]
    public async Task RepoSync_WaitTimesOut_ExitsUnavailable()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos/repo-1:sync", HttpStatusCode.Accepted, Sync("rsync-7", "running"));
        _api.Respond(HttpMethod.Get, "/api/v1/repos/repo-1/syncs/rsync-7", HttpStatusCode.OK, Sync("rsync-7", "running"));
        var run = await PitrixAsync("repo", "sync", "repo-1", "--wait", "--timeout", "1s");
        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.Contains("still running after 1s", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepoSyncs_Table_ShowsHistoryColumns_JsonKeepsTheServersDocument()
    {
        var failed = Sync("rsync-2", "failed");
        failed["error_code"] = "fetch.unreachable";
        _api.Respond(HttpMethod.Get, "/api/v1/repos/repo-1/syncs", HttpStatusCode.OK, Page(failed, Sync("rsync-1", "succeeded", added: 4)));

        var table = await PitrixAsync("repo", "syncs", "repo-1");
        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        var lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["ID", "TRIGGER", "STATUS", "STARTED", "DURATION", "ADDED", "UPDATED", "REMOVED", "FAILED", "ERROR"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["rsync-2", "manual", "failed", "2026-11-24T10:00:00Z", "2.5s", "0", "0", "0", "0", "fetch.unreachable"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["rsync-1", "manual", "succeeded", "2026-11-24T10:00:00Z", "2.5s", "4", "0", "0", "0", "-"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));

        var json = await PitrixAsync("repo", "syncs", "repo-1", "-o", "json");
        Assert.Equal("2026-11-24T10:00:02.5Z", (string?)json.Json["items"]![0]!["finished_at"]);
    }

    [Fact]
    public async Task RepoList_SendsFilters_AndShowsIntervalAndLastSync()
    {
        var repo = Repo("repo-1", "charts", "https://charts.example.com");
        repo["last_sync"] = Sync("rsync-1", "succeeded", added: 3);
        var manual = Repo("repo-2", "manual", "https://other.example.com");
        manual["sync_interval_seconds"] = 0;
        _api.Respond(HttpMethod.Get, "/api/v1/repos?limit=5&type=http&provider=kubernetes", HttpStatusCode.OK, Page(repo, manual));

        var run = await PitrixAsync("repo", "list", "--type", "http", "--provider", "kubernetes", "--limit", "5");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var rows = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["repo-1", "charts", "http", "private", "30m", "succeeded", "2026-11-24T10:00:02.5Z", "https://charts.example.com"], rows[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("manual", rows[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepoUpdate_SendsOnlyWhatWasGiven_AndCanClearTheCredential()
    {
        _api.Respond(HttpMethod.Patch, "/api/v1/repos/repo-1", HttpStatusCode.OK, Repo("repo-1", "renamed", "https://x.example.com"));
        var run = await PitrixAsync("repo", "update", "repo-1", "--name", "renamed", "--sync-interval", "0", "--clear-credential");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var body = _api.Single(HttpMethod.Patch, "/api/v1/repos/repo-1").Json;
        Assert.Equal("renamed", (string?)body["name"]);
        Assert.Equal(0, (int)body["sync_interval_seconds"]!);
        Assert.True((bool)body["clear_credential"]!);
        Assert.Null(body["credential"]);
        Assert.Null(body["providers"]);
        Assert.Null(body["labels"]);
        Assert.Null(body["url"]);
    }

    [Fact]
    public async Task RepoDelete_WithoutYes_AndNoTerminal_AsksForYes()
    {
        var run = await PitrixAsync("repo", "delete", "repo-1");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--yes", run.Error, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);

        _api.Respond(HttpMethod.Delete, "/api/v1/repos/repo-1", HttpStatusCode.NoContent, null);
        Assert.Equal(ExitCodes.Ok, (await PitrixAsync("repo", "delete", "repo-1", "--yes")).ExitCode);
    }

    [Fact]
    public async Task RepoWebhookSecret_RotatesAndPrintsItOnce()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/repos/repo-1:rotate_webhook_secret", HttpStatusCode.OK,
            new JsonObject { ["webhook_url"] = "http://pitrix.test/api/v1/repos/repo-1/webhook", ["secret"] = "whsec-1" });
        var run = await PitrixAsync("repo", "webhook-secret", "repo-1");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("whsec-1", run.Output, StringComparison.Ordinal);
        Assert.Contains("shown only this once", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRepo_ExitsNotFound_WithTheServersCode()
    {
        _api.Respond(HttpMethod.Get, "/api/v1/repos/repo-nope", HttpStatusCode.NotFound,
            new JsonObject { ["status"] = 404, ["title"] = "Not found", ["detail"] = "Repo repo-nope does not exist.", ["code"] = "repo.not_found" });
        var run = await PitrixAsync("repo", "get", "repo-nope");
        Assert.Equal(ExitCodes.NotFound, run.ExitCode);
        Assert.Contains("repo.not_found", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppSearch_SendsTheQueryAsQ_WithFilters()
    {
        _api.Respond(HttpMethod.Get, "/api/v1/apps?limit=5&q=zoo%20keeper&format=vmcluster", HttpStatusCode.OK, Page(App("app-1", "zookeeper")));
        var run = await PitrixAsync("app", "search", "zoo keeper", "--format", "vmcluster", "--limit", "5");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var rows = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["ID", "NAME", "FORMAT", "REPO", "LATEST", "ACTIVE", "STATUS", "CATEGORIES"], rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["app-1", "zookeeper", "vmcluster", "samples", "1.0.0", "1.0.0", "active", "Databases"], rows[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task AppList_SendsEveryFilter()
    {
        _api.Respond(HttpMethod.Get, "/api/v1/apps?repo=repo-1&category=ctg-1&format=helm&provider=kubernetes&status=draft", HttpStatusCode.OK, Page());
        var run = await PitrixAsync("app", "list", "--repo", "repo-1", "--category", "ctg-1", "--format", "helm", "--provider", "kubernetes", "--status", "draft");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("No items.", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppGet_TableShowsAReadmeExcerpt_JsonKeepsAll()
    {
        var app = App("app-1", "zookeeper");
        app["readme"] = string.Join("\n", Enumerable.Range(1, 20).Select(i => $"Line {i}"));
        _api.Respond(HttpMethod.Get, "/api/v1/apps/app-1", HttpStatusCode.OK, app);

        var table = await PitrixAsync("app", "get", "app-1");
        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        Assert.Contains("categories", table.Output, StringComparison.Ordinal);
        Assert.Contains("Databases", table.Output, StringComparison.Ordinal);
        Assert.Contains("README\n  Line 1\n", table.Output, StringComparison.Ordinal);
        Assert.Contains("  Line 15\n", table.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Line 16", table.Output, StringComparison.Ordinal);
        Assert.Contains("5 more line(s)", table.Output, StringComparison.Ordinal);

        var json = await PitrixAsync("app", "get", "app-1", "-o", "json");
        Assert.EndsWith("Line 20", (string?)json.Json["readme"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppUpload_Directory_IsPackagedAndSentAsTheMultipartPackageField()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/apps", HttpStatusCode.Created, Version("appv-1", "draft"));
        var run = await PitrixAsync("app", "upload", RepoFiles.Path("samples", "vmcluster", "redis"), "--repo", "repo-9", "--message", "first cut");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = _api.Single(HttpMethod.Post, "/api/v1/apps");
        Assert.StartsWith("multipart/form-data", request.ContentType, StringComparison.Ordinal);
        Assert.Contains("name=package; filename=redis-1.0.0.tgz", request.Body, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/gzip", request.Body, StringComparison.Ordinal);
        Assert.Contains("name=repo_id\r\n\r\nrepo-9", request.Body, StringComparison.Ordinal);
        Assert.Contains("name=message\r\n\r\nfirst cut", request.Body, StringComparison.Ordinal);
        Assert.Contains("Packaged vmcluster redis 1.0.0", run.Error, StringComparison.Ordinal);
        Assert.Contains("pitrix version submit appv-1", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("values_yaml", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppUpload_NewVersionOfAnApp_GoesToItsVersions()
    {
        var tgz = Path.Combine(_home, "redis-1.0.1.tgz");
        await File.WriteAllBytesAsync(tgz, [0x1f, 0x8b, 0, 0]);
        _api.Respond(HttpMethod.Post, "/api/v1/apps/app-1/versions", HttpStatusCode.Created, Version("appv-2", "draft"));

        var run = await PitrixAsync("app", "upload", tgz, "--app", "app-1");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var request = _api.Single(HttpMethod.Post, "/api/v1/apps/app-1/versions");
        Assert.Contains("filename=redis-1.0.1.tgz", request.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("repo_id", request.Body, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("app", "upload", tgz, "--app", "app-1", "--repo", "repo-1")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("app", "upload", Path.Combine(_home, "missing.tgz"))).ExitCode);
    }

    [Fact]
    public async Task AppUpload_LintFailed_PrintsEveryProblemUnderItsFile()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/apps", (HttpStatusCode)422, new JsonObject
        {
            ["status"] = 422,
            ["title"] = "Package has problems",
            ["detail"] = "3 problem(s) found.",
            ["code"] = "package.lint_failed",
            ["errors"] = new JsonObject
            {
                ["config.json"] = new JsonArray("properties.x: unknown type 'nope' [config.invalid_type]", "properties.y: default out of range [config.default_out_of_range]"),
                ["package.json"] = new JsonArray("version 'latest' is not SemVer [package.invalid_version]"),
            },
        });

        var run = await PitrixAsync("app", "upload", RepoFiles.Path("samples", "vmcluster", "redis"));

        Assert.Equal(ExitCodes.Invalid, run.ExitCode);
        Assert.Contains("package.lint_failed", run.Error, StringComparison.Ordinal);
        Assert.Contains("  config.json:\n    ERROR properties.x: unknown type 'nope' [config.invalid_type]\n    ERROR properties.y: default out of range [config.default_out_of_range]\n", run.Error, StringComparison.Ordinal);
        Assert.Contains("  package.json:\n    ERROR version 'latest' is not SemVer [package.invalid_version]\n", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppUpload_BrokenDirectory_FailsBeforeAnyRequest()
    {
        var broken = Directory.CreateDirectory(Path.Combine(_home, "broken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "README.md"), "no manifest");
        var run = await PitrixAsync("app", "upload", broken);
        Assert.Equal(ExitCodes.Invalid, run.ExitCode);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task AppDownload_KeepsOnlyTheFileNameTheServerSuggests()
    {
        _api.Respond(HttpMethod.Get, "/api/v1/app_versions/appv-1/package", HttpStatusCode.OK, null, content: () =>
        {
            var bytes = new ByteArrayContent([0x1f, 0x8b, 1, 2, 3]);
            bytes.Headers.ContentType = new("application/gzip");
            bytes.Headers.ContentDisposition = new("attachment") { FileName = "../../redis-1.0.0.tgz" };
            return bytes;
        });
        var target = Path.Combine(_home, "downloads");

        var run = await PitrixAsync("app", "download", "appv-1", "-d", target);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(Path.Combine(target, "redis-1.0.0.tgz"), run.Output.Trim());
        Assert.Equal([0x1f, 0x8b, 1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(target, "redis-1.0.0.tgz")));
    }

    [Fact]
    public async Task AppCategories_PutsTheCompleteSet()
    {
        _api.Respond(HttpMethod.Put, "/api/v1/apps/app-1/categories", HttpStatusCode.OK, App("app-1", "zookeeper"));
        var run = await PitrixAsync("app", "categories", "app-1", "--category", "ctg-1", "-c", "ctg-2");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(["ctg-1", "ctg-2"], _api.Single(HttpMethod.Put, "/api/v1/apps/app-1/categories").Json["category_ids"]!.AsArray().Select(c => (string)c!));

        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("app", "categories", "app-1")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("app", "categories", "app-1", "-c", "ctg-1", "--clear")).ExitCode);
    }

    [Fact]
    public async Task VersionReject_WithoutMessage_IsInvalid_AndSendsNothing()
    {
        var run = await PitrixAsync("version", "reject", "appv-1");
        Assert.Equal(ExitCodes.Invalid, run.ExitCode);
        Assert.Contains("--message", run.Error, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);
    }

    [Theory]
    [InlineData("submit")]
    [InlineData("cancel")]
    [InlineData("review")]
    [InlineData("pass")]
    [InlineData("reject")]
    [InlineData("release")]
    [InlineData("suspend")]
    [InlineData("recover")]
    [InlineData("delete")]
    public async Task VersionTransition_PostsToItsActionRoute_WithTheMessage(string action)
    {
        _api.Respond(HttpMethod.Post, $"/api/v1/app_versions/appv-1:{action}", HttpStatusCode.OK, Version("appv-1", "whatever"));
        var run = await PitrixAsync("version", action, "appv-1", "-m", "because");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("because", (string?)_api.Single(HttpMethod.Post, $"/api/v1/app_versions/appv-1:{action}").Json["message"]);
    }

    [Fact]
    public async Task VersionTransition_WrongState_ExitsConflict_WithTheServersCode()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/app_versions/appv-1:release", HttpStatusCode.Conflict, new JsonObject
        {
            ["status"] = 409, ["title"] = "Invalid transition", ["detail"] = "A draft version cannot be released.", ["code"] = "app_version.invalid_transition",
        });
        var run = await PitrixAsync("version", "release", "appv-1");
        Assert.Equal(ExitCodes.Conflict, run.ExitCode);
        Assert.Contains("app_version.invalid_transition", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionEvents_TableShowsTheReviewHistory()
    {
        _api.Respond(HttpMethod.Get, "/api/v1/app_versions/appv-1/events", HttpStatusCode.OK, new JsonArray(
            new JsonObject { ["id"] = "avev-1", ["action"] = "submit", ["from_status"] = "draft", ["to_status"] = "submitted", ["actor_id"] = "usr-1", ["actor_name"] = "dev", ["message"] = null, ["at"] = "2026-11-24T10:00:00Z" },
            new JsonObject { ["id"] = "avev-2", ["action"] = "review", ["from_status"] = "submitted", ["to_status"] = "in_review", ["actor_id"] = "usr-2", ["actor_name"] = null, ["message"] = "looking", ["at"] = "2026-11-24T10:01:00Z" }));
        var run = await PitrixAsync("version", "events", "appv-1");
        var rows = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["AT", "ACTION", "FROM", "TO", "ACTOR", "MESSAGE"], rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["2026-11-24T10:00:00Z", "submit", "draft", "submitted", "dev", "-"], rows[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["2026-11-24T10:01:00Z", "review", "submitted", "in_review", "usr-2", "looking"], rows[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task CategoryCreate_SendsLocales()
    {
        _api.Respond(HttpMethod.Post, "/api/v1/categories", HttpStatusCode.Created, new JsonObject { ["id"] = "ctg-1", ["name"] = "Databases" });
        var run = await PitrixAsync("category", "create", "Databases", "--locale", "zh-cn=数据库", "--description", "Stores data", "--icon", "https://x.example.com/db.png");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var body = _api.Single(HttpMethod.Post, "/api/v1/categories").Json;
        Assert.Equal("数据库", (string?)body["locale"]!["zh-cn"]);
        Assert.Equal("Stores data", (string?)body["description"]);
        Assert.Equal("https://x.example.com/db.png", (string?)body["icon"]);

        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("category", "create", "X", "--locale", "zh-cn")).ExitCode);
    }

    [Fact]
    public async Task Help_ListsTheCatalogCommands_BesideRepoIndex()
    {
        var run = await PitrixAsync("repo", "--help");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        foreach (var command in new[] { "index <dir>", "add <name>", "list", "get <id>", "update <id>", "delete <id>", "sync <id>", "syncs <id>", "webhook-secret <id>" })
        {
            Assert.Contains(command, run.Output, StringComparison.Ordinal);
        }

        var root = await PitrixAsync("--help");
        foreach (var command in new[] { "app", "version", "category" })
        {
            Assert.Contains($"  {command} ", root.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OutputWriteRows_JsonAndYaml_PrintTheDocumentNotTheTable()
    {
        var page = Page(Sync("rsync-1", "succeeded", added: 2));
        using var json = new StringWriter();
        new Output(json, "json").WriteRows(page, [new Column("duration", _ => "computed")]);
        Assert.DoesNotContain("computed", json.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, (int)JsonNode.Parse(json.ToString())!["items"]![0]!["added"]!);

        using var yaml = new StringWriter();
        new Output(yaml, "yaml").WriteRows(page, [new Column("duration", _ => "computed")]);
        Assert.Contains("status: succeeded", yaml.ToString(), StringComparison.Ordinal);

        using var table = new StringWriter();
        new Output(table, "table").WriteRows(page, [Column.Field("id"), new Column("duration", _ => "computed")]);
        Assert.Equal("ID       DURATION\nrsync-1  computed\n", table.ToString().ReplaceLineEndings("\n"));
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static JsonObject Page(params JsonNode[] items) => new()
    {
        ["items"] = new JsonArray(items),
        ["total"] = items.Length,
        ["limit"] = 20,
        ["offset"] = 0,
        ["next_offset"] = null,
    };

    private static JsonObject Repo(string id, string name, string? url) => new()
    {
        ["id"] = id, ["name"] = name, ["description"] = null,
        ["type"] = url is null ? "upload" : url.StartsWith("file:", StringComparison.Ordinal) ? "file" : "http",
        ["url"] = url, ["has_credential"] = false, ["ca_bundle_pem"] = null, ["providers"] = new JsonArray(), ["labels"] = new JsonObject(),
        ["selectors"] = new JsonArray(), ["visibility"] = "private", ["group_id"] = null, ["group_ids"] = new JsonArray(),
        ["sync_interval_seconds"] = url is null ? 0 : 1800, ["default_status"] = "draft", ["fetch_packages"] = "all", ["owner_id"] = "usr-1",
        ["created_at"] = "2026-11-24T10:00:00Z", ["updated_at"] = "2026-11-24T10:00:00Z", ["last_sync"] = null, ["next_sync_at"] = null,
        ["has_webhook_secret"] = false,
    };

    private static JsonObject Sync(string id, string status, int added = 0, int failedCount = 0)
    {
        var finished = status is "succeeded" or "partially_succeeded" or "failed";
        return new JsonObject
        {
            ["id"] = id, ["repo_id"] = "repo-1", ["trigger"] = "manual", ["requested_by"] = "usr-1", ["status"] = status,
            ["queued_at"] = "2026-11-24T09:59:59Z",
            ["started_at"] = status == "queued" ? null : "2026-11-24T10:00:00Z",
            ["finished_at"] = finished ? "2026-11-24T10:00:02.5Z" : null,
            ["unchanged"] = false, ["added"] = added, ["updated"] = 0, ["removed"] = 0, ["failed"] = failedCount, ["packages_fetched"] = added,
            ["error_code"] = null, ["error_message"] = null, ["errors"] = new JsonArray(),
        };
    }

    private static JsonObject App(string id, string name) => new()
    {
        ["id"] = id, ["repo_id"] = "repo-1", ["repo_name"] = "samples", ["name"] = name, ["format"] = "vmcluster", ["description"] = "A sample",
        ["status"] = "active", ["latest_version"] = "1.0.0", ["latest_version_id"] = "appv-1", ["active_version"] = "1.0.0", ["active_version_id"] = "appv-1",
        ["categories"] = new JsonArray(new JsonObject { ["id"] = "ctg-1", ["name"] = "Databases" }),
    };

    private static JsonObject Version(string id, string status) => new()
    {
        ["id"] = id, ["app_id"] = "app-1", ["app_name"] = "redis", ["repo_id"] = "repo-9", ["version"] = "1.0.0", ["app_version"] = "7.0.15",
        ["format"] = "vmcluster", ["status"] = status, ["package_size"] = 1234, ["readme"] = null, ["values_yaml"] = "replicas: 1", ["config"] = new JsonObject(),
    };

    /// <summary>Answers requests from a table of canned responses and records what was sent.</summary>
    private sealed class FakeApi : HttpMessageHandler
    {
        private readonly Dictionary<(HttpMethod, string), Queue<Func<HttpResponseMessage>>> _responses = [];

        public List<Request> Requests { get; } = [];

        public void Respond(HttpMethod method, string pathAndQuery, HttpStatusCode status, JsonNode? body, Func<HttpContent>? content = null) =>
            _responses[(method, pathAndQuery)] = new Queue<Func<HttpResponseMessage>>([() => Response(status, body, content)]);

        /// <summary>Answers successive requests with successive bodies, repeating the last.</summary>
        public void RespondInTurn(HttpMethod method, string pathAndQuery, params JsonNode[] bodies) =>
            _responses[(method, pathAndQuery)] = new Queue<Func<HttpResponseMessage>>(bodies.Select(b => (Func<HttpResponseMessage>)(() => Response(HttpStatusCode.OK, b, null))));

        public Request Single(HttpMethod method, string path) => Assert.Single(Requests, r => r.Method == method && r.Path == path);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("Bearer access-token", request.Headers.Authorization?.ToString());
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            var pathAndQuery = request.RequestUri!.PathAndQuery;
            Requests.Add(new Request(request.Method, request.RequestUri.AbsolutePath, pathAndQuery, body, request.Content?.Headers.ContentType?.ToString()));
            if (!_responses.TryGetValue((request.Method, pathAndQuery), out var queue))
            {
                return Response(HttpStatusCode.NotImplemented, new JsonObject { ["status"] = 501, ["title"] = "Not canned", ["code"] = "test.not_canned", ["detail"] = $"{request.Method} {pathAndQuery}" }, null);
            }

            return queue.Count > 1 ? queue.Dequeue()() : queue.Peek()();
        }

        private static HttpResponseMessage Response(HttpStatusCode status, JsonNode? body, Func<HttpContent>? content) => new(status)
        {
            Content = content?.Invoke() ?? (body is null ? new ByteArrayContent([]) : new StringContent(body.ToJsonString(), Encoding.UTF8, (int)status >= 400 ? "application/problem+json" : "application/json")),
        };
    }

    private sealed record Request(HttpMethod Method, string Path, string PathAndQuery, string Body, string? ContentType)
    {
        public JsonNode Json => JsonNode.Parse(Body)!;
    }
}
