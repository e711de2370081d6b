using System.Text.Json.Nodes;
using Pitrix.Api.Auditing;
using Pitrix.Core.Access;
using Pitrix.Core.Catalog;

namespace Pitrix.Api.Endpoints;

public sealed record RepoCredentialRequest(string? Username, string? Password, string? BearerToken);

public sealed record RepoSyncDto(
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
    IReadOnlyList<SyncError> Errors) : IHasId
{
    public static RepoSyncDto From(RepoSync s) =>
        new(s.Id, s.RepoId, s.Trigger, s.RequestedBy, s.Status, s.QueuedAt, s.StartedAt, s.FinishedAt, s.Unchanged, s.Added, s.Updated, s.Removed, s.Failed, s.PackagesFetched, s.ErrorCode, s.ErrorMessage, s.Errors);
}

public sealed record RepoDto(
    string Id,
    string Name,
    string? Description,
    string Type,
    string? Url,
    bool HasCredential,
    string? CaBundlePem,
    IReadOnlyList<string> Providers,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<string> Selectors,
    Visibility Visibility,
    string? GroupId,
    IReadOnlyList<string> GroupIds,
    int SyncIntervalSeconds,
    string DefaultStatus,
    string FetchPackages,
    bool HasWebhookSecret,
    string OwnerId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? NextSyncAt,
    RepoSyncDto? LastSync) : IHasId
{
    public static RepoDto From(Repo r, RepoSync? lastSync) =>
        new(r.Id, r.Name, r.Description, r.Type, r.Url, r.CredentialCiphertext is not null, r.CaBundlePem, r.Providers, r.Labels, r.Selectors, r.Visibility, r.GroupId, r.GroupIds,
            r.SyncIntervalSeconds, r.DefaultStatus, r.FetchPackages, r.WebhookSecretCiphertext is not null, r.OwnerId, r.CreatedAt, r.UpdatedAt, r.NextSyncAt,
            lastSync is null ? null : RepoSyncDto.From(lastSync));
}

public sealed record CreateRepoRequest(
    string? Name,
    string? Description,
    string? Url,
    RepoCredentialRequest? Credential,
    string? CaBundlePem,
    List<string>? Providers,
    Dictionary<string, string>? Labels,
    List<string>? Selectors,
    Visibility? Visibility,
    string? GroupId,
    List<string>? GroupIds,
    int? SyncIntervalSeconds,
    string? DefaultStatus,
    string? FetchPackages);

/// <summary>Fields left null keep their value; <c>credential</c> replaces the credential and <c>clear_credential</c> removes it.</summary>
public sealed record UpdateRepoRequest(
    string? Name,
    string? Description,
    string? Url,
    RepoCredentialRequest? Credential,
    bool? ClearCredential,
    string? CaBundlePem,
    List<string>? Providers,
    Dictionary<string, string>? Labels,
    List<string>? Selectors,
    Visibility? Visibility,
    string? GroupId,
    List<string>? GroupIds,
    int? SyncIntervalSeconds,
    string? DefaultStatus,
    string? FetchPackages);

public sealed record ValidateRepoRequest(string? Url, RepoCredentialRequest? Credential, string? CaBundlePem);

public sealed record RepoValidationDto(bool Ok, string Url, int Apps, int Versions, string? ErrorCode, string? ErrorMessage);

public sealed record WebhookSecretDto(string WebhookUrl, string Secret);

public sealed record WebhookAcceptedDto(string Id, string Status) : IHasId;

public sealed record CategoryRef(string Id, string Name);

public sealed record AppDto(
    string Id,
    string RepoId,
    string RepoName,
    string Name,
    string Format,
    string? Description,
    string? Icon,
    string? Home,
    IReadOnlyList<string> Keywords,
    IReadOnlyList<Maintainer> Maintainers,
    IReadOnlyList<string> Sources,
    IReadOnlyList<string> Screenshots,
    string Status,
    string? LatestVersion,
    string? LatestVersionId,
    string? ActiveVersion,
    string? ActiveVersionId,
    IReadOnlyList<CategoryRef> Categories,
    string OwnerId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Readme = null) : IHasId;

