namespace Pitrix.Core.Security;

/// <summary>Encrypts secrets at rest with a key ring kept outside the database.</summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    /// <summary>Decrypts; throws when the ciphertext was not made by this key ring.</summary>
    string Unprotect(string ciphertext);
}
