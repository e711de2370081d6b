using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>The live cluster page's sign-in when access tokens expire every second: refreshed in the circuit, carried to the cookie later.</summary>
public sealed class ClustersSessionTests(ClustersShortTokenFixture fixture) : IClassFixture<ClustersShortTokenFixture>
{
    [Fact]
    public async Task ClusterPage_TokensRefreshedInTheCircuit_ReachTheCookieOnTheNextRequest()
    {
        using var admin = await fixture.Server.LoginAdminAsync();
        var repo = await FakeCloudWorld.PublicRepoAsync(admin);
        var version = await FakeCloudWorld.ReleaseSampleAsync(admin, repo, ServerFixture.Unique("zk"), "1.0.0");
        var runtime = await FakeCloudWorld.FakeRuntimeAsync(admin);
        var userName = ServerFixture.Unique("user");
        using var user = await fixture.Server.CreateUserAsync(userName, ["user"]);
        var clusterId = await ClustersWorld.DeployedAsync(user, version, runtime);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, userName, "password-" + userName);

        await ClustersWorld.OpenLiveAsync(page, clusterId);
        var cookie = await SessionCookieAsync(context);

        // Calls from the circuit, each with an expired token: each refreshes (the API rotates the refresh token),
        // and no cookie can be set from a circuit, so the browser's cookie still holds a refresh token used up.
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(1100);
            await page.GetByTestId("action-stop").ClickAsync();
            await Expect(page.GetByTestId("action-panel").GetByTestId("plan")).ToBeVisibleAsync();
            await page.GetByTestId("action-panel").GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        }

        Assert.Equal(cookie, await SessionCookieAsync(context));
        Assert.Contains("/clusters/", page.Url, StringComparison.Ordinal);

        // The next request gets the pair the circuit obtained, not a replay of the used-up one (which would end the sign-in).
        await page.GotoAsync("/profile");
        await Expect(page).ToHaveURLAsync(new Regex("/profile$"));
        await Expect(page.GetByTestId("me")).ToContainTextAsync(userName);
        Assert.NotEqual(cookie, await SessionCookieAsync(context));
        await ClustersWorld.OpenLiveAsync(page, clusterId);
        await Expect(page.GetByTestId("cluster-status")).ToHaveTextAsync("active");
    }

    private static async Task<string> SessionCookieAsync(IBrowserContext context) =>
        Assert.Single(await context.CookiesAsync(), c => c.Name == "pitrix_session").Value;
}
