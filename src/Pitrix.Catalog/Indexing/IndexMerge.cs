using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pitrix.Catalog.Apps;
using Pitrix.Core;
using Pitrix.Core.Catalog;
using Pitrix.Core.Versioning;
using Pitrix.Packages.Repos;

namespace Pitrix.Catalog.Indexing;

/// <summary>The rows a merge creates or changes; everything else stays as it was.</summary>
public sealed class MergePlan
{
    public List<App> NewApps { get; } = [];

    public List<App> ChangedApps { get; } = [];

    public List<AppVersion> NewVersions { get; } = [];

    public List<AppVersion> ChangedVersions { get; } = [];
}

/// <summary>
/// Merges a parsed index into a repo's apps and versions in memory: apps by name, versions by (app,
/// version), only entries whose fingerprint changed are rewritten, versions missing from the index are
/// marked removed (never deleted) and come back to the repo's default status when they reappear.
/// Bad entries become per-package errors and leave their existing rows untouched.
/// </summary>
public static class IndexMerge
{
    private const int MaxNameLength = 128;
    private const int MaxUrlLength = 2048;

    public static MergePlan Apply(Repo repo, RepoIndex index, IReadOnlyList<App> apps, IReadOnlyList<AppVersion> versions, SyncReport report, DateTimeOffset now)
    {
        var plan = new MergePlan();
        var repoBase = RepoSource.BaseUri(repo.Url ?? throw new InvalidOperationException("An upload repo has no index."));
        var appsByName = apps.ToDictionary(a => a.Name, StringComparer.Ordinal);
        var versionsByApp = versions.GroupBy(v => v.AppId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var keepApps = new HashSet<string>(StringComparer.Ordinal);
        var changedVersionIds = new HashSet<string>(StringComparer.Ordinal);
        var touchedApps = new Dictionary<string, App>(StringComparer.Ordinal);

        foreach (var (name, entries) in index.Entries)
        {
            if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
            {
                report.AddError(name, "", "package.name_invalid", $"App names must be 1 to {MaxNameLength} printable characters.");
                keepApps.Add(name);
                continue;
            }

            appsByName.TryGetValue(name, out var app);
            var existing = app is null ? null : versionsByApp.GetValueOrDefault(app.Id)?.ToDictionary(v => v.Version, StringComparer.Ordinal);
            var duplicates = entries.GroupBy(e => e.Version, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var version in duplicates)
            {
                report.AddError(name, version, "package.version_duplicate", $"The index lists {name} {version} more than once; none of them is applied.");
                keep.Add(Key(name, version));
            }

            foreach (var entry in entries)
            {
                if (entry.Removed || duplicates.Contains(entry.Version))
                {
                    continue;
                }

                var key = Key(name, entry.Version);
                if (Validate(repoBase, name, entry, out var packageUrl) is { } error)
                {
                    report.AddError(name, entry.Version, error.Code, error.Message);
                    keep.Add(key);
                    continue;
                }

                present.Add(key);
                var fingerprint = Fingerprint(entry);
                if (app is null)
                {
                    app = new App
                    {
                        Id = Id.New(IdPrefix.App),
                        RepoId = repo.Id,
                        Name = name,
                        Format = FormatOf(entry),
                        Status = AppVersionStatus.Removed,
                        OwnerId = repo.OwnerId,
                        CreatedAt = now,
                        UpdatedAt = now,
                    };
                    appsByName[name] = app;
                    versionsByApp[app.Id] = [];
                    plan.NewApps.Add(app);
                }

                if (existing?.GetValueOrDefault(entry.Version) is not { } current)
                {
                    var created = new AppVersion
                    {
                        Id = Id.New(IdPrefix.AppVersion),
                        AppId = app.Id,
                        RepoId = repo.Id,
                        Version = entry.Version,
                        SortKey = SemVersion.SortKeyOf(entry.Version),
                        Format = FormatOf(entry),
                        Status = repo.DefaultStatus,
                        StatusChangedAt = now,
                        DetailsStatus = DetailsStatus.Pending,
                        OwnerId = repo.OwnerId,
                        CreatedAt = now,
                        UpdatedAt = now,
                    };
                    Fill(created, entry, packageUrl!, fingerprint);
                    plan.NewVersions.Add(created);
                    versionsByApp[app.Id].Add(created);
                    touchedApps[app.Id] = app;
                    report.Added++;
                    continue;
                }

                if (current.Status == AppVersionStatus.Deleted)
                {
                    // Deleted by a manager: the index does not bring it back.
                    continue;
                }

                var changed = false;
                if (current.Status == AppVersionStatus.Removed)
                {
                    current.Status = repo.DefaultStatus;
                    current.StatusChangedAt = now;
                    report.Added++;
                    changed = true;
                }

                if (!string.Equals(current.EntryFingerprint, fingerprint, StringComparison.Ordinal))
                {
                    Fill(current, entry, packageUrl!, fingerprint);
                    if (!changed)
                    {
                        report.Updated++;
                    }

                    changed = true;
                }

                if (changed)
                {
                    current.UpdatedAt = now;
                    if (changedVersionIds.Add(current.Id))
                    {
                        plan.ChangedVersions.Add(current);
                    }

                    touchedApps[app.Id] = app;
                }
            }
        }

        foreach (var app in appsByName.Values)
        {
            if (keepApps.Contains(app.Name) || !versionsByApp.TryGetValue(app.Id, out var appVersions))
            {
                continue;
            }

            foreach (var version in appVersions)
            {
                var key = Key(app.Name, version.Version);
                if (present.Contains(key) || keep.Contains(key) || version.Status is AppVersionStatus.Removed or AppVersionStatus.Deleted)
                {
                    continue;
                }

                version.Status = AppVersionStatus.Removed;
                version.StatusChangedAt = now;
                version.UpdatedAt = now;
                if (changedVersionIds.Add(version.Id))
                {
                    plan.ChangedVersions.Add(version);
                }

                touchedApps[app.Id] = app;
                report.Removed++;
            }
        }

        var newAppIds = plan.NewApps.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var app in touchedApps.Values)
        {
            if (AppCatalog.Apply(app, versionsByApp[app.Id], now) && !newAppIds.Contains(app.Id))
            {
                plan.ChangedApps.Add(app);
            }
        }

        return plan;
    }

