namespace Pitrix.Web.Client;

// The console's view of the REST API's resources: only the fields its pages use. Responses are read with
// unknown fields ignored, so the API may grow without breaking the console.

/// <summary>One page of a collection (<c>items</c>, <c>total</c>, <c>limit</c>, <c>offset</c>).</summary>
public sealed record PageOf<T>(IReadOnlyList<T> Items, int Total, int Limit, int Offset);

/// <summary>A user account (<c>GET /api/v1/me</c>).</summary>
public sealed record UserInfo(string Id, string Name, string? DisplayName, string? Email, IReadOnlyList<string> Roles, IReadOnlyList<string> GroupIds, DateTimeOffset CreatedAt);

/// <summary>The answer of login and refresh.</summary>
public sealed record TokenPair(string AccessToken, DateTimeOffset ExpiresAt, string RefreshToken, UserInfo User);

/// <summary>A personal API token, without its secret.</summary>
public sealed record ApiTokenInfo(string Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>A personal API token just created: the only time its secret is shown.</summary>
public sealed record CreatedApiToken(string Id, string Name, string Token, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

public sealed record CategoryRef(string Id, string Name);

public sealed record MaintainerInfo(string Name, string? Email, string? Url);

/// <summary>An app of the store (<c>GET /api/v1/apps</c>, <c>/apps/{id}</c>; the readme only on the latter).</summary>
public sealed record AppInfo(
    string Id,
    string RepoId,
    string RepoName,
    string Name,
    string Format,
    string? Description,
    string? Icon,
    string? Home,
    IReadOnlyList<string> Keywords,
    IReadOnlyList<MaintainerInfo> Maintainers,
    IReadOnlyList<string> Sources,
    IReadOnlyList<string> Screenshots,
    string Status,
    string? LatestVersion,
    string? ActiveVersion,
    string? ActiveVersionId,
    IReadOnlyList<CategoryRef> Categories,
    DateTimeOffset UpdatedAt,
    string? Readme);

/// <summary>A version of an app; <see cref="Providers"/> is only filled by <c>GET /app_versions/{id}</c>.</summary>
public sealed record AppVersionInfo(string Id, string Version, string? AppVersion, string Format, string Status, string? Description, DateTimeOffset CreatedAt, IReadOnlyList<string>? Providers);

/// <summary>A runtime (deploy target).</summary>
public sealed record RuntimeInfo(string Id, string Name, string? Description, string Provider, string Zone, IReadOnlyDictionary<string, string> Labels);

public sealed record CategoryInfo(string Id, string Name, int AppCount);

public sealed record RepoInfo(string Id, string Name, IReadOnlyList<string> Providers);

/// <summary>What the store asks for: search terms, filters and the page.</summary>
public sealed record AppQuery(string? Q, string? Category, string? Repo, string? Format, string? Provider, int Limit, int Offset);

/// <summary>An app's icon as the API serves it.</summary>
public sealed record IconContent(byte[] Content, string MediaType, string? ETag);
