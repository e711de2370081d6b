using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Catalog;
using Pitrix.Persistence;

namespace Pitrix.Catalog.Apps;

/// <summary>Derives an app's fields and status from its versions.</summary>
public static class AppCatalog
{
    private static readonly HashSet<string> InProgress = new(StringComparer.Ordinal)
    {
        AppVersionStatus.Draft, AppVersionStatus.Submitted, AppVersionStatus.InReview, AppVersionStatus.Passed, AppVersionStatus.Rejected,
    };

    /// <summary>
    /// Updates <paramref name="app"/> from <paramref name="versions"/> (all of its versions): descriptive
    /// fields from the newest active version, or the newest live one while none is active; status active if
    /// any version is, else suspended, else draft while any is in the workflow, else removed, else deleted.
    /// Returns whether anything changed.
    /// </summary>
    public static bool Apply(App app, IReadOnlyCollection<AppVersion> versions, DateTimeOffset now)
    {
        var newestFirst = versions.OrderByDescending(v => v.SortKey, StringComparer.Ordinal).ToList();
        var active = newestFirst.FirstOrDefault(v => v.Status == AppVersionStatus.Active);
        var live = newestFirst.FirstOrDefault(v => v.Status is not (AppVersionStatus.Deleted or AppVersionStatus.Removed));
        var status = active is not null ? "active"
            : newestFirst.Any(v => v.Status == AppVersionStatus.Suspended) ? "suspended"
            : newestFirst.Any(v => InProgress.Contains(v.Status)) ? "draft"
            : newestFirst.Any(v => v.Status == AppVersionStatus.Removed) ? "removed"
            : "deleted";
        var source = active ?? live ?? newestFirst.FirstOrDefault();
        var before = (app.Status, app.ActiveVersionId, app.LatestVersionId, app.Description, app.Icon, app.Home, app.SearchText, app.Format, app.ReadmeDigest,
            string.Join('\n', app.Keywords), string.Join('\n', app.Sources), string.Join('\n', app.Maintainers), string.Join('\n', app.Screenshots));
        app.Status = status;
        app.ActiveVersionId = active?.Id;
        app.ActiveVersion = active?.Version;
        app.LatestVersionId = live?.Id;
        app.LatestVersion = live?.Version;
        if (source is not null)
        {
            app.Format = source.Format;
            app.Description = source.Description;
            app.Icon = source.Icon;
            app.Home = source.Home;
            app.Keywords = source.Keywords.ToList();
            app.Maintainers = source.Maintainers.ToList();
            app.Sources = source.Sources.ToList();
            app.Screenshots = source.Screenshots.ToList();
            app.ReadmeDigest = source.ReadmeDigest ?? app.ReadmeDigest;
            app.SearchText = SearchText(source.Keywords, source.Maintainers);
        }

        var after = (app.Status, app.ActiveVersionId, app.LatestVersionId, app.Description, app.Icon, app.Home, app.SearchText, app.Format, app.ReadmeDigest,
            string.Join('\n', app.Keywords), string.Join('\n', app.Sources), string.Join('\n', app.Maintainers), string.Join('\n', app.Screenshots));
        if (before == after)
        {
            return false;
        }

        app.UpdatedAt = now;
        return true;
    }

    /// <summary>Loads the app's versions and applies <see cref="Apply"/>; the caller saves.</summary>
    public static async Task RefreshAsync(PitrixDbContext db, App app, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var versions = await db.AppVersions.Where(v => v.AppId == app.Id).ToListAsync(cancellationToken);

        // Include changes made in this unit of work but not saved yet.
        var pending = db.ChangeTracker.Entries<AppVersion>().Where(e => e.Entity.AppId == app.Id && e.State != EntityState.Deleted).Select(e => e.Entity);
        Apply(app, versions.Concat(pending).DistinctBy(v => v.Id).ToList(), now);
    }

    /// <summary>The text full-text search indexes besides name and description.</summary>
    public static string SearchText(IEnumerable<string> keywords, IEnumerable<Maintainer> maintainers) =>
        string.Join(' ', keywords.Concat(maintainers.Select(m => m.Name)));
}
