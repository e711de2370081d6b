using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Pitrix.Packages.Helm;
using Pitrix.Providers.Kubernetes;
using Pitrix.Testing;

namespace Pitrix.AppFormats.Helm.Tests;

/// <summary>
/// A Helm app deployed through the Pitrix API onto a kubernetes runtime: the real server and engine, the real
/// helm binary and the real kube-apiserver. The cluster turns active only when its workloads are ready, which,
/// without a kubelet here, the test brings about by ACTING AS THE DEPLOYMENT CONTROLLER (patching status).
/// </summary>
[Collection(KubernetesGroup.Name)]
public sealed class HelmClusterTests(KubeApiServer kube) : IAsyncLifetime
{
    private TestServer? _server;

    private TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("sqlite", $"--Helm:Path={HelmReleasesTests.HelmPath()}");

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_chart_installs_through_the_API_is_active_once_ready_reconfigures_and_is_ceased()
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("charts"), visibility = "public", providers = new[] { "kubernetes" } });
        Assert.True(repo.Status == HttpStatusCode.Created, repo.ToString());
        var (chartName, archive) = await SamplePackages.BuildChartAsync();
        var uploaded = await admin.UploadAsync("/api/v1/apps", archive, fields: new Dictionary<string, string> { ["repo_id"] = repo.Id });
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        foreach (var step in new[] { "submit", "review", "pass", "release" })
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{step}")).Status);
        }

        var ns = $"apps-{Guid.NewGuid():N}"[..16];
        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = kube.AdminKubeconfig });
        Assert.True(credential.Status == HttpStatusCode.Created, credential.ToString());
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("k8s"), provider = "kubernetes", zone = ns, credential_id = credential.Id });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());

        // Values the chart's schema refuses never start a job.
        var refused = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = uploaded.Id, runtime_id = runtime.Id, values = new JsonObject { ["replicaCount"] = "many" } });
        Assert.True(refused.Status == HttpStatusCode.BadRequest, refused.ToString());
        Assert.Contains("/replicaCount", refused.Text, StringComparison.Ordinal);

        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = uploaded.Id, runtime_id = runtime.Id, values = new JsonObject { ["greeting"] = "through Pitrix" } });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var jobId = (string)created.Body["job"]!["id"]!;
        var release = HelmFormat.ReleaseName(clusterId);
        var deploymentName = $"{release}-{chartName}";
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(kube.AdminKubeconfig, null));

        // Installed: an ordinary release helm lists, its objects in the API server; not active while unready.
        await EventuallyAsync(async () => await DeploymentAsync(client, ns, deploymentName) is not null, "the release's Deployment");
        var releases = new HelmReleases(new HelmCli(HelmReleasesTests.HelmPath()));
        var target = new HelmTarget(kube.AdminKubeconfig, null, ns);
        Assert.Equal("deployed", (await releases.StatusAsync(target, release, CancellationToken.None))?.Status);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("pending", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
        Assert.Null((await admin.GetAsync($"/api/v1/jobs/{jobId}")).Body!["job"]!["finished_at"]);

        await ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
        await WaitForJobAsync(admin, clusterId, jobId);
        Assert.Equal("active", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);

        // Update the values: a new revision with two replicas; active again once they are ready.
        var changed = await admin.PostAsync($"/api/v1/clusters/{clusterId}:update_config", new { values = new JsonObject { ["replicaCount"] = 2 } });
        Assert.True(changed.Status == HttpStatusCode.Accepted, changed.ToString());
        await EventuallyAsync(async () => (await DeploymentAsync(client, ns, deploymentName))?.Spec.Replicas == 2, "two replicas asked");
        await ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
        await WaitForJobAsync(admin, clusterId, changed.Id);
        var history = await releases.HistoryAsync(target, release, CancellationToken.None);
        Assert.Equal([1, 2], history.Select(r => r.Revision));
        var configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(deploymentName, ns);
        Assert.Contains("through Pitrix", configMap.Data.Values.First(), StringComparison.Ordinal);

        // Cease: the release and its objects are gone.
        var ceased = await admin.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
        Assert.True(ceased.Status == HttpStatusCode.Accepted, ceased.ToString());
        await WaitForJobAsync(admin, clusterId, ceased.Id);
        Assert.Equal("ceased", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
        Assert.Null(await releases.StatusAsync(target, release, CancellationToken.None));
        Assert.Null(await DeploymentAsync(client, ns, deploymentName));
    }

    private static async Task<V1Deployment?> DeploymentAsync(k8s.Kubernetes client, string ns, string name)
    {
        try
        {
            return await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>ACTS AS THE KUBELET AND DEPLOYMENT CONTROLLER (none runs here): reports every replica of the current generation ready.</summary>
    private static async Task ActAsTheDeploymentControllerAsync(k8s.Kubernetes client, string ns, string name)
    {
        var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns);
        var replicas = deployment.Spec.Replicas ?? 1;
        var status = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["observedGeneration"] = deployment.Metadata.Generation,
                ["replicas"] = replicas,
                ["updatedReplicas"] = replicas,
                ["readyReplicas"] = replicas,
                ["availableReplicas"] = replicas,
            },
        };
        await client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns);
    }

    private static async Task WaitForJobAsync(ApiSession session, string clusterId, string jobId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var job = (await session.GetAsync($"/api/v1/jobs/{jobId}")).Body!;
            var cluster = (await session.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
            if (job["job"]!["finished_at"] is not null && (string?)cluster["cluster"]!["transition"]?["job_id"] != jobId)
            {
                Assert.True((string?)job["job"]!["status"] == "succeeded", job.ToJsonString());
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Job {jobId} did not finish: {(await session.GetAsync($"/api/v1/jobs/{jobId}")).Text}");
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Timed out waiting for {what}.");
    }
}