public record AppVersionDto(
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
    string? Icon,
    string? Home,
    IReadOnlyList<string> Keywords,
    IReadOnlyList<Maintainer> Maintainers,
    IReadOnlyList<string> Sources,
    string? PackageUrl,
    string? Digest,
    long? PackageSize,
    string DetailsStatus,
    string? DetailsError,
    string? Message,
    string OwnerId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt) : IHasId
{
    public static AppVersionDto From(AppVersion v, string appName) =>
        new(v.Id, v.AppId, appName, v.RepoId, v.Version, v.AppVersionLabel, v.Format, v.Status, v.StatusChangedAt, v.Description, CatalogLinks.Icon(v.Icon, v.AppId), v.Home,
            v.Keywords, v.Maintainers, v.Sources, v.PackageUrl, v.Digest ?? v.PackageDigest, v.PackageSize, v.DetailsStatus, v.DetailsError, v.Message, v.OwnerId, v.CreatedAt, v.UpdatedAt);
}

/// <summary>A version with what the deploy form needs: readme, config schema or values, and the providers it targets.</summary>
public sealed record AppVersionDetailDto : AppVersionDto
{
    public AppVersionDetailDto(AppVersionDto version, string? readme, JsonNode? config, string? valuesYaml, JsonNode? valuesSchema, IReadOnlyList<string> providers)
        : base(version)
    {
        Readme = readme;
        Config = config;
        ValuesYaml = valuesYaml;
        ValuesSchema = valuesSchema;
        Providers = providers;
    }

    public string? Readme { get; init; }

    public JsonNode? Config { get; init; }

    public string? ValuesYaml { get; init; }

    public JsonNode? ValuesSchema { get; init; }

    public IReadOnlyList<string> Providers { get; init; }
}

/// <summary>A version's translations (<c>locale/&lt;lang&gt;.json</c> of its package), by lower-case language tag: text → translated text.</summary>
public sealed record AppVersionLocalesDto(string AppVersionId, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Locales);

public sealed record AppVersionEventDto(string Id, string Action, string? FromStatus, string ToStatus, string ActorId, string ActorName, bool ByReviewer, string? Message, DateTimeOffset At)
{
    public static AppVersionEventDto From(AppVersionEvent e) => new(e.Id, e.Action, e.FromStatus, e.ToStatus, e.ActorId, e.ActorName, e.ByReviewer, e.Message, e.At);
}

public sealed record VersionActionRequest(string? Message);

/// <summary>Clusters per version of an app (<c>GET /apps/{id}/usage</c>): only versions that have any, newest first.</summary>
public sealed record AppUsageDto(string AppId, int Clusters, IReadOnlyList<AppVersionUsageDto> Versions);

/// <summary>How many clusters run a version, and how many of them are in each status.</summary>
public sealed record AppVersionUsageDto(string AppVersionId, string Version, int Clusters, IReadOnlyDictionary<string, int> Statuses);

public sealed record SetCategoriesRequest(List<string>? CategoryIds);

public sealed record CategoryDto(string Id, string Name, IReadOnlyDictionary<string, string> Locale, string? Description, string? Icon, int AppCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt) : IHasId
{
    public static CategoryDto From(Category c, int appCount) => new(c.Id, c.Name, c.Locale, c.Description, c.Icon, appCount, c.CreatedAt, c.UpdatedAt);
}

public sealed record CreateCategoryRequest(string? Name, Dictionary<string, string>? Locale, string? Description, string? Icon);

public sealed record UpdateCategoryRequest(string? Name, Dictionary<string, string>? Locale, string? Description, string? Icon);

/// <summary>URLs the catalog hands out.</summary>
public static class CatalogLinks
{
    /// <summary>Stored icons (<c>blob:sha256:…</c>) are served by the API; other icons are URLs as given.</summary>
    public static string? Icon(string? icon, string appId) =>
        icon is not null && icon.StartsWith("blob:", StringComparison.Ordinal) ? $"/api/v1/apps/{appId}/icon" : icon;
}
