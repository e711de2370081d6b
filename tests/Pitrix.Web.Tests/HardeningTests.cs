using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Pitrix.Testing;
using Pitrix.Web.Client;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>What every console page shares: its not-found answers, its Content-Security-Policy, the browser's address passed to the API.</summary>
public sealed class HardeningTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task UnknownConsoleAddress_IsTheConsoles404Page_WhileTheApiKeepsItsJson()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);

        var missing = await page.GotoAsync("/no/such/page");
        Assert.Equal(404, missing!.Status);
        Assert.StartsWith("text/html", await missing.HeaderValueAsync("content-type"), StringComparison.Ordinal);
        await Expect(page.GetByTestId("not-found")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the store" })).ToBeVisibleAsync();

        // An app that does not exist (or is not shared with this user): the API's message. (The app page streams
        // its content after a loading state, so its status is sent before the API has answered.)
        await page.GotoAsync("/apps/app-doesnotexist");
        await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();

        var api = await vendor.User.GetAsync("/api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, api.Status);
        Assert.Equal("route.not_found", api.Code);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await vendor.User.PutAsync("/api/v1/apps", new { })).Status);
    }

    [Fact]
    public async Task ConsolePages_CarryAStrictContentSecurityPolicy_ThatTheyThemselvesKeep()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        await Catalog.PublishAsync(Server, vendor, archive);
        await using var context = await fixture.NewContextAsync();
        var violations = new List<string>();
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add(message.Text);
            }
        };

        var signIn = await (await context.NewPageAsync()).GotoAsync("/signin");
        var policy = await signIn!.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", policy, StringComparison.Ordinal);

        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Profile and API tokens" }).ClickAsync();
        await Expect(page.GetByTestId("me")).ToBeVisibleAsync();
        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Link).Filter(new() { HasText = "zookeeper" }).First.ClickAsync();
        await Expect(page.GetByTestId("app-description")).ToBeVisibleAsync();
        Assert.True(violations.Count == 0, string.Join("\n", violations));

        // A script the page did not ship does not run: an injected inline script is refused.
        await page.EvaluateAsync("() => { const s = document.createElement('script'); s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }");
        Assert.Null(await page.EvaluateAsync<int?>("() => window.__injected ?? null"));
        Assert.Contains(violations, v => v.Contains("script-src", StringComparison.Ordinal));
        Assert.Single(violations);
    }

    [Fact]
    public async Task ClientAddress_IsSealedForTheApi_WithTheServersKeyRing()
    {
        var protection = DataProtectionProvider.Create("pitrix-test");
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.7");
        var seen = new List<string>();
        using var handler = new ClientAddressHandler(new HttpContextAccessor { HttpContext = http }, protection) { InnerHandler = new Recorder(seen) };
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:1/api/v1/me");
        request.Headers.TryAddWithoutValidation(ClientAddressHandler.HeaderName, "203.0.113.9"); // a forged value never survives
        await client.SendAsync(request);

        var sealedValue = Assert.Single(seen);
        Assert.DoesNotContain("198.51.100.7", sealedValue, StringComparison.Ordinal);
        var unsealed = protection.CreateProtector(ClientAddressHandler.Purpose).ToTimeLimitedDataProtector().Unprotect(sealedValue, out var expires);
        Assert.Equal("198.51.100.7", unsealed);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        Assert.Equal(Api.Http.ConsoleClientAddress.HeaderName, ClientAddressHandler.HeaderName);
        Assert.Equal(Api.Http.ConsoleClientAddress.Purpose, ClientAddressHandler.Purpose);
    }

    private sealed class Recorder(List<string> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.AddRange(request.Headers.GetValues(ClientAddressHandler.HeaderName));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
