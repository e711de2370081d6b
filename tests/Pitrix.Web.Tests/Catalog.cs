using System.Net;
using System.Text.Json.Nodes;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Web.Tests;

/// <summary>Users, groups and released apps made through the API, as the CLI would, for the browser to find.</summary>
internal static class Catalog
{
    /// <summary>A group with a developer who publishes and a user who browses (password: <c>password-{name}</c>).</summary>
    public sealed record Vendor(string GroupId, ApiSession Developer, string UserName, ApiSession User) : IDisposable
    {
        public string UserPassword => "password-" + UserName;

        public void Dispose()
        {
            Developer.Dispose();
            User.Dispose();
        }
    }

    public static async Task<Vendor> VendorAsync(TestServer server)
    {
        using var admin = await server.LoginAdminAsync();
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("vendor") });
        Assert.True(group.Status == HttpStatusCode.Created, group.ToString());
        var userName = ServerFixture.Unique("user");
        return new Vendor(
            group.Id,
            await server.CreateUserAsync(ServerFixture.Unique("dev"), ["developer"], [group.Id]),
            userName,
            await server.CreateUserAsync(userName, ["user"], [group.Id]));
    }

    /// <summary>Uploads a sample package as the vendor's developer and releases it (admin reviews); returns the app id.</summary>
    public static async Task<string> PublishAsync(TestServer server, Vendor vendor, byte[] archive)
    {
        var uploaded = await vendor.Developer.UploadAsync("/api/v1/apps", archive);
        Assert.True(uploaded.Status == HttpStatusCode.Created, uploaded.ToString());
        var versionId = uploaded.Id;
        using var admin = await server.LoginAdminAsync();
        foreach (var (session, action) in new[] { (vendor.Developer, "submit"), (admin, "review"), (admin, "pass"), (vendor.Developer, "release") })
        {
            var moved = await session.PostAsync($"/api/v1/app_versions/{versionId}:{action}", new { message = "ok" });
            Assert.True(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
        }

        return (string)uploaded.Body!["app_id"]!;
    }

    /// <summary>A local runtime shared with the vendor's group, so its apps show where they can run.</summary>
    public static async Task<string> RuntimeAsync(TestServer server, Vendor vendor, string name)
    {
        using var admin = await server.LoginAdminAsync();
        var created = await admin.PostAsync("/api/v1/runtimes", new { name, provider = "local", labels = new { tier = "dev" }, visibility = "group", group_id = vendor.GroupId });
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        return created.Id;
    }

    /// <summary>Creates a category (as admin) and puts the app in it (as its developer); returns the category's id.</summary>
    public static async Task<string> CategorizeAsync(TestServer server, Vendor vendor, string appId, string name)
    {
        using var admin = await server.LoginAdminAsync();
        var category = await admin.PostAsync("/api/v1/categories", new { name });
        Assert.True(category.Status == HttpStatusCode.Created, category.ToString());
        var set = await vendor.Developer.PutAsync($"/api/v1/apps/{appId}/categories", new { category_ids = new[] { category.Id } });
        Assert.True(set.Status == HttpStatusCode.OK, set.ToString());
        return category.Id;
    }

    /// <summary>Sets fields of the package's <c>package.json</c> in a sample being built.</summary>
    public static void EditMetadata(string directory, Action<JsonNode> edit)
    {
        var path = Path.Combine(directory, "package.json");
        var metadata = JsonNode.Parse(File.ReadAllText(path))!;
        edit(metadata);
        File.WriteAllText(path, metadata.ToJsonString());
    }
}
