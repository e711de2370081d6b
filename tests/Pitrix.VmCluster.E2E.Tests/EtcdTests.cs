using System.Text.Json.Nodes;
using Pitrix.Testing;

namespace Pitrix.VmCluster.E2E.Tests;

/// <summary>
/// The etcd sample deployed through the API on the local runtime: real etcd members (Debian's etcd-server) on the
/// nodes' loopback addresses, an initial cluster rendered from metadata, and scaling through etcd's runtime
/// reconfiguration (members added before they start, removed before they stop).
/// </summary>
/// <remarks>Run twice: on a runtime with loopback isolation and on one with netns isolation.</remarks>
public abstract class EtcdTests(VmServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    /// <summary>The runtime's isolation label: loopback or netns.</summary>
    protected abstract string Isolation { get; }

    private static JsonObject Values(int count) => new()
    {
        ["cluster"] = new JsonObject { ["subnet"] = "default", ["etcd_node"] = new JsonObject { ["count"] = count, ["volume_size"] = 10 } },
    };

    [Fact]
    public async Task A_three_member_cluster_serves_scales_to_five_and_back_keeps_its_data_and_is_ceased()
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, ServerFixture.Unique("etcd"), "1.0.0", sample: "etcd-cluster");
        var (runtime, zone) = await VmWorld.LocalRuntimeAsync(admin, Isolation);
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("user"), ["user"]);
        var zoneRoot = Path.Combine(Server.DataDirectory, "local", zone);
        var instances = new HashSet<string>(StringComparer.Ordinal);
        string? clusterId = null;
        string? frontgate = null;
        var ceased = false;
        try
        {
            // Create: three members, each healthy on its own loopback address and seeing the other two.
            (clusterId, var jobId) = await VmWorld.CreateAsync(user, version, runtime, Values(3));
            var created = await VmWorld.WaitAsync(user, clusterId, jobId);
            frontgate = (string?)JsonNode.Parse((string)created["tasks"]!.AsArray().Single(t => (string?)t!["key"] == "frontgate")!["output"]!)!["instance_id"];
            Assert.Equal("active", (string?)(await VmWorld.ClusterAsync(user, clusterId))["cluster"]!["status"]);
            instances.UnionWith(await InstancesAsync(user, clusterId));
            var three = await VmWorld.RunningNodesAsync(user, clusterId);
            Assert.Equal(3, three.Count);
            Assert.Equal(3, three.Select(n => n.Ip).Distinct().Count());
            var access = await NodeAccess.OfRuntimeAsync(zoneRoot, runtime);
            await VmWorld.AssertIsolationAsync(Isolation, access, three);
            var members = await EtcdWorld.WaitForMembersAsync(access, three, zoneRoot);
            Assert.Equal(three.Select(n => n.Id).Order(StringComparer.Ordinal), members.Select(m => m.Name).Order(StringComparer.Ordinal));
            Assert.All(members, m => Assert.Equal("started", m.Status));

            // A key put through one member is read through another.
            Assert.Equal(0, (await EtcdWorld.EtcdctlAsync(access, three[0].Ip, "put", "/pitrix-e2e", "written-on-node-1")).ExitCode);
            Assert.Contains("written-on-node-1", (await EtcdWorld.EtcdctlAsync(access, three[2].Ip, "get", "/pitrix-e2e")).Output, StringComparison.Ordinal);

            // Scale out to five: the new members are added one by one through a member and join the running cluster.
            await VmWorld.ActAsync(user, clusterId, "scale_out", new { roles = new JsonObject { ["etcd_node"] = 2 } });
            instances.UnionWith(await InstancesAsync(user, clusterId));
            var five = await VmWorld.RunningNodesAsync(user, clusterId);
            Assert.Equal(5, five.Count);
            await EtcdWorld.WaitForMembersAsync(access, five, zoneRoot);
            var added = five.Where(n => !three.Contains(n)).ToList();
            Assert.Equal(2, added.Count);
            foreach (var (_, ip) in added)
            {
                Assert.Contains("written-on-node-1", (await EtcdWorld.EtcdctlAsync(access, ip, "get", "/pitrix-e2e")).Output, StringComparison.Ordinal);
            }

            // Scale in to three: the leaving members leave the membership and their processes are gone.
            var leaving = five.Skip(3).ToList();
            var leavingInstances = await InstancesAsync(user, clusterId, leaving.Select(n => n.Id));
            await VmWorld.ActAsync(user, clusterId, "scale_in", new { node_ids = leaving.Select(n => n.Id).ToArray() });
            var staying = await VmWorld.RunningNodesAsync(user, clusterId);
            Assert.Equal(3, staying.Count);
            Assert.DoesNotContain(staying, n => leaving.Contains(n));
            members = await EtcdWorld.WaitForMembersAsync(access, staying, zoneRoot);
            Assert.DoesNotContain(members, m => leaving.Any(l => m.Name == l.Id || m.PeerUrls.Contains(l.Ip + ":", StringComparison.Ordinal)));
            Assert.All(leavingInstances, i => Assert.Empty(VmWorld.ProcessesOf(i)));
            foreach (var (_, ip) in leaving)
            {
                Assert.False(await EtcdWorld.HealthyAsync(access, ip), $"{ip} still answers");
            }

            Assert.Contains("written-on-node-1", (await EtcdWorld.EtcdctlAsync(access, staying[1].Ip, "get", "/pitrix-e2e")).Output, StringComparison.Ordinal);

            // Update a setting: the drones render it and restart their members (membership changes never do).
            var pidFiles = (await InstancesAsync(user, clusterId)).Select(i => Path.Combine(zoneRoot, "instances", i, "root", "run", "etcd.pid")).ToList();
            var pidsBefore = await Task.WhenAll(pidFiles.Select(f => File.ReadAllTextAsync(f)));
            await VmWorld.ActAsync(user, clusterId, "update_config", new { values = new JsonObject { ["env"] = new JsonObject { ["heartbeat_interval"] = 150 } } });
            for (var i = 0; i < pidFiles.Count; i++)
            {
                var config = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(pidFiles[i]))!, "etc", "etcd", "etcd.conf.yml");
                var before = pidsBefore[i];
                await VmWorld.EventuallyAsync(
                    async () => (await EtcdWorld.ReadIfAnyAsync(config)).Contains("heartbeat-interval: 150\n", StringComparison.Ordinal)
                        && await EtcdWorld.ReadIfAnyAsync(pidFiles[i]) is { Length: > 0 } pid && pid != before,
                    $"{config} with the new heartbeat and a restarted member",
                    TimeSpan.FromSeconds(90));
            }

            await EtcdWorld.WaitForMembersAsync(access, staying, zoneRoot);

            // Stop: no process of any node is left; start: the same three members are back with the data.
            var running = await InstancesAsync(user, clusterId);
            await VmWorld.ActAsync(user, clusterId, "stop");
            Assert.All(running, i => Assert.Empty(VmWorld.ProcessesOf(i)));
            await VmWorld.ActAsync(user, clusterId, "start");
            members = await EtcdWorld.WaitForMembersAsync(access, staying, zoneRoot);
            Assert.Equal(staying.Select(n => n.Id).Order(StringComparer.Ordinal), members.Select(m => m.Name).Order(StringComparer.Ordinal));
            Assert.Contains("written-on-node-1", (await EtcdWorld.EtcdctlAsync(access, staying[2].Ip, "get", "/pitrix-e2e")).Output, StringComparison.Ordinal);

            // Cease: no process and no directory of any node is left.
            await VmWorld.ActAsync(user, clusterId, "cease", new { force = true });
            ceased = true;
            Assert.Equal("ceased", (string?)(await VmWorld.ClusterAsync(user, clusterId))["cluster"]!["status"]);
            Assert.All(instances, i => Assert.Empty(VmWorld.ProcessesOf(i)));
            Assert.All(instances, i => Assert.False(Directory.Exists(Path.Combine(zoneRoot, "instances", i)), $"instance {i}'s directory is still there"));
            await VmWorld.AssertNetworkGoneAsync(zoneRoot, staying[0].Ip);
        }
        finally
        {
            if (clusterId is not null && !ceased)
            {
                await CleanUpAsync(user, clusterId, instances);
            }

            // The runtime's frontgate outlives clusters and the server (its own session); this test's runtime ends here.
            if (frontgate is not null)
            {
                KillAll(VmWorld.ProcessesOf(frontgate));
            }
        }
    }

    /// <summary>The instance ids of the cluster's live nodes (of the given nodes only, when named).</summary>
    private static async Task<List<string>> InstancesAsync(ApiSession session, string clusterId, IEnumerable<string>? nodeIds = null)
    {
        var wanted = nodeIds?.ToHashSet(StringComparer.Ordinal);
        return (await VmWorld.ClusterAsync(session, clusterId))["nodes"]!.AsArray()
            .Where(n => (string?)n!["instance_id"] is { Length: > 0 } && (wanted is null || wanted.Contains((string)n["id"]!)))
            .Select(n => (string)n!["instance_id"]!)
            .ToList();
    }

    /// <summary>After a failure: cease the cluster through the API; whatever of its instances still runs is ended by PID.</summary>
    private static async Task CleanUpAsync(ApiSession session, string clusterId, HashSet<string> instances)
    {
        try
        {
            instances.UnionWith(await InstancesAsync(session, clusterId));
            var started = await session.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
            if (started.Status == System.Net.HttpStatusCode.Accepted)
            {
                await VmWorld.WaitAsync(session, clusterId, started.Id, TimeSpan.FromMinutes(3));
            }
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException or HttpRequestException)
        {
            // The processes are ended below.
        }

        KillAll(instances.SelectMany(VmWorld.ProcessesOf));
    }

    /// <summary>Ends processes by PID (found by this test's instance markers).</summary>
    private static void KillAll(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }
    }
}

/// <summary>etcd on a local runtime whose members share the host's network stack, each on its own loopback address.</summary>
[Collection(VmServerGroup.Name)]
public sealed class EtcdOnLoopbackTests(VmServerFixture fixture) : EtcdTests(fixture)
{
    protected override string Isolation => "loopback";
}

/// <summary>etcd on a local runtime with netns isolation (root): members in namespaces of their own, unreachable from the server.</summary>
[Collection(VmServerGroup.Name)]
public sealed class EtcdInNetnsTests(VmServerFixture fixture) : EtcdTests(fixture)
{
    protected override string Isolation => "netns";
}
