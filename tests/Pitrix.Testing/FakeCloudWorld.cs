using System.Net;
using Xunit;

namespace Pitrix.Testing;

/// <summary>What cluster tests need on a server with the FAKE cloud: a public store with a released sample app and a public <c>fake</c> runtime.</summary>
public static class FakeCloudWorld
{
    /// <summary>Creates a public upload repo as admin.</summary>
    public static async Task<string> PublicRepoAsync(ApiSession admin)
    {
        var repo = await admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("store"), visibility = "public" });
        Assert.True(repo.Status == HttpStatusCode.Created, repo.ToString());
        return repo.Id;
    }

    /// <summary>Uploads a sample package into the repo (a new app, or a new version of <paramref name="appId"/>) and takes it through review to active.</summary>
    public static async Task<string> ReleaseSampleAsync(ApiSession admin, string repoId, string name, string version, string? appId = null, string sample = "zookeeper", Action<string>? edit = null)
    {
        var (_, archive) = await SamplePackages.BuildAsync(sample, version, name, edit);
        var uploaded = await admin.UploadAsync(appId is null ? "/api/v1/apps" : $"/api/v1/apps/{appId}/versions", archive, fields: new Dictionary<string, string> { ["repo_id"] = repoId });
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        foreach (var action in new[] { "submit", "review", "pass", "release" })
        {
            var moved = await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{action}");
            Assert.True(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
        }

        return uploaded.Id;
    }

    /// <summary>A public runtime on the fake cloud.</summary>
    public static async Task<string> FakeRuntimeAsync(ApiSession admin)
    {
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("fake"), provider = "fake", zone = "zone-1", visibility = "public" });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());
        return runtime.Id;
    }
}
