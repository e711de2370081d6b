using System.Text.Json.Nodes;

namespace Pitrix.Web.Client;

// What the administration pages read from the API: only the fields they show. Secrets (credential
// secrets, repo passwords and tokens) have no field here: the API never returns them, and the console
// has nowhere to keep one.

/// <summary>A version in the review queue (<c>GET /api/v1/reviews</c>).</summary>
public sealed record AdminReviewItem(
    string Id,
    string AppId,
    string AppName,
    string RepoId,
    string RepoName,
    string Version,
    string? AppVersion,
    string Format,
    string Status,
    DateTimeOffset StatusChangedAt,
    string? Description,
    string OwnerId,
    string? OwnerName,
    DateTimeOffset? SubmittedAt,
    string? Message,
    DateTimeOffset CreatedAt);

/// <summary>One version with its package's metadata, README, configuration and values (<c>GET /app_versions/{id}</c>).</summary>
public sealed record AdminVersionDetail(
    string Id,
    string AppId,
    string AppName,
    string RepoId,
    string Version,
    string? AppVersion,
    string Format,
    string Status,
    DateTimeOffset StatusChangedAt,
    string? Description,
    string? Home,
    IReadOnlyList<string>? Keywords,
    IReadOnlyList<MaintainerInfo>? Maintainers,
    IReadOnlyList<string>? Sources,
    string? Digest,
    long? PackageSize,
    string DetailsStatus,
    string? DetailsError,
    string? Message,
    string OwnerId,
    DateTimeOffset CreatedAt,
    string? Readme,
    JsonNode? Config,
    string? ValuesYaml,
    JsonNode? ValuesSchema,
    IReadOnlyList<string>? Providers);

/// <summary>One step of a version's review history.</summary>
public sealed record AdminVersionEvent(string Id, string Action, string? FromStatus, string ToStatus, string ActorName, bool ByReviewer, string? Message, DateTimeOffset At);

public sealed record AdminSyncError(string App, string Version, string Code, string Message);

/// <summary>One run of a repo's sync.</summary>
public sealed record AdminRepoSync(
    string Id,
    string RepoId,
    string Trigger,
    string? RequestedBy,
    string Status,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    bool Unchanged,
    int Added,
    int Updated,
    int Removed,
    int Failed,
    int PackagesFetched,
    string? ErrorCode,
    string? ErrorMessage,
    IReadOnlyList<AdminSyncError>? Errors);

/// <summary>A repo with its last sync; <see cref="HasCredential"/> says whether it has one, never what it is.</summary>
public sealed record AdminRepo(
    string Id,
    string Name,
    string? Description,
    string Type,
    string? Url,
    bool HasCredential,
    IReadOnlyList<string> Providers,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> Selectors,
    string Visibility,
    string? GroupId,
    IReadOnlyList<string> GroupIds,
    int SyncIntervalSeconds,
    string DefaultStatus,
    string FetchPackages,
    string OwnerId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextSyncAt,
    AdminRepoSync? LastSync);

/// <summary>What <c>POST /repos:validate</c> found at a URL.</summary>
public sealed record AdminRepoValidation(bool Ok, string Url, int Apps, int Versions, string? ErrorCode, string? ErrorMessage);

/// <summary>A repo to create.</summary>
public sealed record AdminNewRepo(
    string? Name,
    string? Description,
    string? Url,
    IReadOnlyList<string>? Providers,
    string? Visibility,
    IReadOnlyList<string>? GroupIds,
    int? SyncIntervalSeconds,
    string? DefaultStatus,
    AdminRepoCredential? Credential);

/// <summary>Basic or bearer authentication for a repo: sent once, never read back.</summary>
public sealed record AdminRepoCredential(string? Username, string? Password, string? BearerToken);

public sealed record AdminProvider(string Name, string DisplayName, bool RequiresCredential);

public sealed record AdminRuntime(
    string Id,
    string Name,
    string? Description,
    string Provider,
    string Zone,
    string? CredentialId,
    IReadOnlyDictionary<string, string> Labels,
    string OwnerId,
    string? GroupId,
    string Visibility,
    DateTimeOffset CreatedAt);

/// <summary>A runtime credential: its secret is write-only, so only <see cref="HasSecret"/> and when it changed.</summary>
public sealed record AdminCredential(
    string Id,
    string Name,
    string? Description,
    string Provider,
    string? EndpointUrl,
    bool HasSecret,
    DateTimeOffset SecretUpdatedAt,
    string OwnerId,
    string? GroupId,
    string Visibility,
    DateTimeOffset CreatedAt);

public sealed record AdminNewCredential(string? Name, string? Description, string? Provider, string? EndpointUrl, string? Secret, string? Visibility, string? GroupId);

public sealed record AdminNewRuntime(string? Name, string? Description, string? Provider, string? Zone, string? CredentialId, IReadOnlyDictionary<string, string>? Labels, string? Visibility, string? GroupId);

public sealed record AdminRuntimeCheck(string Name, bool Ok, string Message);

/// <summary>The provider's checks of a runtime (<c>POST /runtimes/{id}:validate</c>).</summary>
public sealed record AdminRuntimeValidation(string RuntimeId, string Provider, bool Ok, IReadOnlyList<AdminRuntimeCheck> Checks);

public sealed record AdminCategory(string Id, string Name, string? Description, int AppCount, DateTimeOffset CreatedAt);

public sealed record AdminUser(
    string Id,
    string Name,
    string? DisplayName,
    string? Email,
    bool Disabled,
    IReadOnlyList<string> Roles,
    IReadOnlyList<string> GroupIds,
    DateTimeOffset CreatedAt);

public sealed record AdminNewUser(string? Name, string? Password, string? DisplayName, string? Email, IReadOnlyList<string>? Roles, IReadOnlyList<string>? GroupIds);

public sealed record AdminGroup(string Id, string Name, string? Description, string? ParentId, IReadOnlyList<string>? MemberIds, DateTimeOffset CreatedAt);

public sealed record AdminAuditEntry(
    string Id,
    DateTimeOffset At,
    string? UserId,
    string? UserName,
    string Action,
    string? ResourceType,
    string? ResourceId,
    string? Address,
    string Method,
    string Path,
    int StatusCode,
    string Outcome,
    string? ErrorCode);

/// <summary>The audit log's filters, as <c>GET /api/v1/audit</c> takes them.</summary>
public sealed record AdminAuditQuery(
    string? UserId,
    string? Action,
    string? ResourceType,
    string? ResourceId,
    string? Outcome,
    DateTimeOffset? Since,
    DateTimeOffset? Until,
    string? Q,
    int Limit,
    int Offset);

/// <summary>The platform roles a user may hold, with what each lets them do (the API's <c>Role</c>).</summary>
public static class AdminRoles
{
    public static IReadOnlyList<(string Name, string Description)> All { get; } =
    [
        ("admin", "Operates the platform: sees and manages everything."),
        ("isv", "Vendor administrator: manages the resources of their groups and subgroups, and reviews their versions."),
        ("developer", "Publishes and tests apps for their group."),
        ("user", "Deploys and operates apps."),
    ];
}
