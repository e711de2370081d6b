using Pitrix.Api.Auditing;
using Pitrix.Core.Access;
using Pitrix.Core.Runtimes;

namespace Pitrix.Api.Endpoints;

public sealed record CredentialDto(
    string Id,
    string Name,
    string? Description,
    string Provider,
    string? EndpointUrl,
    bool HasSecret,
    DateTimeOffset SecretUpdatedAt,
    string OwnerId,
    string? GroupId,
    Visibility Visibility,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt) : IHasId
{
    public static CredentialDto From(RuntimeCredential c) =>
        new(c.Id, c.Name, c.Description, c.Provider, c.EndpointUrl, c.SecretCiphertext.Length > 0, c.SecretUpdatedAt, c.OwnerId, c.GroupId, c.Visibility, c.CreatedAt, c.UpdatedAt);
}

public sealed record CreateCredentialRequest(string? Name, string? Description, string? Provider, string? EndpointUrl, string? Secret, Visibility? Visibility, string? GroupId);

/// <summary>Fields left null keep their value; <c>secret</c> replaces the secret when given.</summary>
public sealed record UpdateCredentialRequest(string? Name, string? Description, string? EndpointUrl, string? Secret, Visibility? Visibility, string? GroupId);

public sealed record RuntimeDto(
    string Id,
    string Name,
    string? Description,
    string Provider,
    string Zone,
    string? CredentialId,
    IReadOnlyDictionary<string, string> Labels,
    string OwnerId,
    string? GroupId,
    Visibility Visibility,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt) : IHasId
{
    public static RuntimeDto From(Runtime r) =>
        new(r.Id, r.Name, r.Description, r.Provider, r.Zone, r.CredentialId, r.Labels, r.OwnerId, r.GroupId, r.Visibility, r.CreatedAt, r.UpdatedAt);
}

public sealed record CreateRuntimeRequest(
    string? Name, string? Description, string? Provider, string? Zone, string? CredentialId, Dictionary<string, string>? Labels, Visibility? Visibility, string? GroupId);

/// <summary>Fields left null keep their value; the provider of a runtime cannot change.</summary>
public sealed record UpdateRuntimeRequest(
    string? Name, string? Description, string? Zone, string? CredentialId, Dictionary<string, string>? Labels, Visibility? Visibility, string? GroupId);

public sealed record RuntimeValidationDto(string RuntimeId, string Provider, bool Ok, IReadOnlyList<RuntimeCheck> Checks);

public sealed record ProviderDto(string Name, string DisplayName, bool RequiresCredential);
