using System.Diagnostics;
using Grpc.Core;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Xunit;

namespace Pitrix.Frontgate.Tests;

/// <summary>
/// What each drone may read, served by WatchMetadata: the same suite for every metadata backend. Metadata is
/// written the way Pilot writes it, through the Pilot stream.
/// </summary>
public abstract class MetadataViewTests : IAsyncLifetime
{
    protected FrontgateTestEnvironment Environment { get; private set; } = null!;

    /// <summary>The backend's configuration keys.</summary>
    protected abstract Dictionary<string, string?> BackendConfiguration();

    public async Task InitializeAsync() => Environment = await FrontgateTestEnvironment.StartAsync(BackendConfiguration());

    public async Task DisposeAsync() => await Environment.DisposeAsync();

    private async Task WriteTwoClustersAsync()
    {
        await Environment.PutAsync("cl-1",
            ("hosts/zk/nd-1/ip", "10.0.0.1"),
            ("hosts/zk/nd-1/sid", "1"),
            ("hosts/zk/nd-2/ip", "10.0.0.2"),
            ("hosts/web/nd-5/ip", "10.0.0.5"),
            ("cluster/cluster_id", "cl-1"),
            ("endpoints/client/port", "2181"),
            ("adding-hosts/zk/nd-3/ip", "10.0.0.3"),
            ("env/zk/tickTime", "2000"),
            ("env/web/secret", "web-only"),
            ("cmd/nd-1", "{\"cmd\":\"init\"}"));
        await Environment.PutAsync("cl-2",
            ("hosts/kafka/nd-9/ip", "10.0.1.9"),
            ("cluster/cluster_id", "cl-2"),
            ("endpoints/broker/port", "9092"),
            ("env/kafka/heap", "1g"));
    }

