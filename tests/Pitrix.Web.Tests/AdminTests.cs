using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Pitrix.Testing;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace Pitrix.Web.Tests;

/// <summary>
/// A server of the administration tests' own, so what they create (categories, groups, users) is theirs alone.
/// Loopback repos are allowed, so a repo on a closed loopback port fails as a dead server does (connection refused)
/// rather than being refused by the fetcher's address policy.
/// </summary>
public sealed class AdminFixture : BrowserFixture
{
    protected override string[] ServerArguments => ["--Fetch:AllowLoopback=true"];
}

/// <summary>
/// The administration in a real browser against a real server, signed in as the admin: each section's
/// actions go through the page and are checked through the API afterwards.
/// </summary>
public sealed class AdminTests(AdminFixture fixture) : IClassFixture<AdminFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Admin_SeesTheAdministrationLink_AndEverySection()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);

        await page.GetByRole(AriaRole.Link, new() { Name = "Administration" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Administration", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("overview-users")).ToContainTextAsync("users");
        await BrowserFixture.ScreenshotAsync(page, "admin-overview");

        // The sections' navigation reaches each section, and marks where you are.
        var sections = new (string Link, string Path, string Heading)[]
        {
            ("Review queue", "/admin/reviews", "Review queue"),
            ("Repos", "/admin/repos", "Repos"),
            ("Runtimes and credentials", "/admin/runtimes", "Runtimes and credentials"),
            ("Categories", "/admin/categories", "Categories"),
            ("Users", "/admin/users", "Users"),
            ("Groups and roles", "/admin/groups", "Groups and roles"),
            ("Audit log", "/admin/audit", "Audit log"),
        };
        foreach (var (link, path, heading) in sections)
        {
            await page.GetByTestId("admin-nav").GetByRole(AriaRole.Link, new() { Name = link, Exact = true }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(path) + "$"));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
            await Expect(page.GetByTestId("admin-nav").Locator("[aria-current=page]")).ToHaveTextAsync(link);
            await Expect(page.GetByTestId("problem")).ToHaveCountAsync(0);
        }
    }

    [Fact]
    public async Task NonAdmin_SeesNoAdministrationLink_AndTheApiRefusalInsteadOfAdminData()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        await using var context = await fixture.NewContextAsync();
        var page = await Pages.SignInAsync(context, vendor.UserName, vendor.UserPassword);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Administration" })).ToHaveCountAsync(0);

        var response = await page.GotoAsync("/admin/users");
        Assert.Equal(403, response!.Status);
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("Your roles do not allow this operation.");
        await Expect(page.GetByTestId("users")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("user-row")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("create-user")).ToHaveCountAsync(0);
        await BrowserFixture.ScreenshotAsync(page, "admin-refused");

        // Sections whose API would answer with the user's own resources refuse just the same.
        foreach (var path in new[] { "/admin", "/admin/repos", "/admin/runtimes", "/admin/audit", "/admin/reviews" })
        {
            await page.GotoAsync(path);
            await Expect(page.GetByTestId("problem")).ToContainTextAsync("Your roles do not allow this operation.");
            await Expect(page.GetByTestId("admin-nav")).ToHaveCountAsync(0);
            await Expect(page.Locator("table")).ToHaveCountAsync(0);
        }
    }

    [Fact]
    public async Task ReviewQueue_ShowsASubmittedVersion_StartAndPassFromThePage()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var versionId = await AdminPages.SubmitAsync(vendor, "please have a look");
        var appName = await AdminPages.AppNameAsync(vendor, versionId);
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);

        await page.GotoAsync("/admin/reviews?q=" + appName);
        var row = page.Locator($"[data-testid=review-row][data-version-id='{versionId}']");
        await Expect(row).ToContainTextAsync(appName);
        await Expect(row).ToContainTextAsync("1.0.0");
        await Expect(row).ToContainTextAsync("submitted");
        await Expect(row).ToContainTextAsync(await DeveloperNameAsync(vendor));
        await Expect(row).ToContainTextAsync("please have a look");
        await Expect(row).ToContainTextAsync("UTC");
        await BrowserFixture.ScreenshotAsync(page, "admin-reviews");

        await row.GetByRole(AriaRole.Link, new() { Name = $"Open {appName} 1.0.0" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/admin/reviews/{versionId}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Review {appName} 1.0.0", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("version-readme")).ToContainTextAsync("A ZooKeeper ensemble on Debian 12 nodes");
        await Expect(page.GetByTestId("version-config")).ToContainTextAsync("\"properties\"");
        await Expect(page.GetByTestId("version-facts")).ToContainTextAsync(await DeveloperNameAsync(vendor));

        await page.GetByRole(AriaRole.Button, new() { Name = "Start review" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Review of {appName} 1.0.0 started.");
        await Expect(page.GetByTestId("version-status")).ToHaveTextAsync("in review");
        Assert.Equal("in_review", await StatusAsync(vendor, versionId));

        await page.GetByLabel("Note to the developer (optional)").FillAsync("clean package");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pass", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"{appName} 1.0.0 passed review");
        await Expect(page.GetByTestId("version-status")).ToHaveTextAsync("passed");
        await Expect(page.GetByTestId("version-history")).ToContainTextAsync("clean package");
        await BrowserFixture.ScreenshotAsync(page, "admin-review");
        Assert.Equal("passed", await StatusAsync(vendor, versionId));

        // Passed, it has left the queue.
        await page.GotoAsync("/admin/reviews?q=" + appName);
        await Expect(page.GetByTestId("reviews-empty")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ReviewQueue_RejectWithAMessage_TheDeveloperSeesWhy()
    {
        using var vendor = await Catalog.VendorAsync(Server);
        var versionId = await AdminPages.SubmitAsync(vendor, null);
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync($"/admin/reviews/{versionId}");

        // Without a reason the browser will not send the form; with one the API rejects the version.
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToHaveCountAsync(0);
        await page.GetByLabel("Why it is rejected (required)").FillAsync("The config lacks a heap size limit.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();

        await Expect(page.GetByTestId("notice")).ToContainTextAsync("rejected");
        await Expect(page.GetByTestId("version-status")).ToHaveTextAsync("rejected");
        await Expect(page.GetByTestId("no-review-action")).ToBeVisibleAsync();
        var version = await vendor.Developer.GetAsync($"/api/v1/app_versions/{versionId}");
        Assert.Equal("rejected", (string?)version.Body!["status"]);
        Assert.Equal("The config lacks a heap size limit.", (string?)version.Body["message"]);
        var events = await vendor.Developer.GetAsync($"/api/v1/app_versions/{versionId}/events");
        Assert.Contains(events.Body!.AsArray(), e => (string?)e!["action"] == "reject" && (string?)e["message"] == "The config lacks a heap size limit.");
    }

    [Fact]
    public async Task Categories_CreateRenameDelete_FromThePage()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/categories");
        var name = ServerFixture.Unique("Databases");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Description").FillAsync("Stores of data");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add category" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Category {name} added.");
        await page.GotoAsync("/admin/categories?q=" + name);
        var row = page.Locator($"[data-testid=category-row][data-category-name='{name}']");
        await Expect(row).ToContainTextAsync("Stores of data");
        await Expect(row.GetByTestId("category-count")).ToHaveTextAsync("0");
        await BrowserFixture.ScreenshotAsync(page, "admin-categories");
        using var admin = await Server.LoginAdminAsync();
        var id = await CategoryIdAsync(admin, name);
        Assert.NotNull(id);

        // A duplicate is refused with the API's message.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add category" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"A category named '{name}' already exists.");

        await page.GotoAsync("/admin/categories?q=" + name);
        await page.GetByRole(AriaRole.Link, new() { Name = $"Rename category {name}" }).ClickAsync();
        var renamed = name + "-renamed";
        await page.GetByLabel("New name").FillAsync(renamed);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save name" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Category {name} renamed to {renamed}.");
        Assert.Equal(renamed, (string?)(await admin.GetAsync($"/api/v1/categories/{id}")).Body!["name"]);

        await page.GotoAsync("/admin/categories?q=" + renamed);
        await page.GetByRole(AriaRole.Link, new() { Name = $"Delete category {renamed}" }).ClickAsync();
        await page.GetByTestId("confirm-delete").GetByRole(AriaRole.Button, new() { Name = $"Delete category {renamed}" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Category {renamed} deleted.");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/categories/{id}")).Status);
    }

    [Fact]
    public async Task Users_CreateWithARole_TheyCanSignIn_ThenRolesChangeAndDisable()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/users");
        var name = ServerFixture.Unique("newdev");
        const string Password = "a-long-enough-password-1";

        var form = page.GetByTestId("create-user");
        await form.GetByLabel("User name").FillAsync(name);
        await form.GetByLabel("Password").FillAsync(Password);
        await form.GetByLabel("Email").FillAsync(name + "@example.com");
        await form.GetByLabel("user", new() { Exact = true }).UncheckAsync();
        await form.GetByLabel("developer", new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"User {name} added with the roles developer.");
        Assert.DoesNotContain(Password, await page.ContentAsync(), StringComparison.Ordinal);

        // Found by search and by role, on the server.
        await page.GotoAsync($"/admin/users?q={name}&role=developer");
        var row = page.Locator($"[data-testid=user-row][data-user-name='{name}']");
        await Expect(row.GetByTestId("user-roles")).ToHaveTextAsync("developer");
        await Expect(row.GetByTestId("user-state")).ToHaveTextAsync("active");
        await BrowserFixture.ScreenshotAsync(page, "admin-users");
        await page.GotoAsync($"/admin/users?q={name}&role=isv");
        await Expect(page.GetByTestId("users-empty")).ToBeVisibleAsync();

        // They sign in, and the console offers what a developer may do.
        await using (var theirs = await fixture.NewContextAsync())
        {
            var their = await Pages.SignInAsync(theirs, name, Password);
            await Expect(their.GetByRole(AriaRole.Link, new() { Name = "Developer console" })).ToBeVisibleAsync();
            await Expect(their.GetByRole(AriaRole.Link, new() { Name = "Administration" })).ToHaveCountAsync(0);
        }

        // Roles change on the user's page.
        await page.GotoAsync($"/admin/users?q={name}");
        await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"User {name}", Level = 1 })).ToBeVisibleAsync();
        await page.GetByTestId("set-roles").Locator("input[value=isv]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save roles" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Roles of {name} set to developer, isv.");
        await Expect(page.GetByTestId("user-facts").GetByTestId("user-roles")).ToHaveTextAsync("developer, isv");
        await BrowserFixture.ScreenshotAsync(page, "admin-user");
        using var admin = await Server.LoginAdminAsync();
        var user = (await admin.GetAsync($"/api/v1/users?q={name}")).Body!["items"]![0]!;
        Assert.Equal(["developer", "isv"], user["roles"]!.AsArray().Select(r => (string)r!).ToArray());

        // Disabled, they can no longer sign in.
        await page.GetByRole(AriaRole.Button, new() { Name = $"Disable {name}" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"User {name} disabled");
        await Expect(page.GetByTestId("user-facts").GetByTestId("user-state")).ToHaveTextAsync("disabled");
        using var anonymous = Server.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/auth/login", new { username = name, password = Password })).Status);
    }

    [Fact]
    public async Task Groups_CreateASubgroup_AndAddAMember()
    {
        using var member = await Server.CreateUserAsync(ServerFixture.Unique("member"), ["user"]);
        var memberName = (string)(await member.GetAsync("/api/v1/me")).Body!["name"]!;
        using var admin = await Server.LoginAdminAsync();
        var parent = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("org") });
        var parentName = (string)parent.Body!["name"]!;
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/groups");

        var name = ServerFixture.Unique("team");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Parent group").SelectOptionAsync(new SelectOptionValue { Label = parentName });
        await page.GetByRole(AriaRole.Button, new() { Name = "Add group" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Group {name} added under {parentName}.");

        // Shown in the tree under its parent, beside the roles.
        var parentNode = page.Locator($"[data-testid=group-node][data-group-name='{parentName}']");
        await Expect(parentNode.Locator($"[data-testid=group-node][data-group-name='{name}']")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=role-row][data-role=admin]")).ToContainTextAsync("Operates the platform");
        await BrowserFixture.ScreenshotAsync(page, "admin-groups");

        await parentNode.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Group {name}", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("members-empty")).ToBeVisibleAsync();
        await page.GetByLabel("User name to add").FillAsync("nobody-" + Guid.NewGuid().ToString("N")[..6]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("No user is named");

        await page.GetByLabel("User name to add").FillAsync(memberName);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"{memberName} added to {name}.");
        await Expect(page.Locator($"[data-testid=member-row][data-user-name='{memberName}']")).ToContainTextAsync("user");
        await BrowserFixture.ScreenshotAsync(page, "admin-group");
        var groupId = new Uri(page.Url).Segments[^1];
        var group = await admin.GetAsync($"/api/v1/groups/{groupId}");
        Assert.Equal(parent.Id, (string?)group.Body!["parent_id"]);
        Assert.Contains(member.UserId, group.Body["member_ids"]!.AsArray().Select(m => (string?)m));

        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {memberName} from {name}" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"{memberName} removed from {name}.");
        await Expect(page.GetByTestId("members-empty")).ToBeVisibleAsync();
        Assert.Empty((await admin.GetAsync($"/api/v1/groups/{groupId}")).Body!["member_ids"]!.AsArray());
    }

    [Fact]
    public async Task Runtimes_CreateALocalRuntime_ValidateShowsEveryCheck_ThenDelete()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/runtimes");
        var name = ServerFixture.Unique("local-rt");

        var form = page.GetByTestId("create-runtime");
        await form.GetByLabel("Name").FillAsync(name);
        await form.GetByLabel("Provider").SelectOptionAsync("local");
        await form.GetByLabel("Labels (one key=value per line)").FillAsync("tier=dev\nteam = data");
        await form.GetByLabel("Visibility", new() { Exact = true }).SelectOptionAsync("public");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add runtime" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Runtime {name} added.");

        await page.GotoAsync("/admin/runtimes?q=" + name);
        var row = page.Locator($"[data-testid=runtime-row][data-runtime-name='{name}']");
        await Expect(row).ToContainTextAsync("tier=dev");
        await Expect(row).ToContainTextAsync("team=data");
        await Expect(row).ToContainTextAsync("public");
        using var admin = await Server.LoginAdminAsync();
        var runtime = (await admin.GetAsync($"/api/v1/runtimes?q={name}")).Body!["items"]![0]!;
        Assert.Equal("local", (string?)runtime["provider"]);
        Assert.Equal("data", (string?)runtime["labels"]!["team"]);

        await row.GetByRole(AriaRole.Button, new() { Name = $"Validate runtime {name}" }).ClickAsync();
        var validation = page.GetByTestId("runtime-validation");
        await Expect(validation).ToContainTextAsync($"Validation of {name}");
        await Expect(validation.GetByTestId("validation-verdict")).ToHaveTextAsync("every check passed");
        var check = validation.Locator("[data-testid=validation-check][data-check=work_directory]");
        await Expect(check).ToContainTextAsync("ok");
        await Expect(check).ToContainTextAsync("Created and removed a work directory");
        await BrowserFixture.ScreenshotAsync(page, "admin-runtimes");

        // A bad label line is explained, and the form keeps what was typed.
        await form.GetByLabel("Name").FillAsync(name + "-2");
        await form.GetByLabel("Labels (one key=value per line)").FillAsync("no-equals-sign");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add runtime" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("'no-equals-sign' has no '='.");
        await Expect(form.GetByLabel("Name")).ToHaveValueAsync(name + "-2");

        await page.GotoAsync("/admin/runtimes?q=" + name);
        await row.GetByRole(AriaRole.Link, new() { Name = $"Delete runtime {name}" }).ClickAsync();
        await page.GetByTestId("confirm-delete").GetByRole(AriaRole.Button, new() { Name = $"Delete runtime {name}" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Runtime {name} deleted.");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/runtimes/{(string)runtime["id"]!}")).Status);
    }

    [Fact]
    public async Task Credentials_SecretIsWriteOnly_NeverInThePage_EvenAfterAnError()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/runtimes");
        var name = ServerFixture.Unique("cred");
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");

        var form = page.GetByTestId("create-credential");
        await form.GetByLabel("Name").FillAsync(name);
        await form.GetByLabel("Provider").SelectOptionAsync("local");
        await form.GetByLabel("Secret (a kubeconfig, a key…)").FillAsync(secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add credential" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Credential {name} added");
        var row = page.Locator($"[data-testid=credential-row][data-credential-name='{name}']");
        await Expect(row).ToContainTextAsync("set ");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "admin-credentials");

        // The same name again is refused; the page answers with the problem and without the secret.
        await form.GetByLabel("Name").FillAsync(name);
        await form.GetByLabel("Secret (a kubeconfig, a key…)").FillAsync(secret + "-again");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add credential" }).ClickAsync();
        await Expect(page.GetByTestId("problem")).ToContainTextAsync($"You already have a credential named '{name}'.");
        await Expect(form.GetByLabel("Name")).ToHaveValueAsync(name);
        await Expect(form.GetByLabel("Secret (a kubeconfig, a key…)")).ToHaveValueAsync("");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        // From a file too; and what the server sends never holds either secret.
        var fromFile = name + "-file";
        var fileSecret = "file-secret-" + Guid.NewGuid().ToString("N");
        await form.GetByLabel("Name").FillAsync(fromFile);
        await form.GetByLabel("Or the secret from a file").SetInputFilesAsync(new FilePayload { Name = "key.txt", MimeType = "text/plain", Buffer = Encoding.UTF8.GetBytes(fileSecret) });
        await page.GetByRole(AriaRole.Button, new() { Name = "Add credential" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Credential {fromFile} added");
        var html = await (await context.APIRequest.GetAsync("/admin/runtimes")).TextAsync();
        Assert.Contains(fromFile, html, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        Assert.DoesNotContain(fileSecret, html, StringComparison.Ordinal);

        // The API holds them (they are usable), it just never returns them.
        using var admin = await Server.LoginAdminAsync();
        var listed = await admin.GetAsync("/api/v1/credentials?q=" + name);
        Assert.Equal(2, (int)listed.Body!["total"]!);
        Assert.All(listed.Body["items"]!.AsArray(), c => Assert.True((bool)c!["has_secret"]!));
        Assert.DoesNotContain(secret, listed.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repos_DeadUrl_SyncNowShowsItsError_InTheListHistoryAndRun()
    {
        var deadUrl = $"http://127.0.0.1:{ClosedPort()}/";
        var name = ServerFixture.Unique("dead-repo");
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/repos");

        // Checking the URL first says it cannot be used, and saves nothing.
        await page.GetByLabel("URL to check").FillAsync(deadUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Check", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("repo-validation")).ToContainTextAsync("cannot be used");

        var form = page.GetByTestId("create-repo");
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await form.GetByLabel("URL (empty for an upload repo)").FillAsync(deadUrl);
        await form.GetByLabel("Sync", new() { Exact = true }).SelectOptionAsync("0");
        var password = "repo-password-" + Guid.NewGuid().ToString("N");
        await form.GetByLabel("User name").FillAsync("reader");
        await form.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add repo" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Repo {name} added: its first sync is queued.");
        Assert.DoesNotContain(password, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GotoAsync("/admin/repos?q=" + name);
        var row = page.Locator($"[data-testid=repo-row][data-repo-name='{name}']");
        await AdminPages.ReloadUntilAsync(page, () => row.GetByTestId("repo-sync-status").InnerTextAsync(), s => s.Contains("failed", StringComparison.Ordinal));

        // Sync now: a new run, which fails the same way, and says why.
        await row.GetByRole(AriaRole.Button, new() { Name = $"Sync {name} now" }).ClickAsync();
        await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Sync of {name} queued");
        using var admin = await Server.LoginAdminAsync();
        var repoId = (string)(await admin.GetAsync("/api/v1/repos?q=" + name)).Body!["items"]![0]!["id"]!;
        await AdminPages.EventuallyAsync(async () =>
        {
            var syncs = (await admin.GetAsync($"/api/v1/repos/{repoId}/syncs")).Body!;
            return (int)syncs["total"]! == 2 && syncs["items"]!.AsArray().All(s => (string?)s!["status"] == "failed");
        });
        await page.GotoAsync("/admin/repos?q=" + name);
        await Expect(row.GetByTestId("repo-sync-status")).ToHaveTextAsync("failed");
        var error = (await row.GetByTestId("repo-sync-error").InnerTextAsync()).Trim();
        Assert.Contains("127.0.0.1", error, StringComparison.Ordinal);
        Assert.DoesNotContain("loopback", error, StringComparison.Ordinal);
        await BrowserFixture.ScreenshotAsync(page, "admin-repos");

        await row.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        await Expect(page.GetByTestId("repo-last-sync")).ToContainTextAsync(error);
        await Expect(page.GetByTestId("repo-facts")).ToContainTextAsync("set (write-only)");
        Assert.DoesNotContain(password, await page.ContentAsync(), StringComparison.Ordinal);
        await Expect(page.GetByTestId("sync-row")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("sync-row").First).ToContainTextAsync("manual by admin");
        await BrowserFixture.ScreenshotAsync(page, "admin-repo");
        await page.GetByTestId("sync-row").First.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByTestId("sync-status")).ToHaveTextAsync("failed");
        await Expect(page.GetByTestId("sync-error")).ToContainTextAsync(error);
        await BrowserFixture.ScreenshotAsync(page, "admin-repo-sync");
    }

    [Fact]
    public async Task Audit_FilteredByAction_ShowsTheActionsJustDone()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await AdminPages.SignInAsAdminAsync(context);
        await page.GotoAsync("/admin/categories");
        var names = new[] { ServerFixture.Unique("audited"), ServerFixture.Unique("audited") };
        foreach (var name in names)
        {
            await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
            await page.GetByRole(AriaRole.Button, new() { Name = "Add category" }).ClickAsync();
            await Expect(page.GetByTestId("notice")).ToContainTextAsync($"Category {name} added.");
        }

        using var admin = await Server.LoginAdminAsync();
        var ids = new List<string>();
        foreach (var name in names)
        {
            ids.Add((await CategoryIdAsync(admin, name))!);
        }

        await page.GotoAsync("/admin/audit");
        await page.GetByLabel("Action").FillAsync("category.create");
        await page.GetByLabel("Actor (user name or id)").FillAsync("admin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("action=category.create"));

        // Only that action, newest first: the second category before the first.
        var rows = page.GetByTestId("audit-row");
        await Expect(rows.First).ToContainTextAsync(ids[1]);
        Assert.All(await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.action)"), a => Assert.Equal("category.create", a));
        var text = await page.GetByTestId("audit").InnerTextAsync();
        Assert.True(text.IndexOf(ids[1], StringComparison.Ordinal) < text.IndexOf(ids[0], StringComparison.Ordinal), "newest first");
        await Expect(rows.First).ToContainTextAsync("201 success");
        await Expect(rows.First).ToContainTextAsync("POST /api/v1/categories");
        await BrowserFixture.ScreenshotAsync(page, "admin-audit");

        // A filter nothing matches, and a bad time, are both said plainly.
        await page.GotoAsync("/admin/audit?action=category.create&resource_id=cat-none");
        await Expect(page.GetByTestId("audit-empty")).ToContainTextAsync("No entry matches these filters.");
        await page.GotoAsync("/admin/audit?since=yesterday");
        await Expect(page.GetByTestId("problem")).ToContainTextAsync("'yesterday' is not a time.");
    }

    private static async Task<string> DeveloperNameAsync(Catalog.Vendor vendor) => (string)(await vendor.Developer.GetAsync("/api/v1/me")).Body!["name"]!;

    private static async Task<string?> StatusAsync(Catalog.Vendor vendor, string versionId) =>
        (string?)(await vendor.Developer.GetAsync($"/api/v1/app_versions/{versionId}")).Body!["status"];

    private static async Task<string?> CategoryIdAsync(ApiSession admin, string name) =>
        (string?)(await admin.GetAsync("/api/v1/categories?q=" + name)).Body!["items"]!.AsArray().FirstOrDefault(c => (string?)c!["name"] == name)?["id"];

    /// <summary>A loopback port nothing listens on: taken from the system, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>Steps the administration tests share.</summary>
internal static class AdminPages
{
    public static Task<IPage> SignInAsAdminAsync(IBrowserContext context) => Pages.SignInAsync(context, "admin", TestServer.AdminPassword);

    /// <summary>Uploads the ZooKeeper sample as the vendor's developer and submits it for review; returns the version id.</summary>
    public static async Task<string> SubmitAsync(Catalog.Vendor vendor, string? message)
    {
        var (_, archive) = await SamplePackages.BuildAsync("zookeeper", "1.0.0");
        var uploaded = await vendor.Developer.UploadAsync("/api/v1/apps", archive);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        var submitted = await vendor.Developer.PostAsync($"/api/v1/app_versions/{uploaded.Id}:submit", new { message });
        Assert.True(submitted.Status == HttpStatusCode.OK, submitted.ToString());
        return uploaded.Id;
    }

    public static async Task<string> AppNameAsync(Catalog.Vendor vendor, string versionId) =>
        (string)(await vendor.Developer.GetAsync($"/api/v1/app_versions/{versionId}")).Body!["app_name"]!;

    /// <summary>Reloads the page until what <paramref name="read"/> reads satisfies <paramref name="done"/> (a background run finishing).</summary>
    public static async Task ReloadUntilAsync(IPage page, Func<Task<string>> read, Func<string, bool> done)
    {
        var last = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline;)
        {
            last = await read();
            if (done(last))
            {
                return;
            }

            await Task.Delay(500);
            await page.ReloadAsync();
        }

        Assert.Fail($"The page never showed what was awaited; last seen: '{last}'.");
    }

    /// <summary>Waits for a background run (a repo sync) to reach a state, asking the API.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            if (await condition())
            {
                return;
            }
        }

        Assert.Fail("The condition never held within 60 s.");
    }
}
