using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Access;
using Pitrix.Core.Catalog;
using Pitrix.Core.Identity;
using Pitrix.Persistence;

namespace Pitrix.Catalog;

/// <summary>
/// What part of the catalog a caller sees. Apps and versions have no visibility of their own: they
/// are as visible as their repo. In a readable repo a user sees only active versions; those who may
/// author in the repo (its managers and the developers of its group) also see versions in the workflow.
/// </summary>
public sealed record CatalogScope(IReadOnlyList<string> ReadableRepoIds, IReadOnlyList<string> AuthoredRepoIds)
{
    /// <summary>The readable repos themselves, so callers need not load them again.</summary>
    public IReadOnlyDictionary<string, Repo> Repos { get; init; } = new Dictionary<string, Repo>();
}

public static class CatalogAccess
{
    /// <summary>May add and change versions in the repo: its managers, and developers of its group.</summary>
    public static bool CanAuthor(Principal principal, Repo repo) =>
        AccessPolicy.CanManage(principal, repo)
        || (principal.HasRole(Role.Developer) && repo.GroupId is not null && principal.MemberGroupIds.Contains(repo.GroupId));

    /// <summary>
    /// May review versions in the repo: admins, and for repos that are not public the <c>isv</c> managing
    /// the repo's group (a vendor approving releases for its own organization).
    /// </summary>
    public static bool CanReview(Principal principal, Repo repo) =>
        principal.IsAdmin
        || (repo.Visibility != Visibility.Public && principal.HasRole(Role.Isv) && repo.GroupId is not null && principal.ManagedGroupIds.Contains(repo.GroupId));

    /// <summary>Anonymous callers (<paramref name="principal"/> null) see public repos only.</summary>
    public static bool CanRead(Principal? principal, Repo repo) =>
        principal is null ? repo.Visibility == Visibility.Public : AccessPolicy.CanRead(principal, repo);

    public static bool CanSeeVersion(Principal? principal, Repo repo, AppVersion version) =>
        CanRead(principal, repo) && (version.Status == AppVersionStatus.Active || (principal is not null && CanAuthor(principal, repo)));

    /// <summary>Computes the caller's scope. Repos are few, so the policy is evaluated in memory — the same code that checks single resources.</summary>
    public static async Task<CatalogScope> ScopeAsync(PitrixDbContext db, Principal? principal, CancellationToken cancellationToken)
    {
        var repos = await db.Repos.AsNoTracking().ToListAsync(cancellationToken);
        var readable = repos.Where(r => CanRead(principal, r)).ToList();
        return new CatalogScope(
            readable.Select(r => r.Id).ToList(),
            principal is null ? [] : readable.Where(r => CanAuthor(principal, r)).Select(r => r.Id).ToList())
        {
            Repos = readable.ToDictionary(r => r.Id, StringComparer.Ordinal),
        };
    }

    /// <summary>Apps the scope sees: every app of an authored repo, and apps with an active version in other readable repos.</summary>
    public static IQueryable<App> Visible(this IQueryable<App> apps, CatalogScope scope)
    {
        var readable = scope.ReadableRepoIds;
        var authored = scope.AuthoredRepoIds;
        return apps.Where(a => authored.Contains(a.RepoId) || (readable.Contains(a.RepoId) && a.ActiveVersionId != null));
    }

    /// <summary>Versions the scope sees.</summary>
    public static IQueryable<AppVersion> Visible(this IQueryable<AppVersion> versions, CatalogScope scope)
    {
        var readable = scope.ReadableRepoIds;
        var authored = scope.AuthoredRepoIds;
        return versions.Where(v => authored.Contains(v.RepoId) || (readable.Contains(v.RepoId) && v.Status == AppVersionStatus.Active));
    }
}
