using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Pitrix.Packages.Helm;
using Pitrix.Providers.Kubernetes;
using Pitrix.Testing;

namespace Pitrix.AppFormats.Helm.Tests;

[CollectionDefinition(Name)]
public sealed class KubernetesGroup : ICollectionFixture<KubeApiServer>
{
    public const string Name = "kube-apiserver";
}

/// <summary>Releases through helm 3 (<c>PITRIX_HELM</c>).</summary>
[Collection(KubernetesGroup.Name)]
public sealed class HelmReleasesHelm3Tests(KubeApiServer kube) : HelmReleasesTests(kube, 3);

/// <summary>Releases through helm 4 (<c>PITRIX_HELM4</c>).</summary>
[Collection(KubernetesGroup.Name)]
public sealed class HelmReleasesHelm4Tests(KubeApiServer kube) : HelmReleasesTests(kube, 4);

/// <summary>
/// Releases of the sample chart through the real helm binary against a real kube-apiserver, and their readiness
/// read back from the API server; one subclass per supported helm major, the same code path for both. There is no
/// kubelet or controller manager: where a test needs a workload ready, it ACTS AS THE CONTROLLERS by patching the
/// workload's status subresource, as they would.
/// </summary>
public abstract class HelmReleasesTests(KubeApiServer kube, int helmMajor)
{
    private static readonly string Chart = RepoFiles.Path("samples", "charts", "hello-web");

    private readonly int _helmMajor = helmMajor;

    private readonly string _helmPath = HelmBinaries.Path(helmMajor);

    private readonly HelmReleases _helm = new(new HelmCli(HelmBinaries.Path(helmMajor)));

    private k8s.Kubernetes Client() => new(Kubeconfigs.Load(kube.AdminKubeconfig, null));

    [Fact]
    public async Task Install_IsAnOrdinaryHelmRelease_WhoseObjectsExist_AndItIsReadyOnlyOnceItsWorkloadIs()
    {
        var target = Target();
        using var client = Client();

        Assert.Equal(_helmMajor, await new HelmCli(_helmPath).MajorVersionAsync(CancellationToken.None));

        var installed = await _helm.InstallAsync(target, "web", Chart, "greeting: hi from the test\n", CancellationToken.None);

        Assert.Equal(("web", 1, "deployed", "hello-web-0.1.0"), (installed.Name, installed.Revision, installed.Status, installed.Chart));
        var list = await KubeActors.HelmAsync(_helmPath, target.Kubeconfig, "list", "--output", "json", "--namespace", target.Namespace);
        Assert.Contains("\"name\":\"web\"", list, StringComparison.Ordinal);
        var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync("web-hello-web", target.Namespace);
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Contains("hi from the test", (await client.CoreV1.ReadNamespacedConfigMapAsync("web-hello-web", target.Namespace)).Data.Values.First(), StringComparison.Ordinal);

        // Applied client-side with either helm (helm 4 would apply server-side: operation Apply), so the Service whose
        // port has no protocol, which server-side apply refuses on this 1.20 API server, was created too.
        var service = await client.CoreV1.ReadNamespacedServiceAsync("web-hello-web", target.Namespace);
        Assert.All(new[] { deployment.Metadata, service.Metadata }, m => Assert.Equal("Update", Assert.Single(m.ManagedFields, f => f.Manager == "helm").Operation));

        var before = await EvaluateAsync(target, "web");
        Assert.Equal(ResourceState.InProgress, before.State);
        var workload = Assert.Single(before.Resources, r => r.Kind == "Deployment");
        Assert.Equal((1, 0), (workload.Desired, workload.Ready));
        Assert.All(before.Resources.Where(r => r.Kind != "Deployment"), r => Assert.Equal(ResourceState.Current, r.State));

        await ActAsTheDeploymentControllerAsync(client, target.Namespace, "web-hello-web");

        var after = await EvaluateAsync(target, "web");
        Assert.True(after.IsReady, string.Join("; ", after.Resources.Select(r => $"{r.Kind}/{r.Name}: {r.State} {r.Message}")));
        Assert.Equal((1, 1), (after.Resources.Single(r => r.Kind == "Deployment").Desired, after.Resources.Single(r => r.Kind == "Deployment").Ready));
    }

    [Fact]
    public async Task Upgrade_Rollback_Uninstall_AsHelmHistoryShowsThem()
    {
        var target = Target();
        using var client = Client();
        await _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None);

