using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Catalog;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Packages.Repos;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>
/// Every repo as a Helm repository: <c>helm repo add NAME …/api/v1/repos/{id}</c> reads this index of
/// the repo's active charts, whose URLs point at the package download endpoint (<c>?format=all</c> adds
/// the other formats, marked with Pitrix's <c>format</c> field). Public repos need no
/// credentials; others take Basic authentication with a personal API token as the password.
/// </summary>
public static class HelmRepoEndpoints
{
    public static void MapHelmRepoEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/repos/{id}/index.yaml", IndexAsync).WithTags("Repos").WithName("repo.index")
            .WithMetadata(new ResourceTypeMetadata("repo")).AllowAnonymous();
    }

    private static async Task<IResult> IndexAsync(string id, string? format, HttpContext context, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var principal = Caller.Find(context)?.Principal;
        var repo = await db.Repos.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (repo is null || !CatalogAccess.CanRead(principal, repo))
        {
            if (principal is null)
            {
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"Pitrix\", Bearer";
                return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.unauthenticated", "This repo is not public: use your user name and a personal API token (helm repo add --username NAME --password pxt_…)."));
            }

            return Problems.From(Error.NotFound("repo", id));
        }

        // Helm rejects unknown fields, so the default index is charts only and has no Pitrix fields; other
        // formats (for another Pitrix reading this one) are listed with ?format=all or ?format=vmcluster.
        var wanted = format ?? "helm";
        var extended = wanted != "helm";
        var query = db.AppVersions.AsNoTracking().Where(v => v.RepoId == id && v.Status == AppVersionStatus.Active);
        if (wanted != "all")
        {
            query = query.Where(v => v.Format == wanted);
        }

        // Newest first within each chart, by the semver sort key stored with each version.
        var rows = await query.Join(db.Apps, v => v.AppId, a => a.Id, (v, a) => new { Version = v, AppName = a.Name })
            .OrderByDescending(x => x.Version.SortKey).ToListAsync(cancellationToken);
        var request = context.Request;
        var baseUrl = $"{request.Scheme}://{request.Host}{request.PathBase}/api/v1";
        var index = new RepoIndex { Generated = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffK", CultureInfo.InvariantCulture) };
        foreach (var row in rows)
        {
            var v = row.Version;
            var metadata = new Dictionary<string, object?>(StringComparer.Ordinal) { ["apiVersion"] = v.Format == "helm" ? "v2" : "v1" };
            if (extended)
            {
                metadata["format"] = v.Format;
            }

            Put(metadata, "appVersion", v.AppVersionLabel);
            Put(metadata, "description", v.Description);
            Put(metadata, "home", v.Home);
            Put(metadata, "icon", v.Icon is { } icon && icon.StartsWith("blob:", StringComparison.Ordinal) ? $"{baseUrl}/apps/{v.AppId}/icon" : v.Icon);
            if (v.Keywords.Count > 0)
            {
                metadata["keywords"] = v.Keywords.Cast<object?>().ToList();
            }

            if (v.Sources.Count > 0)
            {
                metadata["sources"] = v.Sources.Cast<object?>().ToList();
            }

            if (v.Maintainers.Count > 0)
            {
                metadata["maintainers"] = v.Maintainers.Select(m => (object?)new Dictionary<string, object?> { ["name"] = m.Name, ["email"] = m.Email, ["url"] = m.Url }
                    .Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)).ToList();
            }

            index.Entries.TryAdd(row.AppName, []);
            index.Entries[row.AppName].Add(new IndexEntry
            {
                Name = row.AppName,
                Version = v.Version,
                Urls = [$"{baseUrl}/app_versions/{v.Id}/package/{row.AppName}-{v.Version}.tgz"],
                Digest = v.PackageDigest ?? v.Digest,
                Created = v.Created ?? v.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffK", CultureInfo.InvariantCulture),
                Metadata = metadata,
            });
        }

        return Results.Text(index.ToYaml(), "application/x-yaml", Encoding.UTF8);
    }

    private static void Put(Dictionary<string, object?> metadata, string key, string? value)
    {
        if (value is not null)
        {
            metadata[key] = value;
        }
    }
}