    [Fact]
    public async Task Watch_NodeInCluster_SeesOwnHostItsClusterAndOwnRoleEnvOnly()
    {
        await WriteTwoClustersAsync();
        await using var drone = Environment.Drone("nd-1");
        using var watch = drone.Watch();

        var view = await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));

        Assert.Equal(MetadataEvent.Types.Kind.Snapshot, watch.Events[0].Kind);
        var expected = new Dictionary<string, string>
        {
            ["host/ip"] = "10.0.0.1",
            ["host/sid"] = "1",
            ["hosts/zk/nd-1/ip"] = "10.0.0.1",
            ["hosts/zk/nd-1/sid"] = "1",
            ["hosts/zk/nd-2/ip"] = "10.0.0.2",
            ["hosts/web/nd-5/ip"] = "10.0.0.5",
            ["cluster/cluster_id"] = "cl-1",
            ["endpoints/client/port"] = "2181",
            ["adding-hosts/zk/nd-3/ip"] = "10.0.0.3",
            ["env/tickTime"] = "2000",
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key), view.OrderBy(kv => kv.Key));
    }

    [Fact]
    public async Task Watch_TwoClusters_NeitherNodeSeesTheOtherClustersKeys()
    {
        await WriteTwoClustersAsync();
        await using var first = Environment.Drone("nd-1");
        await using var second = Environment.Drone("nd-9");
        using var firstWatch = first.Watch();
        using var secondWatch = second.Watch();
        await firstWatch.WaitUntilAsync(v => v.ContainsKey("host/ip"));
        await secondWatch.WaitUntilAsync(v => v.ContainsKey("host/ip"));

        // Changes to one cluster while both watch reach only that cluster's nodes.
        await Environment.PutAsync("cl-2", ("hosts/kafka/nd-9/port", "9092"), ("cluster/secret", "cl-2-only"));
        await Environment.PutAsync("cl-1", ("cluster/marker", "done"));
        await firstWatch.WaitUntilAsync(v => v.ContainsKey("cluster/marker"));
        await secondWatch.WaitUntilAsync(v => v.ContainsKey("host/port"));

        Assert.DoesNotContain(firstWatch.Events.SelectMany(e => e.Entries), e => e.Value.Contains("10.0.1.") || e.Value.Contains("cl-2"));
        Assert.DoesNotContain(secondWatch.Events.SelectMany(e => e.Entries), e => e.Value.Contains("10.0.0.") || e.Value == "cl-1" || e.Value == "done");
        Assert.Equal("cl-2", secondWatch.View["cluster/cluster_id"]);
        Assert.Equal("1g", secondWatch.View["env/heap"]);
    }

    [Fact]
    public async Task Watch_LinkToClusterOnThisFrontgate_SeesItsHostsClusterAndEndpointsOnly()
    {
        await WriteTwoClustersAsync();
        await Environment.PutAsync("cl-1", ("links/kafka", "cl-2"), ("links/elsewhere", "cl-not-here"));
        await using var drone = Environment.Drone("nd-2");
        using var watch = drone.Watch();

        var view = await watch.WaitUntilAsync(v => v.ContainsKey("links/kafka/hosts/kafka/nd-9/ip"));

        Assert.Equal("cl-2", view["links/kafka/cluster/cluster_id"]);
        Assert.Equal("9092", view["links/kafka/endpoints/broker/port"]);
        Assert.DoesNotContain(view.Keys, k => k.StartsWith("links/kafka/env", StringComparison.Ordinal));
        Assert.DoesNotContain(view.Keys, k => k.StartsWith("links/elsewhere", StringComparison.Ordinal));
        Assert.DoesNotContain("links/kafka", view.Keys);

        // The linked cluster's changes reach the linking node too.
        var watch2 = Stopwatch.StartNew();
        await Environment.PutAsync("cl-2", ("hosts/kafka/nd-10/ip", "10.0.1.10"));
        await watch.WaitUntilAsync(v => v.ContainsKey("links/kafka/hosts/kafka/nd-10/ip"));
        Assert.True(watch2.Elapsed < TimeSpan.FromSeconds(1), $"took {watch2.Elapsed}");
    }

    [Fact]
    public async Task Watch_SnapshotThenChanges_EachChangeArrivesWithinASecond()
    {
        await WriteTwoClustersAsync();
        await using var drone = Environment.Drone("nd-1");
        using var watch = drone.Watch();
        await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));
        var snapshotRevision = watch.Revision;

        var elapsed = Stopwatch.StartNew();
        await Environment.PutAsync("cl-1", ("hosts/zk/nd-1/ip", "10.0.0.100"));
        await watch.WaitUntilAsync(v => v.GetValueOrDefault("host/ip") == "10.0.0.100");
        var putLatency = elapsed.Elapsed;

        elapsed.Restart();
        await Environment.DeleteAsync("cl-1", false, "hosts/zk/nd-2/ip");
        await watch.WaitUntilAsync(v => !v.ContainsKey("hosts/zk/nd-2/ip"));
        var deleteLatency = elapsed.Elapsed;

        Assert.True(putLatency < TimeSpan.FromSeconds(1), $"put took {putLatency}");
        Assert.True(deleteLatency < TimeSpan.FromSeconds(1), $"delete took {deleteLatency}");
        var put = Assert.Single(watch.Events, e => e.Kind == MetadataEvent.Types.Kind.Put);
        Assert.Equal(["host/ip", "hosts/zk/nd-1/ip"], put.Entries.Select(e => e.Key).Order());
        var delete = Assert.Single(watch.Events, e => e.Kind == MetadataEvent.Types.Kind.Delete);
        Assert.Equal(["hosts/zk/nd-2/ip"], delete.DeletedKeys);
        Assert.True(put.Revision > snapshotRevision && delete.Revision > put.Revision);
    }

    [Fact]
    public async Task Watch_NodeWithoutMetadata_EmptySnapshotThenItsKeysWhenTheyAppear()
    {
        await WriteTwoClustersAsync();
        await using var drone = Environment.Drone("nd-new");
        using var watch = drone.Watch();
        await watch.WaitUntilAsync(_ => true);
        Assert.Equal(MetadataEvent.Types.Kind.Snapshot, watch.Events[0].Kind);
        Assert.Empty(watch.Events[0].Entries);

        await Environment.PutAsync("cl-2", ("hosts/kafka/nd-new/ip", "10.0.1.20"));

        var view = await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));
        Assert.Equal("10.0.1.20", view["host/ip"]);
        Assert.Equal("10.0.1.9", view["hosts/kafka/nd-9/ip"]);
        Assert.Equal("1g", view["env/heap"]);
    }

    [Fact]
    public async Task Watch_ResumeAfterRevision_GetsOnlyWhatChangedSince()
    {
        await WriteTwoClustersAsync();
        await using var drone = Environment.Drone("nd-1");
        long seen;
        using (var first = drone.Watch())
        {
            await first.WaitUntilAsync(v => v.ContainsKey("host/ip"));
            seen = first.Revision;
        }

        await Environment.PutAsync("cl-1", ("env/zk/tickTime", "3000"));
        await Environment.PutAsync("cl-2", ("cluster/unrelated", "x"));
        await Environment.PutAsync("cl-1", ("env/web/other-role", "x"));

        long resumedAt;
        using (var resumed = drone.Watch(seen))
        {
            await resumed.WaitUntilAsync(v => v.GetValueOrDefault("env/tickTime") == "3000");
            var only = Assert.Single(resumed.Events);
            Assert.Equal(MetadataEvent.Types.Kind.Put, only.Kind);
            Assert.Equal(["env/tickTime"], only.Entries.Select(e => e.Key));
            Assert.True(resumed.Revision > seen);
            resumedAt = resumed.Revision;
        }

        await Environment.DeleteAsync("cl-1", false, "endpoints/client/port");
        using var again = drone.Watch(resumedAt);
        await again.WaitUntilAsync(_ => true);
        var delete = Assert.Single(again.Events);
        Assert.Equal(MetadataEvent.Types.Kind.Delete, delete.Kind);
        Assert.Equal(["endpoints/client/port"], delete.DeletedKeys);
    }

    [Fact]
    public async Task Watch_ChangeThatSetsAndRemovesKeys_ArrivesAsOneSnapshot()
    {
        await WriteTwoClustersAsync();
        await using var drone = Environment.Drone("nd-1");
        long seen;
        using (var first = drone.Watch())
        {
            await first.WaitUntilAsync(v => v.ContainsKey("host/ip"));
            seen = first.Revision;
        }

        await Environment.PutAsync("cl-1", ("env/zk/tickTime", "3000"));
        await Environment.DeleteAsync("cl-1", false, "endpoints/client/port");

        using var resumed = drone.Watch(seen);
        var view = await resumed.WaitUntilAsync(v => v.GetValueOrDefault("env/tickTime") == "3000");
        var snapshot = Assert.Single(resumed.Events);
        Assert.Equal(MetadataEvent.Types.Kind.Snapshot, snapshot.Kind);
        Assert.DoesNotContain("endpoints/client/port", view.Keys);
        Assert.Equal("10.0.0.1", view["host/ip"]);
    }

    [Fact]
    public async Task Watch_CertificateOfAnotherNode_OnlyEverGetsItsOwnView()
    {
        await WriteTwoClustersAsync();
        // nd-9 may ask for anything it likes: the request has no node field, the certificate decides.
        await using var intruder = Environment.Drone("nd-9");
        using var watch = intruder.Watch();
        await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));
        await Environment.PutAsync("cl-1", ("hosts/zk/nd-1/password", "s3cret"), ("env/zk/password", "s3cret"));
        await Environment.PutAsync("cl-2", ("cluster/marker", "after"));
        await watch.WaitUntilAsync(v => v.ContainsKey("cluster/marker"));

        Assert.Equal("10.0.1.9", watch.View["host/ip"]);
        Assert.DoesNotContain(watch.Events.SelectMany(e => e.Entries), e => e.Value == "s3cret" || e.Value.StartsWith("10.0.0.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watch_WithoutNodeCertificate_Refused()
    {
        await using var anonymous = Environment.Drone(null);
        using var watch = anonymous.Watch();

        var refused = await watch.FailureAsync();

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.Unauthenticated, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task DeleteMetadata_EmptyPrefix_RemovesTheWholeClusterFromItsNodesViews()
    {
        await WriteTwoClustersAsync();
        await using var drone = Environment.Drone("nd-1");
        using var watch = drone.Watch();
        await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));

        await Environment.DeleteAsync("cl-1", true, "");

        await watch.WaitUntilAsync(v => v.Count == 0);
        Assert.Empty(Environment.Host.Metadata.GetView("nd-2"));
        Assert.NotEmpty(Environment.Host.Metadata.GetView("nd-9"));
    }

    [Fact]
    public async Task PutMetadata_KeyClimbingOutOfTheCluster_RefusedWithCode()
    {
        var request = new PutMetadataRequest { ClusterId = "cl-1" };
        request.Entries.Add(new MetadataEntry { Key = "../cl-2/hosts/x/nd-1/ip", Value = "1" });

        var response = await Environment.Pilot.State.SendAsync(new PilotMessage { PutMetadata = request });

        Assert.Equal(FrontgateErrorCodes.MetadataInvalidKey, response.Error.Code);
        Assert.False(response.Error.Retryable);
    }
}