        // Upgrade with new values: the API server's Deployment follows; the release is in progress again.
        var upgraded = await _helm.UpgradeAsync(target, "web", Chart, "replicaCount: 3\n", CancellationToken.None);
        Assert.Equal((2, "deployed"), (upgraded.Revision, upgraded.Status));
        Assert.Equal(3, (await client.AppsV1.ReadNamespacedDeploymentAsync("web-hello-web", target.Namespace)).Spec.Replicas);
        Assert.Equal(ResourceState.InProgress, (await EvaluateAsync(target, "web")).State);

        // Rollback to revision 1: revision 3 carries revision 1's manifest.
        await _helm.RollbackAsync(target, "web", 1, CancellationToken.None);
        var history = await _helm.HistoryAsync(target, "web", CancellationToken.None);
        Assert.Equal([1, 2, 3], history.Select(r => r.Revision));
        Assert.Equal(("superseded", "superseded", "deployed"), (history[0].Status, history[1].Status, history[2].Status));
        Assert.Equal(await _helm.ManifestAsync(target, "web", CancellationToken.None, revision: 1), await _helm.ManifestAsync(target, "web", CancellationToken.None));
        Assert.Equal(1, (await client.AppsV1.ReadNamespacedDeploymentAsync("web-hello-web", target.Namespace)).Spec.Replicas);

        // Uninstall keeping the history: objects gone, the release known as uninstalled; then purged.
        await _helm.UninstallAsync(target, "web", keepHistory: true, CancellationToken.None);
        Assert.Equal("uninstalled", (await _helm.StatusAsync(target, "web", CancellationToken.None))?.Status);
        Assert.Equal("uninstalled", Assert.Single(await _helm.HistoryAsync(target, "web", CancellationToken.None), r => r.Revision == 3).Status);
        var gone = await ReleaseReadiness.EvaluateAsync(client, await _helm.ManifestAsync(target, "web", CancellationToken.None), target.Namespace, CancellationToken.None);
        Assert.All(gone.Resources, r => Assert.Equal(ResourceState.NotFound, r.State));

