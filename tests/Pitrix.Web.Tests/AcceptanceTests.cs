using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>
/// Issue 8's acceptance, in one browser story on a real server whose local runtime runs the real agents and
/// ZooKeeper: a developer uploads a package with a lint error, fixes it and submits it; the admin approves and
/// releases it; a user finds it in the store, deploys it with the form (changing the node count), follows the job
/// to active, sees three nodes with addresses, scales to five from the cluster page and deletes it. Another
/// group's private app never shows. Every step is taken through the pages; the API only checks the outcome.
/// </summary>
public sealed class AcceptanceTests(ClustersLocalFixture fixture) : IClassFixture<ClustersLocalFixture>
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(5);

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Developer_uploads_admin_approves_user_deploys_scales_and_deletes_ZooKeeper_all_in_the_browser()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (developerName, developer) = await DeveloperCatalog.DeveloperAsync(Server, vendor);
        using var _ = developer;
        var runtime = ServerFixture.Unique("local");
        await Catalog.RuntimeAsync(Server, vendor, runtime);

        // Another vendor's app in its group's private repo.
        using var other = await Catalog.VendorAsync(Server);
        var (privateName, privateArchive) = await SamplePackages.BuildAsync();
        var privateAppId = await Catalog.PublishAsync(Server, other, privateArchive);

        // The developer's package: broken first; fixed, it deploys one node unless the user asks for more.
        var (name, broken) = await DeveloperCatalog.BrokenPackageAsync();
        var (_, fixedArchive) = await SamplePackages.BuildAsync(name: name, edit: dir =>
        {
            var config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"default\": 3, \"range\": [1, 3, 5, 7]", "\"default\": 1, \"range\": [1, 3, 5, 7]", StringComparison.Ordinal));
        });
        var packageFile = name + "-1.0.0.tgz";

        // 1. The developer: a lint error is shown; the fixed package uploads and is submitted.
        await using (var context = await fixture.NewContextAsync())
        {
            var page = await Pages.SignInAsync(context, developerName, "password-" + developerName);
            await page.GetByRole(AriaRole.Link, new() { Name = "Developer console" }).ClickAsync();
            var file = page.GetByLabel("Drop a package here, or choose a file");
            await file.SetInputFilesAsync(new FilePayload { Name = packageFile, MimeType = "application/gzip", Buffer = broken });
            await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
            await Expect(page.GetByTestId("lint-row")).ToHaveCountAsync(2);
            await Expect(page.Locator("[data-testid=lint-row][data-file='locale/zh-cn.json']")).ToContainTextAsync("locale.invalid_json");

            await file.SetInputFilesAsync(new FilePayload { Name = packageFile, MimeType = "application/gzip", Buffer = fixedArchive });
            await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
            await Expect(page.GetByTestId("upload-result")).ToContainTextAsync($"Uploaded {name} 1.0.0 as a draft");
            var app = page.Locator($"[data-testid=my-app][data-app-name='{name}']");
            await app.GetByRole(AriaRole.Link, new() { Name = "1.0.0" }).ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Submit for review" }).ClickAsync();
            await Expect(page.GetByTestId("action-result")).ToContainTextAsync("is now submitted");
        }

        var appId = (string)(await developer.GetAsync($"/api/v1/apps?status=any&authored=true&q={name}")).Body!["items"]![0]!["id"]!;
        var versionId = (string)(await developer.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["items"]![0]!["id"]!;

        // 2. The admin: the review queue, review and pass; then release from the version's page.
        await using (var context = await fixture.NewContextAsync())
        {
            var page = await AdminPages.SignInAsAdminAsync(context);
            await page.GetByRole(AriaRole.Link, new() { Name = "Administration" }).ClickAsync();
            await page.GetByTestId("admin-nav").GetByRole(AriaRole.Link, new() { Name = "Review queue", Exact = true }).ClickAsync();
            await page.Locator($"[data-testid=review-row][data-version-id='{versionId}']").GetByRole(AriaRole.Link, new() { Name = $"Open {name} 1.0.0" }).ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Start review" }).ClickAsync();
            await Expect(page.GetByTestId("version-status")).ToHaveTextAsync("in review");
            await page.GetByRole(AriaRole.Button, new() { Name = "Pass", Exact = true }).ClickAsync();
            await Expect(page.GetByTestId("version-status")).ToHaveTextAsync("passed");

            await page.GotoAsync($"/developer/versions/{versionId}");
            await page.GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync();
            await Expect(page.GetByTestId("action-result")).ToContainTextAsync("is now active");
        }

        Assert.Equal("active", (string?)(await developer.GetAsync($"/api/v1/app_versions/{versionId}")).Body!["status"]);

        // 3. The user: the store finds it (and never the other group's private app).
        await using (var context = await fixture.NewContextAsync())
        {
            var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
            await page.GetByLabel("Search apps").FillAsync(name);
            await page.GetByLabel("Search apps").PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("q=" + Regex.Escape(name)));
            await Expect(page.GetByRole(AriaRole.Link).Filter(new() { HasText = name })).Not.ToHaveCountAsync(0);
            await page.GetByLabel("Search apps").FillAsync(privateName);
            await page.GetByLabel("Search apps").PressAsync("Enter");
            await Expect(page).ToHaveURLAsync(new Regex("q=" + Regex.Escape(privateName)));
            await Expect(page.GetByRole(AriaRole.Link).Filter(new() { HasText = privateName })).ToHaveCountAsync(0);
            await page.GotoAsync($"/apps/{privateAppId}");
            await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("app-description")).ToHaveCountAsync(0);

            await page.GotoAsync("/?q=" + Uri.EscapeDataString(name));
            await page.GetByRole(AriaRole.Link).Filter(new() { HasText = name }).First.ClickAsync();
            await Expect(page.GetByTestId("app-description")).ToBeVisibleAsync();

            // The wizard: version, the local runtime, the form with three nodes instead of the package's one.
            await page.GetByTestId("deploy-active").ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Next: runtime" }).ClickAsync();
            await Expect(page.GetByTestId("runtime-choice")).ToContainTextAsync(runtime);
            await page.GetByRole(AriaRole.Button, new() { Name = "Next: configuration" }).ClickAsync();
            await Expect(page.GetByLabel("Node Count")).ToHaveValueAsync("1");
            await page.GetByLabel("Cluster name").FillAsync(ServerFixture.Unique("zk"));
            await page.GetByLabel("Node Count").SelectOptionAsync("3");
            await page.GetByLabel("Subnet").FillAsync("default");
            await page.GetByRole(AriaRole.Button, new() { Name = "Preview plan" }).ClickAsync();
            await Expect(page.Locator("[data-testid=plan-task][data-task-key^='instance:']")).ToHaveCountAsync(3);
            await page.GetByRole(AriaRole.Button, new() { Name = "Deploy", Exact = true }).ClickAsync();

            // The cluster page follows the job to active, without a reload: three nodes, each with an address.
            await Expect(page).ToHaveURLAsync(new Regex("/clusters/[^/?]+\\?job=[^&]+$"));
            var clusterId = Regex.Match(page.Url, "/clusters/([^/?]+)").Groups[1].Value;
            var status = page.GetByTestId("cluster-status");
            await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-live", "live");
            await page.EvaluateAsync("() => window.pxNotReloaded = true");
            await Expect(status).ToHaveTextAsync("active", new() { Timeout = (float)Slow.TotalMilliseconds });
            await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(3);
            var ips = await page.GetByTestId("node-ip").AllTextContentsAsync();
            Assert.Equal(3, ips.Where(ip => Regex.IsMatch(ip, @"^\d+\.\d+\.\d+\.\d+$")).Distinct().Count());

            // Scale to five from the page: its plan, then confirm.
            await page.GetByTestId("action-scale").ClickAsync();
            var panel = page.GetByTestId("action-panel");
            await panel.GetByLabel("Node count").FillAsync("5");
            await panel.GetByTestId("preview-plan").ClickAsync();
            await Expect(panel.GetByTestId("plan")).ToContainTextAsync("scale out");
            await panel.GetByTestId("confirm-action").ClickAsync();
            await Expect(page.GetByTestId("action-started")).ToContainTextAsync("Scale out started as job");
            await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(5, new() { Timeout = (float)Slow.TotalMilliseconds });
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("succeeded", new() { Timeout = (float)Slow.TotalMilliseconds });
            await Expect(page.Locator("[data-testid='role-row'][data-role='zk_node']").GetByTestId("role-count")).ToHaveTextAsync("5");
            await Expect(status).ToHaveTextAsync("active");
            await BrowserFixture.ScreenshotAsync(page, "acceptance-scaled");
            var scaled = await ClustersWorld.ClusterAsync(vendor.User, clusterId);
            Assert.Equal(5, scaled["nodes"]!.AsArray().Count(n => (string?)n!["status"] == "running"));

            // Delete from the page.
            await page.GetByTestId("action-delete").ClickAsync();
            await Expect(panel.GetByTestId("plan")).ToBeVisibleAsync();
            await panel.GetByTestId("confirm-action").ClickAsync();
            await Expect(status).ToHaveTextAsync("deleted", new() { Timeout = (float)Slow.TotalMilliseconds });
            Assert.True(await page.EvaluateAsync<bool>("() => window.pxNotReloaded === true"), "the page was reloaded");
            Assert.Equal("deleted", (string?)(await ClustersWorld.ClusterAsync(vendor.User, clusterId))["cluster"]!["status"]);
        }
    }
}
