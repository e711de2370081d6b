using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Catalog;
using Pitrix.Catalog.Apps;
using Pitrix.Catalog.Blobs;
using Pitrix.Catalog.Fetching;
using Pitrix.Catalog.Indexing;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Catalog;
using Pitrix.Core.Clusters;
using Pitrix.Core.Identity;
using Pitrix.Core.Runtimes;
using Pitrix.Core.Versioning;
using Pitrix.Packages;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>The store: apps, their versions, uploads, the review workflow and runtime matching.</summary>
public static class AppEndpoints
{
    private const string AppType = "app";
    private const string VersionType = "app_version";
    private static readonly string[] AppSorts = ["name", "updated_at", "created_at", "relevance"];
    private static readonly string[] VersionSorts = ["version", "created_at"];

    public static void MapAppEndpoints(this IEndpointRouteBuilder api)
    {
        var apps = api.MapGroup("/apps").WithTags("Apps").WithMetadata(new ResourceTypeMetadata(AppType));
        apps.MapGet("/", ListAsync).WithName("app.list");
        apps.MapPost("/", UploadNewAsync).WithName("app.upload").DisableAntiforgery();
        apps.MapGet("/{id}", GetAsync).WithName("app.get");
        apps.MapGet("/{id}/icon", IconAsync).WithName("app.icon").AllowAnonymous();
        apps.MapGet("/{id}/versions", ListVersionsAsync).WithName("app.versions");
        apps.MapGet("/{id}/usage", UsageAsync).WithName("app.usage");
        apps.MapPost("/{id}/versions", UploadVersionAsync).WithName("app.upload_version").DisableAntiforgery();
        apps.MapPut("/{id}/categories", SetCategoriesAsync).WithName("app.set_categories");

        var versions = api.MapGroup("/app_versions").WithTags("Apps").WithMetadata(new ResourceTypeMetadata(VersionType));
        versions.MapGet("/{id}", GetVersionAsync).WithName("app_version.get");
        versions.MapGet("/{id}/package", DownloadAsync).WithName("app_version.package").AllowAnonymous();

        // The same, with the file name last: helm names a pulled chart after the URL's last segment.
        versions.MapGet("/{id}/package/{file}", (string id, string file, HttpContext context, PitrixDbContext db, PackageStore packages, CancellationToken ct) => DownloadAsync(id, context, db, packages, ct))
            .WithName("app_version.package_file").AllowAnonymous();
        versions.MapGet("/{id}/events", EventsAsync).WithName("app_version.events");
        versions.MapGet("/{id}/runtimes", RuntimesAsync).WithName("app_version.runtimes");
        versions.MapGet("/{id}/locales", LocalesAsync).WithName("app_version.locales");
        foreach (var action in ReviewWorkflow.Transitions.Keys)
        {
            versions.MapPost("/{id}:" + action, (string id, VersionActionRequest? request, Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken ct) =>
                TransitionAsync(id, action, request, caller, db, time, ct)).WithName("app_version." + action);
        }
    }

