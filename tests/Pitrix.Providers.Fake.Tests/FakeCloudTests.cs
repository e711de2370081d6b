using Pitrix.Core.Cloud;
using Xunit;

namespace Pitrix.Providers.Fake.Tests;

/// <summary>What the FAKE cloud adds to the contract: it outlives its process, and it logs every operation.</summary>
public sealed class FakeCloudTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pitrix-fake-cloud-").FullName;

    [Fact]
    public async Task CreateInstance_AfterARestart_FindsWhatTheFirstProcessMade()
    {
        CloudInstance first;
        using (var before = new FakeCloud(_root))
        {
            var network = await before.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", "10.1.0.0/16"), CancellationToken.None);
            first = await before.CreateInstanceAsync(Request(network.Id), CancellationToken.None);
        }

        using var after = new FakeCloud(_root);
        var again = await after.CreateInstanceAsync(Request((await after.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", "10.1.0.0/16"), CancellationToken.None)).Id), CancellationToken.None);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.PrivateIp, again.PrivateIp);
        var instance = Assert.Single(after.Instances());
        Assert.Equal(("node-1", "job/create:1", 2048), (instance.NodeId, instance.IdempotencyKey, instance.Memory));
        var creations = FakeCloud.ReadLog(_root).Where(e => e.Op == "create_instance").Select(e => (e.Key, e.InstanceId, e.Result)).ToList();
        Assert.Equal([("job/create:1", first.Id, "created"), ("job/create:1", first.Id, "found")], creations);
    }

    [Fact]
    public async Task TerminateInstance_RemovesItFromTheLiveInstances_AndLogsItUnderItsNode()
    {
        using var cloud = new FakeCloud(_root);
        var network = await cloud.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", "10.1.0.0/16"), CancellationToken.None);
        var instance = await cloud.CreateInstanceAsync(Request(network.Id), CancellationToken.None);

        Assert.Equal(instance.Id, await cloud.FindInstanceIdOfNodeAsync("delete_instance", "node-1", CancellationToken.None));
        await cloud.TerminateInstanceAsync(instance.Id, CancellationToken.None);

        Assert.Empty(cloud.Instances());
        Assert.Null(await cloud.FindInstanceIdOfNodeAsync("delete_instance", "node-1", CancellationToken.None));
        var log = FakeCloud.ReadLog(_root);
        Assert.Contains(log, e => e is { Op: "terminate_instance", Key: "node-1", Result: "terminated" } && e.InstanceId == instance.Id);
        Assert.Contains(log, e => e is { Op: "delete_instance", Key: "node-1", InstanceId: null, Result: "absent" });
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static CloudInstanceRequest Request(string networkId) =>
        new("job/create:1", networkId, "node-1", 2, 2048, "fake-image") { Labels = new Dictionary<string, string> { [FakeCloud.NodeIdLabel] = "node-1" } };
}
