using Pitrix.Core.Access;

namespace Pitrix.Core.Runtimes;

/// <summary>A deploy target: a provider, a zone (region, namespace or work directory) and an optional credential.</summary>
public sealed class Runtime : IOwnedResource
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public required string Provider { get; init; }

    /// <summary>Region/zone for clouds, namespace for Kubernetes, sub-directory for the local provider.</summary>
    public required string Zone { get; set; }

    public string? CredentialId { get; set; }

    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    public required string OwnerId { get; init; }

    public string? GroupId { get; set; }

    public Visibility Visibility { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// Secret material for a provider (keys, a kubeconfig). <see cref="SecretCiphertext"/> is the secret
/// encrypted by the server's data-protection keys, which live outside the database.
/// </summary>
public sealed class RuntimeCredential : IOwnedResource
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public required string Provider { get; init; }

    public string? EndpointUrl { get; set; }

    public required string SecretCiphertext { get; set; }

    public required string OwnerId { get; init; }

    public string? GroupId { get; set; }

    public Visibility Visibility { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset SecretUpdatedAt { get; set; }
}
