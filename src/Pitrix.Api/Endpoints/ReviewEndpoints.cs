using System.Linq.Expressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Catalog;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Core.Identity;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>
/// The review queue: app versions across every app that the caller may review (admins: all; an isv: the
/// non-public repos of the groups they manage), by status. The actions on one version stay
/// <c>POST /app_versions/{id}:review|pass|reject</c>.
/// </summary>
public static class ReviewEndpoints
{
    private static readonly string[] DefaultStatuses = [AppVersionStatus.Submitted, AppVersionStatus.InReview];

    private static readonly Dictionary<string, Expression<Func<AppVersion, object?>>> SortKeys = new(StringComparer.Ordinal)
    {
        ["status_changed_at"] = v => v.StatusChangedAt,
        ["created_at"] = v => v.CreatedAt,
    };

    public static void MapReviewEndpoints(this IEndpointRouteBuilder api) =>
        api.MapGet("/reviews", ListAsync).WithTags("Apps").WithName("review.list").WithMetadata(new ResourceTypeMetadata("app_version"));

    /// <summary>
    /// <c>status</c> is a comma-separated list (default <c>submitted,in_review</c>; <c>any</c> for all);
    /// <c>q</c> matches the app's name; the oldest change of status comes first unless <c>sort</c> says otherwise.
    /// </summary>
    private static async Task<Results<Ok<Page<ReviewItemDto>>, ProblemHttpResult>> ListAsync(
        ListQuery list, string? status, Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var principal = caller.Principal;
        if (!principal.IsAdmin && !principal.HasRole(Role.Isv))
        {
            return Problems.From(Error.Forbidden("access.role_required", "The review queue is for admins and isvs."));
        }

        var errors = new FieldErrors();
        if (list.Validate(SortKeys.Keys) is { } invalid)
        {
            return Problems.From(invalid);
        }

        var statuses = status is null ? DefaultStatuses : status.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var any = statuses.Contains("any", StringComparer.Ordinal);
        foreach (var unknown in statuses.Where(s => s != "any" && !AppVersionStatus.All.Contains(s, StringComparer.Ordinal)))
        {
            errors.Add("status", $"Unknown status '{unknown}'; statuses are {string.Join(", ", AppVersionStatus.All)} (or any).");
        }

        if (errors.ToError() is { } badStatus)
        {
            return Problems.From(badStatus);
        }

        // Repos are few: the review policy is evaluated in memory, the same code that checks each action.
        var repos = await db.Repos.AsNoTracking().ToListAsync(cancellationToken);
        var reviewable = repos.Where(r => CatalogAccess.CanReview(principal, r)).ToDictionary(r => r.Id, StringComparer.Ordinal);
        var repoIds = reviewable.Keys.ToList();
        var query = db.AppVersions.AsNoTracking().Where(v => repoIds.Contains(v.RepoId));
        if (!any)
        {
            query = query.Where(v => statuses.Contains(v.Status));
        }

        if (list.Q is { } q)
        {
            var term = q.ToLowerInvariant();
            query = query.Where(v => db.Apps.Any(a => a.Id == v.AppId && a.Name.ToLower().Contains(term)));
        }

        var page = await query.ToPageAsync(list with { Sort = list.Sort ?? "status_changed_at" }, SortKeys, v => v, cancellationToken);
        var versionIds = page.Items.Select(v => v.Id).ToList();
        var appIds = page.Items.Select(v => v.AppId).Distinct().ToList();
        var ownerIds = page.Items.Select(v => v.OwnerId).Distinct().ToList();
        var apps = await db.Apps.AsNoTracking().Where(a => appIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        var owners = await db.Users.AsNoTracking().Where(u => ownerIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Name, cancellationToken);
        var submits = (await db.AppVersionEvents.AsNoTracking().Where(e => versionIds.Contains(e.VersionId) && e.Action == "submit").Select(e => new { e.VersionId, e.At }).ToListAsync(cancellationToken))
            .GroupBy(e => e.VersionId).ToDictionary(g => g.Key, g => g.Max(e => e.At), StringComparer.Ordinal);
        var items = page.Items.Select(v =>
        {
            var dto = AppVersionDto.From(v, apps.GetValueOrDefault(v.AppId) ?? "");
            return new ReviewItemDto(dto, reviewable[v.RepoId].Name, owners.GetValueOrDefault(v.OwnerId), submits.TryGetValue(v.Id, out var at) ? at : null);
        }).ToList();
        return TypedResults.Ok(new Page<ReviewItemDto>(items, page.Total, page.Limit, page.Offset));
    }
}

/// <summary>A version in the review queue, with what a reviewer scans for: its repo, its developer, when it was submitted.</summary>
public sealed record ReviewItemDto : AppVersionDto
{
    public ReviewItemDto(AppVersionDto version, string repoName, string? ownerName, DateTimeOffset? submittedAt)
        : base(version)
    {
        RepoName = repoName;
        OwnerName = ownerName;
        SubmittedAt = submittedAt;
    }

    public string RepoName { get; init; }

    /// <summary>The developer who uploaded the version; null when that account is gone.</summary>
    public string? OwnerName { get; init; }

    /// <summary>The last time it was submitted for review; null when it never was.</summary>
    public DateTimeOffset? SubmittedAt { get; init; }
}
