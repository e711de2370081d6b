using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Pitrix.Packages.Helm;
using Pitrix.Providers.Kubernetes;
using Pitrix.Testing;

namespace Pitrix.AppFormats.Helm.Tests;

/// <summary>
/// Helm apps through the API with helm 3 (<c>PITRIX_HELM</c>): the whole lifecycle (from the base class), and paths
/// that are Pitrix's own (active only once ready, the repair of a release a killed helm left pending), tested once:
/// the release tests cover both majors' side of them.
/// </summary>
[Collection(KubernetesGroup.Name)]
public sealed partial class HelmClusterHelm3Tests(KubeApiServer kube) : HelmClusterTests(kube, 3)
{
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
        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = Kube.AdminKubeconfig });
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
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));

        // Installed: an ordinary release helm lists, its objects in the API server; not active while unready.
        await KubeActors.EventuallyAsync(async () => await KubeActors.DeploymentAsync(client, ns, deploymentName) is not null, "the release's Deployment");
        var releases = new HelmReleases(new HelmCli(HelmPath));
        var target = new HelmTarget(Kube.AdminKubeconfig, null, ns);
        Assert.Equal("deployed", (await releases.StatusAsync(target, release, CancellationToken.None))?.Status);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("pending", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
        Assert.Null((await admin.GetAsync($"/api/v1/jobs/{jobId}")).Body!["job"]!["finished_at"]);

        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
        await WaitForJobAsync(admin, clusterId, jobId);
        Assert.Equal("active", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);

        // Update the values: a new revision with two replicas; active again once they are ready.
        var changed = await admin.PostAsync($"/api/v1/clusters/{clusterId}:update_config", new { values = new JsonObject { ["replicaCount"] = 2 } });
        Assert.True(changed.Status == HttpStatusCode.Accepted, changed.ToString());
        await KubeActors.EventuallyAsync(async () => (await KubeActors.DeploymentAsync(client, ns, deploymentName))?.Spec.Replicas == 2, "two replicas asked");
        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
        await WaitForJobAsync(admin, clusterId, changed.Id);
        var history = await releases.HistoryAsync(target, release, CancellationToken.None);
        Assert.Equal([1, 2], history.Select(r => r.Revision));

        // The user's values (kept across changes) and the release's manifest, current and of a revision.
        var values = await admin.GetAsync($"/api/v1/clusters/{clusterId}/values");
        Assert.Equal(("through Pitrix", 2), ((string?)values.Body!["values"]!["greeting"], (int)values.Body["values"]!["replicaCount"]!));
        var manifest = await admin.GetAsync($"/api/v1/clusters/{clusterId}/manifest");
        Assert.True(manifest.Status == HttpStatusCode.OK, manifest.ToString());
        Assert.Equal((release, 2), ((string?)manifest.Body!["release"], (int)manifest.Body["revision"]!));
        Assert.Contains("replicas: 2", (string?)manifest.Body["manifest"], StringComparison.Ordinal);
        var first = await admin.GetAsync($"/api/v1/clusters/{clusterId}/manifest?revision=1");
        Assert.Contains("replicas: 1", (string?)first.Body!["manifest"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/clusters/{clusterId}/manifest?revision=9")).Status);
        var configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(deploymentName, ns);
        Assert.Contains("through Pitrix", configMap.Data.Values.First(), StringComparison.Ordinal);

        // Cease: the release and its objects are gone.
        var ceased = await admin.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
        Assert.True(ceased.Status == HttpStatusCode.Accepted, ceased.ToString());
        await WaitForJobAsync(admin, clusterId, ceased.Id);
        Assert.Equal("ceased", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
        Assert.Null(await releases.StatusAsync(target, release, CancellationToken.None));
        Assert.Null(await KubeActors.DeploymentAsync(client, ns, deploymentName));
    }

    [Fact]
    public async Task Helm_killed_mid_upgrade_fails_that_job_and_the_next_action_repairs_the_release_without_a_manual_step()
    {
        using var admin = await Server.LoginAdminAsync();
        var (versionId, chartName) = await ReleaseChartAsync(admin, KubeActors.AddBlockingHook);
        var (runtimeId, ns) = await RuntimeAsync(admin);
        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = versionId, runtime_id = runtimeId });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var release = HelmFormat.ReleaseName(clusterId);
        var deploymentName = $"{release}-{chartName}";
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));
        await KubeActors.EventuallyAsync(async () => await KubeActors.DeploymentAsync(client, ns, deploymentName) is not null, "the release's Deployment");
        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
        await WaitForJobAsync(admin, clusterId, (string)created.Body["job"]!["id"]!);

        // An upgrade whose pre-upgrade hook never completes: helm blocks, the release pending-upgrade; helm is killed.
        var blocked = await admin.PostAsync($"/api/v1/clusters/{clusterId}:update_config", new { values = new JsonObject { ["migrate"] = true } });
        Assert.True(blocked.Status == HttpStatusCode.Accepted, blocked.ToString());
        var releases = new HelmReleases(new HelmCli(HelmPath));
        var target = new HelmTarget(Kube.AdminKubeconfig, null, ns);
        await KubeActors.EventuallyAsync(async () => (await releases.StatusAsync(target, release, CancellationToken.None))?.Status == "pending-upgrade", "helm in the middle of the upgrade");
        var helm = Assert.Single(KubeActors.HelmProcessesOf(release));
        KubeActors.Kill(helm);
        var failed = await WaitForJobAsync(admin, clusterId, blocked.Id, expect: "failed");
        Assert.Equal("pending-upgrade", (await releases.StatusAsync(target, release, CancellationToken.None))?.Status);
        Assert.Contains("helm.", failed["job"]!["error_code"]?.ToString() ?? failed.ToJsonString(), StringComparison.Ordinal);

        // The next action repairs the release first (rolled back to the last deployed revision), then does its own work.
        var next = await admin.PostAsync($"/api/v1/clusters/{clusterId}:update_config", new { values = new JsonObject { ["migrate"] = false, ["replicaCount"] = 2 } });
        Assert.True(next.Status == HttpStatusCode.Accepted, next.ToString());
        await KubeActors.EventuallyAsync(async () => (await KubeActors.DeploymentAsync(client, ns, deploymentName))?.Spec.Replicas == 2, "two replicas asked");
        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
        var done = await WaitForJobAsync(admin, clusterId, next.Id);
        Assert.Contains("rolled back to revision 1", done.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("active", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
        Assert.Equal("deployed", (await releases.StatusAsync(target, release, CancellationToken.None))?.Status);

        var ceased = await admin.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
        await WaitForJobAsync(admin, clusterId, ceased.Id);
    }

    [Fact]
    public async Task The_cluster_view_shows_workloads_pods_and_endpoints_read_from_the_API_server_and_drift_between_jobs()
    {
        using var admin = await Server.LoginAdminAsync();
        var (versionId, chartName) = await ReleaseChartAsync(admin);
        var (runtimeId, ns) = await RuntimeAsync(admin);
        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = versionId, runtime_id = runtimeId });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var name = $"{HelmFormat.ReleaseName(clusterId)}-{chartName}";
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));
        await KubeActors.EventuallyAsync(async () => await KubeActors.DeploymentAsync(client, ns, name) is not null, "the Deployment");

        // While the create job waits for readiness, the view shows the workload not ready yet.
        await KubeActors.EventuallyAsync(
            async () => (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["roles"]!.AsArray().Any(r => (string?)r!["name"] == $"Deployment/{name}" && (int?)r["ready"] == 0),
            "the workload observed not ready");
        var pods = await KubeActors.ActAsTheKubeletAsync(client, ns, name, 1);
        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, name);
        await WaitForJobAsync(admin, clusterId, (string)created.Body["job"]!["id"]!);

        var detail = (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
        Assert.Equal("current", (string?)detail["observed"]!["state"]);
        var role = Assert.Single(detail["roles"]!.AsArray());
        Assert.Equal(($"Deployment/{name}", 1, 1), ((string?)role!["name"], (int?)role["count"], (int?)role["ready"]));
        var pod = Assert.Single(detail["nodes"]!.AsArray());
        Assert.Equal((pods[0], $"Deployment/{name}", "running", "healthy", "10.244.0.10", "node-a"),
            ((string?)pod!["id"], (string?)pod["role"], (string?)pod["status"], (string?)pod["health"], (string?)pod["private_ip"], (string?)pod["host"]));
        var service = await client.CoreV1.ReadNamespacedServiceAsync(name, ns);
        Assert.Equal($"{service.Spec.ClusterIP}:80", (string?)detail["cluster"]!["endpoints"]![$"service/{name}:80"]);

        // Drift, between jobs: scaled by hand, then deleted by hand. The cluster stays active; its view says what changed.
        await client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch), name, ns);
        await KubeActors.EventuallyAsync(
            async () => (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["roles"]!.AsArray().Any(r => (int?)r!["count"] == 2),
            "the hand-made scale observed");
        Assert.Equal("in_progress", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["observed"]!["state"]);
        await client.AppsV1.DeleteNamespacedDeploymentAsync(name, ns);
        await KubeActors.EventuallyAsync(
            async () => (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["observed"]!["state"] == "not_found",
            "the hand-made delete observed");
        detail = (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
        Assert.Equal("active", (string?)detail["cluster"]!["status"]);
        Assert.Contains($"Deployment/{name}: Deployment {name} does not exist", (string?)detail["observed"]!["message"], StringComparison.Ordinal);
        var events = (await admin.GetAsync($"/api/v1/events?cluster={clusterId}&follow=false")).Text;
        Assert.Contains(events.Split("\n\n"), e => e.Contains("cluster.observed", StringComparison.Ordinal) && e.Contains("\"state\":\"not_found\"", StringComparison.Ordinal));

        // Gone with the cluster.
        var ceased = await admin.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
        await WaitForJobAsync(admin, clusterId, ceased.Id);
        detail = (await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
        Assert.Null(detail["observed"]);
        Assert.Empty(detail["nodes"]!.AsArray());
    }

    [Fact]
    public async Task A_chart_made_by_helm_create_and_packaged_by_helm_package_installs_through_the_API_as_an_ordinary_release()
    {
        using var admin = await Server.LoginAdminAsync();
        var work = Directory.CreateTempSubdirectory("pitrix-helm-create-").FullName;
        try
        {
            // What a chart author does: helm create, helm package; the .tgz is uploaded as it is.
            var chartName = ServerFixture.Unique("starter");
            await KubeActors.HelmAsync(HelmPath, null, "create", Path.Combine(work, chartName));
            await KubeActors.HelmAsync(HelmPath, null, "package", Path.Combine(work, chartName), "--destination", work);
            var archive = await File.ReadAllBytesAsync(Path.Combine(work, $"{chartName}-0.1.0.tgz"));
            var (versionId, _, _) = await ReleaseChartVersionAsync(admin, archive: (chartName, archive));
            var (runtimeId, ns) = await RuntimeAsync(admin);

            var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("starter"), app_version_id = versionId, runtime_id = runtimeId, values = new JsonObject { ["replicaCount"] = 2 } });
            Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
            var clusterId = (string)created.Body!["cluster"]!["id"]!;
            var release = HelmFormat.ReleaseName(clusterId);
            using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));
            V1Deployment? deployment = null;
            await KubeActors.EventuallyAsync(async () => (deployment = (await client.AppsV1.ListNamespacedDeploymentAsync(ns)).Items.SingleOrDefault()) is not null, "the starter chart's Deployment");
            Assert.Equal(2, deployment!.Spec.Replicas);
            Assert.NotNull(await client.CoreV1.ReadNamespacedServiceAccountAsync(deployment.Spec.Template.Spec.ServiceAccountName, ns));
            Assert.Equal("pending", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);

            await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, deployment.Metadata.Name);
            await WaitForJobAsync(admin, clusterId, (string)created.Body["job"]!["id"]!);
            Assert.Equal("active", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
            var listed = JsonNode.Parse(await KubeActors.HelmAsync(HelmPath, Kube.AdminKubeconfig, "list", "--namespace", ns, "--output", "json"))!.AsArray();
            var entry = Assert.Single(listed);
            Assert.Equal((release, "deployed", $"{chartName}-0.1.0"), ((string?)entry!["name"], (string?)entry["status"], (string?)entry["chart"]));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task An_identity_that_may_only_manage_its_own_namespace_installs_into_it_without_creating_namespaces()
    {
        using var admin = await Server.LoginAdminAsync();
        var (versionId, chartName) = await ReleaseChartAsync(admin);
        var ns = $"team-{Guid.NewGuid():N}"[..16];
        var user = ServerFixture.Unique("team");
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        // Everything in its namespace, nothing outside (the built-in "admin" role is aggregated by a controller that does not run here).
        await client.RbacAuthorizationV1.CreateNamespacedRoleAsync(
            new V1Role { Metadata = new V1ObjectMeta { Name = "team-admin" }, Rules = [new V1PolicyRule { ApiGroups = ["*"], Resources = ["*"], Verbs = ["*"] }] },
            ns);
        await client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(
            new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = "team-admin" },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = "team-admin" },
                Subjects = [new Rbacv1Subject { Kind = "User", Name = user, ApiGroup = "rbac.authorization.k8s.io" }],
            },
            ns);
        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = Kube.KubeconfigFor(user) });
        Assert.True(credential.Status == HttpStatusCode.Created, credential.ToString());
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("k8s"), provider = "kubernetes", zone = ns, credential_id = credential.Id });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());

        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = versionId, runtime_id = runtime.Id });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var name = $"{HelmFormat.ReleaseName(clusterId)}-{chartName}";
        await KubeActors.EventuallyAsync(
            async () => await KubeActors.DeploymentAsync(client, ns, name) is not null
                || (await admin.GetAsync($"/api/v1/jobs/{created.Body["job"]!["id"]}")).Body!["job"]!["finished_at"] is not null,
            "the Deployment installed by the namespace's own identity");
        Assert.True(await KubeActors.DeploymentAsync(client, ns, name) is not null, (await admin.GetAsync($"/api/v1/jobs/{created.Body["job"]!["id"]}")).Text);
        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, name);
        await WaitForJobAsync(admin, clusterId, (string)created.Body["job"]!["id"]!);
        Assert.Equal("current", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["observed"]!["state"]);
    }

}

