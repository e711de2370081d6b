using Pitrix.Core.Access;

namespace Pitrix.Core.Catalog;

/// <summary>Where a repo's packages come from.</summary>
public static class RepoType
{
    /// <summary>A directory on the server holding <c>index.yaml</c> and packages (<c>file://</c>).</summary>
    public const string File = "file";

    /// <summary>A Helm-style repo served over <c>http://</c> or <c>https://</c>.</summary>
    public const string Http = "http";

    /// <summary>No source: versions arrive by upload (<c>POST /apps</c>) and go through review.</summary>
    public const string Upload = "upload";
}

/// <summary>How much of each package a sync fetches beyond what the index says.</summary>
public static class PackageFetchPolicy
{
    /// <summary>Every version's package: readme, config schema, values and icon are stored.</summary>
    public const string All = "all";

    /// <summary>Only the newest version of each app (large public repos).</summary>
    public const string Latest = "latest";

    /// <summary>Index metadata only; a package is fetched when first downloaded.</summary>
    public const string None = "none";

    public static readonly IReadOnlyList<string> Values = [All, Latest, None];
}

/// <summary>
/// A place holding app packages. Visibility <see cref="Visibility.Group"/> shares the repo with
/// <see cref="GroupIds"/> (and their subgroups); <see cref="IOwnedResource.GroupId"/> is the group
/// that owns it, whose <c>isv</c> manages it and whose developers upload to it.
/// </summary>
public sealed class Repo : IOwnedResource, ISharedWithGroups
{
    public const int DefaultSyncIntervalSeconds = 1800;

    public required string Id { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary><see cref="RepoType"/>.</summary>
    public required string Type { get; set; }

    /// <summary>Null for upload repos.</summary>
    public string? Url { get; set; }

    /// <summary>Basic-auth or bearer credential, encrypted by the server's key ring; null when none.</summary>
    public string? CredentialCiphertext { get; set; }

    /// <summary>
    /// PEM bundle of the CAs trusted for this repo (public data, not a secret). TLS verification cannot be
    /// switched off; a self-signed repo gives its certificate here.
    /// </summary>
    public string? CaBundlePem { get; set; }

    public List<string> Providers { get; set; } = [];

    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Label selectors (Kubernetes syntax) every runtime must satisfy; all must match.</summary>
    public List<string> Selectors { get; set; } = [];

    /// <summary>Groups the repo is shared with when visibility is <c>group</c>.</summary>
    public List<string> GroupIds { get; set; } = [];

    IReadOnlyCollection<string> ISharedWithGroups.SharedGroupIds => GroupIds;

    /// <summary>Seconds between scheduled syncs; 0 syncs only on demand or by webhook.</summary>
    public int SyncIntervalSeconds { get; set; } = DefaultSyncIntervalSeconds;

    /// <summary><see cref="AppVersionStatus.Draft"/> or <see cref="AppVersionStatus.Active"/> for versions a sync discovers.</summary>
    public string DefaultStatus { get; set; } = AppVersionStatus.Active;

    /// <summary><see cref="PackageFetchPolicy"/>.</summary>
    public string FetchPackages { get; set; } = PackageFetchPolicy.All;

    /// <summary>Webhook secret, encrypted; null until one is generated.</summary>
    public string? WebhookSecretCiphertext { get; set; }

    public required string OwnerId { get; init; }

    public string? GroupId { get; set; }

    public Visibility Visibility { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Instance holding the sync lease, and when it lapses (another instance may then take over).</summary>
    public string? SyncLeaseOwner { get; set; }

    public DateTimeOffset? SyncLeaseExpiresAt { get; set; }

    /// <summary>When the scheduler syncs next; null when the interval is 0.</summary>
    public DateTimeOffset? NextSyncAt { get; set; }

    public string? IndexETag { get; set; }

    public DateTimeOffset? IndexLastModified { get; set; }

    /// <summary>sha256 of the last index applied; an unchanged index is not parsed again.</summary>
    public string? IndexDigest { get; set; }

    public string? LastSyncId { get; set; }

    public string? LastSyncStatus { get; set; }

    public DateTimeOffset? LastSyncAt { get; set; }

    public string? LastSyncError { get; set; }
}

/// <summary>Why a sync ran.</summary>
public static class SyncTrigger
{
    public const string Created = "created";
    public const string Schedule = "schedule";
    public const string Manual = "manual";
    public const string Webhook = "webhook";
}

public static class SyncStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";

    /// <summary>Some packages failed; the rest was applied.</summary>
    public const string PartiallySucceeded = "partially_succeeded";
    public const string Failed = "failed";
}

/// <summary>One sync of a repo: when, why, what changed and what failed.</summary>
public sealed class RepoSync
{
    public required string Id { get; init; }

    public required string RepoId { get; init; }

    public required string Trigger { get; init; }

    public string? RequestedBy { get; init; }

    public required string Status { get; set; }

    public DateTimeOffset QueuedAt { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Instance that ran it.</summary>
    public string? Worker { get; set; }

    /// <summary>The index was not modified (304) or its digest was unchanged: nothing was parsed.</summary>
    public bool Unchanged { get; set; }

    public int Added { get; set; }

    public int Updated { get; set; }

    public int Removed { get; set; }

    public int Failed { get; set; }

    /// <summary>Packages fetched for details in this sync.</summary>
    public int PackagesFetched { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>Per-package errors (at most <see cref="MaxErrors"/>).</summary>
    public List<SyncError> Errors { get; set; } = [];

    public const int MaxErrors = 200;
}

public sealed record SyncError(string App, string Version, string Code, string Message);
