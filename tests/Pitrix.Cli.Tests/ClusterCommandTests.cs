using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Cli.Tests;

/// <summary>
/// The cluster and job commands run in-process against a real server whose engine runs jobs on the FAKE
/// cloud: a released ZooKeeper sample app and a public fake runtime, deployed and changed by a plain user.
/// </summary>
public sealed class ClusterCommandTests(SqliteFakeCloudServerFixture fixture) : IClassFixture<SqliteFakeCloudServerFixture>, IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("pitrix-cli-cluster-").FullName;

    private string ConfigPath => Path.Combine(_home, "pitrix", "config.json");

    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public JsonNode Json => JsonNode.Parse(Output)!;

        public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
    }

    private sealed record World(string VersionId, string RuntimeId);

    private async Task<Run> PitrixWithAsync(Func<HttpMessageHandler>? handler, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var env = new CliEnvironment(new StringReader(""), output, error, ConfigPath, InputIsTerminal: false) { HandlerFactory = handler };
        var code = await CliApp.RunAsync(args, env);
        return new Run(code, output.ToString(), error.ToString());
    }

    private Task<Run> PitrixAsync(params string[] args) => PitrixWithAsync(null, args);

    private async Task<JsonNode> JsonAsync(params string[] args)
    {
        var run = await PitrixAsync([.. args, "-o", "json"]);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"pitrix {string.Join(' ', args)}: {run}");
        return run.Json;
    }

    /// <summary>A released ZooKeeper version in a public repo and a public fake runtime; the CLI is signed in as a plain user.</summary>
    private async Task<World> WorldAsync()
    {
        using var admin = await fixture.Server.LoginAdminAsync();
        var repo = await admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("store"), visibility = "public" });
        Assert.True(repo.Status == HttpStatusCode.Created, repo.ToString());
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0", ServerFixture.Unique("zk"));
        var uploaded = await admin.UploadAsync("/api/v1/apps", archive, fields: new Dictionary<string, string> { ["repo_id"] = repo.Id });
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        foreach (var action in new[] { "submit", "review", "pass", "release" })
        {
            var moved = await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{action}");
            Assert.True(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
        }

        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("fake"), provider = "fake", zone = "zone-1", visibility = "public" });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());

        var user = ServerFixture.Unique("user");
        (await fixture.Server.CreateUserAsync(user, ["user"])).Dispose();
        await LoginAsync(user);
        return new World(uploaded.Id, runtime.Id);
    }

    private async Task LoginAsync(string user)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var env = new CliEnvironment(new StringReader("password-" + user + "\n"), output, error, ConfigPath, InputIsTerminal: false);
        var code = await CliApp.RunAsync(["login", "--server", fixture.Server.Address.ToString(), "--username", user, "--password-stdin"], env);
        Assert.True(code == ExitCodes.Ok, error.ToString());
    }

    private static string[] Create(World w, string name, params string[] more) =>
        ["cluster", "create", "--app-version", w.VersionId, "--runtime", w.RuntimeId, "--name", name, "--set", "cluster.subnet=vxnet-test", .. more];

    /// <summary>Creates a cluster and waits for it; returns the cluster detail.</summary>
    private async Task<JsonNode> CreateActiveAsync(World w, string name, params string[] more)
    {
        var run = await PitrixAsync([.. Create(w, name, more), "--wait", "-o", "json"]);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        return run.Json;
    }

    private async Task<int> ClusterCountAsync(string name) => (int)(await JsonAsync("cluster", "list", "-q", name))["total"]!;

    [Fact]
    public async Task Values_ShowsTheUsersOwnValuesAsYaml_Manifest_OfAVmClusterIsAConflict()
    {
        var w = await WorldAsync();
        var detail = await CreateActiveAsync(w, ServerFixture.Unique("zk"), "--set", "env.tick_time=2500");
        var clusterId = (string)detail["cluster"]!["id"]!;

        var table = await PitrixAsync("cluster", "values", clusterId);
        var json = await JsonAsync("cluster", "values", clusterId);
        var manifest = await PitrixAsync("cluster", "manifest", clusterId);

        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        Assert.Contains("tick_time: 2500", table.Output, StringComparison.Ordinal);
        Assert.Contains("subnet: vxnet-test", table.Output, StringComparison.Ordinal);
        Assert.Equal(2500, (int)json["values"]!["env"]!["tick_time"]!);
        Assert.Equal("vmcluster", (string?)json["format"]);
        Assert.NotEqual(ExitCodes.Ok, manifest.ExitCode);
        Assert.Contains("cluster.no_manifest", manifest.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithWait_ExitsOk_ClusterActiveWithThreeNodes_ShownByGetListJobsAndJobGet()
    {
        var w = await WorldAsync();
        var name = ServerFixture.Unique("zk");
        var run = await PitrixAsync([.. Create(w, name), "--wait"]);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());

        // Progress on standard error (polled here: the server has no event stream yet, so fast tasks may be
        // seen only once they are done), the cluster with its roles and nodes on standard output.
        Assert.Contains("succeeded create:1", run.Error, StringComparison.Ordinal);
        Assert.Contains("[6/6] succeeded", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("undo-create", run.Error, StringComparison.Ordinal);
        Assert.Contains("succeeded in", run.Error, StringComparison.Ordinal);
        Assert.Contains("Nodes:", run.Output, StringComparison.Ordinal);
        Assert.Contains("zk_node", run.Output, StringComparison.Ordinal);

        var clusterId = (string)Assert.Single((await JsonAsync("cluster", "list", "-q", name))["items"]!.AsArray())!["id"]!;
        var detail = await JsonAsync("cluster", "get", clusterId);
        Assert.Equal("active", (string?)detail["cluster"]!["status"]);
        Assert.Null(detail["cluster"]!["transition"]);
        var nodes = detail["nodes"]!.AsArray();
        Assert.Equal(3, nodes.Count);
        Assert.All(nodes, n => Assert.Equal("running", (string?)n!["status"]));

        var table = await PitrixAsync("cluster", "get", clusterId);
        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        Assert.All(nodes, n => Assert.Contains((string)n!["id"]!, table.Output, StringComparison.Ordinal));
        Assert.Contains("PRIVATE_IP", table.Output, StringComparison.Ordinal);
        Assert.Contains("VOLUME_SIZE", table.Output, StringComparison.Ordinal);
        var list = await PitrixAsync("cluster", "list", "--status", "active", "-q", name);
        Assert.Contains(clusterId, list.Output, StringComparison.Ordinal);

        var jobs = await JsonAsync("cluster", "jobs", clusterId);
        var job = Assert.Single(jobs["items"]!.AsArray())!;
        Assert.Equal("create", (string?)job["action"]);
        Assert.Equal("succeeded", (string?)job["status"]);
        var jobsTable = await PitrixAsync("cluster", "jobs", clusterId);
        Assert.Contains("6/6", jobsTable.Output, StringComparison.Ordinal);

        var jobId = (string)job["id"]!;
        var jobTable = await PitrixAsync("job", "get", jobId);
        Assert.Equal(ExitCodes.Ok, jobTable.ExitCode);
        Assert.Contains("Tasks:", jobTable.Output, StringComparison.Ordinal);
        Assert.Contains("ATTEMPTS", jobTable.Output, StringComparison.Ordinal);
        Assert.Contains("undo-create:1", jobTable.Output, StringComparison.Ordinal);
        Assert.Contains("6/6 done", jobTable.Output, StringComparison.Ordinal);
        var jobJson = await JsonAsync("job", "get", jobId);
        Assert.Equal(9, jobJson["tasks"]!.AsArray().Count);
        Assert.All(jobJson["tasks"]!.AsArray().Where(t => !(bool)t!["compensation"]!), t => Assert.Equal(1, (int)t!["attempts"]!));
    }

    [Fact]
    public async Task Create_SetOverValuesFile_BuildsNestedJson_FiveNodes()
    {
        var w = await WorldAsync();
        var values = Path.Combine(_home, "values.yaml");
        await File.WriteAllTextAsync(values, "cluster:\n  subnet: from-file\n  zk_node:\n    count: 7\nenv:\n  tick_time: 3000\n");
        var detail = await CreateActiveAsync(w, ServerFixture.Unique("zk"), "--values", values, "--set", "cluster.zk_node.count=5");
        Assert.Equal(5, detail["nodes"]!.AsArray().Count);
        Assert.Equal(5, (int)detail["roles"]![0]!["count"]!);
        var config = detail["config_values"]!;
        Assert.Equal(5, (int)config["cluster"]!["zk_node"]!["count"]!);
        Assert.Equal(3000, (int)config["env"]!["tick_time"]!);

        // --set comes after --values: the subnet given by Create's --set replaces the file's.
        Assert.Equal("vxnet-test", (string?)config["cluster"]!["subnet"]);
    }

    [Fact]
    public async Task Create_BadValues_ExitsInvalid_WithTheFieldError_AndCreatesNothing()
    {
        var w = await WorldAsync();
        var name = ServerFixture.Unique("zk");
        var run = await PitrixAsync([.. Create(w, name, "--set", "cluster.zk_node.count=4"), "--wait"]);
        Assert.Equal(ExitCodes.Invalid, run.ExitCode);
        Assert.Contains("cluster.invalid_values", run.Error, StringComparison.Ordinal);
        Assert.Contains("cluster.zk_node.count:", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, await ClusterCountAsync(name));

        var badSet = await PitrixAsync([.. Create(w, name, "--set", "cluster.subnet.x=1")]);
        Assert.Equal(ExitCodes.Usage, badSet.ExitCode);
        Assert.Contains("'cluster.subnet' is a value, not an object", badSet.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Plan_PrintsTheDag_AndCreatesNothing()
    {
        var w = await WorldAsync();
        var name = ServerFixture.Unique("zk");
        var run = await PitrixAsync([.. Create(w, name, "--plan")]);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains("DEPENDS_ON", run.Output, StringComparison.Ordinal);
        var register = run.Output.Split('\n').Single(l => l.StartsWith("register ", StringComparison.Ordinal));
        Assert.Contains("create:1,create:2,create:3", register, StringComparison.Ordinal);
        Assert.Contains("undo-create:3", run.Output, StringComparison.Ordinal);

        var json = await JsonAsync([.. Create(w, name, "--plan")]);
        Assert.Equal("create", (string?)json["action"]);
        Assert.Equal(9, json["tasks"]!.AsArray().Count);
        Assert.Equal(0, await ClusterCountAsync(name));
    }

    [Fact]
    public async Task Create_FailingWithWait_ExitsJobFailed_NamingTheFailedTask()
    {
        var w = await WorldAsync();
        var name = ServerFixture.Unique("zk");
        var run = await PitrixAsync([.. Create(w, name, "--label", "fake.fail-kind=run", "--label", "fake.fail=always"), "--wait"]);
        Assert.True(run.ExitCode == ExitCodes.JobFailed, run.ToString());
        Assert.Contains("failed init-zk_node", run.Error, StringComparison.Ordinal);
        Assert.Contains("task init-zk_node (fake.run) failed after 1 attempt(s)", run.Error, StringComparison.Ordinal);
        Assert.Contains("[fake.failed]", run.Error, StringComparison.Ordinal);
        Assert.Contains("succeeded undo-create:1 (undo)", run.Error, StringComparison.Ordinal);

        var clusterId = (string)Assert.Single((await JsonAsync("cluster", "list", "-q", name, "--status", "failed"))["items"]!.AsArray())!["id"]!;
        var jobId = (string)(await JsonAsync("cluster", "jobs", clusterId))["items"]![0]!["id"]!;
        var job = await PitrixAsync("job", "get", jobId);
        Assert.Contains("failing", job.Output, StringComparison.Ordinal);
        var waited = await PitrixAsync("job", "get", jobId, "--wait");
        Assert.Equal(ExitCodes.JobFailed, waited.ExitCode);
    }

    [Fact]
    public async Task ScaleOut_PlanThenWait_AddsNodes_AndScaleInRemovesThem()
    {
        var w = await WorldAsync();
        var clusterId = (string)(await CreateActiveAsync(w, ServerFixture.Unique("zk")))["cluster"]!["id"]!;

        var plan = await PitrixAsync("cluster", "scale-out", clusterId, "--role", "zk_node", "--count", "2", "--plan");
        Assert.True(plan.ExitCode == ExitCodes.Ok, plan.ToString());
        Assert.Contains("scale_out:zk_node", plan.Output, StringComparison.Ordinal);
        Assert.Equal(1, (int)(await JsonAsync("cluster", "jobs", clusterId))["total"]!);

        var scaled = await PitrixAsync("cluster", "scale-out", clusterId, "--role", "zk_node", "--count", "2", "--wait", "-o", "json");
        Assert.True(scaled.ExitCode == ExitCodes.Ok, scaled.ToString());
        Assert.Contains("succeeded scale_out:zk_node", scaled.Error, StringComparison.Ordinal);
        var nodes = scaled.Json["nodes"]!.AsArray();
        Assert.Equal([1, 2, 3, 4, 5], nodes.Select(n => (int)n!["server_id"]!).ToArray());

        var leaving = nodes.Where(n => (int)n!["server_id"]! >= 4).Select(n => (string)n!["id"]!).ToArray();
        var shrunk = await JsonAsync("cluster", "scale-in", clusterId, "--node", leaving[0], "--node", leaving[1], "--wait");
        Assert.Equal(3, shrunk["nodes"]!.AsArray().Count);
        Assert.DoesNotContain(shrunk["nodes"]!.AsArray(), n => leaving.Contains((string)n!["id"]!));
    }

    [Fact]
    public async Task BusyCluster_ExitsConflict_WithClusterBusy_AndQueueRunsTheActionAfter()
    {
        var w = await WorldAsync();
        var created = await JsonAsync([.. Create(w, ServerFixture.Unique("zk"), "--label", "fake.latency-ms=400")]);
        var clusterId = (string)created["cluster"]!["id"]!;

        var busy = await PitrixAsync("cluster", "stop", clusterId);
        Assert.Equal(ExitCodes.Conflict, busy.ExitCode);
        Assert.Contains("cluster.busy", busy.Error, StringComparison.Ordinal);
        Assert.Contains("queue", busy.Error, StringComparison.Ordinal);

        var queued = await PitrixAsync("cluster", "stop", clusterId, "--queue", "--wait", "-o", "json");
        Assert.True(queued.ExitCode == ExitCodes.Ok, queued.ToString());
        Assert.Contains("is queued", queued.Error, StringComparison.Ordinal);
        Assert.Equal("stopped", (string?)queued.Json["cluster"]!["status"]);
        Assert.All(queued.Json["nodes"]!.AsArray(), n => Assert.Equal("stopped", (string?)n!["status"]));
        var jobs = (await JsonAsync("cluster", "jobs", clusterId))["items"]!.AsArray();
        Assert.Equal(["stop", "create"], jobs.Select(j => (string)j!["action"]!).ToArray());
        Assert.All(jobs, j => Assert.Equal("succeeded", (string?)j!["status"]));

        var wrongState = await PitrixAsync("cluster", "stop", clusterId, "--wait");
        Assert.Equal(ExitCodes.Conflict, wrongState.ExitCode);
        Assert.Contains("cluster.invalid_state", wrongState.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_FollowsAnEventStream_ResumesWithLastEventId_AndFallsBackToPolling()
    {
        var w = await WorldAsync();
        var events = new EventStreamHandler();

        // Slow tasks (the fake cloud's latency label): the job is still running when the CLI starts waiting, so it
        // reads the stream, instead of finding the job finished on its first look.
        var run = await PitrixWithAsync(() => events, [.. Create(w, ServerFixture.Unique("zk"), "--label", "fake.latency-ms=300"), "--wait", "-o", "json"]);
        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Equal("active", (string?)run.Json["cluster"]!["status"]);

        // The stream's task event was shown; after it ended the CLI asked to resume after its last event, and
        // when the server then had no stream it polled to the end.
        Assert.Contains("running probe:1 (probe.kind, attempt 2)", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("other-job", run.Error, StringComparison.Ordinal);
        Assert.Equal(new[] { "(none)", "7" }, events.LastEventIds.Select(id => id ?? "(none)").ToArray());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Passes every request to the real server except <c>GET /api/v1/events</c>: the first one gets a short
    /// event stream (an event of another job, then one of the created job) that ends; later ones get 404.
    /// </summary>
    private sealed class EventStreamHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private string? _jobId;

        public ConcurrentQueue<string?> LastEventIds { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath != "/api/v1/events")
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (request.Method == HttpMethod.Post && request.RequestUri.AbsolutePath == "/api/v1/clusters" && response.StatusCode == HttpStatusCode.Accepted)
                {
                    var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
                    _jobId = (string?)body["job"]!["id"];
                    response.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
                }

                return response;
            }

            LastEventIds.Enqueue(request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null);
            if (LastEventIds.Count > 1)
            {
                return new HttpResponseMessage(HttpStatusCode.NotFound);
            }

            var stream = new StringBuilder()
                .Append(": keep-alive\n\n")
                .Append("id: 6\nevent: task.started\n")
                .Append($"data: {Event("other-job", "other-job:1")}\n\n")
                .Append("id: 7\nevent: task.started\n")
                .Append($"data: {Event(_jobId!, "probe:1")}\n\n")
                .ToString();
            var content = new StringContent(stream, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }

        private static string Event(string jobId, string key) => new JsonObject
        {
            ["seq"] = 1,
            ["job_id"] = jobId,
            ["type"] = "task.started",
            ["data"] = new JsonObject { ["key"] = key, ["kind"] = "probe.kind", ["attempt"] = 2 },
        }.ToJsonString();
    }
}
