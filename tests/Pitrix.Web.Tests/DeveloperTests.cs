using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>A server for the developer console's tests (defaults: the API's and the console's 20 MiB package limit).</summary>
public sealed class DeveloperFixture : BrowserFixture;

/// <summary>
/// The developer console in a real browser against a real server: upload with lint errors, fix and upload by
/// drag and drop, the review workflow from the page (an admin reviewing through the API), history and usage.
/// </summary>
public sealed class DeveloperTests(DeveloperFixture fixture) : IClassFixture<DeveloperFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Developer_UploadsBrokenThenFixedPackage_SubmitsReleases_AndSeesHistoryAndUsage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (developerName, developer) = await DeveloperCatalog.DeveloperAsync(Server, vendor);
        using var _ = developer;
        var (name, broken) = await DeveloperCatalog.BrokenPackageAsync();
        var (_, fixedArchive) = await SamplePackages.BuildAsync(name: name);

        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, developerName, "password-" + developerName);

        // The nav link leads to the console (an enhanced navigation: the drop zone's script must work after it too).
        await page.GetByRole(AriaRole.Link, new() { Name = "Developer console" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Developer console", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("apps-empty")).ToContainTextAsync("You have no apps yet");

        // A broken package, dropped on the zone: the script puts it into the file input and names it.
        var dropped = await page.EvaluateHandleAsync(
            "([name, base64]) => { const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0)); const dt = new DataTransfer(); dt.items.add(new File([bytes], name, { type: 'application/gzip' })); return dt; }",
            new object[] { name + "-1.0.0.tgz", Convert.ToBase64String(broken) });
        await page.WaitForFunctionAsync("() => window.pitrixDropZone === true"); // the page's script, loaded after the enhanced navigation
        await page.GetByTestId("dropzone").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = dropped });
        await Expect(page.Locator("[data-dropzone-file]")).ToContainTextAsync($"Selected: {name}-1.0.0.tgz");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();

        // Every problem is listed with its file, line and code.
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("The package has 2 problem(s)");
        var rows = page.GetByTestId("lint-row");
        await Expect(rows).ToHaveCountAsync(2);
        var locale = page.Locator("[data-testid=lint-row][data-file='locale/zh-cn.json']");
        await Expect(locale.Locator("td").Nth(1)).ToHaveTextAsync("3");
        await Expect(locale.Locator("td").Nth(2)).ToHaveTextAsync("locale.invalid_json");
        await Expect(locale.Locator("td").Nth(3)).ToContainTextAsync("Invalid JSON at line 3");
        var config = page.Locator("[data-testid=lint-row][data-file='config.json']");
        await Expect(config.Locator("td").Nth(2)).ToHaveTextAsync("config.invalid_default");
        await Expect(config.Locator("td").Nth(3)).ToContainTextAsync("memory");
        await BrowserFixture.ScreenshotAsync(page, "developer-upload-lint");
        Assert.Equal(0, (int)(await developer.GetAsync($"/api/v1/apps?status=any&authored=true&q={name}")).Body!["total"]!);

        // The fixed package, chosen with the file input.
        await page.GetByLabel("Drop a package here, or choose a file").SetInputFilesAsync(new FilePayload { Name = name + "-1.0.0.tgz", MimeType = "application/gzip", Buffer = fixedArchive });
        await Expect(page.Locator("[data-dropzone-file]")).ToContainTextAsync($"Selected: {name}-1.0.0.tgz");
        await page.GetByLabel("Note for the reviewers (optional)").FillAsync("first cut");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync($"Uploaded {name} 1.0.0 as a draft");
        await Expect(page.GetByTestId("lint-problems")).ToHaveCountAsync(0);
        await Expect(page).ToHaveURLAsync(new Regex("/developer\\?uploaded=appv-[a-z0-9]+$"));

        // Listed among my apps with its version as a draft.
        var app = page.Locator($"[data-testid=my-app][data-app-name='{name}']");
        await Expect(app.Locator("[data-testid=my-version][data-version='1.0.0'] [data-testid=version-status]")).ToHaveTextAsync("draft");
        await BrowserFixture.ScreenshotAsync(page, "developer-home");
        var listed = await developer.GetAsync($"/api/v1/apps?status=any&authored=true&q={name}");
        var appId = (string)listed.Body!["items"]![0]!["id"]!;
        var versionId = (string)(await developer.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["items"]![0]!["id"]!;

        // Submitted from the version page.
        await app.GetByRole(AriaRole.Link, new() { Name = "1.0.0" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync($"{name} 1.0.0");
        await page.GetByLabel("Message (optional, kept in the history)").FillAsync("ready for review");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit for review" }).ClickAsync();
        await Expect(page.GetByTestId("action-result")).ToContainTextAsync("is now submitted");
        Assert.Equal("submitted", (string?)(await developer.GetAsync($"/api/v1/app_versions/{versionId}")).Body!["status"]);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Release" })).ToHaveCountAsync(0);

        // An admin reviews and passes it through the API; the developer releases it from the page.
        using (var admin = await Server.LoginAdminAsync())
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/app_versions/{versionId}:review")).Status);
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/app_versions/{versionId}:pass", new { message = "looks good" })).Status);
        }

        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 }).GetByTestId("version-status")).ToHaveTextAsync("passed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync();
        await Expect(page.GetByTestId("action-result")).ToContainTextAsync("is now active");
        Assert.Equal("active", (string?)(await developer.GetAsync($"/api/v1/app_versions/{versionId}")).Body!["status"]);

        // The history has every step, who took it and what they said.
        var history = page.GetByTestId("history-row");
        await Expect(history).ToHaveCountAsync(5);
        Assert.Equal(["upload", "submit", "review", "pass", "release"], await history.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.action)"));
        await Expect(page.Locator("[data-testid=history-row][data-action=pass]")).ToContainTextAsync("admin");
        await Expect(page.Locator("[data-testid=history-row][data-action=pass]")).ToContainTextAsync("looks good");
        await Expect(page.Locator("[data-testid=history-row][data-action=submit]")).ToContainTextAsync("ready for review");
        await Expect(page.GetByTestId("version-usage")).ToHaveTextAsync("none");

        // A cluster of the version on the local runtime (made through the API) is counted.
        var runtime = await Catalog.RuntimeAsync(Server, vendor, ServerFixture.Unique("local"));
        var created = await developer.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("zk"), app_version_id = versionId, runtime_id = runtime, values = new JsonObject { ["cluster"] = new JsonObject { ["subnet"] = "default" } } });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        // Reloading after an action (sent back with a GET) shows the page again without repeating it.
        await Expect(page).ToHaveURLAsync(new Regex($"/developer/versions/{versionId}\\?done=release$"));
        await page.ReloadAsync();
        await Expect(page.GetByTestId("version-usage")).ToHaveTextAsync(new Regex("^1 \\(1 [a-z]+\\)$"));
        await Expect(page.GetByTestId("problem")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "developer-version");

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" }).GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        await Expect(page.GetByTestId("usage-total")).ToContainTextAsync("1 cluster runs this app");
        var row = page.Locator("[data-testid=version-row][data-version='1.0.0']");
        await Expect(row.GetByTestId("version-status")).ToHaveTextAsync("active");
        await Expect(row.GetByTestId("version-clusters")).ToHaveTextAsync("1");
        await BrowserFixture.ScreenshotAsync(page, "developer-app");
    }

    [Fact]
    public async Task AppPage_UploadsALargeNewVersion_RefusesAnotherAppsPackage_AndDeletesAfterConfirming()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (developerName, developer) = await DeveloperCatalog.DeveloperAsync(Server, vendor);
        using var _ = developer;
        var (name, first) = await SamplePackages.BuildAsync();
        var uploaded = await developer.UploadAsync("/api/v1/apps", first);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        var appId = (string)uploaded.Body!["app_id"]!;
        // Larger than the server's general 1 MiB body limit (the upload form's own limit is the package limit).
        var (_, second) = await SamplePackages.BuildAsync(version: "1.1.0", name: name, edit: dir => File.WriteAllBytes(Path.Combine(dir, "scripts", "padding.bin"), RandomNumberGenerator.GetBytes(2 * 1024 * 1024)));
        Assert.True(second.Length > 2 * 1024 * 1024);
        var (_, otherApp) = await SamplePackages.BuildAsync(version: "2.0.0");

        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, developerName, "password-" + developerName);
        await page.GotoAsync($"/developer/apps/{appId}");
        await Expect(page.GetByTestId("usage-total")).ToContainTextAsync("0 clusters run this app");

        // Another app's package is refused for this app: the API's message shows, nothing is stored.
        await page.GetByLabel("Drop a package here, or choose a file").SetInputFilesAsync(new FilePayload { Name = "other.tgz", MimeType = "application/gzip", Buffer = otherApp });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload version" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"but app {appId} is '{name}'");

        await page.GetByLabel("Drop a package here, or choose a file").SetInputFilesAsync(new FilePayload { Name = "next.tgz", MimeType = "application/gzip", Buffer = second });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload version" }).ClickAsync();
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync($"Uploaded {name} 1.1.0 as a draft");
        await Expect(page.GetByTestId("version-row")).ToHaveCountAsync(2);
        Assert.Equal(["1.1.0", "1.0.0"], await page.GetByTestId("version-row").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.version)"));
        Assert.Equal(2, (int)(await developer.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["total"]!);
        Assert.True((long)(await developer.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["items"]![0]!["package_size"]! == second.Length);

        // Deleting asks first, then the version is gone from the list (and deleted at the API).
        await page.Locator("[data-testid=version-row][data-version='1.1.0']").GetByRole(AriaRole.Link, new() { Name = "1.1.0" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete…" }).ClickAsync();
        await Expect(page.GetByTestId("confirm-delete")).ToContainTextAsync("cannot be deployed or brought back");
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete 1.1.0" }).ClickAsync();
        await Expect(page.GetByTestId("action-result")).ToContainTextAsync("is now deleted");
        Assert.Equal(1, (int)(await developer.GetAsync($"/api/v1/apps/{appId}/versions")).Body!["total"]!);
    }

    [Fact]
    public async Task User_WithoutDeveloperRole_HasNoNavLink_AndIsToldWhy()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var (_, draft) = await SamplePackages.BuildAsync();
        var uploaded = await vendor.Developer.UploadAsync("/api/v1/apps", draft);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());

        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Developer console" })).ToHaveCountAsync(0);

        await page.GotoAsync("/developer");
        await Expect(page.GetByTestId("not-developer")).ToContainTextAsync("The developer console is for developers");
        await Expect(page.GetByTestId("upload-form")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("apps-empty")).ToBeVisibleAsync();

        // A draft of the group's developer is not the user's to see: the API's refusal is shown.
        await page.GotoAsync($"/developer/versions/{uploaded.Id}");
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"No app version '{uploaded.Id}' exists or you may not see it.");
        await Expect(page.GetByTestId("version-actions")).ToHaveCountAsync(0);
    }
}

/// <summary>Developers and broken packages for the developer console's tests.</summary>
internal static class DeveloperCatalog
{
    /// <summary>A developer of the vendor's group whose name the browser can sign in with (password <c>password-{name}</c>).</summary>
    public static async Task<(string Name, ApiSession Session)> DeveloperAsync(TestServer server, Catalog.Vendor vendor)
    {
        var name = ServerFixture.Unique("dev");
        return (name, await server.CreateUserAsync(name, ["developer"], [vendor.GroupId]));
    }

    /// <summary>
    /// The ZooKeeper sample with two problems the server's lint finds: a locale file that is not JSON (at line 3)
    /// and a config default outside its range.
    /// </summary>
    public static Task<(string Name, byte[] Archive)> BrokenPackageAsync() =>
        SamplePackages.BuildAsync(edit: dir =>
        {
            File.WriteAllText(Path.Combine(dir, "locale", "zh-cn.json"), "{\n  \"Name\": \"名称\",\n  oops\n}\n");
            var config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"default\": 2048", "\"default\": 3000", StringComparison.Ordinal));
        });
}