    /// <summary>sha256 of the entry's fields in a canonical form (keys sorted at every level).</summary>
    public static string Fingerprint(IndexEntry entry)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", entry.Name);
            writer.WriteString("version", entry.Version);
            writer.WriteString("digest", entry.Digest);
            writer.WriteString("created", entry.Created);
            writer.WritePropertyName("urls");
            WriteCanonical(writer, entry.Urls.Cast<object?>().ToList());
            writer.WritePropertyName("metadata");
            WriteCanonical(writer, entry.Metadata);
            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case IDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    WriteCanonical(writer, item);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable<object?> list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }

    private static (string Code, string Message)? Validate(Uri repoBase, string name, IndexEntry entry, out Uri? packageUrl)
    {
        packageUrl = null;
        if (entry.Version.Length > MaxNameLength || !SemVersion.TryParse(entry.Version, out _))
        {
            return ("package.version_invalid", $"'{Clip(entry.Version, 64)}' is not a semantic version (MAJOR.MINOR.PATCH).");
        }

        if (!string.Equals(entry.Name, name, StringComparison.Ordinal))
        {
            return ("package.name_mismatch", $"The entry is listed under '{name}' but is named '{entry.Name}'.");
        }

        if (entry.Urls.Count == 0 || string.IsNullOrWhiteSpace(entry.Urls[0]))
        {
            return ("package.urls_missing", "The entry has no package URL.");
        }

        if (FormatOf(entry) is not ("helm" or "vmcluster"))
        {
            return ("package.format_unsupported", $"Format '{Clip(FormatOf(entry), 32)}' is not supported; use helm or vmcluster.");
        }

        if (entry.Digest is { } digest && !IsSha256(digest))
        {
            return ("package.digest_invalid", "The digest is not a sha256 in hex.");
        }

        packageUrl = RepoSource.ResolvePackageUrl(repoBase, entry.Urls[0], out var error);
        return error;
    }

    private static void Fill(AppVersion version, IndexEntry entry, Uri packageUrl, string fingerprint)
    {
        var metadata = entry.Metadata;
        var url = packageUrl.AbsoluteUri;
        var digest = entry.Digest?.ToLowerInvariant();
        if (version.EntryFingerprint is not null && (!string.Equals(version.PackageUrl, url, StringComparison.Ordinal) || !string.Equals(version.Digest, digest, StringComparison.Ordinal)))
        {
            // Another package under the same version: what was read from the old one no longer holds.
            version.DetailsStatus = DetailsStatus.Pending;
            version.DetailsError = null;
            version.PackageDigest = null;
            version.PackageSize = null;
        }

        version.Format = FormatOf(entry);
        version.AppVersionLabel = Text(metadata, "appVersion") is { } label ? Clip(label, 128) : null;
        version.Description = Text(metadata, "description");
        var icon = Url(Text(metadata, "icon"));
        if (icon is not null || version.Icon?.StartsWith("blob:", StringComparison.Ordinal) != true)
        {
            version.Icon = icon;
        }

        version.Home = Url(Text(metadata, "home"));
        version.Keywords = Strings(metadata, "keywords");
        var maintainers = Maintainers(metadata);
        if (maintainers.Count > 0 || version.DetailsStatus != DetailsStatus.Stored)
        {
            version.Maintainers = maintainers;
        }

        var sources = Strings(metadata, "sources");
        if (sources.Count > 0 || version.DetailsStatus != DetailsStatus.Stored)
        {
            version.Sources = sources;
        }

        version.PackageUrl = url;
        version.Digest = digest;
        version.Created = entry.Created;
        version.EntryFingerprint = fingerprint;
    }

    private static string FormatOf(IndexEntry entry) => entry.Format ?? "helm";

    private static string Key(string app, string version) => app + "\n" + version;

    private static string? Text(Dictionary<string, object?> metadata, string key) =>
        metadata.GetValueOrDefault(key) is string { Length: > 0 } text ? text : null;

    /// <summary>Only absolute http(s) URLs fit the catalog's URL fields; an icon path inside the package comes from the details phase.</summary>
    private static string? Url(string? text) =>
        text is { Length: <= MaxUrlLength } && Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? text : null;

    private static List<string> Strings(Dictionary<string, object?> metadata, string key) =>
        metadata.GetValueOrDefault(key) is List<object?> list ? list.OfType<string>().Where(s => s.Length > 0).ToList() : [];

    private static List<Maintainer> Maintainers(Dictionary<string, object?> metadata) =>
        metadata.GetValueOrDefault("maintainers") is List<object?> list
            ? list.OfType<Dictionary<string, object?>>()
                .Where(m => m.GetValueOrDefault("name") is string { Length: > 0 })
                .Select(m => new Maintainer((string)m["name"]!, m.GetValueOrDefault("email") as string, m.GetValueOrDefault("url") as string))
                .ToList()
            : [];

    private static bool IsSha256(string digest) => digest.Length == 64 && digest.All(char.IsAsciiHexDigit);

    private static string Clip(string text, int max) => SyncReport.Clip(text, max);
}