    private static async Task<Results<Ok<Page<AppDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list, string? category, string? repo, string? format, string? provider, string? status, bool? authored,
        Caller caller, PitrixDbContext db, ProviderRegistry providers, CancellationToken cancellationToken)
    {
        if (list.Validate(AppSorts) is { } invalid)
        {
            return Problems.From(invalid);
        }

        if (status is not null && status != "any" && status is not ("active" or "suspended" or "draft" or "removed" or "deleted"))
        {
            return Problems.From(new FieldErrors().Add("status", "Must be active, suspended, draft, removed, deleted or any.").ToError()!);
        }

        var scope = await CatalogAccess.ScopeAsync(db, caller.Principal, cancellationToken);
        var query = db.Apps.AsNoTracking().Visible(scope);
        if (authored == true)
        {
            // The developer console's "my apps": those of repos the caller may author in, whatever their status.
            var authoredRepoIds = scope.AuthoredRepoIds;
            query = query.Where(a => authoredRepoIds.Contains(a.RepoId));
        }

        var wanted = status ?? "active";
        if (wanted != "any")
        {
            query = query.Where(a => a.Status == wanted);
        }

        if (repo is not null)
        {
            query = query.Where(a => a.RepoId == repo);
        }

        if (format is not null)
        {
            query = query.Where(a => a.Format == format);
        }

        if (category is not null)
        {
            query = query.Where(a => db.AppCategories.Any(c => c.AppId == a.Id && c.CategoryId == category));
        }

        if (provider is not null)
        {
            // Providers live on repos (few): resolve them to repo ids, or to a format for repos that name none.
            var repos = scope.Repos.Values;
            var explicitIds = repos.Where(r => r.Providers.Contains(provider)).Select(r => r.Id).ToList();
            var implicitIds = repos.Where(r => r.Providers.Count == 0).Select(r => r.Id).ToList();
            var implicitFormat = provider == RuntimeMatching.Kubernetes ? PackageFormat.Helm : PackageFormat.VmCluster;
            query = query.Where(a => explicitIds.Contains(a.RepoId) || (implicitIds.Contains(a.RepoId) && a.Format == implicitFormat));
        }

        var terms = AppSearch.Terms(list.Q);
        var sort = list.Sort?.TrimStart('-') ?? (terms.Count > 0 ? "relevance" : "name");
        var descending = list.Sort?.StartsWith('-') ?? false;
        int total;
        List<App> items;
        if (terms.Count > 0)
        {
            var ranked = query.Join(AppSearch.Search(db, terms), a => a.Id, h => h.AppId, (a, h) => new { App = a, h.Rank });
            total = await ranked.CountAsync(cancellationToken);
            var ordered = sort switch
            {
                "relevance" => descending ? ranked.OrderByDescending(x => x.Rank).ThenBy(x => x.App.Name) : ranked.OrderBy(x => x.Rank).ThenBy(x => x.App.Name),
                "updated_at" => descending ? ranked.OrderByDescending(x => x.App.UpdatedAt) : ranked.OrderBy(x => x.App.UpdatedAt),
                "created_at" => descending ? ranked.OrderByDescending(x => x.App.CreatedAt) : ranked.OrderBy(x => x.App.CreatedAt),
                _ => descending ? ranked.OrderByDescending(x => x.App.Name) : ranked.OrderBy(x => x.App.Name),
            };
            items = await ordered.Skip(list.Offset).Take(list.Limit).Select(x => x.App).ToListAsync(cancellationToken);
        }
        else
        {
            total = await query.CountAsync(cancellationToken);
            var ordered = sort switch
            {
                "updated_at" => descending ? query.OrderByDescending(a => a.UpdatedAt) : query.OrderBy(a => a.UpdatedAt),
                "created_at" => descending ? query.OrderByDescending(a => a.CreatedAt) : query.OrderBy(a => a.CreatedAt),
                _ => descending ? query.OrderByDescending(a => a.Name).ThenBy(a => a.Id) : query.OrderBy(a => a.Name).ThenBy(a => a.Id),
            };
            items = await ordered.Skip(list.Offset).Take(list.Limit).ToListAsync(cancellationToken);
        }

        var dtos = await ToDtosAsync(db, items, cancellationToken, scope);
        return TypedResults.Ok(new Page<AppDto>(dtos, total, list.Limit, list.Offset));
    }

    private static async Task<Results<Ok<AppDto>, ProblemHttpResult>> GetAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAppAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (app, _) = found.Value;
        var dto = (await ToDtosAsync(db, [app], cancellationToken))[0];
        return TypedResults.Ok(dto with { Readme = await BlobStore.GetTextAsync(db, app.ReadmeDigest, cancellationToken) });
    }

    private static async Task<IResult> IconAsync(string id, HttpContext context, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAppAsync(db, id, Caller.Find(context)?.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(Caller.Find(context) is null ? Unauthenticated() : found.Error!);
        }

        var icon = found.Value.App.Icon;
        if (icon is null || !icon.StartsWith("blob:sha256:", StringComparison.Ordinal))
        {
            return Problems.From(Error.NotFound("icon", id));
        }

        var blob = await BlobStore.GetAsync(db, icon["blob:sha256:".Length..], cancellationToken);
        if (blob is null)
        {
            return Problems.From(Error.NotFound("icon", id));
        }

        // An SVG opened directly must not run script in the API's origin.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return TypedResults.File(blob.Content, blob.MediaType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{blob.Digest}\""));
    }

    private static async Task<Results<Ok<Page<AppVersionDto>>, ProblemHttpResult>> ListVersionsAsync(
        string id, ListQuery list, string? status, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        if (list.Validate(VersionSorts) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var found = await FindAppAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (app, repo) = found.Value;
        var query = db.AppVersions.AsNoTracking().Where(v => v.AppId == app.Id);
        if (!CatalogAccess.CanAuthor(caller.Principal, repo))
        {
            query = query.Where(v => v.Status == AppVersionStatus.Active);
        }
        else if (status is not null && status != "any")
        {
            query = query.Where(v => v.Status == status);
        }
        else if (status is null)
        {
            query = query.Where(v => v.Status != AppVersionStatus.Deleted);
        }

        var total = await query.CountAsync(cancellationToken);
        var descending = list.Sort is null || list.Sort.StartsWith('-');
        var ordered = list.Sort?.TrimStart('-') == "created_at"
            ? (descending ? query.OrderByDescending(v => v.CreatedAt) : query.OrderBy(v => v.CreatedAt))
            : (descending ? query.OrderByDescending(v => v.SortKey) : query.OrderBy(v => v.SortKey));
        var items = await ordered.Skip(list.Offset).Take(list.Limit).ToListAsync(cancellationToken);
        return TypedResults.Ok(new Page<AppVersionDto>(items.Select(v => AppVersionDto.From(v, app.Name)).ToList(), total, list.Limit, list.Offset));
    }

    /// <summary>
    /// How many clusters run each version of the app, counting only the clusters the caller may read (so no
    /// other tenant's deployments are revealed), ceased ones left out. For the app's authors and reviewers.
    /// </summary>
    private static async Task<Results<Ok<AppUsageDto>, ProblemHttpResult>> UsageAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAppAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (app, repo) = found.Value;
        if (!CatalogAccess.CanAuthor(caller.Principal, repo) && !CatalogAccess.CanReview(caller.Principal, repo))
        {
            return Problems.From(Error.Forbidden("access.forbidden", "The usage of an app is for its authors and reviewers."));
        }

        var counts = await db.Clusters.AsNoTracking().ReadableBy(caller.Principal)
            .Where(c => c.AppId == app.Id && c.Status != ClusterStatus.Ceased)
            .GroupBy(c => new { c.AppVersionId, c.Status })
            .Select(g => new { g.Key.AppVersionId, g.Key.Status, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var versionIds = counts.Select(c => c.AppVersionId).Distinct().ToList();
        var versions = await db.AppVersions.AsNoTracking().Where(v => versionIds.Contains(v.Id))
            .Select(v => new { v.Id, v.Version, v.SortKey }).ToListAsync(cancellationToken);
        var byVersion = counts.ToLookup(c => c.AppVersionId);
        var items = versions.OrderByDescending(v => v.SortKey, StringComparer.Ordinal)
            .Select(v => new AppVersionUsageDto(
                v.Id,
                v.Version,
                byVersion[v.Id].Sum(c => c.Count),
                byVersion[v.Id].OrderBy(c => c.Status, StringComparer.Ordinal).ToDictionary(c => c.Status, c => c.Count, StringComparer.Ordinal)))
            .ToList();
        return TypedResults.Ok(new AppUsageDto(app.Id, items.Sum(i => i.Clusters), items));
    }

    private static Task<Results<Created<AppVersionDetailDto>, ProblemHttpResult>> UploadNewAsync(
        HttpRequest request, Caller caller, PitrixDbContext db, IOptions<ApiOptions> options, ProviderRegistry providers, TimeProvider time, CancellationToken cancellationToken) =>
        UploadAsync(null, request, caller, db, options.Value, providers, time, cancellationToken);

    private static Task<Results<Created<AppVersionDetailDto>, ProblemHttpResult>> UploadVersionAsync(
        string id, HttpRequest request, Caller caller, PitrixDbContext db, IOptions<ApiOptions> options, ProviderRegistry providers, TimeProvider time, CancellationToken cancellationToken) =>
        UploadAsync(id, request, caller, db, options.Value, providers, time, cancellationToken);

    /// <summary>
    /// Reads a multipart upload (<c>package</c> file, optional <c>repo_id</c> and <c>message</c>), lints the
    /// package and stores it as a draft version. A draft or rejected version of the same number is replaced
    /// (so a developer can iterate before submitting); any other existing version is a conflict.
    /// </summary>
    private static async Task<Results<Created<AppVersionDetailDto>, ProblemHttpResult>> UploadAsync(
        string? appId, HttpRequest request, Caller caller, PitrixDbContext db, ApiOptions options, ProviderRegistry providers, TimeProvider time, CancellationToken cancellationToken)
    {
        var principal = caller.Principal;
        if (!principal.IsAdmin && !principal.HasRole(Role.Isv) && !principal.HasRole(Role.Developer))
        {
            return Problems.From(Error.Forbidden("access.role_required", "Uploading packages needs the developer, isv or admin role."));
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxPackageBytes + (64 * 1024);
        }

        if (!request.HasFormContentType)
        {
            return Problems.From(new Error(ErrorKind.Validation, "request.multipart_required", "Send the package as multipart/form-data with a 'package' file field."));
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var file = form.Files.GetFile("package");
        if (file is null || file.Length == 0)
        {
            return Problems.From(new FieldErrors().Add("package", "Required: the package .tgz as a file field named 'package'.").ToError()!);
        }

        if (file.Length > options.MaxPackageBytes)
        {
            return Problems.From(new Error(ErrorKind.Validation, "package.too_large", $"The package is larger than {options.MaxPackageBytes} bytes."));
        }

        var message = form["message"].ToString() is { Length: > 0 } m ? m : null;
        if (message is { Length: > 2048 })
        {
            return Problems.From(new FieldErrors().Add("message", "At most 2048 characters.").ToError()!);
        }

        byte[] bytes;
        await using (var stream = file.OpenReadStream())
        {
            using var buffer = new MemoryStream((int)file.Length);
            await stream.CopyToAsync(buffer, cancellationToken);
            bytes = buffer.ToArray();
        }

        PackageContents contents;
        try
        {
            contents = await PackageContents.ReadAsync(bytes, null, cancellationToken);
        }
        catch (PackageException ex)
        {
            return Problems.From(new Error(ErrorKind.Validation, ex.Code, ex.Message)
            {
                Fields = new Dictionary<string, string[]> { [ex.Path ?? "package"] = [$"{ex.Message} [{ex.Code}]"] },
            });
        }

        if (contents.Problems.Count > 0)
        {
            return Problems.From(new Error(ErrorKind.Validation, "package.lint_failed", $"The package has {contents.Problems.Count} problem(s); fix them and upload again.")
            {
                Fields = contents.Problems.GroupBy(p => p.Path ?? "package").ToDictionary(g => g.Key, g => g.Select(p => p.ToString()).ToArray(), StringComparer.Ordinal),
            });
        }

        // Where the version goes: the given app, the given upload repo, or the caller's own upload repo.
        Repo repo;
        App? app = null;
        if (appId is not null)
        {
            var found = await FindAppAsync(db, appId, principal, cancellationToken);
            if (!found.IsSuccess)
            {
                return Problems.From(found.Error!);
            }

            (app, repo) = found.Value;
            if (app.Name != contents.Summary.Name)
            {
                return Problems.From(new Error(ErrorKind.Validation, "app.name_mismatch", $"The package is '{contents.Summary.Name}' but app {app.Id} is '{app.Name}'."));
            }

            db.Attach(app);
        }
        else
        {
            var target = await UploadRepoAsync(db, principal, form["repo_id"].ToString() is { Length: > 0 } r ? r : null, time, cancellationToken);
            if (!target.IsSuccess)
            {
                return Problems.From(target.Error!);
            }

            repo = target.Value!;
            app = await db.Apps.SingleOrDefaultAsync(a => a.RepoId == repo.Id && a.Name == contents.Summary.Name, cancellationToken);
        }

        if (repo.Type != RepoType.Upload)
        {
            return Problems.From(new Error(ErrorKind.Validation, "repo.not_upload", $"Repo '{repo.Name}' is synced from {repo.Url}; upload into an upload repo (one without a url)."));
        }

        if (!CatalogAccess.CanAuthor(principal, repo))
        {
            return Problems.From(Error.Forbidden("access.forbidden", $"You may not upload into repo '{repo.Name}'."));
        }

        var now = time.GetUtcNow();
        var summary = contents.Summary;
        if (app is null)
        {
            app = new App
            {
                Id = Id.New(IdPrefix.App),
                RepoId = repo.Id,
                Name = summary.Name,
                Format = summary.Format,
                Status = "draft",
                OwnerId = principal.UserId,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Apps.Add(app);
        }
        else if (app.Format != summary.Format)
        {
            return Problems.From(new Error(ErrorKind.Validation, "app.format_mismatch", $"App '{app.Name}' is {app.Format}; the package is {summary.Format}."));
        }

        var existing = await db.AppVersions.SingleOrDefaultAsync(v => v.AppId == app.Id && v.Version == summary.Version, cancellationToken);
        if (existing is not null && existing.Status is not (AppVersionStatus.Draft or AppVersionStatus.Rejected))
        {
            return Problems.From(Error.Conflict("app_version.exists", $"Version {summary.Version} of '{app.Name}' already exists ({existing.Status}); versions are immutable once submitted. Bump the version."));
        }

        var packageDigest = await BlobStore.PutAsync(db, bytes, "application/gzip", cancellationToken);
        var readme = contents.Readme is { } rd ? await BlobStore.PutAsync(db, rd.Content, rd.MediaType, cancellationToken) : null;
        var config = contents.Config is { } cf ? await BlobStore.PutAsync(db, cf.Content, cf.MediaType, cancellationToken) : null;
        var values = contents.Values is { } vl ? await BlobStore.PutAsync(db, vl.Content, vl.MediaType, cancellationToken) : null;
        var schema = contents.ValuesSchema is { } sc ? await BlobStore.PutAsync(db, sc.Content, sc.MediaType, cancellationToken) : null;
        var icon = contents.Icon is { } ic ? BlobStore.IconReference(await BlobStore.PutAsync(db, ic.Content, ic.MediaType, cancellationToken)) : summary.Icon;
        var version = existing ?? new AppVersion
        {
            Id = Id.New(IdPrefix.AppVersion),
            AppId = app.Id,
            RepoId = repo.Id,
            Version = summary.Version,
            SortKey = SemVersion.SortKeyOf(summary.Version),
            Format = summary.Format,
            Status = AppVersionStatus.Draft,
            DetailsStatus = DetailsStatus.Stored,
            OwnerId = principal.UserId,
            CreatedAt = now,
        };
        var previousStatus = existing?.Status;
        version.AppVersionLabel = summary.AppVersion;
        version.Format = summary.Format;
        version.Status = AppVersionStatus.Draft;
        version.StatusChangedAt = now;
        version.Description = summary.Description;
        version.Icon = icon;
        version.Home = summary.Home;
        version.Keywords = summary.Keywords.ToList();
        version.Maintainers = contents.Maintainers.Select(m => new Maintainer(m.Name, m.Email, m.Url)).ToList();
        version.Sources = contents.Sources.ToList();
        version.Screenshots = contents.Screenshots.ToList();
        version.Digest = packageDigest;
        version.PackageDigest = packageDigest;
        version.PackageSize = bytes.LongLength;
        version.DetailsStatus = DetailsStatus.Stored;
        version.DetailsError = null;
        version.ReadmeDigest = readme;
        version.ConfigDigest = config;
        version.ValuesDigest = values;
        version.ValuesSchemaDigest = schema;
        version.Message = message;
        version.UpdatedAt = now;
        if (existing is null)
        {
            db.AppVersions.Add(version);
        }

        db.AppVersionEvents.Add(new AppVersionEvent
        {
            Id = Id.New(IdPrefix.AppVersionEvent),
            VersionId = version.Id,
            AppId = app.Id,
            Action = existing is null ? "upload" : "reupload",
            FromStatus = previousStatus,
            ToStatus = AppVersionStatus.Draft,
            ActorId = principal.UserId,
            ActorName = principal.Name,
            Message = message,
            At = now,
        });
        await AppCatalog.RefreshAsync(db, app, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        var detail = await DetailAsync(db, version, app.Name, repo, providers, cancellationToken);
        return TypedResults.Created($"/api/v1/app_versions/{version.Id}", detail);
    }

    /// <summary>
    /// The repo an upload without <c>repo_id</c> goes to: the upload repo of the caller's group (created on
    /// first use, shared with the group), or a private one of the caller's own when they have no group.
    /// </summary>
    private static async Task<Result<Repo>> UploadRepoAsync(PitrixDbContext db, Principal principal, string? repoId, TimeProvider time, CancellationToken cancellationToken)
    {
        if (repoId is not null)
        {
            var repo = await db.Repos.SingleOrDefaultAsync(r => r.Id == repoId, cancellationToken);
            return repo is null || !AccessPolicy.CanRead(principal, repo) ? Error.NotFound("repo", repoId) : repo;
        }

        if (principal.MemberGroupIds.Count > 1)
        {
            return Error.Validation("validation.failed", "You are in several groups: say which upload repo with repo_id.", new Dictionary<string, string[]> { ["repo_id"] = ["Required when you belong to several groups."] });
        }

        var groupId = principal.MemberGroupIds.FirstOrDefault();
        var existing = await db.Repos.Where(r => r.Type == RepoType.Upload && (groupId != null ? r.GroupId == groupId && r.Name.StartsWith("uploads-") : r.OwnerId == principal.UserId && r.GroupId == null && r.Name == "uploads"))
            .OrderBy(r => r.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        var groupName = groupId is null ? null : await db.Groups.Where(g => g.Id == groupId).Select(g => g.Name).SingleAsync(cancellationToken);
        var now = time.GetUtcNow();
        var created = new Repo
        {
            Id = Id.New(IdPrefix.Repo),
            Name = groupName is null ? "uploads" : $"uploads-{groupName}",
            Description = groupName is null ? "Packages uploaded by " + principal.Name : $"Packages uploaded by group {groupName}",
            Type = RepoType.Upload,
            SyncIntervalSeconds = 0,
            DefaultStatus = AppVersionStatus.Draft,
            OwnerId = principal.UserId,
            GroupId = groupId,
            GroupIds = groupId is null ? [] : [groupId],
            Visibility = groupId is null ? Visibility.Private : Visibility.Group,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Repos.Add(created);
        return created;
    }

    private static async Task<Results<Ok<AppDto>, ProblemHttpResult>> SetCategoriesAsync(
        string id, SetCategoriesRequest request, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindAppAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (app, repo) = found.Value;
        if (!CatalogAccess.CanAuthor(caller.Principal, repo))
        {
            return Problems.From(Error.Forbidden("access.forbidden", $"You may read app '{app.Name}' but not change its categories."));
        }

        var wanted = (request.CategoryIds ?? []).Distinct(StringComparer.Ordinal).ToList();
        var known = await db.Categories.Where(c => wanted.Contains(c.Id)).Select(c => c.Id).ToListAsync(cancellationToken);
        if (wanted.Except(known, StringComparer.Ordinal).ToList() is { Count: > 0 } unknown)
        {
            return Problems.From(new FieldErrors().Add("category_ids", $"No such category: {string.Join(", ", unknown)}.").ToError()!);
        }

        db.AppCategories.RemoveRange(await db.AppCategories.Where(c => c.AppId == app.Id).ToListAsync(cancellationToken));
        db.AppCategories.AddRange(wanted.Select(c => new AppCategory { AppId = app.Id, CategoryId = c }));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok((await ToDtosAsync(db, [app], cancellationToken))[0]);
    }

    private static async Task<Results<Ok<AppVersionDetailDto>, ProblemHttpResult>> GetVersionAsync(
        string id, Caller caller, PitrixDbContext db, ProviderRegistry providers, CancellationToken cancellationToken)
    {
        var found = await FindVersionAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (version, app, repo) = found.Value;
        return TypedResults.Ok(await DetailAsync(db, version, app.Name, repo, providers, cancellationToken));
    }

    private static async Task<IResult> DownloadAsync(string id, HttpContext context, PitrixDbContext db, PackageStore packages, CancellationToken cancellationToken)
    {
        var found = await FindVersionAsync(db, id, Caller.Find(context)?.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(Caller.Find(context) is null ? Unauthenticated() : found.Error!);
        }

        var (version, app, _) = found.Value;
        byte[] package;
        try
        {
            // Stored packages are served from the catalog; a synced version not fetched yet is fetched from
            // its repo now (digest verified) and stored for next time.
            package = await packages.GetPackageAsync(db, version, cancellationToken);
        }
        catch (FetchException ex)
        {
            return Problems.From(new Error(ErrorKind.Unavailable, ex.Code, $"The package of {app.Name} {version.Version} could not be fetched from its repo: {ex.Message}"));
        }
        catch (PackageException ex)
        {
            return Problems.From(new Error(ErrorKind.Unavailable, ex.Code, $"The package of {app.Name} {version.Version} is not usable: {ex.Message}"));
        }

        return TypedResults.File(package, "application/gzip", $"{app.Name}-{version.Version}.tgz", entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{version.PackageDigest ?? BlobStore.DigestOf(package)}\""));
    }

    private static async Task<Results<Ok<List<AppVersionEventDto>>, ProblemHttpResult>> EventsAsync(string id, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var found = await FindVersionAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (version, _, repo) = found.Value;
        if (!CatalogAccess.CanAuthor(caller.Principal, repo) && !CatalogAccess.CanReview(caller.Principal, repo))
        {
            return Problems.From(Error.Forbidden("access.forbidden", "The review history is for the app's authors and reviewers."));
        }

        var events = await db.AppVersionEvents.AsNoTracking().Where(e => e.VersionId == version.Id).OrderBy(e => e.At).ToListAsync(cancellationToken);
        return TypedResults.Ok(events.Select(AppVersionEventDto.From).ToList());
    }

    private static async Task<Results<Ok<List<RuntimeDto>>, ProblemHttpResult>> RuntimesAsync(
        string id, Caller caller, PitrixDbContext db, ProviderRegistry registry, CancellationToken cancellationToken)
    {
        var found = await FindVersionAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (version, _, repo) = found.Value;
        var providers = RuntimeMatching.ProvidersOf(repo, version.Format, registry.All.Select(p => p.Name)).ToList();
        var selectors = RuntimeMatching.SelectorsOf(repo);
        var candidates = await db.Runtimes.AsNoTracking().ReadableBy(caller.Principal).Where(r => providers.Contains(r.Provider)).OrderBy(r => r.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(candidates.Where(r => RuntimeMatching.Matches(r, providers, selectors)).Select(RuntimeDto.From).ToList());
    }

    /// <summary>
    /// The translations a package ships (<c>locale/&lt;lang&gt;.json</c>, as in QingCloud AppCenter packages), by
    /// language in lower case: what a deploy form shows for the labels of <c>config.json</c>. Entries whose value
    /// is not a string are left out; a file that is not a JSON object is skipped.
    /// </summary>
    private static async Task<Results<Ok<AppVersionLocalesDto>, ProblemHttpResult>> LocalesAsync(
        string id, Caller caller, PitrixDbContext db, PackageStore packages, CancellationToken cancellationToken)
    {
        var found = await FindVersionAsync(db, id, caller.Principal, cancellationToken);
        if (!found.IsSuccess)
        {
            return Problems.From(found.Error!);
        }

        var (version, app, _) = found.Value;
        IReadOnlyDictionary<string, byte[]> files;
        try
        {
            var archive = await packages.GetPackageAsync(db, version, cancellationToken);
            using var stream = new MemoryStream(archive, writable: false);
            files = (await Pitrix.Packages.Archives.SafeArchive.ReadAsync(stream, null, cancellationToken)).ContentFiles;
        }
        catch (FetchException ex)
        {
            return Problems.From(new Error(ErrorKind.Unavailable, ex.Code, $"The package of {app.Name} {version.Version} could not be fetched from its repo: {ex.Message}"));
        }
        catch (PackageException ex)
        {
            return Problems.From(new Error(ErrorKind.Unavailable, ex.Code, $"The package of {app.Name} {version.Version} is not usable: {ex.Message}"));
        }

        var locales = new SortedDictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (path, content) in files)
        {
            if (!path.StartsWith("locale/", StringComparison.Ordinal) || !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.Count(c => c == '/') != 1)
            {
                continue;
            }

            if (ReadLocale(content) is { } map)
            {
                locales[path["locale/".Length..^".json".Length].Replace('_', '-').ToLowerInvariant()] = map;
            }
        }

        return TypedResults.Ok(new AppVersionLocalesDto(version.Id, locales));
    }

    private static async Task<Results<Ok<AppVersionDto>, ProblemHttpResult>> TransitionAsync(
        string id, string action, VersionActionRequest? request, Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var version = await db.AppVersions.SingleOrDefaultAsync(v => v.Id == id, cancellationToken);
        var repo = version is null ? null : await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == version.RepoId, cancellationToken);
        var principal = caller.Principal;
        if (version is null || repo is null || !(CatalogAccess.CanSeeVersion(principal, repo, version) || CatalogAccess.CanReview(principal, repo)))
        {
            return Problems.From(Error.NotFound(VersionType, id));
        }

        if (request?.Message is { Length: > 2048 })
        {
            return Problems.From(new FieldErrors().Add("message", "At most 2048 characters.").ToError()!);
        }

        var lastSuspend = await db.AppVersionEvents.AsNoTracking().Where(e => e.VersionId == id && e.Action == "suspend").OrderByDescending(e => e.At).FirstOrDefaultAsync(cancellationToken);
        var next = ReviewWorkflow.Check(action, principal, repo, version, request?.Message, lastSuspend?.ByReviewer ?? false);
        if (!next.IsSuccess)
        {
            return Problems.From(next.Error!);
        }

        var now = time.GetUtcNow();
        var from = version.Status;
        version.Status = next.Value!;
        version.StatusChangedAt = now;
        version.UpdatedAt = now;
        if (request?.Message is { } message)
        {
            version.Message = message;
        }

        db.AppVersionEvents.Add(new AppVersionEvent
        {
            Id = Id.New(IdPrefix.AppVersionEvent),
            VersionId = version.Id,
            AppId = version.AppId,
            Action = action,
            FromStatus = from,
            ToStatus = version.Status,
            ActorId = principal.UserId,
            ActorName = principal.Name,
            ByReviewer = CatalogAccess.CanReview(principal, repo),
            Message = request?.Message,
            At = now,
        });
        var app = await db.Apps.SingleAsync(a => a.Id == version.AppId, cancellationToken);
        await AppCatalog.RefreshAsync(db, app, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(AppVersionDto.From(version, app.Name));
    }

    /// <summary>Anonymous callers of a non-public resource are asked to sign in rather than told it does not exist.</summary>
    internal static Error Unauthenticated() =>
        new(ErrorKind.Unauthenticated, "auth.unauthenticated", "Sign in first: send 'Authorization: Bearer <token>', or Basic with a personal API token.");

    /// <summary>An app the caller may see (see <see cref="CatalogAccess"/>); others are not found.</summary>
    internal static async Task<Result<(App App, Repo Repo)>> FindAppAsync(PitrixDbContext db, string id, Principal? principal, CancellationToken cancellationToken)
    {
        var app = await db.Apps.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        var repo = app is null ? null : await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == app.RepoId, cancellationToken);
        if (app is null || repo is null || !CatalogAccess.CanRead(principal, repo)
            || (app.ActiveVersionId is null && (principal is null || !CatalogAccess.CanAuthor(principal, repo))))
        {
            return Error.NotFound(AppType, id);
        }

        return (app, repo);
    }

    internal static async Task<Result<(AppVersion Version, App App, Repo Repo)>> FindVersionAsync(PitrixDbContext db, string id, Principal? principal, CancellationToken cancellationToken)
    {
        var version = await db.AppVersions.AsNoTracking().SingleOrDefaultAsync(v => v.Id == id, cancellationToken);
        var repo = version is null ? null : await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == version.RepoId, cancellationToken);
        if (version is null || repo is null || !CatalogAccess.CanSeeVersion(principal, repo, version))
        {
            return Error.NotFound(VersionType, id);
        }

        var app = await db.Apps.AsNoTracking().SingleAsync(a => a.Id == version.AppId, cancellationToken);
        return (version, app, repo);
    }

    private static async Task<AppVersionDetailDto> DetailAsync(PitrixDbContext db, AppVersion version, string appName, Repo repo, ProviderRegistry registry, CancellationToken cancellationToken)
    {
        var config = await BlobStore.GetTextAsync(db, version.ConfigDigest, cancellationToken);
        var schema = await BlobStore.GetTextAsync(db, version.ValuesSchemaDigest, cancellationToken);
        return new AppVersionDetailDto(
            AppVersionDto.From(version, appName),
            await BlobStore.GetTextAsync(db, version.ReadmeDigest, cancellationToken),
            ParseJson(config),
            await BlobStore.GetTextAsync(db, version.ValuesDigest, cancellationToken),
            ParseJson(schema),
            RuntimeMatching.ProvidersOf(repo, version.Format, registry.All.Select(p => p.Name)));
    }

    /// <summary>A locale file's string entries (the last of repeated keys wins); null when it is not a JSON object.</summary>
    private static Dictionary<string, string>? ReadLocale(byte[] content)
    {
        try
        {
            // From a stream, so a byte order mark is skipped.
            using var stream = new MemoryStream(content, writable: false);
            using var document = System.Text.Json.JsonDocument.Parse(stream);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                return null;
            }

            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject().Where(e => e.Value.ValueKind == System.Text.Json.JsonValueKind.String))
            {
                map[entry.Name] = entry.Value.GetString()!;
            }

            return map;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static JsonNode? ParseJson(string? text)
    {
        try
        {
            return text is null ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static async Task<List<AppDto>> ToDtosAsync(PitrixDbContext db, List<App> apps, CancellationToken cancellationToken, CatalogScope? scope = null)
    {
        if (apps.Count == 0)
        {
            return [];
        }

        var ids = apps.Select(a => a.Id).ToList();
        var repoIds = apps.Select(a => a.RepoId).Distinct().ToList();
        var categories = await db.AppCategories.AsNoTracking().Where(c => ids.Contains(c.AppId))
            .Join(db.Categories, ac => ac.CategoryId, c => c.Id, (ac, c) => new { ac.AppId, c.Id, c.Name })
            .ToListAsync(cancellationToken);
        var repoNames = scope is not null && repoIds.All(scope.Repos.ContainsKey)
            ? repoIds.ToDictionary(id => id, id => scope.Repos[id].Name, StringComparer.Ordinal)
            : await db.Repos.AsNoTracking().Where(r => repoIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.Name, cancellationToken);
        var byApp = categories.ToLookup(c => c.AppId);
        return apps.Select(a => new AppDto(
            a.Id, a.RepoId, repoNames.GetValueOrDefault(a.RepoId) ?? "", a.Name, a.Format, a.Description, CatalogLinks.Icon(a.Icon, a.Id), a.Home, a.Keywords, a.Maintainers, a.Sources, a.Screenshots,
            a.Status, a.LatestVersion, a.LatestVersionId, a.ActiveVersion, a.ActiveVersionId,
            byApp[a.Id].Select(c => new CategoryRef(c.Id, c.Name)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList(), a.OwnerId, a.CreatedAt, a.UpdatedAt)).ToList();
    }
}
