using System.Text.Json.Nodes;
using Pitrix.Testing;

namespace Pitrix.VmCluster.E2E.Tests;

/// <summary>Agent failures in the middle of a job, and upgrades, with the real agents and ZooKeeper.</summary>
[Collection(VmServerGroup.Name)]
public sealed class ResilienceTests(VmServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    private static JsonObject Values(int count) => new()
    {
        ["cluster"] = new JsonObject { ["subnet"] = "default", ["zk_node"] = new JsonObject { ["count"] = count, ["volume_size"] = 10 } },
        ["env"] = new JsonObject { ["four_letter_words"] = "ruok,srvr,conf" },
    };

    [Fact]
    public async Task A_frontgate_killed_during_a_scale_out_comes_back_and_the_job_completes()
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, ServerFixture.Unique("zk"), "1.0.0");
        var (runtime, _) = await VmWorld.LocalRuntimeAsync(admin);
        var (clusterId, jobId) = await VmWorld.CreateAsync(admin, version, runtime, Values(1));
        var created = await VmWorld.WaitAsync(admin, clusterId, jobId);
        var frontgateInstance = (string)JsonNode.Parse((string)created["tasks"]!.AsArray().Single(t => (string?)t!["key"] == "frontgate")!["output"]!)!["instance_id"]!;
        var before = VmWorld.ProcessesOf(frontgateInstance);
        Assert.NotEmpty(before);
        await VmWorld.WaitForQuorumAsync(NodeAccess.Host, await VmWorld.RunningNodesAsync(admin, clusterId));

        var started = await admin.PostAsync($"/api/v1/clusters/{clusterId}:scale_out", new { roles = new JsonObject { ["zk_node"] = 2 } });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.Status);

        // Once the new instances exist, the frontgate dies (kill -9): the drones lose it, Pilot loses it.
        await VmWorld.EventuallyAsync(async () =>
        {
            var job = (await admin.GetAsync($"/api/v1/jobs/{started.Id}")).Body!;
            Assert.True(job["job"]!["finished_at"] is null, $"the scale-out ended before the kill: {job["job"]!.ToJsonString()}");
            return job["tasks"]!.AsArray().Any(t => ((string?)t!["key"])!.StartsWith("instance:", StringComparison.Ordinal) && (string?)t["status"] == "succeeded");
        }, "the scale-out's first new instance", TimeSpan.FromMinutes(2));
        foreach (var pid in before)
        {
            System.Diagnostics.Process.GetProcessById(pid).Kill();
        }

        // The machine's supervisor starts it again; the job's tasks retry through the outage and finish.
        var job = await VmWorld.WaitAsync(admin, clusterId, started.Id);
        var after = VmWorld.ProcessesOf(frontgateInstance);
        Assert.NotEmpty(after);
        Assert.Empty(after.Intersect(before));
        var nodes = await VmWorld.RunningNodesAsync(admin, clusterId);
        Assert.Equal(3, nodes.Count);
        await VmWorld.WaitForQuorumAsync(NodeAccess.Host, nodes);
        Assert.Equal("succeeded", (string?)job["job"]!["status"]);

        await VmWorld.ActAsync(admin, clusterId, "cease", new { force = true });
    }

    [Fact]
    public async Task An_upgrade_installs_the_new_version_runs_its_upgrade_command_and_a_rollback_returns()
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var name = ServerFixture.Unique("zk");
        var v1 = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, name, "1.0.0");
        var appId = (string)(await admin.GetAsync($"/api/v1/app_versions/{v1}")).Body!["app_id"]!;
        var v2 = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, name, "1.1.0", appId);
        var (runtime, zone) = await VmWorld.LocalRuntimeAsync(admin);
        var (clusterId, jobId) = await VmWorld.CreateAsync(admin, v1, runtime, Values(3));
        await VmWorld.WaitAsync(admin, clusterId, jobId);
        var nodes = await VmWorld.RunningNodesAsync(admin, clusterId);
        await VmWorld.WaitForQuorumAsync(NodeAccess.Host, nodes);
        Assert.Contains("Created /upgrade-e2e", await VmWorld.ZkCliAsync(NodeAccess.Host, nodes[0].Ip, "create", "/upgrade-e2e", "kept"), StringComparison.Ordinal);

        string InstalledVersion(string instanceId) =>
            (string)JsonNode.Parse(File.ReadAllText(Path.Combine(Server.DataDirectory, "local", zone, "instances", instanceId, "root", "opt", "pitrix", "app", "package.json")))!["version"]!;
        var instances = (await VmWorld.ClusterAsync(admin, clusterId))["nodes"]!.AsArray().Select(n => (string)n!["instance_id"]!).ToList();
        Assert.All(instances, i => Assert.Equal("1.0.0", InstalledVersion(i)));

        await VmWorld.ActAsync(admin, clusterId, "upgrade", new { app_version_id = v2 });
        var cluster = await VmWorld.ClusterAsync(admin, clusterId);
        Assert.Equal(v2, (string?)cluster["cluster"]!["app_version_id"]);
        Assert.All(instances, i => Assert.Equal("1.1.0", InstalledVersion(i)));
        Assert.All(instances, i => Assert.Contains("upgraded", File.ReadAllText(Path.Combine(Server.DataDirectory, "local", zone, "instances", i, "root", "var", "lib", "zookeeper", "upgrades.log")), StringComparison.Ordinal));
        await VmWorld.WaitForQuorumAsync(NodeAccess.Host, nodes);
        Assert.Contains("kept", await VmWorld.ZkCliAsync(NodeAccess.Host, nodes[1].Ip, "get", "/upgrade-e2e"), StringComparison.Ordinal);

        await VmWorld.ActAsync(admin, clusterId, "rollback");
        Assert.Equal(v1, (string?)(await VmWorld.ClusterAsync(admin, clusterId))["cluster"]!["app_version_id"]);
        Assert.All(instances, i => Assert.Equal("1.0.0", InstalledVersion(i)));
        await VmWorld.WaitForQuorumAsync(NodeAccess.Host, nodes);
        Assert.Contains("kept", await VmWorld.ZkCliAsync(NodeAccess.Host, nodes[2].Ip, "get", "/upgrade-e2e"), StringComparison.Ordinal);

        await VmWorld.ActAsync(admin, clusterId, "cease", new { force = true });
    }

    [Fact]
    public async Task Node_health_from_the_drones_shows_on_the_cluster_and_turns_unhealthy_when_zookeeper_dies()
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, ServerFixture.Unique("zk"), "1.0.0", edit: FastHealthChecks);
        var (runtime, zone) = await VmWorld.LocalRuntimeAsync(admin);
        var (clusterId, jobId) = await VmWorld.CreateAsync(admin, version, runtime, Values(1));
        await VmWorld.WaitAsync(admin, clusterId, jobId);

        async Task<string?> HealthAsync() => (string?)(await VmWorld.ClusterAsync(admin, clusterId))["nodes"]![0]!["health"];
        await VmWorld.EventuallyAsync(async () => await HealthAsync() == "healthy", "the node healthy", TimeSpan.FromSeconds(60));

        // ZooKeeper is killed behind the platform's back; the health check notices; a restart through the API heals it.
        var instance = (string)(await VmWorld.ClusterAsync(admin, clusterId))["nodes"]![0]!["instance_id"]!;
        var pidFile = Path.Combine(Server.DataDirectory, "local", zone, "instances", instance, "root", "run", "zookeeper.pid");
        var zookeeper = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(zookeeper).Kill();
        await VmWorld.EventuallyAsync(async () => await HealthAsync() == "unhealthy", "the node unhealthy", TimeSpan.FromSeconds(60));
        await VmWorld.ActAsync(admin, clusterId, "restart");
        await VmWorld.EventuallyAsync(async () => await HealthAsync() == "healthy", "the node healthy after the restart", TimeSpan.FromSeconds(60));
        Assert.NotEqual(zookeeper, int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture));

        await VmWorld.ActAsync(admin, clusterId, "cease", new { force = true });
    }

    /// <summary>Checks every 2 s, unhealthy after 2 failures, healthy after 1 success, and no action command (the test heals the node itself).</summary>
    private static void FastHealthChecks(string dir)
    {
        var path = Path.Combine(dir, "cluster.json.tmpl");
        File.WriteAllText(path, File.ReadAllText(path)
            .Replace("\"interval_sec\": 30", "\"interval_sec\": 2", StringComparison.Ordinal)
            .Replace("\"healthy_threshold\": 2", "\"healthy_threshold\": 1", StringComparison.Ordinal)
            .Replace("\"unhealthy_threshold\": 3", "\"unhealthy_threshold\": 2", StringComparison.Ordinal)
            .Replace("\"action_cmd\": \"/opt/pitrix/app/scripts/zk.sh restart\"", "\"action_cmd\": \"\"", StringComparison.Ordinal));
    }
}
