using Microsoft.AspNetCore.DataProtection;
using Pitrix.Core.Security;

namespace Pitrix.Api.Security;

/// <summary>
/// Encrypts secrets (credential content, later repo passwords and private keys) with ASP.NET Data
/// Protection. Its key ring lives in the data directory, never in the database, so a copied database
/// alone reveals nothing.
/// </summary>
public sealed class SecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Pitrix.Secrets.v1");

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);
}
