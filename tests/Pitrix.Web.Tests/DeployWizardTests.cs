using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>
/// The deploy wizard in a real browser against a real server: version → runtime (only matching ones) → the form
/// generated from the package → the plan → deploy, each step checked against what the API then holds.
/// </summary>
public sealed partial class DeployWizardTests(DeployFixture fixture) : IClassFixture<DeployFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Deploy_ZooKeeper_ToTheLocalRuntime_WithOneNode_CreatesTheClusterAndItsJob()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var local = ServerFixture.Unique("local-rt");
        var localId = await Catalog.RuntimeAsync(Server, vendor, local);
        var kube = ServerFixture.Unique("kube-rt");
        await DeployCatalog.KubernetesRuntimeAsync(Server, vendor, kube);
        var (name, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        await using var context = await fixture.NewContextAsync("en-US");
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        // The app page's Deploy opens the wizard on the version step, the released version chosen.
        await page.GotoAsync($"/apps/{appId}");
        await Expect(page.GetByTestId("deploy-version")).ToHaveCountAsync(1);
        await ShotAsync(page, "deploy-0-app");
        await page.GetByTestId("deploy-active").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/apps/{appId}/deploy\\?version="));
        var versions = page.GetByTestId("version-choice");
        await Expect(versions).ToHaveCountAsync(1);
        await Expect(versions).ToContainTextAsync("1.0.0");
        await Expect(versions.GetByRole(AriaRole.Radio)).ToBeCheckedAsync();
        await Expect(page.Locator(".px-step-current")).ToHaveTextAsync("Version");
        await ShotAsync(page, "deploy-1-version");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next: runtime" }).ClickAsync();

        // Only the runtime whose provider the version runs on, with its provider, zone and labels.
        var runtimes = page.GetByTestId("runtime-choice");
        await Expect(runtimes).ToHaveCountAsync(1);
        await Expect(runtimes).ToContainTextAsync(local);
        await Expect(runtimes).ToContainTextAsync("local · zone default");
        await Expect(runtimes).ToContainTextAsync("tier=dev");
        await Expect(page.GetByTestId("step-runtime")).Not.ToContainTextAsync(kube);
        await ShotAsync(page, "deploy-2-runtime");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next: configuration" }).ClickAsync();

        // The form from config.json: choices from ranges, bounds, defaults, required marks.
        var count = page.GetByLabel("Node Count");
        await Expect(count).ToHaveValueAsync("3");
        Assert.Equal(["1", "3", "5", "7"], await count.Locator("option").AllTextContentsAsync());
        await Expect(page.GetByLabel("Volume Size")).ToHaveAttributeAsync("max", "1000");
        await Expect(page.GetByTestId("field-cluster.subnet")).ToContainTextAsync("(required)");
        await Expect(page.GetByTestId("field-env.tick_time")).ToContainTextAsync("From 100 to 60000.");
        await Expect(page.GetByLabel("stat", new() { Exact = true })).ToBeCheckedAsync();
        await Expect(page.GetByLabel("conf", new() { Exact = true })).Not.ToBeCheckedAsync();
        await ShotAsync(page, "deploy-3-config");

        var clusterName = ServerFixture.Unique("zk");
        await page.GetByLabel("Cluster name").FillAsync(clusterName);
        await page.GetByLabel("Description").FillAsync("Deployed from the wizard");
        await count.SelectOptionAsync("1");
        await page.GetByLabel("Subnet").FillAsync("default");
        await page.GetByLabel("Volume Size").FillAsync("2000");
        await page.GetByLabel("conf", new() { Exact = true }).CheckAsync();

        // Out of range: the API's message at the field and in the alert; what was entered is kept.
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        var volume = page.GetByTestId("field-cluster.zk_node.volume_size");
        await Expect(volume.GetByTestId("field-error")).ToContainTextAsync("Must be at most 1000.");
        await Expect(page.GetByLabel("Volume Size")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("cluster.zk_node.volume_size");
        await Expect(page.GetByTestId("actions-problem").GetByRole(AriaRole.Link, new() { Name = "Go to the first value to fix" }))
            .ToHaveAttributeAsync("href", "#cfg-cluster-zk_node-volume_size");
        await Expect(page.GetByLabel("Node Count")).ToHaveValueAsync("1");
        await Expect(page.GetByLabel("Subnet")).ToHaveValueAsync("default");
        await Expect(page.GetByLabel("Cluster name")).ToHaveValueAsync(clusterName);
        await Expect(page.GetByLabel("conf", new() { Exact = true })).ToBeCheckedAsync();
        await Expect(page.Locator(".px-step-current")).ToHaveTextAsync("Configuration");
        await ShotAsync(page, "deploy-3-config-error");

        // Fixed: the plan, its tasks by dependency level, nothing created yet.
        await page.GetByLabel("Volume Size").FillAsync("20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("plan")).ToBeVisibleAsync();
        await Expect(page.Locator(".px-step-current")).ToHaveTextAsync("Plan");
        var planValues = JsonNode.Parse((await page.GetByTestId("plan-values").TextContentAsync())!)!;
        Assert.Equal(1, (int)planValues["cluster"]!["zk_node"]!["count"]!);
        Assert.Equal(20, (int)planValues["cluster"]!["zk_node"]!["volume_size"]!);
        Assert.Equal("ruok,stat,mntr,conf", (string?)planValues["env"]!["four_letter_words"]);
        Assert.Null(planValues["env"]!["tick_time"]);
        await Expect(page.Locator("[data-testid=plan-task][data-task-key^='instance:']")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("plan-level").First).ToContainTextAsync("frontgate");
        Assert.True(await page.GetByTestId("plan-level").CountAsync() >= 4, await page.GetByTestId("plan").InnerTextAsync());
        Assert.Equal(0, (int)(await vendor.User.GetAsync("/api/v1/clusters?q=" + clusterName)).Body!["total"]!);
        await ShotAsync(page, "deploy-4-plan");

        // Back keeps every value; the plan again, then Deploy.
        await page.GetByRole(AriaRole.Button, new() { Name = "Back to configuration" }).ClickAsync();
        await Expect(page.GetByLabel("Node Count")).ToHaveValueAsync("1");
        await Expect(page.GetByLabel("Volume Size")).ToHaveValueAsync("20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Deploy", Exact = true }).ClickAsync();

        await Expect(page).ToHaveURLAsync(ClusterUrl());
        var match = ClusterUrl().Match(page.Url);
        var (clusterId, jobId) = (match.Groups["cluster"].Value, match.Groups["job"].Value);
        try
        {
            var cluster = await vendor.User.GetAsync($"/api/v1/clusters/{clusterId}");
            Assert.True(cluster.Status == HttpStatusCode.OK, cluster.ToString());
            Assert.Equal(clusterName, (string?)cluster.Body!["cluster"]!["name"]);
            Assert.Equal("Deployed from the wizard", (string?)cluster.Body["cluster"]!["description"]);
            Assert.Equal(appId, (string?)cluster.Body["cluster"]!["app_id"]);
            Assert.Equal(localId, (string?)cluster.Body["cluster"]!["runtime_id"]);
            var values = await vendor.User.GetAsync($"/api/v1/clusters/{clusterId}/values");
            Assert.Equal(1, (int)values.Body!["values"]!["cluster"]!["zk_node"]!["count"]!);
            Assert.Equal("default", (string?)values.Body["values"]!["cluster"]!["subnet"]);
            Assert.Equal(clusterName, (string?)values.Body["values"]!["cluster"]!["name"]);
            var job = await vendor.User.GetAsync($"/api/v1/jobs/{jobId}");
            Assert.True(job.Status == HttpStatusCode.OK, job.ToString());
            Assert.Equal(clusterId, (string?)job.Body!["job"]!["cluster_id"]);
            Assert.Equal("create", (string?)job.Body["job"]!["action"]);
            Assert.Equal(["instance:1"], job.Body["tasks"]!.AsArray().Select(t => (string)t!["key"]!).Where(k => k.StartsWith("instance:", StringComparison.Ordinal)));
        }
        finally
        {
            // The job really runs on the local runtime: let it finish, then cease the cluster, so no process outlives the test.
            await DeployCatalog.WaitForJobAsync(vendor.User, jobId, TimeSpan.FromMinutes(5));
            await DeployCatalog.CeaseAsync(vendor.User, clusterId);
        }
    }

    [Fact]
    public async Task Deploy_PasswordValues_AreCarriedEncrypted_NeverRenderedBack()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var runtimeId = await Catalog.RuntimeAsync(Server, vendor, ServerFixture.Unique("local-rt"));
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0", edit: dir =>
        {
            var path = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(path))!;
            config["properties"]![1]!["properties"]!.AsArray().Add(JsonNode.Parse("""
                { "key": "admin_password", "label": "Admin password", "description": "Password of the admin console", "type": "password", "required": "yes" }
                """));
            File.WriteAllText(path, config.ToJsonString());
        });
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        var versionId = (string)(await vendor.User.GetAsync($"/api/v1/apps/{appId}")).Body!["active_version_id"]!;
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await page.GotoAsync($"/apps/{appId}/deploy?step=config&version={versionId}&runtime={runtimeId}");
        await page.GetByLabel("Cluster name").FillAsync(ServerFixture.Unique("zk"));
        await page.GetByLabel("Subnet").FillAsync("default");

        // Required: left empty, the API says so at the field.
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("field-env.admin_password").GetByTestId("field-error")).ToContainTextAsync("Required.");

        const string secret = "s3cret-Pa55word";
        await page.GetByLabel("Admin password").FillAsync(secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("plan")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("plan-values")).ToContainTextAsync("\"admin_password\": \"••••••\"");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        // Back: the input is empty (never filled with the secret) yet the value is kept for the next post.
        await page.GetByRole(AriaRole.Button, new() { Name = "Back to configuration" }).ClickAsync();
        await Expect(page.GetByLabel("Admin password")).ToHaveValueAsync("");
        await Expect(page.GetByLabel("Admin password")).ToHaveAttributeAsync("placeholder", "Kept; type to replace");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("plan")).ToBeVisibleAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_NoRuntimeMatches_SaysWhichProvidersWouldAndOffersAWayOn()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var kube = ServerFixture.Unique("kube-rt");
        await DeployCatalog.KubernetesRuntimeAsync(Server, vendor, kube);
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        var versionId = (string)(await vendor.User.GetAsync($"/api/v1/apps/{appId}")).Body!["active_version_id"]!;
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        await page.GotoAsync($"/apps/{appId}/deploy?step=runtime&version={versionId}");

        var empty = page.GetByTestId("no-runtimes");
        await Expect(empty).ToContainTextAsync("No runtime can run this version");
        await Expect(empty).ToContainTextAsync("local");
        await Expect(empty).Not.ToContainTextAsync(kube);
        await Expect(page.GetByTestId("runtime-choice")).ToHaveCountAsync(0);
        await ShotAsync(page, "deploy-2-runtime-none");

        // Not a dead end: another version, or back to the app.
        await empty.GetByRole(AriaRole.Link, new() { Name = "Choose another version" }).ClickAsync();
        await Expect(page.GetByTestId("version-choice")).ToHaveCountAsync(1);

        // A runtime that cannot run the version, asked for by URL, sends back to the choice.
        await page.GotoAsync($"/apps/{appId}/deploy?step=config&version={versionId}&runtime=rt-nope");
        await Expect(page.GetByTestId("deploy-notice")).ToContainTextAsync("That runtime cannot run this version");
        await Expect(page.GetByTestId("no-runtimes")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Deploy_ConfigLabels_FollowTheBrowserLanguage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var runtimeId = await Catalog.RuntimeAsync(Server, vendor, ServerFixture.Unique("local-rt"));
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        var versionId = (string)(await vendor.User.GetAsync($"/api/v1/apps/{appId}")).Body!["active_version_id"]!;
        var url = $"/apps/{appId}/deploy?step=config&version={versionId}&runtime={runtimeId}";

        await using (var chinese = await fixture.NewContextAsync("zh-CN"))
        {
            var page = await Pages.SignInAsync(chinese, vendor.UserName, vendor.UserPassword);
            await page.GotoAsync(url);
            var count = page.GetByTestId("field-cluster.zk_node.count");
            await Expect(count.Locator("label")).ToHaveTextAsync(new Regex("^节点数量"));
            await Expect(count.Locator("label")).ToHaveAttributeAsync("lang", "zh-cn");
            await Expect(page.GetByTestId("group-cluster.zk_node").Locator("legend").First).ToHaveTextAsync("ZooKeeper 节点");
            await Expect(page.GetByLabel("心跳时间 (毫秒)")).ToHaveValueAsync("2000");

            // Keys without a translation keep the package's label.
            await Expect(page.GetByLabel("CPU")).ToBeVisibleAsync();
            await ShotAsync(page, "deploy-3-config-zh-cn");
        }

        await using (var english = await fixture.NewContextAsync("en-GB"))
        {
            var page = await Pages.SignInAsync(english, vendor.UserName, vendor.UserPassword);
            await page.GotoAsync(url);
            await Expect(page.GetByLabel("Node Count")).ToHaveValueAsync("3");
            await Expect(page.GetByLabel("Tick time (ms)")).ToHaveValueAsync("2000");
        }

        await using (var other = await fixture.NewContextAsync("fr-FR"))
        {
            // No French file: the package's own labels.
            var page = await Pages.SignInAsync(other, vendor.UserName, vendor.UserPassword);
            await page.GotoAsync(url);
            await Expect(page.GetByLabel("tickTime")).ToHaveValueAsync("2000");
            await Expect(page.GetByTestId("field-cluster.zk_node.count").Locator("label")).Not.ToHaveAttributeAsync("lang", new Regex("."));
        }
    }

    [Fact]
    public async Task Deploy_HelmChart_FormFromTheSchema_YamlCheckedHere_SchemaErrorsByPath_ThenThePlan()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await Catalog.RuntimeAsync(Server, vendor, ServerFixture.Unique("local-rt"));
        var kube = ServerFixture.Unique("kube-rt");
        await DeployCatalog.KubernetesRuntimeAsync(Server, vendor, kube);
        var (_, chart) = await SamplePackages.BuildChartAsync("hello-web", "0.1.0");
        var appId = await Catalog.PublishAsync(Server, vendor, chart);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        await page.GotoAsync($"/apps/{appId}");
        await page.GetByTestId("deploy-version").First.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next: runtime" }).ClickAsync();
        var runtimes = page.GetByTestId("runtime-choice");
        await Expect(runtimes).ToHaveCountAsync(1);
        await Expect(runtimes).ToContainTextAsync(kube);
        await Expect(runtimes).ToContainTextAsync("kubernetes · zone apps");
        await Expect(runtimes).ToContainTextAsync("env=staging");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next: configuration" }).ClickAsync();

        // Fields from values.schema.json with values.yaml's defaults; nested objects as groups; enums as choices.
        await Expect(page.GetByLabel("replicaCount")).ToHaveValueAsync("1");
        await Expect(page.GetByLabel("replicaCount")).ToHaveAttributeAsync("max", "20");
        var image = page.GetByTestId("group-image");
        await Expect(image.Locator("legend").First).ToHaveTextAsync("image");
        await Expect(image.GetByLabel("repository")).ToHaveValueAsync("nginx");
        await Expect(image.GetByTestId("field-image.repository")).ToContainTextAsync("(required)");
        await Expect(image.GetByLabel("pullPolicy")).ToHaveValueAsync("IfNotPresent");
        Assert.Equal(["Always", "IfNotPresent", "Never"], await image.GetByLabel("pullPolicy").Locator("option").AllTextContentsAsync());
        await Expect(page.GetByTestId("field-service.port").Locator("input")).ToHaveValueAsync("80");
        await Expect(page.GetByTestId("field-yaml")).ToContainTextAsync("Only here: /resources");
        var yaml = page.GetByLabel("Values overrides (YAML)");
        await Expect(yaml).ToHaveCSSAsync("font-family", new Regex("mono", RegexOptions.IgnoreCase));
        await page.GetByLabel("Cluster name").FillAsync(ServerFixture.Unique("web"));
        await page.GetByLabel("replicaCount").FillAsync("3");
        await ShotAsync(page, "deploy-3-config-helm");

        // A YAML syntax error is caught here, with its line; the input is kept.
        await yaml.FillAsync("greeting: hi\nreplicaCount: [1\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("yaml-error")).ToContainTextAsync("Line 3");
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("The values YAML is not valid");
        await Expect(yaml).ToHaveValueAsync("greeting: hi\nreplicaCount: [1\n");
        await Expect(page.GetByLabel("replicaCount")).ToHaveValueAsync("3");

        // Valid YAML the schema refuses: the API's errors by path, under the YAML and at the field.
        await yaml.FillAsync("greeting: hi\nservice:\n  port: 70000\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("yaml-error")).ToContainTextAsync("/service/port");
        await Expect(page.GetByTestId("field-service.port").GetByTestId("field-error")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("values.schema.json");
        await ShotAsync(page, "deploy-3-config-helm-error");

        // Fixed: the plan of the release, with the form's and the YAML's values merged.
        await yaml.FillAsync("greeting: from the wizard\nresources:\n  limits:\n    cpu: 100m\n");
        await image.GetByLabel("pullPolicy").SelectOptionAsync("Always");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
        await Expect(page.GetByTestId("plan")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("plan-task").First).ToBeVisibleAsync();
        var sent = JsonNode.Parse((await page.GetByTestId("plan-values").TextContentAsync())!)!;
        Assert.Equal(3, (int)sent["replicaCount"]!);
        Assert.Equal("from the wizard", (string?)sent["greeting"]);
        Assert.Equal("Always", (string?)sent["image"]!["pullPolicy"]);
        Assert.Equal("100m", (string?)sent["resources"]!["limits"]!["cpu"]);
        Assert.Null(sent["image"]!["repository"]);
        await ShotAsync(page, "deploy-4-plan-helm");

        // Back: the YAML, carried through the plan in a hidden field, is as it was written.
        await page.GetByRole(AriaRole.Button, new() { Name = "Back to configuration" }).ClickAsync();
        await Expect(yaml).ToHaveValueAsync(new Regex("^greeting: from the wizard\r?\nresources:\r?\n  limits:\r?\n    cpu: 100m\r?\n$"));
        await Expect(image.GetByLabel("pullPolicy")).ToHaveValueAsync("Always");
    }

    /// <summary>A full-page screenshot from the top (an enhanced post keeps the scroll position, and the app bar is fixed).</summary>
    private static async Task ShotAsync(IPage page, string name)
    {
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await BrowserFixture.ScreenshotAsync(page, name);
    }

    [GeneratedRegex("/clusters/(?<cluster>[^/?]+)\\?job=(?<job>[^&]+)$")]
    private static partial Regex ClusterUrl();
}
