using System.Text.Json.Nodes;
using Pitrix.Testing;

namespace Pitrix.VmCluster.E2E.Tests;

/// <summary>
/// The ZooKeeper sample deployed through the API on the local runtime: real pitrix-frontgate and pitrix-drone
/// processes, real ZooKeeper servers (Debian's package) forming quorums, rendered from metadata by the drones.
/// </summary>
/// <remarks>Run twice: on a runtime with loopback isolation and on one with netns isolation.</remarks>
public abstract class ZooKeeperTests(VmServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    /// <summary>The runtime's isolation label: loopback or netns.</summary>
    protected abstract string Isolation { get; }

    private static JsonObject Values(int count, string fourLetterWords = "ruok,srvr,conf") => new()
    {
        ["cluster"] = new JsonObject { ["subnet"] = "default", ["zk_node"] = new JsonObject { ["count"] = count, ["volume_size"] = 10 } },
        ["env"] = new JsonObject { ["four_letter_words"] = fourLetterWords },
    };

    [Fact]
    public async Task A_three_node_ensemble_forms_a_quorum_scales_reconfigures_stops_and_is_ceased()
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, ServerFixture.Unique("zk"), "1.0.0");
        var (runtime, zone) = await VmWorld.LocalRuntimeAsync(admin, Isolation);
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("user"), ["user"]);

        // Create: three servers, one leader and two followers, each answering on its own address.
        var (clusterId, jobId) = await VmWorld.CreateAsync(user, version, runtime, Values(3));
        await VmWorld.WaitAsync(user, clusterId, jobId);
        var cluster = await VmWorld.ClusterAsync(user, clusterId);
        Assert.Equal("active", (string?)cluster["cluster"]!["status"]);
        var nodes = await VmWorld.RunningNodesAsync(user, clusterId);
        Assert.Equal(3, nodes.Count);
        Assert.Equal(3, nodes.Select(n => n.Ip).Distinct().Count());
        var zoneRoot = Path.Combine(Server.DataDirectory, "local", zone);
        var access = await NodeAccess.OfRuntimeAsync(zoneRoot, runtime);
        await VmWorld.AssertIsolationAsync(Isolation, access, nodes);
        try
        {
            await VmWorld.WaitForQuorumAsync(access, nodes);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n" + VmWorld.Diagnose(zoneRoot), e);
        }

        // A znode written through one member is read through another.
        var created = await VmWorld.ZkCliAsync(access, nodes[0].Ip, "create", "/pitrix-e2e", "written-on-node-1");
        Assert.Contains("Created /pitrix-e2e", created, StringComparison.Ordinal);
        Assert.Contains("written-on-node-1", await VmWorld.ZkCliAsync(access, nodes[2].Ip, "get", "/pitrix-e2e"), StringComparison.Ordinal);

        // Scale out to five: every member's zoo.cfg is re-rendered from metadata and the new ones join.
        await VmWorld.ActAsync(user, clusterId, "scale_out", new { roles = new JsonObject { ["zk_node"] = 2 } });
        var five = await VmWorld.RunningNodesAsync(user, clusterId);
        Assert.Equal(5, five.Count);
        await VmWorld.WaitForQuorumAsync(access, five);
        foreach (var (_, ip) in five)
        {
            var conf = await VmWorld.FourLetterAsync(access, ip, "conf");
            Assert.True(conf is not null && five.All(n => conf.Contains(n.Ip + ":2888", StringComparison.Ordinal)), $"{ip} conf: {conf}");
        }

        // Scale in to three: the leaving members go, the rest form a quorum of three again.
        var leaving = five.Skip(3).Select(n => n.Id).ToArray();
        await VmWorld.ActAsync(user, clusterId, "scale_in", new { node_ids = leaving });
        var three = await VmWorld.RunningNodesAsync(user, clusterId);
        Assert.Equal(3, three.Count);
        Assert.DoesNotContain(three, n => leaving.Contains(n.Id));
        await VmWorld.WaitForQuorumAsync(access, three);
        Assert.Contains("written-on-node-1", await VmWorld.ZkCliAsync(access, three[1].Ip, "get", "/pitrix-e2e"), StringComparison.Ordinal);

        // Update a config value: the drones re-render zoo.cfg and reload; every member runs with it.
        await VmWorld.ActAsync(user, clusterId, "update_config", new { values = new JsonObject { ["env"] = new JsonObject { ["tick_time"] = 2500 } } });
        foreach (var (_, ip) in three)
        {
            await VmWorld.EventuallyAsync(async () => (await VmWorld.FourLetterAsync(access, ip, "conf"))?.Contains("tickTime=2500", StringComparison.Ordinal) == true, $"tickTime=2500 on {ip}", TimeSpan.FromSeconds(60));
        }

        await VmWorld.WaitForQuorumAsync(access, three);

        // A custom action's parameter reaches the command as a value: printed literally, nothing executed.
        var action = await VmWorld.ActAsync(user, clusterId, "run_action", new { name = "stat", parameters = new JsonObject { ["label"] = "$(touch pwned-marker)" } });
        var output = string.Join("\n", action["tasks"]!.AsArray().Select(t => (string?)t!["output"]));
        Assert.Contains("$(touch pwned-marker)", output, StringComparison.Ordinal);
        Assert.Contains("Mode: ", output, StringComparison.Ordinal);
        var instances = (await VmWorld.ClusterAsync(user, clusterId))["nodes"]!.AsArray().Where(n => (string?)n!["status"] == "running").Select(n => (string)n!["instance_id"]!).ToList();
        Assert.Empty(Directory.EnumerateFiles(Server.DataDirectory, "pwned-marker", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "pwned-marker")));

        // Stop: no process of any node is left; start: the ensemble is back with its data.
        await VmWorld.ActAsync(user, clusterId, "stop");
        Assert.All(instances, i => Assert.Empty(VmWorld.ProcessesOf(i)));
        await VmWorld.ActAsync(user, clusterId, "start");
        await VmWorld.WaitForQuorumAsync(access, three);
        Assert.Contains("written-on-node-1", await VmWorld.ZkCliAsync(access, three[0].Ip, "get", "/pitrix-e2e"), StringComparison.Ordinal);

        // Delete keeps the nodes for the grace period; recover brings the cluster back.
        await VmWorld.ActAsync(user, clusterId, "delete");
        Assert.Equal("deleted", (string?)(await VmWorld.ClusterAsync(user, clusterId))["cluster"]!["status"]);
        Assert.All(instances, i => Assert.Empty(VmWorld.ProcessesOf(i)));
        await VmWorld.ActAsync(user, clusterId, "recover");
        await VmWorld.WaitForQuorumAsync(access, three);

        // Cease: no process and no directory of any node is left.
        await VmWorld.ActAsync(user, clusterId, "cease", new { force = true });
        Assert.Equal("ceased", (string?)(await VmWorld.ClusterAsync(user, clusterId))["cluster"]!["status"]);
        Assert.All(instances, i => Assert.Empty(VmWorld.ProcessesOf(i)));
        Assert.All(instances, i => Assert.False(Directory.Exists(Path.Combine(zoneRoot, "instances", i)), $"instance {i}'s directory is still there"));

        // The runtime's last cluster is gone, so its frontgate went too: nothing of the zone runs.
        Assert.Empty(VmWorld.ProcessesUnder(zoneRoot));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(zoneRoot, "instances")));
        await VmWorld.AssertNetworkGoneAsync(zoneRoot, three[0].Ip);
    }
}

/// <summary>ZooKeeper on a local runtime whose nodes share the host's network stack, each on its own loopback address.</summary>
[Collection(VmServerGroup.Name)]
public sealed class ZooKeeperOnLoopbackTests(VmServerFixture fixture) : ZooKeeperTests(fixture)
{
    protected override string Isolation => "loopback";
}

/// <summary>
/// ZooKeeper on a local runtime with netns isolation (root): each node in a network namespace of its own, the
/// server without a route to any of them, the frontgate the only way in.
/// </summary>
[Collection(VmServerGroup.Name)]
public sealed class ZooKeeperInNetnsTests(VmServerFixture fixture) : ZooKeeperTests(fixture)
{
    protected override string Isolation => "netns";
}
