using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Web.Tests;

/// <summary>A server for the deploy wizard's tests, and contexts with a browser language.</summary>
public sealed class DeployFixture : BrowserFixture
{
    /// <summary>A new browser context whose requests say <c>Accept-Language: {locale}</c>.</summary>
    public Task<IBrowserContext> NewContextAsync(string locale) =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.Address.ToString(),
            ViewportSize = new ViewportSize { Width = 1366, Height = 850 },
            Locale = locale,
        });
}

/// <summary>What the deploy tests make through the API besides <see cref="Catalog"/>: Kubernetes runtimes, and clusters waited on and ceased.</summary>
internal static class DeployCatalog
{
    /// <summary>
    /// A kubernetes runtime shared with the vendor's group. Its kubeconfig names no reachable API server: planning
    /// needs none, so Helm apps can be taken through the wizard up to their plan.
    /// </summary>
    public static async Task<string> KubernetesRuntimeAsync(TestServer server, Catalog.Vendor vendor, string name)
    {
        using var admin = await server.LoginAdminAsync();
        var credential = await admin.PostAsync("/api/v1/credentials", new
        {
            name = ServerFixture.Unique("kube"),
            provider = "kubernetes",
            secret = """
                apiVersion: v1
                kind: Config
                clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
                users: [{name: none, user: {token: not-a-token}}]
                contexts: [{name: none, context: {cluster: none, user: none}}]
                current-context: none
                """,
            visibility = "group",
            group_id = vendor.GroupId,
        });
        Assert.True(credential.Status == HttpStatusCode.Created, credential.ToString());
        var runtime = await admin.PostAsync("/api/v1/runtimes", new
        {
            name,
            provider = "kubernetes",
            zone = "apps",
            credential_id = credential.Id,
            labels = new { env = "staging" },
            visibility = "group",
            group_id = vendor.GroupId,
        });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());
        return runtime.Id;
    }

    /// <summary>Waits for a job to finish; returns its detail.</summary>
    public static async Task<JsonNode> WaitForJobAsync(ApiSession session, string jobId, TimeSpan timeout)
    {
        var until = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var job = await session.GetAsync($"/api/v1/jobs/{jobId}");
            Assert.True(job.Status == HttpStatusCode.OK, job.ToString());
            if (job.Body!["job"]!["finished_at"] is not null)
            {
                return job.Body;
            }

            if (DateTimeOffset.UtcNow > until)
            {
                throw new TimeoutException($"Job {jobId} did not finish in {timeout}: {job.Text}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Ceases a cluster at once (cancelling its running job) and waits until it is gone, so no instance outlives the test.</summary>
    public static async Task CeaseAsync(ApiSession session, string clusterId)
    {
        var ceased = await session.PostAsync($"/api/v1/clusters/{clusterId}:cease", new { force = true });
        Assert.True(ceased.Status == HttpStatusCode.Accepted, ceased.ToString());
        await WaitForJobAsync(session, ceased.Id, TimeSpan.FromMinutes(3));
    }
}
