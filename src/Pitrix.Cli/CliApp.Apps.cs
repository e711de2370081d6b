using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Pitrix.Packages;

namespace Pitrix.Cli;

/// <summary><c>pitrix app</c>, <c>version</c> and <c>category</c>: the catalog, its uploads and its review.</summary>
public sealed partial class CliApp
{
    private const int ReadmeExcerptLines = 15;

    /// <summary>The review actions, in the order of the review: <c>POST /app_versions/{id}:ACTION</c>.</summary>
    private static readonly (string Action, string Description)[] VersionTransitions =
    [
        ("submit", "Submit a draft or rejected version for review"),
        ("cancel", "Take a submitted, in-review or passed version back to draft"),
        ("review", "Start reviewing a submitted version (reviewer)"),
        ("pass", "Pass a version in review (reviewer)"),
        ("reject", "Reject a version in review; --message says why (reviewer)"),
        ("release", "Release a passed version: it becomes active and users can deploy it"),
        ("suspend", "Suspend an active version: it can no longer be deployed"),
        ("recover", "Make a suspended version active again"),
        ("delete", "Mark a draft, rejected, passed or suspended version deleted"),
    ];

    /// <summary>Large fields a table leaves to <c>-o json|yaml</c>.</summary>
    private static readonly string[] VersionDetailOnlyFields = ["readme", "config", "values_yaml", "values_schema"];

    private static readonly Column[] AppColumns =
    [
        Column.Field("id"),
        Column.Field("name"),
        Column.Field("format"),
        Column.Field("repo", "repo_name"),
        Column.Field("latest", "latest_version"),
        Column.Field("active", "active_version"),
        Column.Field("status"),
        new("categories", app => Names(app?["categories"])),
    ];

    private static readonly Column[] VersionColumns =
    [
        Column.Field("id"),
        Column.Field("version"),
        Column.Field("app_version"),
        Column.Field("status"),
        Column.Field("details", "details_status"),
        Column.Field("created_at"),
    ];

    private static readonly Column[] EventColumns =
    [
        Column.Field("at"),
        Column.Field("action"),
        Column.Field("from", "from_status"),
        Column.Field("to", "to_status"),
        new("actor", e => e?["actor_name"] ?? e?["actor_id"]),
        Column.Field("message"),
    ];

    private static readonly Column[] CategoryColumns =
    [
        Column.Field("id"),
        Column.Field("name"),
        Column.Field("locale"),
        Column.Field("apps", "app_count"),
        Column.Field("description"),
    ];

