using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Providers.Fake;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>
/// The cluster lifecycle through the REST API with the real engine running jobs on the FAKE cloud:
/// create, every action, one job per cluster, queueing, failure with compensation, retry, plans.
/// </summary>
public abstract class ClusterTests(ServerFixture fixture)
{
    private static readonly JsonObject ZooKeeperValues = new() { ["cluster"] = new JsonObject { ["subnet"] = "vxnet-test" } };

    private TestServer Server => fixture.Server;

    private FakeCloud Cloud => Server.Services.GetRequiredService<FakeCloud>();

    private sealed record World(ApiSession Admin, ApiSession User, ApiSession Stranger, string RuntimeId, string AppId, string V1, string V2) : IDisposable
    {
        public void Dispose()
        {
            Admin.Dispose();
            User.Dispose();
            Stranger.Dispose();
        }
    }

    private async Task<World> WorldAsync()
    {
        var admin = await Server.LoginAdminAsync();
        var name = ServerFixture.Unique("zk");
        var repoId = await FakeCloudWorld.PublicRepoAsync(admin);
        var v1 = await FakeCloudWorld.ReleaseSampleAsync(admin, repoId, name, "1.0.0", edit: AddCustomAction);
        var appId = (string)(await admin.GetAsync($"/api/v1/app_versions/{v1}")).Body!["app_id"]!;
        var v2 = await FakeCloudWorld.ReleaseSampleAsync(admin, repoId, name, "1.1.0", appId, edit: AddCustomAction);
        return new World(
            admin,
            await Server.CreateUserAsync(ServerFixture.Unique("user"), ["user"]),
            await Server.CreateUserAsync(ServerFixture.Unique("stranger"), ["user"]),
            await FakeCloudWorld.FakeRuntimeAsync(admin),
            appId,
            v1,
            v2);
    }

