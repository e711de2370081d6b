namespace Pitrix.Core.Catalog;

/// <summary>Status of an app version. Only <see cref="Active"/> versions are in the store for users.</summary>
public static class AppVersionStatus
{
    public const string Draft = "draft";
    public const string Submitted = "submitted";
    public const string InReview = "in_review";
    public const string Passed = "passed";
    public const string Rejected = "rejected";
    public const string Active = "active";
    public const string Suspended = "suspended";

    /// <summary>Gone from the repo's index; kept so clusters using it still resolve.</summary>
    public const string Removed = "removed";
    public const string Deleted = "deleted";

    public static readonly IReadOnlyList<string> All = [Draft, Submitted, InReview, Passed, Rejected, Active, Suspended, Removed, Deleted];
}

/// <summary>Whether a version's package was read for readme, schema, values and icon.</summary>
public static class DetailsStatus
{
    public const string Pending = "pending";
    public const string Stored = "stored";
    public const string Failed = "failed";

    /// <summary>The repo's fetch policy leaves this version's package unread until it is downloaded.</summary>
    public const string Skipped = "skipped";
}

public sealed record Maintainer(string Name, string? Email = null, string? Url = null);

/// <summary>
/// An app: the versions of one package name within one repo. Its descriptive fields come from the
/// newest active version (or the newest version while none is active) and are refreshed whenever a
/// version changes status; <see cref="Status"/> is derived the same way.
/// </summary>
public sealed class App
{
    public required string Id { get; init; }

    public required string RepoId { get; init; }

    public required string Name { get; init; }

    /// <summary><c>helm</c> or <c>vmcluster</c>.</summary>
    public required string Format { get; set; }

    public string? Description { get; set; }

    /// <summary>An <c>http(s)</c> URL, or <c>blob:sha256:…</c> for an icon stored from the package.</summary>
    public string? Icon { get; set; }

    public string? Home { get; set; }

    public List<string> Keywords { get; set; } = [];

    public List<Maintainer> Maintainers { get; set; } = [];

    public List<string> Sources { get; set; } = [];

    public List<string> Screenshots { get; set; } = [];

    /// <summary>Keywords and maintainer names as one string, indexed by full-text search.</summary>
    public string SearchText { get; set; } = "";

    /// <summary>active, suspended, draft (has versions, none released), removed or deleted (no visible versions).</summary>
    public required string Status { get; set; }

    public string? LatestVersionId { get; set; }

    public string? LatestVersion { get; set; }

    public string? ActiveVersionId { get; set; }

    public string? ActiveVersion { get; set; }

    public string? ReadmeDigest { get; set; }

    /// <summary>User who uploaded it, or the repo owner for synced apps.</summary>
    public required string OwnerId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One immutable package version of an app.</summary>
public sealed class AppVersion
{
    public required string Id { get; init; }

    public required string AppId { get; init; }

    public required string RepoId { get; init; }

    /// <summary>The package version (semver).</summary>
    public required string Version { get; init; }

    /// <summary>A key that sorts like semver precedence as an ordinal string.</summary>
    public required string SortKey { get; init; }

    /// <summary>The version of the software packaged (Helm's <c>appVersion</c>).</summary>
    public string? AppVersionLabel { get; set; }

    public required string Format { get; set; }

    public required string Status { get; set; }

    public DateTimeOffset StatusChangedAt { get; set; }

    public string? Description { get; set; }

    public string? Icon { get; set; }

    public string? Home { get; set; }

    public List<string> Keywords { get; set; } = [];

    public List<Maintainer> Maintainers { get; set; } = [];

    public List<string> Sources { get; set; } = [];

    /// <summary>Screenshot URLs from the package.</summary>
    public List<string> Screenshots { get; set; } = [];

    /// <summary>Where the package is fetched from (absolute URL); null for uploads.</summary>
    public string? PackageUrl { get; set; }

    /// <summary>sha256 the index promises (lower-case hex); verified on fetch.</summary>
    public string? Digest { get; set; }

    /// <summary>sha256 of the stored package blob, once fetched or uploaded.</summary>
    public string? PackageDigest { get; set; }

    public long? PackageSize { get; set; }

    public string? Created { get; set; }

    /// <summary>Hash of the index entry last applied; an unchanged entry is not written again.</summary>
    public string? EntryFingerprint { get; set; }

    public required string DetailsStatus { get; set; }

    public string? DetailsError { get; set; }

    public string? ReadmeDigest { get; set; }

    /// <summary>vmcluster <c>config.json</c>.</summary>
    public string? ConfigDigest { get; set; }

    /// <summary>Helm <c>values.yaml</c>.</summary>
    public string? ValuesDigest { get; set; }

    /// <summary>Helm <c>values.schema.json</c>.</summary>
    public string? ValuesSchemaDigest { get; set; }

    /// <summary>Release notes or the last review message.</summary>
    public string? Message { get; set; }

    public required string OwnerId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One status change of a version: who, when, why. Append-only.</summary>
public sealed class AppVersionEvent
{
    public required string Id { get; init; }

    public required string VersionId { get; init; }

    public required string AppId { get; init; }

    public required string Action { get; init; }

    public string? FromStatus { get; init; }

    public required string ToStatus { get; init; }

    public required string ActorId { get; init; }

    public required string ActorName { get; init; }

    /// <summary>The actor acted as a reviewer (a reviewer's suspension is lifted only by a reviewer).</summary>
    public bool ByReviewer { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset At { get; init; }
}

/// <summary>A store category with names per locale.</summary>
public sealed class Category
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    /// <summary>Localized names by locale (<c>en</c>, <c>zh-cn</c>…).</summary>
    public Dictionary<string, string> Locale { get; set; } = new(StringComparer.Ordinal);

    public string? Description { get; set; }

    /// <summary>An <c>http(s)</c> or <c>data:image/…</c> URL.</summary>
    public string? Icon { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class AppCategory
{
    public required string AppId { get; init; }

    public required string CategoryId { get; init; }
}

/// <summary>Content-addressed bytes (packages, readmes, schemas, icons), stored once per digest.</summary>
public sealed class Blob
{
    /// <summary>Lower-case hex sha256 of <see cref="Content"/>.</summary>
    public required string Digest { get; init; }

    public required string MediaType { get; init; }

    public long Size { get; init; }

    public required byte[] Content { get; init; }
}
