using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>The web console in a real browser against a real server: sign-in, store, app page, profile.</summary>
public sealed class ConsoleTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task SignIn_WrongPassword_ShowsTheApiMessage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await BrowserFixture.ScreenshotAsync(page, "signin");

        await Pages.SubmitSignInAsync(page, vendor.UserName, "not-the-password");

        await Expect(page.GetByTestId("problem")).ToContainTextAsync("The user name or password is wrong.");
        Assert.Contains("/signin", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "pitrix_session");
        await BrowserFixture.ScreenshotAsync(page, "signin-error");
    }

    [Fact]
    public async Task SignIn_RightPassword_LandsOnTheStoreWithAnHttpOnlyStrictCookie()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl=%2F$"));
        await Pages.SubmitSignInAsync(page, vendor.UserName, vendor.UserPassword);

        await Expect(page).ToHaveURLAsync(Server.Address.ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Store", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("current-user")).ToHaveTextAsync(vendor.UserName);
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "pitrix_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.DoesNotContain(".", cookie.Value, StringComparison.Ordinal); // encrypted: a JWT in clear has dots

        // Signed in, the sign-in page sends you on.
        await page.GotoAsync("/signin?returnUrl=%2Fprofile");
        await Expect(page).ToHaveURLAsync(new Regex("/profile$"));
    }

    [Fact]
    public async Task SignIn_ReturnUrl_GoesBackToLocalPagesOnly()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using (var context = await fixture.NewContextAsync())
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("/profile");
            await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl=%2Fprofile$"));
            await Pages.SubmitSignInAsync(page, vendor.UserName, vendor.UserPassword);
            await Expect(page).ToHaveURLAsync(new Regex("/profile$"));
        }

        await using (var context = await fixture.NewContextAsync())
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("/signin?returnUrl=" + Uri.EscapeDataString("//evil.example/steal"));
            await Pages.SubmitSignInAsync(page, vendor.UserName, vendor.UserPassword);
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Store", Level = 1 })).ToBeVisibleAsync();
            Assert.Equal(Server.Address.ToString(), page.Url);
        }
    }

    [Fact]
    public async Task Session_EndedByAPasswordChangeElsewhere_SendsToSignInSayingItExpired()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        // A new password ends every other sign-in of the user, the browser's among them.
        var changed = await vendor.User.PutAsync("/api/v1/me/password", new { current_password = vendor.UserPassword, new_password = "another-password-1" });
        Assert.Equal(HttpStatusCode.NoContent, changed.Status);

        await page.GotoAsync("/profile");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?expired=1&returnUrl=%2Fprofile$"));
        await Expect(page.GetByTestId("session-expired")).ToContainTextAsync("Your session expired");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "pitrix_session");
        await BrowserFixture.ScreenshotAsync(page, "signin-expired");

        await Pages.SubmitSignInAsync(page, vendor.UserName, "another-password-1");
        await Expect(page).ToHaveURLAsync(new Regex("/profile$"));
    }

    [Fact]
    public async Task SignOut_EndsTheSignInAtTheApi()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "pitrix_session");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?signedout=1$"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "pitrix_session");

        // The old cookie, replayed, names a sign-in the API has ended.
        await using var replay = await fixture.NewContextAsync();
        await replay.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = cookie.Name, Value = cookie.Value, Url = Server.Address.ToString() }]);
        var replayed = await replay.NewPageAsync();
        await replayed.GotoAsync("/profile");
        await Expect(replayed).ToHaveURLAsync(new Regex("/signin\\?expired=1&returnUrl=%2Fprofile$"));
    }

    [Fact]
    public async Task Store_SearchThenOpenZooKeeper_ShowsTheAppPage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var runtime = ServerFixture.Unique("local-rt");
        await Catalog.RuntimeAsync(Server, vendor, runtime);
        var (name, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        var (chartName, chart) = await SamplePackages.BuildChartAsync("hello-web", "0.1.0");
        await Catalog.PublishAsync(Server, vendor, chart);
        var category = await Catalog.CategorizeAsync(Server, vendor, appId, ServerFixture.Unique("Coordination"));
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        // The whole store of this user: both apps, with their icons.
        await Expect(page.GetByTestId("store-count")).ToHaveTextAsync("Showing 1–2 of 2 apps");
        await Pages.ExpectIconLoadedAsync(page, page.GetByTestId("app-card").Filter(new() { HasText = name }).Locator("img.px-app-icon"));
        await BrowserFixture.ScreenshotAsync(page, "store");

        // Filters run on the server: by format, then by category.
        await page.GetByLabel("Format").SelectOptionAsync("helm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.GetByTestId("app-card")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("app-card")).ToContainTextAsync(chartName);
        await page.GotoAsync("/");
        await page.GetByLabel("Category").SelectOptionAsync(category);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.GetByTestId("app-card")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("app-card")).ToContainTextAsync(name);

        await page.GotoAsync("/");
        await page.GetByLabel("Search apps").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var card = page.GetByTestId("app-card");
        await Expect(card).ToHaveCountAsync(1);
        await Expect(card).ToContainTextAsync("Apache ZooKeeper ensemble");
        Assert.Contains("q=" + name, page.Url, StringComparison.Ordinal);

        await card.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"/apps/{appId}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("app-description")).ToContainTextAsync("Apache ZooKeeper ensemble on Debian 12 nodes");
        await Expect(page.GetByTestId("readme")).ToContainTextAsync("A ZooKeeper ensemble on Debian 12 nodes");
        await Expect(page.GetByTestId("maintainer")).ToContainTextAsync("Pitrix");
        await Expect(page.GetByTestId("versions")).ToContainTextAsync("1.0.0");
        await Expect(page.GetByTestId("runtimes")).ToContainTextAsync(runtime);
        await Expect(page.GetByTestId("runtimes")).ToContainTextAsync("tier=dev");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "https://zookeeper.apache.org" })).ToBeVisibleAsync();
        await Pages.ExpectIconLoadedAsync(page, page.Locator("header img.px-app-icon"));
        await BrowserFixture.ScreenshotAsync(page, "app");
    }

    [Fact]
    public async Task AppPage_ReadmeWithScript_NeverRunsOrReachesThePage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0", edit: dir => File.WriteAllText(Path.Combine(dir, "README.md"), """
            # Hostile readme

            Safe text stays.

            <script>window.pwned = 'script';</script>

            <img src="x" onerror="window.pwned = 'onerror'">

            An <a href="javascript:window.pwned='link'">html link</a> and a [markdown link](javascript:window.pwned='md').

            <iframe src="https://evil.example/"></iframe>
            """));
        var appId = await Catalog.PublishAsync(Server, vendor, archive);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        await page.GotoAsync($"/apps/{appId}");

        var readme = page.GetByTestId("readme");
        await Expect(readme).ToContainTextAsync("Safe text stays.");
        await Expect(readme.GetByRole(AriaRole.Heading, new() { Name = "Hostile readme" })).ToBeVisibleAsync();
        await Expect(readme.GetByText("markdown link")).ToBeVisibleAsync();
        Assert.Equal(0, await readme.Locator("script, iframe, [onerror]").CountAsync());
        var hrefs = await readme.Locator("a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href') ?? '')");
        Assert.DoesNotContain(hrefs, h => h.Contains("javascript", StringComparison.OrdinalIgnoreCase));

        // Not in the page the server sent either, nor run: sanitizing happens before the HTML leaves the server.
        var sent = await (await context.APIRequest.GetAsync($"/apps/{appId}")).TextAsync();
        Assert.Contains("Safe text stays.", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("pwned", sent, StringComparison.Ordinal);
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.pwned"));
    }

    [Fact]
    public async Task Store_PrivateAppOfAnotherGroup_NeverAppears()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        using var other = await Catalog.VendorAsync(Server);
        var (name, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var appId = await Catalog.PublishAsync(Server, other, archive);

        // Released and visible to the other group: what follows would show it if access control failed.
        var seen = await other.User.GetAsync("/api/v1/apps?q=" + name);
        Assert.Equal(1, (int)seen.Body!["total"]!);

        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await page.GotoAsync("/?q=" + Uri.EscapeDataString(name));
        await Expect(page.GetByTestId("store-empty")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("app-card")).ToHaveCountAsync(0);
        Assert.DoesNotContain($"/apps/{appId}", await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync($"/apps/{appId}");
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"No app '{appId}' exists or you may not see it.");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Store_MoreAppsThanAPage_PagesOnTheServer()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var word = "paging" + Guid.NewGuid().ToString("N")[..10];
        for (var i = 0; i < 7; i++)
        {
            var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0", edit: dir => Catalog.EditMetadata(dir, m => m["description"] = $"Paging sample {word}"));
            await Catalog.PublishAsync(Server, vendor, archive);
        }

        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await page.GotoAsync("/?q=" + word);

        await Expect(page.GetByTestId("store-count")).ToHaveTextAsync("Showing 1–6 of 7 apps");
        await Expect(page.GetByTestId("app-card")).ToHaveCountAsync(6);
        await page.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(page.GetByTestId("store-count")).ToHaveTextAsync("Showing 7–7 of 7 apps");
        await Expect(page.GetByTestId("app-card")).ToHaveCountAsync(1);
        Assert.Contains("page=2", page.Url, StringComparison.Ordinal);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Previous" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Next" })).ToHaveCountAsync(0);

        await page.GotoAsync($"/?q={word}&page=9");
        await Expect(page.GetByTestId("store-empty")).ToContainTextAsync("past the last one");

        // Filters narrow on the server too: none of these apps is a Helm chart.
        await page.GotoAsync($"/?q={word}&format=helm");
        await Expect(page.GetByTestId("store-empty")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Profile_CreateTokenShownOnce_ThenRevoke()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await page.GotoAsync("/profile");
        await Expect(page.GetByTestId("me")).ToContainTextAsync(vendor.UserName);
        await Expect(page.GetByTestId("no-tokens")).ToBeVisibleAsync();

        var tokenName = ServerFixture.Unique("cli");
        await page.GetByLabel("Name").FillAsync(tokenName);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();

        var secret = (await page.GetByTestId("created-token-value").TextContentAsync())!.Trim();
        Assert.StartsWith("pxt_", secret, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await StatusWithTokenAsync(secret));
        await Expect(page.Locator($"[data-token-name='{tokenName}']")).ToContainTextAsync("active");
        await BrowserFixture.ScreenshotAsync(page, "profile");

        // The same name again: the API's refusal is shown as its message.
        await page.GetByLabel("Name").FillAsync(tokenName);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"You already have an API token named '{tokenName}'.");

        // Shown once: a fresh load of the page lists the token without its secret.
        await page.GotoAsync("/profile");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Button, new() { Name = $"Revoke token {tokenName}" }).ClickAsync();
        await Expect(page.GetByTestId("revoked-token")).ToContainTextAsync(tokenName);
        await Expect(page.Locator($"[data-token-name='{tokenName}']")).ToContainTextAsync("revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithTokenAsync(secret));
    }

    [Fact]
    public async Task Console_PagesRefuseFraming_AndLeaveTheApiItsOwnAnswers()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();

        var signIn = await page.GotoAsync("/signin");
        Assert.Equal("DENY", await signIn!.HeaderValueAsync("x-frame-options"));
        Assert.Contains("frame-ancestors 'none'", await signIn.HeaderValueAsync("content-security-policy"), StringComparison.Ordinal);

        // The console's routes shadow nothing of the API: unknown paths and methods keep their problems.
        var api = await vendor.User.GetAsync("/api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, api.Status);
        Assert.Equal("route.not_found", api.Code);
        var wrongMethod = await vendor.User.PutAsync("/api/v1/apps", new { });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        using var anonymous = Server.Anonymous();
        Assert.Equal("Healthy", (await anonymous.GetAsync("/readyz")).Text);
    }

    private async Task<HttpStatusCode> StatusWithTokenAsync(string token)
    {
        using var http = new HttpClient { BaseAddress = Server.Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}

/// <summary>Access tokens about to expire on every page load: the console refreshes them without the user noticing.</summary>
public sealed class SessionRefreshTests(ShortTokenFixture fixture) : IClassFixture<ShortTokenFixture>
{
    [Fact]
    public async Task Session_AccessTokenAboutToExpire_IsRefreshedTransparently()
    {
        using var vendor = await Catalog.VendorAsync(fixture.Server);
        var (name, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        await Catalog.PublishAsync(fixture.Server, vendor, archive);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        // The store page and its icon (fetched through the console with the user's token) both find the token
        // about to expire at once: the two refreshes are one exchange, or the API would end the sign-in.
        await Pages.ExpectIconLoadedAsync(page, page.GetByTestId("app-card").Filter(new() { HasText = name }).Locator("img.px-app-icon"));
        var seen = new List<string> { await SessionCookieAsync(context) };

        foreach (var path in new[] { "/profile", "/", "/profile" })
        {
            await page.GotoAsync(path);
            await Expect(page.GetByTestId("current-user")).ToHaveTextAsync(vendor.UserName);
            Assert.DoesNotContain("/signin", page.Url, StringComparison.Ordinal);

            // Each load exchanged the refresh token (the API rotates it) and the browser got the new pair.
            var cookie = await SessionCookieAsync(context);
            Assert.DoesNotContain(cookie, seen);
            seen.Add(cookie);
        }

        await Expect(page.GetByTestId("me")).ToContainTextAsync(vendor.UserName);
    }

    private static async Task<string> SessionCookieAsync(IBrowserContext context) =>
        Assert.Single(await context.CookiesAsync(), c => c.Name == "pitrix_session").Value;
}

/// <summary>Steps the browser tests share.</summary>
internal static class Pages
{
    public static async Task SubmitSignInAsync(IPage page, string user, string password)
    {
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>Signs in from the sign-in page and waits for the store.</summary>
    public static async Task<IPage> SignInAsync(IBrowserContext context, string user, string password)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await SubmitSignInAsync(page, user, password);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Store", Level = 1 })).ToBeVisibleAsync();
        return page;
    }

    public static async Task ExpectIconLoadedAsync(IPage page, ILocator image)
    {
        await Expect(image).ToHaveCountAsync(1);
        await image.ScrollIntoViewIfNeededAsync();
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await image.ElementHandleAsync());
    }
}