public sealed class EmbeddedMetadataViewTests : MetadataViewTests
{
    protected override Dictionary<string, string?> BackendConfiguration() => new() { ["Frontgate:Metadata:Backend"] = "embedded" };

    [Fact]
    public async Task Restart_EmbeddedStore_KeepsMetadataAndRevisionKeepsGrowing()
    {
        await Environment.PutAsync("cl-1", ("hosts/zk/nd-1/ip", "10.0.0.1"), ("env/zk/a", "1"));
        var before = Environment.Host.Metadata.Revision;

        await Environment.RestartFrontgateAsync();
        await Environment.Pilot.State.WaitForConnectionAsync(TimeSpan.FromSeconds(10));
        await using var drone = Environment.Drone("nd-1");
        using var watch = drone.Watch();
        var view = await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));
        Assert.Equal(before, watch.Revision);
        Assert.Equal("1", view["env/a"]);

        await Environment.PutAsync("cl-1", ("env/zk/a", "2"));
        await watch.WaitUntilAsync(v => v["env/a"] == "2");
        Assert.True(watch.Revision > before);
    }
}

public sealed class EtcdMetadataViewTests(EtcdFixture etcd) : MetadataViewTests, IClassFixture<EtcdFixture>
{
    protected override Dictionary<string, string?> BackendConfiguration() => new()
    {
        ["Frontgate:Metadata:Backend"] = "etcd",
        ["Frontgate:Metadata:Etcd:Endpoints"] = etcd.Endpoints,
        ["Frontgate:Metadata:Etcd:Prefix"] = $"/pitrix-test/{Guid.NewGuid():N}/clusters/",
    };

    [Fact]
    public async Task Restart_EtcdStore_FrontgateServesWhatEtcdHolds()
    {
        await Environment.PutAsync("cl-1", ("hosts/zk/nd-1/ip", "10.0.0.1"));

        await Environment.RestartFrontgateAsync();
        await Environment.Pilot.State.WaitForConnectionAsync(TimeSpan.FromSeconds(10));
        await using var drone = Environment.Drone("nd-1");
        using var watch = drone.Watch();

        var view = await watch.WaitUntilAsync(v => v.ContainsKey("host/ip"));
        Assert.Equal("10.0.0.1", view["host/ip"]);
        Assert.Equal("etcd", Environment.Host.MetadataStore.Name);
    }
}
