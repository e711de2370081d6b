using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>
/// The cluster page of a real ZooKeeper ensemble on the local runtime (real agents, real ZooKeeper servers):
/// the deploy followed live to active without reloading, its nodes with their addresses, its job's graph and a
/// task's attempts, a scale from the page (plan, confirm, followed live) and a delete from the page.
/// </summary>
public sealed class ClustersLiveTests(ClustersLocalFixture fixture) : IClassFixture<ClustersLocalFixture>
{
    private static readonly TimeSpan Slow = TimeSpan.FromMinutes(5);

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task ClusterPage_ZooKeeperOnTheLocalRuntime_FollowedLive_ScaledAndDeletedFromThePage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        var runtimeId = await Catalog.RuntimeAsync(Server, vendor, ServerFixture.Unique("local"));
        var versionId = (string)(await vendor.User.GetAsync($"/api/v1/apps/{appId}")).Body!["active_version_id"]!;
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        // Deployed through the API (as the deploy wizard does), then watched from the page.
        var values = new JsonObject
        {
            ["cluster"] = new JsonObject { ["subnet"] = "default", ["zk_node"] = new JsonObject { ["count"] = 3, ["volume_size"] = 10 } },
            ["env"] = new JsonObject { ["four_letter_words"] = "ruok,srvr,conf" },
        };
        var (clusterId, jobId) = await ClustersWorld.CreateAsync(vendor.User, versionId, runtimeId, values);
        await page.GotoAsync($"/clusters/{clusterId}?job={jobId}");

        var status = page.GetByTestId("cluster-status");
        await Expect(page.GetByTestId("job-detail")).ToHaveAttributeAsync("data-job-id", jobId);
        Assert.Equal("pending", await status.TextContentAsync());
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-live", "live");
        await page.EvaluateAsync("() => window.pxNotReloaded = true");

        await Expect(status).ToHaveTextAsync("active", new() { Timeout = (float)Slow.TotalMilliseconds });
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("succeeded");
        await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(3);
        var ips = await page.GetByTestId("node-ip").AllTextContentsAsync();
        Assert.All(ips, ip => Assert.Matches(@"^127\.\d+\.\d+\.\d+$", ip));
        Assert.Equal(3, ips.Distinct().Count());
        await Expect(page.GetByTestId("node-status")).ToHaveTextAsync(["running", "running", "running"]);
        Assert.True(await page.EvaluateAsync<bool>("() => window.pxNotReloaded === true"), "the page was reloaded");
        await BrowserFixture.ScreenshotAsync(page, "cluster");

        // The job's graph: every task of the create, each a focusable box; Enter on one shows its attempts.
        var graphNodes = page.GetByTestId("job-detail").GetByTestId("graph-node");
        Assert.True(await graphNodes.CountAsync() >= 5);
        await Expect(graphNodes.First).ToHaveAttributeAsync("data-status", "succeeded");
        await graphNodes.First.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var task = page.GetByTestId("task-detail");
        await Expect(task).ToHaveAttributeAsync("data-task-key", (await graphNodes.First.GetAttributeAsync("data-task-key"))!);
        await Expect(task.GetByTestId("attempt-row").Last).ToContainTextAsync("succeeded");
        await ClustersWorld.ScreenshotOfAsync(page, page.GetByTestId("job-detail"), "cluster-job-graph");

        // Scale to five from the page: the plan first, then confirm; the new nodes appear as they come.
        await page.GetByTestId("action-scale").ClickAsync();
        var panel = page.GetByTestId("action-panel");
        await panel.GetByLabel("Node count").FillAsync("5");
        await panel.GetByTestId("preview-plan").ClickAsync();
        await Expect(panel.GetByTestId("plan")).ToContainTextAsync("scale out");
        Assert.True(await panel.GetByTestId("graph-node").CountAsync() >= 3);
        await BrowserFixture.ScreenshotAsync(page, "cluster-action-confirm");
        await panel.GetByTestId("confirm-action").ClickAsync();
        await Expect(page.GetByTestId("action-started")).ToContainTextAsync("Scale out started as job");
        await Expect(page.GetByTestId("node-row")).ToHaveCountAsync(5, new() { Timeout = (float)Slow.TotalMilliseconds });
        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("succeeded", new() { Timeout = (float)Slow.TotalMilliseconds });
        await Expect(page.Locator("[data-testid='role-row'][data-role='zk_node']").GetByTestId("role-count")).ToHaveTextAsync("5");
        await Expect(status).ToHaveTextAsync("active");
        var scaled = await ClustersWorld.ClusterAsync(vendor.User, clusterId);
        var running = scaled["nodes"]!.AsArray().Where(n => (string?)n!["status"] == "running").Select(n => (string)n!["private_ip"]!).ToList();
        Assert.Equal(5, running.Count);
        Assert.Equal(5, running.Distinct().Count());
        Assert.Equal(5, (int)scaled["roles"]![0]!["count"]!);

        // Delete from the page.
        await page.GetByTestId("action-delete").ClickAsync();
        await Expect(panel.GetByTestId("plan")).ToBeVisibleAsync();
        await panel.GetByTestId("confirm-action").ClickAsync();
        await Expect(status).ToHaveTextAsync("deleted", new() { Timeout = (float)Slow.TotalMilliseconds });
        Assert.Equal("deleted", (string?)(await ClustersWorld.ClusterAsync(vendor.User, clusterId))["cluster"]!["status"]);
        await Expect(page.GetByTestId("actions").GetByRole(AriaRole.Button)).ToHaveTextAsync(["Recover"]);
        Assert.True(await page.EvaluateAsync<bool>("() => window.pxNotReloaded === true"), "the page was reloaded");
        Assert.Matches(new Regex($"/clusters/{clusterId}\\?job={jobId}$"), page.Url);
    }
}
