using System.Net;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary><c>GET /app_versions/{id}/locales</c>: the translations a package ships, for the deploy form's labels.</summary>
public sealed class AppVersionLocaleTests(SqliteServerFixture fixture) : IClassFixture<SqliteServerFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Locales_AreThePackagesLocaleFiles_ByLowerCaseLanguage_StringsOnly_VisibleToWhoSeesTheVersion()
    {
        using var admin = await Server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        using var developer = await Server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [group.Id]);
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("user"), ["user"], [group.Id]);
        using var outsider = await Server.CreateUserAsync(ServerFixture.Unique("outsider"), ["user"]);
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0", edit: dir =>
        {
            File.WriteAllText(Path.Combine(dir, "locale", "de_DE.json"), """{"Node Count": "Anzahl der Knoten", "nested": {"a": 1}, "number": 3}""");
            File.WriteAllText(Path.Combine(dir, "locale", "fr.json"), """["not", "a", "map"]""");
        });
        var versionId = await ReleaseAsync(developer, admin, archive);

        var locales = await user.GetAsync($"/api/v1/app_versions/{versionId}/locales");

        Assert.True(locales.Status == HttpStatusCode.OK, locales.ToString());
        Assert.Equal(versionId, (string?)locales.Body!["app_version_id"]);
        var byLanguage = locales.Body["locales"]!.AsObject();
        Assert.Equal(["de-de", "en", "zh-cn"], byLanguage.Select(l => l.Key).ToArray());
        Assert.Equal("节点数量", (string?)byLanguage["zh-cn"]!["Node Count"]);
        Assert.Equal("Tick time (ms)", (string?)byLanguage["en"]!["tickTime"]);
        Assert.Equal(["Node Count"], byLanguage["de-de"]!.AsObject().Select(e => e.Key).ToArray());

        // A chart ships none; a version the caller may not see is not found.
        var (_, chart) = await SamplePackages.BuildChartAsync();
        var chartVersion = await ReleaseAsync(developer, admin, chart);
        var none = await user.GetAsync($"/api/v1/app_versions/{chartVersion}/locales");
        Assert.True(none.Status == HttpStatusCode.OK, none.ToString());
        Assert.Empty(none.Body!["locales"]!.AsObject());
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/api/v1/app_versions/{versionId}/locales")).Status);
        using var anonymous = Server.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/app_versions/{versionId}/locales")).Status);
    }

    private static async Task<string> ReleaseAsync(ApiSession developer, ApiSession admin, byte[] archive)
    {
        var uploaded = await developer.UploadAsync("/api/v1/apps", archive);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        foreach (var (session, action) in new[] { (developer, "submit"), (admin, "review"), (admin, "pass"), (developer, "release") })
        {
            var moved = await session.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{action}", new { message = "ok" });
            Assert.True(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
        }

        return uploaded.Id;
    }
}
