using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Providers.Fake;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Web.Tests;

/// <summary>The console on a server with the FAKE cloud: clusters deploy in a second or two, and fail on demand.</summary>
public sealed class ClustersFakeCloudFixture : BrowserFixture
{
    protected override Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? Configure => builder =>
    {
        builder.Configuration["Engine:PollInterval"] = "00:00:00.100";
        builder.Services.AddFakeCloud();
    };
}

/// <summary>The fake cloud, with access tokens that live one second: every call of a live page finds its token expired.</summary>
public sealed class ClustersShortTokenFixture : BrowserFixture
{
    protected override string[] ServerArguments => ["--Auth:AccessTokenLifetime=00:00:01"];

    protected override Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? Configure => builder =>
    {
        builder.Configuration["Engine:PollInterval"] = "00:00:00.100";
        builder.Services.AddFakeCloud();
    };
}

/// <summary>
/// The console on a server whose local runtime runs real pitrix-frontgate and pitrix-drone processes and the
/// real apps they deploy (Debian's ZooKeeper). Disposing it (as every BrowserFixture) ends whatever a test left
/// running there: every such process carries the server's data directory in its environment.
/// </summary>
public sealed class ClustersLocalFixture : BrowserFixture
{
    protected override string[] ServerArguments => ["--Providers:Local:StopGracePeriod=00:00:05"];
}

/// <summary>Clusters made and followed through the API, as a user of the CLI would.</summary>
internal static class ClustersWorld
{
    /// <summary>The values the fake cloud's ZooKeeper sample needs.</summary>
    public static readonly JsonObject FakeValues = new() { ["cluster"] = new JsonObject { ["subnet"] = "vxnet-test" } };

    /// <summary>Adds a custom action (a service outside the standard lifecycle) to a sample being built.</summary>
    public static void AddBackupAction(string dir)
    {
        var path = Path.Combine(dir, "cluster.json.tmpl");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"destroy\":", "\"backup_now\": { \"cmd\": \"/opt/pitrix/app/scripts/backup.sh\" },\n      \"destroy\":", StringComparison.Ordinal));
    }

    public static async Task<(string ClusterId, string JobId)> CreateAsync(ApiSession user, string versionId, string runtimeId, JsonObject values, string? name = null, Dictionary<string, string>? labels = null)
    {
        var created = await user.PostAsync("/api/v1/clusters", new { name = name ?? ServerFixture.Unique("zk"), app_version_id = versionId, runtime_id = runtimeId, values, labels });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        return ((string)created.Body!["cluster"]!["id"]!, (string)created.Body["job"]!["id"]!);
    }

    /// <summary>Waits until the job has finished and the cluster no longer shows it as its transition; returns the job.</summary>
    public static async Task<JsonNode> WaitAsync(ApiSession user, string clusterId, string jobId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (DateTime.UtcNow < deadline)
        {
            var job = await user.GetAsync($"/api/v1/jobs/{jobId}");
            var cluster = await user.GetAsync($"/api/v1/clusters/{clusterId}");
            if (job.Body!["job"]!["finished_at"] is not null && (string?)cluster.Body!["cluster"]!["transition"]?["job_id"] != jobId)
            {
                return job.Body;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Job {jobId} did not finish: {(await user.GetAsync($"/api/v1/jobs/{jobId}")).Text}");
    }

    /// <summary>Creates a cluster on the fake cloud and waits until it is deployed; returns its id.</summary>
    public static async Task<string> DeployedAsync(ApiSession user, string versionId, string runtimeId, Dictionary<string, string>? labels = null)
    {
        var (clusterId, jobId) = await CreateAsync(user, versionId, runtimeId, FakeValues, labels: labels);
        await WaitAsync(user, clusterId, jobId);
        return clusterId;
    }

    /// <summary>Opens a cluster's page and waits until it follows the event stream.</summary>
    public static async Task OpenLiveAsync(Microsoft.Playwright.IPage page, string clusterId)
    {
        await page.GotoAsync($"/clusters/{clusterId}");
        await Microsoft.Playwright.Assertions.Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-live", "live");
    }

    public static async Task<JsonNode> ClusterAsync(ApiSession user, string id) => (await user.GetAsync($"/api/v1/clusters/{id}")).Body!;

    /// <summary>
    /// Saves a screenshot of one part of the page as <c>TestResults/web/{name}.png</c>, cut from the whole page so
    /// the fixed app bar does not cover it.
    /// </summary>
    public static async Task ScreenshotOfAsync(Microsoft.Playwright.IPage page, Microsoft.Playwright.ILocator part, string name)
    {
        await part.ScrollIntoViewIfNeededAsync();
        var box = await part.BoundingBoxAsync() ?? throw new InvalidOperationException($"{name}: the part is not visible.");
        var scroll = await page.EvaluateAsync<double[]>("() => [window.scrollX, window.scrollY]");
        Directory.CreateDirectory(BrowserFixture.ScreenshotDirectory);
        await page.ScreenshotAsync(new()
        {
            Path = Path.Combine(BrowserFixture.ScreenshotDirectory, name + ".png"),
            FullPage = true,
            Clip = new() { X = (float)(box.X + scroll[0]), Y = (float)(box.Y + scroll[1]), Width = box.Width, Height = box.Height },
        });
    }

    /// <summary>Processes started for a local runtime under the data directory (agents and app processes carry it in PITRIX_ROOT).</summary>
    public static List<int> ProcessesUnder(string directory)
    {
        var marker = Encoding.ASCII.GetBytes($"PITRIX_ROOT={directory}");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(marker) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }

        return found;
    }
}