    private Command AppCommands(CliEnvironment env)
    {
        var app = new Command("app", "Browse the app catalog and upload packages");
        var id = new Argument<string>("id") { Description = "App id" };
        var versionId = new Argument<string>("version-id") { Description = "App version id" };

        var repo = new Option<string?>("--repo") { Description = "Only apps of this repo (id)" };
        var category = new Option<string?>("--category") { Description = "Only apps in this category (id)" };
        var format = new Option<string?>("--format") { Description = "helm or vmcluster" };
        var provider = new Option<string?>("--provider") { Description = "Only apps deployable to this provider" };
        var status = new Option<string?>("--status") { Description = "active (default for users), draft, suspended, … (managers)" };
        (string, string?)[] Filters(ParseResult p) =>
            [("repo", p.GetValue(repo)), ("category", p.GetValue(category)), ("format", p.GetValue(format)), ("provider", p.GetValue(provider)), ("status", p.GetValue(status))];

        app.Subcommands.Add(Api(env, WithPaging(new Command("list", "List apps") { repo, category, format, provider, status }), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync("api/v1/apps" + PageQuery(p, Filters(p)), ct), AppColumns);
            return ExitCodes.Ok;
        }));

        var query = new Argument<string>("query") { Description = "Words to search for in names, descriptions and keywords" };
        var search = new Command("search", "Search apps, best match first") { query, repo, category, format, provider, status, _limitOption, _offsetOption, _sortOption };
        app.Subcommands.Add(Api(env, search, async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync("api/v1/apps" + PageQuery(p, p.GetValue(query), Filters(p)), ct), AppColumns);
            return ExitCodes.Ok;
        }));

        app.Subcommands.Add(Api(env, new Command("get", "Show an app with the start of its README") { id }, async (p, api, output, ct) =>
        {
            var result = await api.GetAsync($"api/v1/apps/{Esc(p.GetValue(id))}", ct);
            WriteOne(output, result, a => Without(AppView(a), "readme"));
            await WriteReadmeExcerptAsync(env, output, result);
            return ExitCodes.Ok;
        }));

        app.Subcommands.Add(Api(env, WithPaging(new Command("versions", "List an app's versions, newest first") { id }), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync($"api/v1/apps/{Esc(p.GetValue(id))}/versions" + PageQuery(p), ct), VersionColumns);
            return ExitCodes.Ok;
        }));

        var path = new Argument<string>("path") { Description = "A package .tgz, or a package directory (packaged first, as `pitrix package` does)" };
        var uploadRepo = new Option<string?>("--repo") { Description = "Upload repo for a new app (default: your own upload repo)" };
        var appId = new Option<string?>("--app") { Description = "Add a new version of this app (id) instead of a new app" };
        var message = new Option<string?>("--message", "-m") { Description = "A note for the reviewers" };
        app.Subcommands.Add(Api(env, new Command("upload", "Upload a package as a draft version") { path, uploadRepo, appId, message }, async (p, api, output, ct) =>
        {
            var (fileName, archive) = await ReadPackageAsync(env, p.GetValue(path)!, ct);
            var repoId = p.GetValue(uploadRepo);
            var targetApp = p.GetValue(appId);
            if (repoId is not null && targetApp is not null)
            {
                throw new CliInputException("A new version goes to its app's repo: give --app or --repo, not both.");
            }

            var note = p.GetValue(message);
            var route = targetApp is null ? "api/v1/apps" : $"api/v1/apps/{Esc(targetApp)}/versions";
            var version = await api.SendContentAsync(HttpMethod.Post, route, () => PackageForm(fileName, archive, repoId, note), ct);
            WriteOne(output, version, v => Without(VersionView(v), VersionDetailOnlyFields));
            await env.Error.WriteLineAsync($"Uploaded {(string?)version?["app_name"]} {(string?)version?["version"]} as {(string?)version?["id"]} ({(string?)version?["status"]}); submit it with `pitrix version submit {(string?)version?["id"]}`.");
            return ExitCodes.Ok;
        }));

        app.Subcommands.Add(Api(env, new Command("runtimes", "List the runtimes you may deploy a version to") { versionId }, async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync($"api/v1/app_versions/{Esc(p.GetValue(versionId))}/runtimes", ct), RuntimeColumns.Select(c => Column.Field(c)).ToArray());
            return ExitCodes.Ok;
        }));

        var categoryIds = new Option<string[]>("--category", "-c") { Description = "Category id; repeatable. The app's categories become exactly these" };
        var clear = new Option<bool>("--clear") { Description = "Remove the app from every category" };
        app.Subcommands.Add(Api(env, new Command("categories", "Set the categories of an app (admin)") { id, categoryIds, clear }, async (p, api, output, ct) =>
        {
            var ids = p.GetValue(categoryIds) ?? [];
            var clearAll = p.GetValue(clear);
            if ((ids.Length == 0 && !clearAll) || (ids.Length > 0 && clearAll))
            {
                throw new CliInputException("Give the categories with --category <id> (repeatable), or --clear to remove them all.");
            }

            WriteOne(output, await api.PutAsync($"api/v1/apps/{Esc(p.GetValue(id))}/categories", new { category_ids = ids }, ct), a => Without(AppView(a), "readme"));
            return ExitCodes.Ok;
        }));

        var destination = new Option<DirectoryInfo?>("--destination", "-d") { Description = "Where to write the package (default: current directory)" };
        app.Subcommands.Add(Api(env, new Command("download", "Download a version's package") { versionId, destination }, async (p, api, _, ct) =>
        {
            var vid = p.GetValue(versionId)!;
            var (content, suggested) = await api.DownloadAsync($"api/v1/app_versions/{Esc(vid)}/package", ct);

            // The server's suggestion is only a name: a path in it must not place the file elsewhere.
            var fileName = suggested is null ? null : Path.GetFileName(suggested);
            if (string.IsNullOrEmpty(fileName))
            {
                var version = await api.GetAsync($"api/v1/app_versions/{Esc(vid)}", ct);
                fileName = $"{(string?)version?["app_name"]}-{(string?)version?["version"]}.tgz";
            }

            var target = Path.Combine(p.GetValue(destination)?.FullName ?? Directory.GetCurrentDirectory(), fileName);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, content, ct);
            await env.Output.WriteLineAsync(target);
            await env.Error.WriteLineAsync($"Downloaded {content.Length} bytes.");
            return ExitCodes.Ok;
        }));
        return app;
    }

    private Command VersionCommands(CliEnvironment env)
    {
        var version = new Command("version", "App versions and their review: submit → review → pass → release");
        var id = new Argument<string>("id") { Description = "App version id" };
        version.Subcommands.Add(Api(env, new Command("get", "Show a version with the start of its README") { id }, async (p, api, output, ct) =>
        {
            var result = await api.GetAsync($"api/v1/app_versions/{Esc(p.GetValue(id))}", ct);
            WriteOne(output, result, v => Without(VersionView(v), VersionDetailOnlyFields));
            await WriteReadmeExcerptAsync(env, output, result);
            return ExitCodes.Ok;
        }));
        version.Subcommands.Add(Api(env, new Command("events", "Show a version's review history") { id }, async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync($"api/v1/app_versions/{Esc(p.GetValue(id))}/events", ct), EventColumns);
            return ExitCodes.Ok;
        }));

        foreach (var (action, description) in VersionTransitions)
        {
            var message = new Option<string?>("--message", "-m") { Description = action == "reject" ? "Why the version is rejected (required)" : "A note kept in the version's history" };
            version.Subcommands.Add(Api(env, new Command(action, description) { id, message }, async (p, api, output, ct) =>
            {
                var note = p.GetValue(message);
                if (action == "reject" && string.IsNullOrWhiteSpace(note))
                {
                    throw new CliInputException("reject needs --message: the developer is told why the version was rejected.", ExitCodes.Invalid);
                }

                var result = await api.PostAsync($"api/v1/app_versions/{Esc(p.GetValue(id))}:{action}", new { message = note }, ct);
                WriteOne(output, result, VersionView);
                return ExitCodes.Ok;
            }));
        }

        return version;
    }

    private Command CategoryCommands(CliEnvironment env)
    {
        var category = new Command("category", "App categories (admins write; everyone reads)");
        var id = new Argument<string>("id") { Description = "Category id" };
        category.Subcommands.Add(Api(env, WithPaging(new Command("list", "List categories")), async (p, api, output, ct) =>
        {
            output.WriteRows(await api.GetAsync("api/v1/categories" + PageQuery(p), ct), CategoryColumns);
            return ExitCodes.Ok;
        }));
        category.Subcommands.Add(Api(env, new Command("get", "Show a category") { id }, (p, api, ct) => Columns(api.GetAsync($"api/v1/categories/{Esc(p.GetValue(id))}", ct))));

        var name = new Argument<string>("name") { Description = "Category name" };
        var locale = new Option<string[]>("--locale") { Description = "Name in another language, lang=name (zh-cn=数据库); repeatable" };
        var description = new Option<string?>("--description");
        var icon = new Option<string?>("--icon") { Description = "Icon URL" };
        category.Subcommands.Add(Api(env, new Command("create", "Create a category") { name, locale, description, icon }, (p, api, ct) =>
            Columns(api.PostAsync("api/v1/categories", new
            {
                name = p.GetValue(name),
                locale = ParsePairs(p.GetValue(locale), "Locale"),
                description = p.GetValue(description),
                icon = p.GetValue(icon),
            }, ct))));

        var newName = new Option<string?>("--name") { Description = "New name" };
        category.Subcommands.Add(Api(env, new Command("update", "Change a category; options not given keep their values") { id, newName, locale, description, icon }, (p, api, ct) =>
            Columns(api.PatchAsync($"api/v1/categories/{Esc(p.GetValue(id))}", new
            {
                name = p.GetValue(newName),
                locale = ParsePairs(p.GetValue(locale), "Locale"),
                description = p.GetValue(description),
                icon = p.GetValue(icon),
            }, ct))));
        category.Subcommands.Add(Api(env, new Command("delete", "Delete a category (its apps stay)") { id }, (p, api, ct) =>
            Done(api.DeleteAsync($"api/v1/categories/{Esc(p.GetValue(id))}", ct), env, "Category deleted.")));
        return category;
    }

    /// <summary>A package file as is, or a package directory built into one the way <c>pitrix package</c> builds it.</summary>
    private static async Task<(string FileName, byte[] Archive)> ReadPackageAsync(CliEnvironment env, string path, CancellationToken ct)
    {
        if (Directory.Exists(path))
        {
            var (fileName, archive, summary) = await PackageBuilder.BuildAsync(Path.GetFullPath(path), ct);
            await env.Error.WriteLineAsync($"Packaged {summary.Format} {summary.Name} {summary.Version} ({archive.Length} bytes).");
            return (fileName, archive);
        }

        return File.Exists(path)
            ? (Path.GetFileName(path), await File.ReadAllBytesAsync(path, ct))
            : throw new CliInputException($"'{path}' is neither a package directory nor a package file.");
    }

    private static MultipartFormDataContent PackageForm(string fileName, byte[] archive, string? repoId, string? message)
    {
        var form = new MultipartFormDataContent();
        var package = new ByteArrayContent(archive);
        package.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        form.Add(package, "package", fileName);
        if (repoId is not null)
        {
            form.Add(new StringContent(repoId), "repo_id");
        }

        if (message is not null)
        {
            form.Add(new StringContent(message), "message");
        }

        return form;
    }

    private static async Task WriteReadmeExcerptAsync(CliEnvironment env, Output output, JsonNode? resource)
    {
        if (output.Format != "table" || (string?)resource?["readme"] is not { } readme || string.IsNullOrWhiteSpace(readme))
        {
            return;
        }

        var lines = readme.ReplaceLineEndings("\n").Trim().Split('\n');
        await env.Output.WriteLineAsync();
        await env.Output.WriteLineAsync("README");
        foreach (var line in lines.Take(ReadmeExcerptLines))
        {
            await env.Output.WriteLineAsync(("  " + line).TrimEnd());
        }

        if (lines.Length > ReadmeExcerptLines)
        {
            await env.Output.WriteLineAsync($"  … {lines.Length - ReadmeExcerptLines} more line(s); -o yaml shows all");
        }
    }

    private static JsonObject AppView(JsonObject app)
    {
        app["categories"] = Names(app["categories"]);
        return app;
    }

    private static JsonObject VersionView(JsonObject version)
    {
        if ((long?)version["package_size"] is long size)
        {
            version["package_size"] = $"{size} bytes";
        }

        return version;
    }

    private static JsonObject Without(JsonObject resource, params string[] fields)
    {
        foreach (var field in fields)
        {
            resource.Remove(field);
        }

        return resource;
    }

    /// <summary>The names of <c>[{id, name}]</c>, comma-separated.</summary>
    private static string? Names(JsonNode? references) =>
        references is JsonArray array ? string.Join(",", array.Select(r => (string?)r?["name"] ?? (string?)r?["id"])) : null;
}