    /// <summary>A custom action, declared by the package as a service outside the standard lifecycle.</summary>
    private static void AddCustomAction(string dir)
    {
        var path = Path.Combine(dir, "cluster.json.tmpl");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"destroy\":", "\"backup_now\": { \"cmd\": \"/opt/pitrix/app/scripts/backup.sh\" },\n      \"destroy\":", StringComparison.Ordinal));
    }

    private static async Task<(string ClusterId, string JobId)> CreateAsync(ApiSession session, World world, object? values = null, Dictionary<string, string>? labels = null, bool keepOnFailure = false)
    {
        var created = await session.PostAsync("/api/v1/clusters", new
        {
            name = ServerFixture.Unique("zk"),
            app_version_id = world.V1,
            runtime_id = world.RuntimeId,
            values = values ?? ZooKeeperValues,
            labels,
            keep_on_failure = keepOnFailure,
        });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        return ((string)created.Body!["cluster"]!["id"]!, (string)created.Body["job"]!["id"]!);
    }

    /// <summary>Waits until the job has finished and its result is applied (the cluster no longer shows it as its transition).</summary>
    private static async Task<JsonNode> WaitAsync(ApiSession session, string clusterId, string jobId)
    {
        for (var i = 0; i < 600; i++)
        {
            var job = await session.GetAsync($"/api/v1/jobs/{jobId}");
            var cluster = await session.GetAsync($"/api/v1/clusters/{clusterId}");
            if (job.Body!["job"]!["finished_at"] is not null && (string?)cluster.Body!["cluster"]!["transition"]?["job_id"] != jobId)
            {
                return job.Body;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Job {jobId} did not finish: {(await session.GetAsync($"/api/v1/jobs/{jobId}")).Text}");
    }

    private static async Task<JsonNode> ClusterAsync(ApiSession session, string id) => (await session.GetAsync($"/api/v1/clusters/{id}")).Body!;

    private static async Task<JsonNode> ActAsync(ApiSession session, string clusterId, string action, object? body = null)
    {
        var started = await session.PostAsync($"/api/v1/clusters/{clusterId}:{action}", body);
        Assert.True(started.Status == HttpStatusCode.Accepted, $"{action}: {started}");
        var job = await WaitAsync(session, clusterId, started.Id);
        Assert.True((string?)job["job"]!["status"] == "succeeded", $"{action}: {job.ToJsonString()}");
        return job;
    }

    [Fact]
    public async Task Create_RunsTheDag_ClusterActive_WithNodesFromTheRenderedTemplate()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w, new JsonObject { ["cluster"] = new JsonObject { ["subnet"] = "s1", ["zk_node"] = new JsonObject { ["count"] = 5 } } });
        var job = await WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("succeeded", (string?)job["job"]!["status"]);

        // The DAG: five instances in parallel, then register, then init and start in order.
        var tasks = job["tasks"]!.AsArray();
        var byKey = tasks.ToDictionary(t => (string)t!["key"]!, t => t!);
        Assert.Equal(5, tasks.Count(t => ((string)t!["key"]!).StartsWith("create:", StringComparison.Ordinal)));
        Assert.Equal(["create:1", "create:2", "create:3", "create:4", "create:5"], byKey["register"]["depends_on"]!.AsArray().Select(d => (string)d!).Order().ToArray());

        // Order from the event log (its sequence follows commits; wall-clock stamps are taken before a worker waits for the database).
        var log = (await w.User.GetAsync($"/api/v1/events?job={jobId}&follow=false")).Text.Split('\n')
            .Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l[6..])!).ToList();
        long Seq(string type, string key) => log.Where(e => (string?)e["type"] == type && (string?)e["data"]!["key"] == key).Select(e => (long)e["seq"]!).Single();
        Assert.All(Enumerable.Range(1, 5), i => Assert.True(Seq("task.started", "register") > Seq("task.succeeded", $"create:{i}")));
        Assert.True(Seq("task.started", "init-zk_node") > Seq("task.succeeded", "register"));
        Assert.True(Seq("task.started", "start-zk_node") > Seq("task.succeeded", "init-zk_node"));
        Assert.All(tasks.Where(t => (bool)t!["compensation"]!), t => Assert.Equal("skipped", (string?)t!["status"]));
        Assert.Equal(8, (int)job["job"]!["tasks_total"]!);
        Assert.Equal(8, (int)job["job"]!["tasks_done"]!);

        var cluster = await ClusterAsync(w.User, clusterId);
        Assert.Equal("active", (string?)cluster["cluster"]!["status"]);
        Assert.Null(cluster["cluster"]!["transition"]);
        var nodes = cluster["nodes"]!.AsArray();
        Assert.Equal(5, nodes.Count);
        Assert.All(nodes, n =>
        {
            Assert.Equal("running", (string?)n!["status"]);
            Assert.StartsWith("i-", (string?)n["instance_id"]);
            Assert.StartsWith("10.", (string?)n["private_ip"]);
        });
        Assert.Equal(5, (int)cluster["roles"]![0]!["count"]!);
        Assert.Equal("2000", (string?)cluster["roles"]![0]!["env"]!["tick_time"]);
        Assert.Equal("s1", (string?)cluster["config_values"]!["cluster"]!["subnet"]);

        // Each node's instance exists in the fake cloud, created once.
        var instances = Cloud.Instances().Where(i => nodes.Any(n => (string?)n!["id"] == i.NodeId)).ToList();
        Assert.Equal(5, instances.Count);

        // Nobody else sees it; its history lists the job.
        Assert.Equal(HttpStatusCode.NotFound, (await w.Stranger.GetAsync($"/api/v1/clusters/{clusterId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await w.Stranger.GetAsync($"/api/v1/jobs/{jobId}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await w.Stranger.PostAsync($"/api/v1/clusters/{clusterId}:stop")).Status);
        var history = await w.User.GetAsync($"/api/v1/clusters/{clusterId}/jobs");
        Assert.Equal(jobId, (string?)history.Body!["items"]![0]!["id"]);
        var list = await w.User.GetAsync("/api/v1/clusters?status=active");
        Assert.Contains(list.Body!["items"]!.AsArray(), c => (string?)c!["id"] == clusterId);
        Assert.DoesNotContain((await w.Stranger.GetAsync("/api/v1/clusters")).Body!["items"]!.AsArray(), c => (string?)c!["id"] == clusterId);
    }

    [Fact]
    public async Task Create_BadValues_AreRefusedByPath_AndNothingIsStored()
    {
        using var w = await WorldAsync();
        var before = (int)(await w.User.GetAsync("/api/v1/clusters")).Body!["total"]!;
        var bad = await w.User.PostAsync("/api/v1/clusters", new
        {
            name = "zk-bad",
            app_version_id = w.V1,
            runtime_id = w.RuntimeId,
            values = new { cluster = new { subnet = "s", zk_node = new { count = 4 } } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal("cluster.invalid_values", bad.Code);
        Assert.NotNull(bad.Body!["errors"]!["cluster.zk_node.count"]);

        var missing = await w.User.PostAsync("/api/v1/clusters", new { name = "zk-bad", app_version_id = w.V1, runtime_id = w.RuntimeId, values = new { } });
        Assert.Equal("cluster.invalid_values", missing.Code);
        Assert.NotNull(missing.Body!["errors"]!["cluster.subnet"]);

        var unknownRuntime = await w.User.PostAsync("/api/v1/clusters", new { name = "zk-bad", app_version_id = w.V1, runtime_id = "rt-nope", values = ZooKeeperValues });
        Assert.Equal("runtime.not_found", unknownRuntime.Code);
        var noName = await w.User.PostAsync("/api/v1/clusters", new { app_version_id = w.V1, runtime_id = w.RuntimeId });
        Assert.NotNull(noName.Body!["errors"]!["name"]);
        Assert.Equal(before, (int)(await w.User.GetAsync("/api/v1/clusters")).Body!["total"]!);
    }

    [Fact]
    public async Task Plan_ShowsTheDag_WithoutRunningAnything()
    {
        using var w = await WorldAsync();
        var plan = await w.User.PostAsync("/api/v1/clusters:plan", new { name = "zk-plan", app_version_id = w.V1, runtime_id = w.RuntimeId, values = ZooKeeperValues });
        Assert.True(plan.Status == HttpStatusCode.OK, plan.ToString());
        var keys = plan.Body!["tasks"]!.AsArray().Select(t => (string)t!["key"]!).ToList();
        Assert.Equal(["create:1", "create:2", "create:3"], keys.Where(k => k.StartsWith("create:", StringComparison.Ordinal)).ToArray());
        Assert.True(keys.IndexOf("register") > keys.IndexOf("create:3"));
        Assert.Equal(3, plan.Body["tasks"]!.AsArray().Count(t => (bool)t!["compensation"]!));
        Assert.Equal(0, (int)(await w.User.GetAsync("/api/v1/clusters?q=zk-plan")).Body!["total"]!);

        var (clusterId, jobId) = await CreateAsync(w.User, w);
        await WaitAsync(w.User, clusterId, jobId);
        var jobsBefore = (int)(await w.User.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["total"]!;
        var nodeId = (string)(await ClusterAsync(w.User, clusterId))["nodes"]![0]!["id"]!;
        var scaleIn = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "scale_in", node_ids = new[] { nodeId } });
        Assert.True(scaleIn.Status == HttpStatusCode.OK, scaleIn.ToString());
        Assert.Equal(["scale_in:zk_node", "delete:1"], scaleIn.Body!["tasks"]!.AsArray().Select(t => (string)t!["key"]!).ToArray());
        var update = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "update_config", values = new { env = new { tick_time = 3000 } } });
        Assert.Equal(["reconfigure:zk_node"], update.Body!["tasks"]!.AsArray().Select(t => (string)t!["key"]!).ToArray());
        Assert.Contains("tick_time", (string?)update.Body["tasks"]![0]!["input"]!["command"]);

        // Only Helm clusters have a manifest to diff; a vmcluster's plan has none.
        Assert.True(update.Body.AsObject().ContainsKey("manifest_diff"));
        Assert.Null(update.Body["manifest_diff"]);
        var unchanged = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "update_config", values = new { env = new { tick_time = 2000 } } });
        Assert.Equal(["unchanged"], unchanged.Body!["tasks"]!.AsArray().Select(t => (string)t!["key"]!).ToArray());
        Assert.Equal("cluster.invalid_parameters", (await w.User.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "scale_out", roles = new { nope = 1 } })).Code);
        Assert.Equal(jobsBefore, (int)(await w.User.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["total"]!);
    }

    [Fact]
    public async Task BusyCluster_RefusesASecondAction_OrQueuesIt()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w, labels: new() { ["fake.latency-ms"] = "400" });
        var busy = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:stop");
        Assert.Equal(HttpStatusCode.Conflict, busy.Status);
        Assert.Equal("cluster.busy", busy.Code);
        Assert.Equal(jobId, (string?)busy.Body!["job_id"]);

        var creating = await ClusterAsync(w.User, clusterId);
        Assert.Equal("pending", (string?)creating["cluster"]!["status"]);
        Assert.Equal("create", (string?)creating["cluster"]!["transition"]!["action"]);

        var queued = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:stop", new { queue = true });
        Assert.Equal(HttpStatusCode.Accepted, queued.Status);
        Assert.Equal("queued", (string?)queued.Body!["status"]);
        await WaitAsync(w.User, clusterId, jobId);
        var stop = await WaitAsync(w.User, clusterId, queued.Id);
        Assert.Equal("succeeded", (string?)stop["job"]!["status"]);
        var stopped = await ClusterAsync(w.User, clusterId);
        Assert.Equal("stopped", (string?)stopped["cluster"]!["status"]);
        Assert.All(stopped["nodes"]!.AsArray(), n => Assert.Equal("stopped", (string?)n!["status"]));

        // A wrong-state action is refused with the reason.
        var again = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:stop");
        Assert.Equal("cluster.invalid_state", again.Code);
    }

    [Fact]
    public async Task FailedCreate_IsCompensated_ClusterFailedWithReason_UnlessKeptForDebugging()
    {
        using var w = await WorldAsync();
        var labels = new Dictionary<string, string> { ["fake.fail-kind"] = "run", ["fake.fail"] = "always" };
        var (clusterId, jobId) = await CreateAsync(w.User, w, labels: labels);
        var job = await WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("failed", (string?)job["job"]!["status"]);
        Assert.Equal("fake.failed", (string?)job["job"]!["error_code"]);
        Assert.Contains("init-zk_node", (string?)job["job"]!["error_message"]);
        var tasks = job["tasks"]!.AsArray();
        Assert.All(tasks.Where(t => (bool)t!["compensation"]!), t => Assert.Equal("succeeded", (string?)t!["status"]));
        Assert.Equal("skipped", (string?)tasks.Single(t => (string?)t!["key"] == "start-zk_node")!["status"]);
        var failedTask = tasks.Single(t => (string?)t!["key"] == "init-zk_node")!;
        Assert.Equal("fake.failed", (string?)failedTask["attempt_history"]![0]!["error_code"]);
        Assert.Contains("failing", (string?)failedTask["output"]);

        var cluster = await ClusterAsync(w.User, clusterId);
        Assert.Equal("failed", (string?)cluster["cluster"]!["status"]);
        Assert.Contains("init-zk_node", (string?)cluster["cluster"]!["status_reason"]);
        Assert.Empty(cluster["nodes"]!.AsArray());

        // keep_on_failure leaves the instances for debugging: no compensation is planned.
        var (keptId, keptJob) = await CreateAsync(w.User, w, labels: labels, keepOnFailure: true);
        var kept = await WaitAsync(w.User, keptId, keptJob);
        Assert.DoesNotContain(kept["tasks"]!.AsArray(), t => (bool)t!["compensation"]!);
        var keptCluster = await ClusterAsync(w.User, keptId);
        Assert.All(keptCluster["nodes"]!.AsArray(), n => Assert.Equal("failed", (string?)n!["status"]));
        Assert.Equal(3, Cloud.Instances().Count(i => keptCluster["nodes"]!.AsArray().Any(n => (string?)n!["id"] == i.NodeId)));

        // A failed cluster can be ceased.
        await ActAsync(w.User, keptId, "cease");
        Assert.Equal(0, Cloud.Instances().Count(i => keptCluster["nodes"]!.AsArray().Any(n => (string?)n!["id"] == i.NodeId)));
    }

    [Fact]
    public async Task FlakyTasks_AreRetriedWithBackoff_AndEachAttemptIsKept()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w, labels: new() { ["fake.fail-kind"] = "create_instance", ["fake.fail"] = "2" });
        var job = await WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("succeeded", (string?)job["job"]!["status"]);
        var create = job["tasks"]!.AsArray().First(t => (string?)t!["key"] == "create:1")!;
        var attempts = create["attempt_history"]!.AsArray();
        Assert.Equal(3, attempts.Count);
        Assert.Equal(["failed", "failed", "succeeded"], attempts.Select(a => (string)a!["outcome"]!).ToArray());
        Assert.Equal("fake.flaky", (string?)attempts[0]!["error_code"]);
        Assert.Equal("active", (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["status"]);
    }

    [Fact]
    public async Task EveryAction_ChangesTheClusterAsDescribed()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w);
        await WaitAsync(w.User, clusterId, jobId);

        // Scale out adds nodes with new server ids; scale in removes the given ones and their instances.
        await ActAsync(w.User, clusterId, "scale_out", new { roles = new { zk_node = 2 } });
        var scaled = await ClusterAsync(w.User, clusterId);
        Assert.Equal([1, 2, 3, 4, 5], scaled["nodes"]!.AsArray().Select(n => (int)n!["server_id"]!).ToArray());
        Assert.Equal(5, (int)scaled["roles"]![0]!["count"]!);
        var leaving = scaled["nodes"]!.AsArray().Where(n => (int)n!["server_id"]! >= 4).Select(n => (string)n!["id"]!).ToArray();
        await ActAsync(w.User, clusterId, "scale_in", new { node_ids = leaving });
        var shrunk = await ClusterAsync(w.User, clusterId);
        Assert.Equal(3, shrunk["nodes"]!.AsArray().Count);
        Assert.DoesNotContain(Cloud.Instances(), i => leaving.Contains(i.NodeId));

        // Resize: sizes recorded on the role and on every instance; volumes never shrink.
        await ActAsync(w.User, clusterId, "resize", new { roles = new { zk_node = new { cpu = 4, memory = 8192 } } });
        var resized = await ClusterAsync(w.User, clusterId);
        Assert.Equal(4, (int)resized["roles"]![0]!["cpu"]!);
        Assert.All(Cloud.Instances().Where(i => resized["nodes"]!.AsArray().Any(n => (string?)n!["id"] == i.NodeId)), i => Assert.Equal(8192, i.Memory));
        Assert.Equal("cluster.invalid_parameters", (await w.User.PostAsync($"/api/v1/clusters/{clusterId}:resize", new { roles = new { zk_node = new { volume_size = 5 } } })).Code);

        // Update config: values merged, env re-rendered; sizes and counts have their own actions, and values
        // the package marks unchangeable keep theirs.
        Assert.Equal("cluster.invalid_parameters", (await w.User.PostAsync($"/api/v1/clusters/{clusterId}:update_config", new { values = new { cluster = new { zk_node = new { count = 5 } } } })).Code);
        var frozen = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:update_config", new { values = new { cluster = new { zk_node = new { volume_size = 20 } } } });
        Assert.Equal("cluster.unchangeable_values", frozen.Code);
        Assert.NotNull(frozen.Body!["errors"]!["cluster.zk_node.volume_size"]);
        await ActAsync(w.User, clusterId, "update_config", new { values = new { env = new { tick_time = 3000 } } });
        var updated = await ClusterAsync(w.User, clusterId);
        Assert.Equal("3000", (string?)updated["roles"]![0]!["env"]!["tick_time"]);
        Assert.Equal(3000, (int)updated["config_values"]!["env"]!["tick_time"]!);
        Assert.Equal("vxnet-test", (string?)updated["config_values"]!["cluster"]!["subnet"]);

        // Upgrade and rollback move between versions and remember the previous one.
        Assert.Equal("cluster.no_previous_version", (await w.User.PostAsync($"/api/v1/clusters/{clusterId}:rollback")).Code);
        await ActAsync(w.User, clusterId, "upgrade", new { app_version_id = w.V2 });
        var upgraded = await ClusterAsync(w.User, clusterId);
        Assert.Equal(w.V2, (string?)upgraded["cluster"]!["app_version_id"]);
        Assert.Equal(w.V1, (string?)upgraded["cluster"]!["previous_app_version_id"]);
        await ActAsync(w.User, clusterId, "rollback");
        Assert.Equal(w.V1, (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["app_version_id"]);

        // The custom actions the package declares are listed with the cluster; one runs, an undeclared one is refused.
        Assert.Equal(["backup_now", "stat"], (await ClusterAsync(w.User, clusterId))["custom_actions"]!.AsArray().Select(a => (string?)a));
        var custom = await ActAsync(w.User, clusterId, "run_action", new { name = "backup_now" });
        Assert.Contains(custom["tasks"]!.AsArray(), t => (string?)t!["key"] == "backup_now-zk_node");
        Assert.Equal("cluster.unknown_custom_action", (await w.User.PostAsync($"/api/v1/clusters/{clusterId}:run_action", new { name = "format_disk" })).Code);

        // Restart, stop, start.
        await ActAsync(w.User, clusterId, "restart");
        await ActAsync(w.User, clusterId, "stop");
        await ActAsync(w.User, clusterId, "start");
        Assert.Equal("active", (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["status"]);

        // Delete is recoverable; cease is final and releases the instances.
        await ActAsync(w.User, clusterId, "delete");
        var deleted = await ClusterAsync(w.User, clusterId);
        Assert.Equal("deleted", (string?)deleted["cluster"]!["status"]);
        Assert.NotNull(deleted["cluster"]!["deleted_at"]);
        await ActAsync(w.User, clusterId, "recover");
        Assert.Equal("active", (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["status"]);
        await ActAsync(w.User, clusterId, "delete");
        var nodeIds = deleted["nodes"]!.AsArray().Select(n => (string)n!["id"]!).ToList();
        await ActAsync(w.User, clusterId, "cease");
        Assert.Equal("ceased", (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["status"]);
        Assert.DoesNotContain(Cloud.Instances(), i => nodeIds.Contains(i.NodeId));
        Assert.DoesNotContain((await w.User.GetAsync("/api/v1/clusters")).Body!["items"]!.AsArray(), c => (string?)c!["id"] == clusterId);
    }

    [Fact]
    public async Task FailedJob_Retried_ResumesAndSucceeds()
    {
        using var w = await WorldAsync();

        // Three failing attempts exhaust the budget of three; the retry grants three more, and the fourth succeeds.
        var (clusterId, jobId) = await CreateAsync(w.User, w, labels: new() { ["fake.fail-kind"] = "create_instance", ["fake.fail"] = "3" });
        var failed = await WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("failed", (string?)failed["job"]!["status"]);
        Assert.Equal("failed", (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["status"]);

        var retried = await w.User.PostAsync($"/api/v1/jobs/{jobId}:retry");
        Assert.True(retried.Status == HttpStatusCode.OK, retried.ToString());
        var job = await WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("succeeded", (string?)job["job"]!["status"]);
        var create = job["tasks"]!.AsArray().Single(t => (string?)t!["key"] == "create:1")!;
        Assert.Equal(["failed", "failed", "failed", "succeeded"], create["attempt_history"]!.AsArray().Select(a => (string)a!["outcome"]!).ToArray());
        var cluster = await ClusterAsync(w.User, clusterId);
        Assert.Equal("active", (string?)cluster["cluster"]!["status"]);
        Assert.Null(cluster["cluster"]!["status_reason"]);
        Assert.Equal(3, cluster["nodes"]!.AsArray().Count(n => (string?)n!["status"] == "running"));
        Assert.Equal(3, Cloud.Instances().Count(i => cluster["nodes"]!.AsArray().Any(n => (string?)n!["id"] == i.NodeId)));

        // A succeeded job is not retried; a stranger cannot retry.
        Assert.Equal("job.not_retryable", (await w.User.PostAsync($"/api/v1/jobs/{jobId}:retry")).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await w.Stranger.PostAsync($"/api/v1/jobs/{jobId}:retry")).Status);
    }

    [Fact]
    public async Task RunningJob_Cancelled_StopsCleanly_AndUndoesWhatItCreated()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w, labels: new() { ["fake.latency-ms"] = "600" });
        for (var i = 0; i < 100 && !(await w.User.GetAsync($"/api/v1/jobs/{jobId}")).Body!["tasks"]!.AsArray().Any(t => (string?)t!["status"] == "succeeded"); i++)
        {
            await Task.Delay(50);
        }

        var cancelled = await w.User.PostAsync($"/api/v1/jobs/{jobId}:cancel");
        Assert.True(cancelled.Status == HttpStatusCode.OK, cancelled.ToString());
        var job = await WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("cancelled", (string?)job["job"]!["status"]);
        var tasks = job["tasks"]!.AsArray();
        Assert.Contains(tasks, t => (string?)t!["status"] == "cancelled");
        Assert.All(tasks.Where(t => (bool)t!["compensation"]!), t => Assert.Equal("succeeded", (string?)t!["status"]));
        var cluster = await ClusterAsync(w.User, clusterId);
        Assert.Equal("failed", (string?)cluster["cluster"]!["status"]);
        Assert.Contains("cancelled", (string?)cluster["cluster"]!["status_reason"]);
        Assert.Empty(cluster["nodes"]!.AsArray());
        Assert.Equal("job.not_cancellable", (await w.User.PostAsync($"/api/v1/jobs/{jobId}:cancel")).Code);
    }

    [Fact]
    public async Task Events_StreamAJobsProgress_AndResumeFromTheLastEventId()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w);

        // Follow the stream live until the cluster's update arrives.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?cluster={clusterId}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", w.User.Token);
        using var response = await w.User.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(long Id, string Type, JsonNode Data)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        long id = 0;
        string? type = null;
        while (events.Count == 0 || events[^1].Type != "cluster.updated")
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("The stream ended.");
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((id, type!, JsonNode.Parse(line[6..])!));
            }
        }

        var types = events.Select(e => e.Type).ToList();
        Assert.Equal("job.created", types[0]);
        Assert.Contains("job.started", types);
        Assert.Equal(6, types.Count(t => t == "task.succeeded"));
        Assert.True(types.IndexOf("job.succeeded") < types.IndexOf("cluster.updated"));
        Assert.Equal("active", (string?)events[^1].Data["data"]!["status"]);
        Assert.All(events, e => Assert.Equal(jobId, (string?)e.Data["job_id"]));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());

        // Resuming from an event id replays exactly the later ones.
        using var resume = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?cluster={clusterId}&follow=false");
        resume.Headers.Authorization = request.Headers.Authorization;
        resume.Headers.Add("Last-Event-ID", events[4].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var rest = await w.User.Http.SendAsync(resume);
        var replayed = (await rest.Content.ReadAsStringAsync()).Split('\n').Where(l => l.StartsWith("id: ", StringComparison.Ordinal)).Select(l => long.Parse(l[4..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(events.Where(e => e.Id > events[4].Id).Select(e => e.Id).Order().ToList(), replayed);

        // Another user's cluster is not found; one of the two filters is required.
        Assert.Equal(HttpStatusCode.NotFound, (await w.Stranger.GetAsync($"/api/v1/events?cluster={clusterId}&follow=false")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await w.User.GetAsync("/api/v1/events")).Status);
    }

    [Fact]
    public async Task ForceDelete_CeasesACluster_WhateverItIsDoing()
    {
        using var w = await WorldAsync();
        var (clusterId, jobId) = await CreateAsync(w.User, w, labels: new() { ["fake.latency-ms"] = "1500" });
        var forced = await w.User.PostAsync($"/api/v1/clusters/{clusterId}:delete", new { force = true });
        Assert.True(forced.Status == HttpStatusCode.Accepted, forced.ToString());
        Assert.Equal("cease", (string?)forced.Body!["action"]);
        var cease = await WaitAsync(w.User, clusterId, forced.Id);
        Assert.Equal("succeeded", (string?)cease["job"]!["status"]);
        Assert.Equal("cancelled", (string?)(await w.User.GetAsync($"/api/v1/jobs/{jobId}")).Body!["job"]!["status"]);
        Assert.Equal("ceased", (string?)(await ClusterAsync(w.User, clusterId))["cluster"]!["status"]);
    }
}

public sealed class SqliteClusterTests(SqliteFakeCloudServerFixture fixture) : ClusterTests(fixture), IClassFixture<SqliteFakeCloudServerFixture>;

public sealed class PostgresClusterTests(PostgresFakeCloudServerFixture fixture) : ClusterTests(fixture), IClassFixture<PostgresFakeCloudServerFixture>;
