using System.Text.Json;
using System.Text.Json.Serialization;
using Pitrix.Catalog.Fetching;
using Pitrix.Core.Catalog;
using Pitrix.Core.Security;

namespace Pitrix.Catalog.Repos;

/// <summary>A repo's credential: basic auth or a bearer token. Stored encrypted, never returned.</summary>
public sealed record RepoCredential(
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password,
    [property: JsonPropertyName("bearer_token")] string? BearerToken)
{
    public string Protect(ISecretProtector protector) => protector.Protect(JsonSerializer.Serialize(this));

    public static RepoCredential? Unprotect(ISecretProtector protector, string? ciphertext) =>
        ciphertext is null ? null : JsonSerializer.Deserialize<RepoCredential>(protector.Unprotect(ciphertext));

    /// <summary>What the fetcher needs for <paramref name="repo"/>: its credential and CA bundle.</summary>
    public static FetchCredentials? ForFetch(ISecretProtector protector, Repo repo)
    {
        var credential = Unprotect(protector, repo.CredentialCiphertext);
        if (credential is null && repo.CaBundlePem is null)
        {
            return null;
        }

        return new FetchCredentials
        {
            Username = credential?.Username,
            Password = credential?.Password,
            BearerToken = credential?.BearerToken,
            CaBundlePem = repo.CaBundlePem,
        };
    }
}
