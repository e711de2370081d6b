using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Providers.Fake;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>A server whose deleted clusters may be recovered for one second only.</summary>
public sealed class ShortGraceServerFixture : ServerFixture
{
    public override string DatabaseKind => "sqlite";

    protected override Action<WebApplicationBuilder>? Configure => builder =>
    {
        builder.Configuration["Engine:PollInterval"] = "00:00:00.100";
        builder.Configuration["Clusters:DeleteGracePeriod"] = "00:00:01";
        builder.Services.AddFakeCloud();
    };
}

/// <summary>A deleted cluster is ceased by the engine once its grace period is over, releasing its instances (FAKE cloud).</summary>
public sealed class ClusterGracePeriodTests(ShortGraceServerFixture fixture) : IClassFixture<ShortGraceServerFixture>
{
    [Fact]
    public async Task DeletedCluster_IsCeased_AfterTheGracePeriod()
    {
        using var admin = await fixture.Server.LoginAdminAsync();
        var repoId = await FakeCloudWorld.PublicRepoAsync(admin);
        var versionId = await FakeCloudWorld.ReleaseSampleAsync(admin, repoId, ServerFixture.Unique("zk"), "1.0.0");
        var runtimeId = await FakeCloudWorld.FakeRuntimeAsync(admin);
        var created = await admin.PostAsync("/api/v1/clusters", new { name = "zk-grace", app_version_id = versionId, runtime_id = runtimeId, values = new { cluster = new { subnet = "s" } } });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        await WaitForStatusAsync(admin, clusterId, "active");
        var nodes = (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["nodes"]!.AsArray().Select(n => (string)n!["id"]!).ToList();

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/clusters/{clusterId}:delete")).Status);
        await WaitForStatusAsync(admin, clusterId, "deleted");
        await WaitForStatusAsync(admin, clusterId, "ceased");
        var jobs = (await admin.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["items"]!.AsArray();
        Assert.Equal("cease", (string?)jobs[0]!["action"]);
        Assert.Equal("system", (string?)jobs[0]!["requested_by"]);
        Assert.DoesNotContain(fixture.Server.Services.GetRequiredService<FakeCloud>().Instances(), i => nodes.Contains(i.NodeId));
    }

    private static async Task WaitForStatusAsync(ApiSession session, string clusterId, string status)
    {
        JsonNode? cluster = null;
        for (var i = 0; i < 300; i++)
        {
            cluster = (await session.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"];
            if ((string?)cluster!["status"] == status && cluster["transition"] is null)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Cluster {clusterId} never became {status}: {cluster?.ToJsonString()}");
    }
}
