using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>
/// "My clusters" and the cluster page in a real browser against a real server whose clusters run on the FAKE
/// cloud (they deploy in a second or two, and fail when told to): the list's filters and paging, the page's
/// live updates, actions, a failed job's tasks, and a sign-in that ends while the page is open.
/// </summary>
public sealed class ClustersTests(ClustersFakeCloudFixture fixture) : IClassFixture<ClustersFakeCloudFixture>
{
    private TestServer Server => fixture.Server;

    private sealed record World(ApiSession User, string UserName, string RepoId, string VersionId, string AppName, string RuntimeId) : IDisposable
    {
        public string Password => "password-" + UserName;

        public void Dispose() => User.Dispose();
    }

    private async Task<World> WorldAsync(Action<string>? edit = null)
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var appName = ServerFixture.Unique("zk");
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, appName, "1.0.0", edit: edit);
        var runtime = await FakeCloudWorld.FakeRuntimeAsync(admin);
        var userName = ServerFixture.Unique("user");
        return new World(await Server.CreateUserAsync(userName, ["user"]), userName, repo, version, appName, runtime);
    }

    [Fact]
    public async Task List_SearchFiltersAndPages_OnTheServer()
    {
        using var w = await WorldAsync();
        using var admin = await Server.LoginAdminAsync();
        var otherApp = ServerFixture.Unique("other");
        var otherVersion = await FakeCloudWorld.ReleaseSampleAsync(admin, w.RepoId, otherApp, "2.0.0");
        var otherRuntime = await FakeCloudWorld.FakeRuntimeAsync(admin);
        var otherRuntimeName = (string)(await admin.GetAsync($"/api/v1/runtimes/{otherRuntime}")).Body!["name"]!;
        var word = "zk" + Guid.NewGuid().ToString("N")[..8];
        var clusters = new List<(string Id, string Job)>();
        for (var i = 1; i <= 11; i++)
        {
            clusters.Add(await ClustersWorld.CreateAsync(w.User, w.VersionId, w.RuntimeId, ClustersWorld.FakeValues, name: $"{word}-{i:00}"));
        }

        var solo = await ClustersWorld.CreateAsync(w.User, otherVersion, otherRuntime, ClustersWorld.FakeValues, name: ServerFixture.Unique("solo"));
        foreach (var (id, job) in clusters.Append((solo.ClusterId, solo.JobId)))
        {
            await ClustersWorld.WaitAsync(w.User, id, job);
        }

        var stopped = clusters[4].Id;
        var stop = await w.User.PostAsync($"/api/v1/clusters/{stopped}:stop");
        Assert.True(stop.Status == HttpStatusCode.Accepted, stop.ToString());
        await ClustersWorld.WaitAsync(w.User, stopped, stop.Id);

        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, w.UserName, w.Password);
        await page.GetByRole(AriaRole.Link, new() { Name = "My clusters" }).ClickAsync();

        // Everything of this user, newest first, with app, version and runtime by name.
        await Expect(page).ToHaveURLAsync(new Regex("/clusters$"));
        await Expect(page.GetByTestId("clusters-count")).ToHaveTextAsync("Showing 1–12 of 12 clusters");
        var rows = page.GetByTestId("cluster-row");
        await Expect(rows).ToHaveCountAsync(12);
        await Expect(rows.First).ToHaveAttributeAsync("data-cluster-id", solo.ClusterId);
        await Expect(rows.First).ToContainTextAsync(otherApp);
        await Expect(rows.First).ToContainTextAsync("2.0.0");
        await Expect(rows.First).ToContainTextAsync(otherRuntimeName);
        await Expect(rows.First.GetByTestId("cluster-status")).ToHaveTextAsync("active");
        await Expect(page.Locator($"[data-cluster-id='{stopped}']").GetByTestId("cluster-status")).ToHaveTextAsync("stopped");
        await BrowserFixture.ScreenshotAsync(page, "clusters");

        // Ten a page: two pages, paged by the API.
        await page.GetByLabel("Per page").SelectOptionAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByTestId("clusters-count")).ToHaveTextAsync("Showing 1–10 of 12 clusters");
        await Expect(rows).ToHaveCountAsync(10);
        await page.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(page.GetByTestId("clusters-count")).ToHaveTextAsync("Showing 11–12 of 12 clusters");
        await Expect(rows).ToHaveCountAsync(2);
        Assert.Contains("limit=10", page.Url, StringComparison.Ordinal);
        Assert.Contains("page=2", page.Url, StringComparison.Ordinal);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Next" })).ToHaveCountAsync(0);

        // Search words, then a status on top of them.
        await page.GotoAsync("/clusters");
        await page.GetByLabel("Search clusters").FillAsync(word);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByTestId("clusters-count")).ToHaveTextAsync("Showing 1–11 of 11 clusters");
        await page.GetByLabel("Status").SelectOptionAsync("stopped");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows).ToHaveAttributeAsync("data-cluster-id", stopped);
        Assert.Contains("status=stopped", page.Url, StringComparison.Ordinal);

        // A runtime.
        await page.GotoAsync("/clusters");
        await page.GetByLabel("Runtime").SelectOptionAsync(otherRuntime);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows).ToHaveAttributeAsync("data-cluster-id", solo.ClusterId);

        // An app, from its name in a row; the filter says so and can be dropped.
        await page.GotoAsync("/clusters");
        await page.GetByRole(AriaRole.Link, new() { Name = $"{w.AppName}: show only clusters of this app" }).First.ClickAsync();
        await Expect(page.GetByTestId("app-filter")).ToContainTextAsync(w.AppName);
        await Expect(page.GetByTestId("clusters-count")).ToHaveTextAsync("Showing 1–11 of 11 clusters");
        await page.GetByRole(AriaRole.Link, new() { Name = "Show clusters of every app" }).ClickAsync();
        await Expect(page.GetByTestId("clusters-count")).ToHaveTextAsync("Showing 1–12 of 12 clusters");

        // Nothing matches: said so, with the way back.
        await page.GotoAsync("/clusters?q=nothing-is-called-this");
        await Expect(page.GetByTestId("clusters-empty")).ToContainTextAsync("No cluster matches these filters.");
        await page.GotoAsync("/clusters?page=9");
        await Expect(page.GetByTestId("clusters-empty")).ToContainTextAsync("past the last one");
    }

    [Fact]
    public async Task List_NoClustersYet_PointsToTheStore()
    {
        var userName = ServerFixture.Unique("user");
        using var user = await Server.CreateUserAsync(userName, ["user"]);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, userName, "password-" + userName);

        await page.GotoAsync("/clusters");

        var empty = page.GetByTestId("clusters-empty");
        await Expect(empty).ToContainTextAsync("You have no clusters yet.");
        await empty.GetByRole(AriaRole.Link, new() { Name = "store" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Store", Level = 1 })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ClusterPage_ActionsFromThePage_AreFollowedLive()
    {
        using var w = await WorldAsync(ClustersWorld.AddBackupAction);
        var clusterId = await ClustersWorld.DeployedAsync(w.User, w.VersionId, w.RuntimeId);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, w.UserName, w.Password);

        await ClustersWorld.OpenLiveAsync(page, clusterId);
        await page.EvaluateAsync("() => window.pxNotReloaded = true");

        // The sign-in handed to the live component travels only inside Blazor's data-protected descriptor.
        var html = await (await context.APIRequest.GetAsync($"/clusters/{clusterId}")).TextAsync();
        var descriptor = Regex.Match(html, "\"descriptor\":\"([^\"]+)\"");
        Assert.True(descriptor.Success, "the page holds no interactive component");
        Assert.StartsWith("CfDJ8", descriptor.Groups[1].Value, StringComparison.Ordinal); // Data Protection's magic header
        Assert.DoesNotContain("accessToken", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("refreshToken", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("refresh_token", html, StringComparison.OrdinalIgnoreCase);
        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("active");
        await Expect(page.GetByTestId("cluster-facts")).ToContainTextAsync(w.AppName);
        await Expect(page.GetByTestId("cluster-version")).ToHaveTextAsync("1.0.0");
        await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(3);
        await Expect(page.GetByTestId("config-values")).ToContainTextAsync("vxnet-test");
        await Expect(page.GetByTestId("job-detail")).ToHaveAttributeAsync("data-job-action", "create");

        // Stop: the plan first, nothing running until confirmed.
        await page.GetByTestId("action-stop").ClickAsync();
        var panel = page.GetByTestId("action-panel");
        await Expect(panel.GetByTestId("plan")).ToBeVisibleAsync();
        await Expect(panel.GetByTestId("graph-node").First).ToBeVisibleAsync();
        Assert.Equal(1, (int)(await w.User.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["total"]!);
        await panel.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId("action-started")).ToContainTextAsync("Stop started as job");
        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("stopped");
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("succeeded");
        Assert.Equal("stopped", (string?)(await ClustersWorld.ClusterAsync(w.User, clusterId))["cluster"]!["status"]);

        // Start again; then the package's own action, by name.
        await page.GetByTestId("action-start").ClickAsync();
        await panel.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("active");
        await Expect(page.GetByTestId("action-custom")).ToBeEnabledAsync();
        await page.GetByTestId("action-custom").ClickAsync();
        await panel.GetByLabel("Action", new() { Exact = true }).SelectOptionAsync("backup_now");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await Expect(panel.Locator("[data-testid='graph-node'][data-task-key='backup_now-zk_node']")).ToBeVisibleAsync();
        await panel.GetByTestId("confirm-action").ClickAsync();
        var detail = page.GetByTestId("job-detail");
        await Expect(detail).ToContainTextAsync("custom: backup_now");
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("succeeded");
        var jobs = (await w.User.GetAsync($"/api/v1/clusters/{clusterId}/jobs")).Body!["items"]!.AsArray();
        Assert.Equal(["custom", "start", "stop", "create"], jobs.Select(j => (string?)j!["action"]));

        // Delete, then recover within the grace period.
        await page.GetByTestId("action-delete").ClickAsync();
        await panel.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("deleted");
        await page.GetByTestId("action-recover").ClickAsync();
        await panel.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("active");
        Assert.Equal("active", (string?)(await ClustersWorld.ClusterAsync(w.User, clusterId))["cluster"]!["status"]);
        Assert.True(await page.EvaluateAsync<bool>("() => window.pxNotReloaded === true"), "the page was reloaded");
    }

    [Fact]
    public async Task ClusterPage_ScaleInResizeConfigUpgradeAndRollback_FromThePage()
    {
        using var w = await WorldAsync();
        string v2;
        using (var admin = await Server.LoginAdminAsync())
        {
            var appId = (string)(await admin.GetAsync($"/api/v1/app_versions/{w.VersionId}")).Body!["app_id"]!;
            v2 = await FakeCloudWorld.ReleaseSampleAsync(admin, w.RepoId, w.AppName, "1.1.0", appId);
        }

        var clusterId = await ClustersWorld.DeployedAsync(w.User, w.VersionId, w.RuntimeId);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, w.UserName, w.Password);
        await ClustersWorld.OpenLiveAsync(page, clusterId);
        var panel = page.GetByTestId("action-panel");
        var jobStatus = page.GetByTestId("job-status");

        async Task ConfirmAndWaitAsync(string action)
        {
            await Expect(panel.GetByTestId("plan")).ToBeVisibleAsync();
            await panel.GetByTestId("confirm-action").ClickAsync();

            // The page now shows the new job, followed until it is done and applied to the cluster.
            await Expect(page.GetByTestId("action-started")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("job-row").First).ToHaveAttributeAsync("data-job-action", action);
            await Expect(page.GetByTestId("job-detail")).ToHaveAttributeAsync("data-job-id", (await page.GetByTestId("job-row").First.GetAttributeAsync("data-job-id"))!);
            await Expect(page.GetByTestId("job-detail")).ToHaveAttributeAsync("data-job-status", "succeeded");
            await Expect(page.GetByTestId("cluster-transition")).ToHaveCountAsync(0);
            await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("active");
        }

        // Scale in to two: the newest node leaves, as the panel says before anything runs.
        await page.GetByTestId("action-scale").ClickAsync();
        await panel.GetByLabel("Node count").FillAsync("2");
        await Expect(panel.GetByTestId("scale-in-nodes")).ToContainTextAsync("zk_node#3");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await ConfirmAndWaitAsync("scale_in");
        await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(2);
        Assert.Equal([1, 2], (await ClustersWorld.ClusterAsync(w.User, clusterId))["nodes"]!.AsArray().Select(n => (int)n!["server_id"]!));

        // Resize.
        await page.GetByTestId("action-resize").ClickAsync();
        await panel.GetByLabel("CPU cores").FillAsync("2");
        await panel.GetByLabel("Memory (MB)").FillAsync("4096");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await ConfirmAndWaitAsync("resize");
        var role = (await ClustersWorld.ClusterAsync(w.User, clusterId))["roles"]![0]!;
        Assert.Equal((2, 4096), ((int)role["cpu"]!, (int)role["memory"]!));
        await Expect(page.GetByTestId("role-row")).ToContainTextAsync("4096 MB");

        // Update config: bad JSON is caught here, a change the API refuses shows its message, a good one runs.
        await page.GetByTestId("action-update_config").ClickAsync();
        var values = panel.GetByLabel("Configuration values");
        await Expect(values).ToHaveValueAsync(new Regex("vxnet-test"));
        await values.FillAsync("{ nope");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await Expect(panel.GetByTestId("problem")).ToContainTextAsync("not valid JSON");
        await Expect(panel.GetByTestId("confirm-action")).ToBeDisabledAsync();
        await values.FillAsync("""{ "cluster": { "zk_node": { "count": 5 } } }""");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await Expect(panel.GetByTestId("problem")).ToContainTextAsync("use scale_out, scale_in or resize");
        await values.FillAsync("""{ "env": { "tick_time": 3000 } }""");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await ConfirmAndWaitAsync("update_config");
        await Expect(page.GetByTestId("config-values")).ToContainTextAsync("\"tick_time\": 3000");
        Assert.Equal(3000, (int)(await w.User.GetAsync($"/api/v1/clusters/{clusterId}/values")).Body!["values"]!["env"]!["tick_time"]!);

        // Upgrade to 1.1.0, then roll back to 1.0.0.
        await page.GetByTestId("action-upgrade").ClickAsync();
        await Expect(panel.GetByLabel("Version")).ToContainTextAsync("1.1.0");
        await panel.GetByLabel("Version").SelectOptionAsync(v2);
        await panel.GetByTestId("preview-plan").ClickAsync();
        await ConfirmAndWaitAsync("upgrade");
        await Expect(page.GetByTestId("cluster-version")).ToHaveTextAsync("1.1.0");
        await page.GetByTestId("action-rollback").ClickAsync();
        await Expect(panel).ToContainTextAsync("Returns to version 1.0.0");
        await ConfirmAndWaitAsync("rollback");
        await Expect(page.GetByTestId("cluster-version")).ToHaveTextAsync("1.0.0");
        Assert.Equal(w.VersionId, (string?)(await ClustersWorld.ClusterAsync(w.User, clusterId))["cluster"]!["app_version_id"]);
        await Expect(jobStatus).ToHaveTextAsync("succeeded");
    }

    [Fact]
    public async Task ClusterPage_FailedDeploy_OpensOnTheFailedTask_WithItsAttemptsOutputAndError()
    {
        using var w = await WorldAsync();
        var labels = new Dictionary<string, string> { ["fake.fail-kind"] = "run", ["fake.fail"] = "always" };
        var (clusterId, jobId) = await ClustersWorld.CreateAsync(w.User, w.VersionId, w.RuntimeId, ClustersWorld.FakeValues, labels: labels);
        var job = await ClustersWorld.WaitAsync(w.User, clusterId, jobId);
        Assert.Equal("failed", (string?)job["job"]!["status"]);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, w.UserName, w.Password);

        await page.GotoAsync($"/clusters/{clusterId}?job={jobId}");

        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("failed");
        await Expect(page.GetByTestId("status-reason")).ToContainTextAsync("init-zk_node");
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("failed");
        await Expect(page.GetByTestId("job-error")).ToContainTextAsync("fake.failed");
        var task = page.GetByTestId("task-detail");
        await Expect(task).ToHaveAttributeAsync("data-task-key", "init-zk_node");
        await Expect(task.GetByTestId("task-error")).ToBeVisibleAsync();
        await Expect(task.GetByTestId("task-output")).ToContainTextAsync("failing");
        await Expect(task.GetByTestId("attempt-row").First).ToContainTextAsync("fake.failed");
        await Expect(page.Locator("[data-testid='graph-node'][data-task-key='init-zk_node']")).ToHaveAttributeAsync("data-status", "failed");
        await Expect(page.Locator("[data-testid='graph-node'][data-task-key='start-zk_node']")).ToHaveAttributeAsync("data-status", "skipped");

        // The compensations ran (they undid the instances), so they are drawn without asking.
        Assert.True(await page.Locator("[data-testid='graph-node'].px-graph-compensation").CountAsync() > 0);

        // A failed cluster offers what the engine accepts of it: deletion.
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-live", "live");
        await Expect(page.GetByTestId("actions").GetByRole(AriaRole.Button)).ToHaveTextAsync(["Delete"]);
    }

    [Fact]
    public async Task ClusterPage_SignInEndedWhileOpen_TheLivePageSendsToSignIn()
    {
        using var w = await WorldAsync();
        var clusterId = await ClustersWorld.DeployedAsync(w.User, w.VersionId, w.RuntimeId);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, w.UserName, w.Password);
        await ClustersWorld.OpenLiveAsync(page, clusterId);

        // A new password ends every other sign-in of the user, the circuit's among them.
        var changed = await w.User.PutAsync("/api/v1/me/password", new { current_password = w.Password, new_password = "another-password-1" });
        Assert.Equal(HttpStatusCode.NoContent, changed.Status);
        // Any call of the page now finds the sign-in over (the click itself does not wait for the navigation it causes).
        await page.GetByTestId("job-row").First.GetByRole(AriaRole.Button).DispatchEventAsync("click");

        await Expect(page).ToHaveURLAsync(new Regex($"/signin\\?expired=1&returnUrl=%2Fclusters%2F{clusterId}$"));
        await Expect(page.GetByTestId("session-expired")).ToBeVisibleAsync();
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "pitrix_session");
    }

    [Fact]
    public async Task ClusterPage_OfAClusterNotYours_ShowsTheApiProblem()
    {
        using var w = await WorldAsync();
        var (clusterId, _) = await ClustersWorld.CreateAsync(w.User, w.VersionId, w.RuntimeId, ClustersWorld.FakeValues);
        var strangerName = ServerFixture.Unique("stranger");
        using var stranger = await Server.CreateUserAsync(strangerName, ["user"]);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, strangerName, "password-" + strangerName);

        await page.GotoAsync($"/clusters/{clusterId}");

        await Expect(page.GetByTestId("problem")).ToContainTextAsync(clusterId);
        await Expect(page.GetByTestId("cluster-name")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(0);
    }
}