        await _helm.UninstallAsync(target, "web", keepHistory: false, CancellationToken.None);
        Assert.Null(await _helm.StatusAsync(target, "web", CancellationToken.None));
        Assert.Empty(await _helm.HistoryAsync(target, "web", CancellationToken.None));
    }

    [Fact]
    public async Task Readiness_AWorkloadDeletedByHand_IsNotFound()
    {
        var target = Target();
        using var client = Client();
        await _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None);
        await ActAsTheDeploymentControllerAsync(client, target.Namespace, "web-hello-web");
        Assert.True((await EvaluateAsync(target, "web")).IsReady);

        await client.AppsV1.DeleteNamespacedDeploymentAsync("web-hello-web", target.Namespace);

        var drifted = await EvaluateAsync(target, "web");
        Assert.Equal(ResourceState.NotFound, drifted.State);
        Assert.Equal(ResourceState.NotFound, drifted.Resources.Single(r => r.Kind == "Deployment").State);
    }

    [Fact]
    public async Task InterruptedUpgrade_LeavesTheReleasePending_HelmRefuses_RepairRollsBackToTheLastDeployedRevision()
    {
        var target = Target();
        using var client = Client();
        await _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None);
        await _helm.UpgradeAsync(target, "web", Chart, "replicaCount: 2\n", CancellationToken.None);

        // What a helm killed mid-upgrade leaves: its newest revision marked pending-upgrade.
        await MarkLatestRevisionAsync(client, target.Namespace, "web", "pending-upgrade");
        Assert.Equal("pending-upgrade", (await _helm.StatusAsync(target, "web", CancellationToken.None))?.Status);
        var refused = await Assert.ThrowsAsync<HelmReleaseException>(() => _helm.UpgradeAsync(target, "web", Chart, "replicaCount: 3\n", CancellationToken.None));
        Assert.Equal(HelmReleaseException.Locked, refused.Code);

        var repaired = await _helm.RepairAsync(target, "web", CancellationToken.None);

        Assert.Contains("rolled back to revision 1", repaired, StringComparison.Ordinal);
        Assert.Equal("deployed", (await _helm.StatusAsync(target, "web", CancellationToken.None))?.Status);
        var upgraded = await _helm.UpgradeAsync(target, "web", Chart, "replicaCount: 3\n", CancellationToken.None);
        Assert.Equal("deployed", upgraded.Status);
        Assert.Null(await _helm.RepairAsync(target, "web", CancellationToken.None));
    }

    [Fact]
    public async Task HelmKilledMidUpgrade_LeavesItPending_RepairRollsBack_AndTheNextUpgradeWorks()
    {
        var target = Target();
        var chart = KubeActors.ChartWithBlockingHook();
        try
        {
            await _helm.InstallAsync(target, "web", chart, null, CancellationToken.None);

            // The upgrade blocks on its pre-upgrade hook; cancelling it kills the helm process in the middle.
            using var interrupt = new CancellationTokenSource();
            var upgrading = _helm.UpgradeAsync(target, "web", chart, "migrate: true\n", interrupt.Token);
            await KubeActors.EventuallyAsync(async () => (await _helm.StatusAsync(target, "web", CancellationToken.None))?.Status == "pending-upgrade", "the upgrade under way");
            Assert.Single(KubeActors.HelmProcessesOf("web"));
            await interrupt.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upgrading);
            Assert.Empty(KubeActors.HelmProcessesOf("web"));
            Assert.Equal("pending-upgrade", (await _helm.StatusAsync(target, "web", CancellationToken.None))?.Status);

            Assert.Contains("rolled back to revision 1", await _helm.RepairAsync(target, "web", CancellationToken.None), StringComparison.Ordinal);
            Assert.Equal("deployed", (await _helm.UpgradeAsync(target, "web", chart, "replicaCount: 2\n", CancellationToken.None)).Status);
        }
        finally
        {
            Directory.Delete(chart, recursive: true);
        }
    }

    [Fact]
    public async Task InterruptedFirstInstall_IsUninstalledByRepair_SoTheNameCanBeInstalledAgain()
    {
        var target = Target();
        using var client = Client();
        await _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None);
        await MarkLatestRevisionAsync(client, target.Namespace, "web", "pending-install");

        var repaired = await _helm.RepairAsync(target, "web", CancellationToken.None);

        Assert.Contains("never deployed; uninstalled", repaired, StringComparison.Ordinal);
        Assert.Null(await _helm.StatusAsync(target, "web", CancellationToken.None));
        Assert.Equal("deployed", (await _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Failures_CarryHelmsMessage_AStableCode_AndNoPrivatePath()
    {
        var target = Target();
        await _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None);

        var again = await Assert.ThrowsAsync<HelmReleaseException>(() => _helm.InstallAsync(target, "web", Chart, null, CancellationToken.None));
        var badValues = await Assert.ThrowsAsync<HelmReleaseException>(() => _helm.UpgradeAsync(target, "web", Chart, "replicaCount: many\n", CancellationToken.None));
        var missing = await Assert.ThrowsAsync<HelmReleaseException>(() => _helm.RollbackAsync(target, "nothing-here", 1, CancellationToken.None));

        Assert.Equal(HelmReleaseException.Failed, again.Code);
        Assert.Contains("a name that is still in use", again.Message, StringComparison.Ordinal); // helm 3 "cannot re-use", helm 4 "cannot reuse"
        Assert.Equal(HelmReleaseException.Failed, badValues.Code);
        Assert.Contains("replicaCount", badValues.Message, StringComparison.Ordinal);
        Assert.Equal(HelmReleaseException.NotFound, missing.Code);
        Assert.All(new[] { again, badValues, missing }, e => Assert.DoesNotContain("pitrix-helm-", e.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.GetTempPath(), "pitrix-helm-*"), d => File.Exists(Path.Combine(d, "kubeconfig")));
    }

    private HelmTarget Target() => new(kube.AdminKubeconfig, null, $"helm-{Guid.NewGuid():N}"[..16]);

    private async Task<ReleaseStatus> EvaluateAsync(HelmTarget target, string release)
    {
        using var client = Client();
        return await ReleaseReadiness.EvaluateAsync(client, await _helm.ManifestAsync(target, release, CancellationToken.None), target.Namespace, CancellationToken.None);
    }

    private static Task ActAsTheDeploymentControllerAsync(k8s.Kubernetes client, string ns, string name) => KubeActors.ActAsTheDeploymentControllerAsync(client, ns, name);

    /// <summary>Rewrites the newest release record (a Secret: base64 of gzip of JSON) with another status, as an interrupted helm leaves it.</summary>
    private static async Task MarkLatestRevisionAsync(k8s.Kubernetes client, string ns, string release, string status)
    {
        var secrets = await client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: $"owner=helm,name={release}");
        var latest = secrets.Items.OrderBy(s => int.Parse(s.Metadata.Labels["version"], System.Globalization.CultureInfo.InvariantCulture)).Last();
        var compressed = Convert.FromBase64String(Encoding.UTF8.GetString(latest.Data["release"]));
        await using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        var json = (await JsonNode.ParseAsync(input))!;
        json["info"]!["status"] = status;
        using var output = new MemoryStream();
        await using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(json.ToJsonString()));
        }

        latest.Data["release"] = Encoding.UTF8.GetBytes(Convert.ToBase64String(output.ToArray()));
        latest.Metadata.Labels["status"] = status;
        await client.CoreV1.ReplaceNamespacedSecretAsync(latest, latest.Metadata.Name, ns);
    }
}
