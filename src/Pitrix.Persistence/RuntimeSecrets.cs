using Microsoft.EntityFrameworkCore;
using Pitrix.Core.Runtimes;
using Pitrix.Core.Security;

namespace Pitrix.Persistence;

/// <summary>A runtime's credential as its provider needs it: the endpoint and the secret, decrypted in memory only.</summary>
public static class RuntimeSecrets
{
    /// <summary>The endpoint and decrypted secret of <paramref name="runtime"/>'s credential; both null when it has none.</summary>
    public static async Task<(string? EndpointUrl, string? Secret)> ReadAsync(PitrixDbContext db, ISecretProtector protector, Runtime runtime, CancellationToken cancellationToken)
    {
        if (runtime.CredentialId is null)
        {
            return (null, null);
        }

        var credential = await db.RuntimeCredentials.AsNoTracking().SingleAsync(c => c.Id == runtime.CredentialId, cancellationToken);
        return (credential.EndpointUrl, protector.Unprotect(credential.SecretCiphertext));
    }
}
