using System.Net;
using System.Text.Json.Nodes;
using Pitrix.Cli;
using Pitrix.Providers.Kubernetes;
using Pitrix.Testing;

namespace Pitrix.AppFormats.Helm.Tests;

/// <summary>
/// <c>:plan</c> of a Helm cluster's config change or upgrade shows the rendered manifest diff (helm template of the
/// current and the planned chart and values), through the API and the CLI.
/// </summary>
public sealed partial class HelmClusterHelm3Tests
{
    /// <summary>Renders fail for more than five replicas, though the schema allows twenty.</summary>
    private const string ReplicaGuard = "{{- if gt (int .Values.replicaCount) 5 }}{{ fail \"hello-web runs at most 5 replicas\" }}{{- end }}\n";

    [Fact]
    public async Task Plan_of_an_upgrade_shows_each_resource_changed_added_removed_or_unchanged_with_its_lines_in_the_API_and_the_CLI()
    {
        using var admin = await Server.LoginAdminAsync();
        var (v1, chartName, repoId) = await ReleaseChartVersionAsync(admin);
        var appId = (string)(await admin.GetAsync($"/api/v1/app_versions/{v1}")).Body!["app_id"]!;

        // 0.2.0: a newer image, a ServiceAccount, and no Service.
        var (v2, _, _) = await ReleaseChartVersionAsync(admin, version: "0.2.0", name: chartName, repoId: repoId, appId: appId, edit: chart =>
        {
            var values = Path.Combine(chart, "values.yaml");
            File.WriteAllText(values, File.ReadAllText(values).Replace("tag: \"1.25\"", "tag: \"1.27\"", StringComparison.Ordinal));
            File.Delete(Path.Combine(chart, "templates", "service.yaml"));
            File.WriteAllText(Path.Combine(chart, "templates", "serviceaccount.yaml"), "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ include \"hello-web.fullname\" . }}\n");
        });
        var (clusterId, ns, fullName) = await ActiveClusterAsync(admin, v1, chartName);

        var plan = await admin.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "upgrade", app_version_id = v2 });
        Assert.True(plan.Status == HttpStatusCode.OK, plan.ToString());
        Assert.Equal("upgrade", (string?)plan.Body!["action"]);
        Assert.Equal(["release", "ready"], plan.Body["tasks"]!.AsArray().Select(t => (string?)t!["key"]));
        var diff = plan.Body["manifest_diff"]!;
        Assert.Equal((1, 1, 1, 1), ((int)diff["added"]!, (int)diff["removed"]!, (int)diff["changed"]!, (int)diff["unchanged"]!));
        var resources = diff["resources"]!.AsArray().ToDictionary(r => $"{(string?)r!["kind"]} {(string?)r["namespace"]}/{(string?)r["name"]}", r => r!);
        Assert.Equal("unchanged", (string?)resources[$"ConfigMap {ns}/{fullName}"]["change"]);
        Assert.Null(resources[$"ConfigMap {ns}/{fullName}"]["diff"]);

        var deployment = resources[$"Deployment {ns}/{fullName}"];
        Assert.Equal(("changed", $"{chartName}/templates/deployment.yaml"), ((string?)deployment["change"], (string?)deployment["source"]));
        Assert.Equal(["-          image: \"nginx:1.25\"", "+          image: \"nginx:1.27\""], ChangedLines(deployment["diff"]));
        Assert.Contains($"--- current/Deployment/{ns}/{fullName}\n+++ planned/Deployment/{ns}/{fullName}\n@@ -", (string?)deployment["diff"], StringComparison.Ordinal);

        var account = resources[$"ServiceAccount {ns}/{fullName}"];
        Assert.Equal("added", (string?)account["change"]);
        Assert.Equal(["+apiVersion: v1", "+kind: ServiceAccount", "+metadata:", $"+  name: {fullName}"], ChangedLines(account["diff"]));
        Assert.Equal("removed", (string?)resources[$"Service {ns}/{fullName}"]["change"]);
        Assert.Contains("-  type: ClusterIP", ChangedLines(resources[$"Service {ns}/{fullName}"]["diff"]));
        Assert.Equal(string.Concat(diff["resources"]!.AsArray().Select(r => (string?)r!["diff"])), (string?)diff["unified"]);

        // Nothing ran: the cluster is still on 0.1.0 with one job, the create.
        Assert.Equal(v1, (string?)(await admin.GetAsync($"/api/v1/clusters/{clusterId}")).Body!["cluster"]!["app_version_id"]);
        Assert.Equal(1, (int)(await admin.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["total"]!);

        // The CLI prints the DAG, then the resources that change and their diff, without colors when not a terminal.
        var home = Directory.CreateTempSubdirectory("pitrix-cli-helm-").FullName;
        try
        {
            var config = Path.Combine(home, "config.json");
            var login = await CliAsync(config, TestServer.AdminPassword + "\n", "login", "--server", Server.Address.ToString(), "--username", "admin", "--password-stdin");
            Assert.True(login.ExitCode == ExitCodes.Ok, login.ToString());
            var printed = await CliAsync(config, "", "cluster", "upgrade", clusterId, "--app-version", v2, "--plan");
            Assert.True(printed.ExitCode == ExitCodes.Ok, printed.ToString());
            var lines = printed.Output.Split('\n');
            Assert.Contains("Plan for upgrade: 2 task(s), in an order they can run; nothing was changed.", lines);
            Assert.Contains("Manifest: 1 added, 1 removed, 1 changed, 1 unchanged.", lines);
            Assert.Contains($"  changed  Deployment {ns}/{fullName}", lines);
            Assert.Contains($"  added    ServiceAccount {ns}/{fullName}", lines);
            Assert.Contains($"  removed  Service {ns}/{fullName}", lines);
            Assert.Contains("+          image: \"nginx:1.27\"", lines);
            Assert.True(Array.IndexOf(lines, "-          image: \"nginx:1.25\"") > Array.IndexOf(lines, "Manifest: 1 added, 1 removed, 1 changed, 1 unchanged."), printed.Output);
            Assert.DoesNotContain("\u001b", printed.Output, StringComparison.Ordinal);
            var json = await CliAsync(config, "", "cluster", "upgrade", clusterId, "--app-version", v2, "--plan", "-o", "json");
            Assert.True(json.ExitCode == ExitCodes.Ok, json.ToString());
            Assert.Equal((string?)diff["unified"], (string?)JsonNode.Parse(json.Output)!["manifest_diff"]!["unified"]);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Plan_of_update_config_shows_the_replica_change_nothing_for_the_same_values_and_a_render_failure_as_helm_template_failed()
    {
        using var admin = await Server.LoginAdminAsync();
        var (versionId, chartName) = await ReleaseChartAsync(admin, chart =>
        {
            var deployment = Path.Combine(chart, "templates", "deployment.yaml");
            File.WriteAllText(deployment, ReplicaGuard + File.ReadAllText(deployment));
        });
        var (clusterId, ns, fullName) = await ActiveClusterAsync(admin, versionId, chartName);

        var three = await admin.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "update_config", values = new JsonObject { ["replicaCount"] = 3 } });
        Assert.True(three.Status == HttpStatusCode.OK, three.ToString());
        var changed = Assert.Single(three.Body!["manifest_diff"]!["resources"]!.AsArray(), r => (string?)r!["change"] != "unchanged");
        Assert.Equal(("Deployment", ns, fullName, "changed"), ((string?)changed!["kind"], (string?)changed["namespace"], (string?)changed["name"], (string?)changed["change"]));
        Assert.Equal(["-  replicas: 1", "+  replicas: 3"], ChangedLines(changed["diff"]));
        Assert.Contains("@@ -7,7 +7,7 @@\n", (string?)changed["diff"], StringComparison.Ordinal);

        // The chart's default, given explicitly, renders the same manifest: a plan with no changes.
        var same = await admin.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "update_config", values = new JsonObject { ["replicaCount"] = 1 } });
        Assert.True(same.Status == HttpStatusCode.OK, same.ToString());
        var none = same.Body!["manifest_diff"]!;
        Assert.Equal((0, 0, 0, 3, ""), ((int)none["added"]!, (int)none["removed"]!, (int)none["changed"]!, (int)none["unchanged"]!, (string?)none["unified"]));
        Assert.All(none["resources"]!.AsArray(), r => Assert.Null(r!["diff"]));

        // Valid for the schema but refused by the chart's own template: a 422 with a stable code and helm's words.
        var broken = await admin.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "update_config", values = new JsonObject { ["replicaCount"] = 9 } });
        Assert.True(broken.Status == (HttpStatusCode)422, broken.ToString());
        Assert.Equal("helm.template_failed", broken.Code);
        Assert.Contains("hello-web runs at most 5 replicas", (string?)broken.Body!["detail"], StringComparison.Ordinal);
        Assert.DoesNotContain("pitrix-charts-", (string?)broken.Body["detail"], StringComparison.Ordinal);

        // Actions that change neither values nor version plan no manifest diff.
        var delete = await admin.PostAsync($"/api/v1/clusters/{clusterId}:plan", new { action = "delete" });
        Assert.True(delete.Status == HttpStatusCode.OK, delete.ToString());
        Assert.Null(delete.Body!["manifest_diff"]);
        Assert.Equal(1, (int)(await admin.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["total"]!);
    }

    /// <summary>A cluster of the version, installed and made active (the test acting as the deployment controller); its id, namespace and resources' name.</summary>
    private async Task<(string ClusterId, string Namespace, string FullName)> ActiveClusterAsync(ApiSession admin, string versionId, string chartName)
    {
        var (runtimeId, ns) = await RuntimeAsync(admin);
        var created = await admin.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("web"), app_version_id = versionId, runtime_id = runtimeId });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        var clusterId = (string)created.Body!["cluster"]!["id"]!;
        var fullName = $"{HelmFormat.ReleaseName(clusterId)}-{chartName}";
        using var client = new k8s.Kubernetes(Kubeconfigs.Load(Kube.AdminKubeconfig, null));
        await KubeActors.EventuallyAsync(async () => await KubeActors.DeploymentAsync(client, ns, fullName) is not null, "the release's Deployment");
        await KubeActors.ActAsTheDeploymentControllerAsync(client, ns, fullName);
        await WaitForJobAsync(admin, clusterId, (string)created.Body["job"]!["id"]!);
        return (clusterId, ns, fullName);
    }

    /// <summary>The deleted and inserted lines of a unified diff, without its file labels.</summary>
    private static async Task<(int ExitCode, string Output, string Error)> CliAsync(string configPath, string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, new CliEnvironment(new StringReader(stdin), output, error, configPath, InputIsTerminal: false));
        return (code, output.ToString(), error.ToString());
    }
}