/// <summary>Helm apps through the API with helm 4 (<c>PITRIX_HELM4</c>): the whole lifecycle.</summary>
[Collection(KubernetesGroup.Name)]
public sealed class HelmClusterHelm4Tests(KubeApiServer kube) : HelmClusterTests(kube, 4);

/// <summary>
/// A Helm app deployed through the Pitrix API onto a kubernetes runtime: the real server and engine, the real
/// helm binary (one subclass per supported major) and the real kube-apiserver. The cluster turns active only when
/// its workloads are ready, which, without a kubelet here, the test brings about by ACTING AS THE DEPLOYMENT
/// CONTROLLER (patching status).
/// </summary>
public abstract class HelmClusterTests(KubeApiServer kube, int helmMajor) : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _logs = new();

    private TestServer? _server;

    protected KubeApiServer Kube { get; } = kube;

    /// <summary>The helm binary the server drives, and the tests too.</summary>
    protected string HelmPath { get; } = HelmBinaries.Path(helmMajor);

    protected TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "sqlite",
        builder => builder.Logging.AddProvider(new CapturingLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug),
        $"--Helm:Path={HelmPath}",
        "--Helm:ObserveInterval=00:00:01",
        "--Logging:LogLevel:Default=Debug");

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Upgrade_rollback_delete_recover_and_purge_through_the_API_as_helm_history_shows_them()
    {
        using var admin = await Server.LoginAdminAsync();
        var (v1, chartName, repoId) = await ReleaseChartVersionAsync(admin);
        var appId = (string)(await admin.GetAsync($"/api/v1/app_versions/{v1}")).Body!["app_id"]!;
        var (v2, _, _) = await ReleaseChartVersionAsync(admin, version: "0.2.0", name: chartName, repoId: repoId, appId: appId);
        var (runtimeId, ns) = await RuntimeAsync(admin);
        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = v1, runtime_id = runtimeId });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var release = HelmFormat.ReleaseName(clusterId);
        var deploymentName = $"{release}-{chartName}";
        var target = new HelmTarget(Kube.AdminKubeconfig, null, ns);
        var releases = new HelmReleases(new HelmCli(HelmPath));
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));
        async Task ReadyAsync(string jobId, int replicas)
        {
            await KubeActors.EventuallyAsync(async () => (await KubeActors.DeploymentAsync(client, ns, deploymentName))?.Spec.Replicas == replicas, $"{replicas} replica(s) asked");
            await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, deploymentName);
            await WaitForJobAsync(admin, clusterId, jobId);
        }

        await ReadyAsync((string)created.Body["job"]!["id"]!, 1);

        // Upgrade to 0.2.0 with three replicas: revision 2, in the API server.
        var upgrade = await admin.PostAsync($"/api/v1/clusters/{clusterId}:upgrade", new { app_version_id = v2, values = new JsonObject { ["replicaCount"] = 3 } });
        Assert.True(upgrade.Status == HttpStatusCode.Accepted, upgrade.ToString());
        await ReadyAsync(upgrade.Id, 3);
        Assert.Equal($"{chartName}-0.2.0", (await releases.HistoryAsync(target, release, CancellationToken.None))[^1].Chart);
        Assert.Equal(3, (int?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}/values")).Body!["values"]!["replicaCount"]);

        // The rollback's plan shows what it applies: revision 1 as helm stored it (one replica).
        var rollbackPlan = await admin.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "rollback" });
        Assert.True(rollbackPlan.Status == HttpStatusCode.OK, rollbackPlan.ToString());
        var rolledBack = Assert.Single(rollbackPlan.Body!["manifest_diff"]!["resources"]!.AsArray(), r => (string?)r!["change"] != "unchanged");
        Assert.Equal(("Deployment", "changed"), ((string?)rolledBack!["kind"], (string?)rolledBack["change"]));
        Assert.Equal(["-  replicas: 3", "+  replicas: 1"], ChangedLines(rolledBack["diff"]));

        // Roll back: revision 3 carries revision 1's manifest; the cluster is on 0.1.0 again.
        var rollback = await admin.PostAsync($"/api/v1/clusters/{clusterId}:rollback");
        Assert.True(rollback.Status == HttpStatusCode.Accepted, rollback.ToString());
        await ReadyAsync(rollback.Id, 1);
        Assert.Equal([1, 2, 3], (await releases.HistoryAsync(target, release, CancellationToken.None)).Select(r => r.Revision));
        Assert.Equal(await releases.ManifestAsync(target, release, CancellationToken.None, revision: 1), await releases.ManifestAsync(target, release, CancellationToken.None, revision: 3));
        Assert.Equal(v1, (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["app_version_id"]);

        // The values are revision 1's again, as helm restored them: not the upgrade's three replicas.
        Assert.Equal("{}", (await admin.GetAsync($"/api/v1/clusters/{clusterId}/values")).Body!["values"]!.ToJsonString());

        // Delete keeps the history (helm sees the release uninstalled); recover brings it back; cease purges it.
        var deleted = await admin.PostAsync($"/api/v1/clusters/{clusterId}:delete");
        Assert.True(deleted.Status == HttpStatusCode.Accepted, deleted.ToString());
        await WaitForJobAsync(admin, clusterId, deleted.Id);
        Assert.Equal("uninstalled", (await releases.StatusAsync(target, release, CancellationToken.None))?.Status);
        Assert.Null(await KubeActors.DeploymentAsync(client, ns, deploymentName));
        var recovered = await admin.PostAsync($"/api/v1/clusters/{clusterId}:recover");
        Assert.True(recovered.Status == HttpStatusCode.Accepted, recovered.ToString());
        await ReadyAsync(recovered.Id, 1);
        Assert.Equal("active", (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["status"]);
        Assert.Equal("deployed", (await releases.StatusAsync(target, release, CancellationToken.None))?.Status);

        var ceased = await admin.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
        await WaitForJobAsync(admin, clusterId, ceased.Id);
        Assert.Null(await releases.StatusAsync(target, release, CancellationToken.None));
        Assert.Empty(await releases.HistoryAsync(target, release, CancellationToken.None));

        // Through the whole lifecycle the kubeconfig's key never reached the database, its files, or a log line (Debug included).
        var key = Kube.AdminKubeconfig.Split('\n').Single(l => l.Contains("client-key-data:", StringComparison.Ordinal)).Split(':')[1].Trim()[..40];
        Assert.Null(CapturingLoggerProvider.FileContaining(Server.DataDirectory, key));
        Assert.Null(CapturingLoggerProvider.FileContaining(Server.DataDirectory, "client-key-data"));
        Assert.NotEmpty(_logs);
        Assert.DoesNotContain(_logs, l => l.Contains(key, StringComparison.Ordinal) || l.Contains("client-key-data", StringComparison.Ordinal));
    }

    protected static async Task<(string VersionId, string ChartName)> ReleaseChartAsync(ApiSession admin, Action<string>? edit = null)
    {
        var (versionId, chartName, _) = await ReleaseChartVersionAsync(admin, edit: edit);
        return (versionId, chartName);
    }

    protected static async Task<(string VersionId, string ChartName, string RepoId)> ReleaseChartVersionAsync(
        ApiSession admin, Action<string>? edit = null, string version = "0.1.0", string? name = null, string? repoId = null, string? appId = null, (string Name, byte[] Bytes)? archive = null)
    {
        if (repoId is null)
        {
            var repo = await admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("charts"), visibility = "public", providers = new[] { "kubernetes" } });
            Assert.True(repo.Status == HttpStatusCode.Created, repo.ToString());
            repoId = repo.Id;
        }

        var (chartName, bytes) = archive ?? await SamplePackages.BuildChartAsync(version: version, name: name, edit: edit);
        var uploaded = await admin.UploadAsync(appId is null ? "/api/v1/apps" : $"/api/v1/apps/{appId}/versions", bytes, fields: new Dictionary<string, string> { ["repo_id"] = repoId });
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        foreach (var step in new[] { "submit", "review", "pass", "release" })
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{step}")).Status);
        }

        return (uploaded.Id, chartName, repoId);
    }

    protected async Task<(string RuntimeId, string Namespace)> RuntimeAsync(ApiSession admin)
    {
        var ns = $"apps-{Guid.NewGuid():N}"[..16];
        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = Kube.AdminKubeconfig });
        Assert.True(credential.Status == HttpStatusCode.Created, credential.ToString());
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("k8s"), provider = "kubernetes", zone = ns, credential_id = credential.Id });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());
        return (runtime.Id, ns);
    }

    protected static List<string> ChangedLines(JsonNode? diff) =>
        ((string?)diff ?? "").Split('\n')
            .Where(l => (l.StartsWith('-') && !l.StartsWith("--- ", StringComparison.Ordinal)) || (l.StartsWith('+') && !l.StartsWith("+++ ", StringComparison.Ordinal)))
            .ToList();

    protected static async Task<JsonNode> WaitForJobAsync(ApiSession session, string clusterId, string jobId, string expect = "succeeded")
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var job = (await session.GetAsync($"/api/v1/jobs/{jobId}")).Body!;
            var cluster = (await session.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
            if (job["job"]!["finished_at"] is not null && (string?)cluster["cluster"]!["transition"]?["job_id"] != jobId)
            {
                Assert.True((string?)job["job"]!["status"] == expect, job.ToJsonString());
                return job;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Job {jobId} did not finish: {(await session.GetAsync($"/api/v1/jobs/{jobId}")).Text}");
    }
}
