using System.Security.Cryptography;
using System.Text;

namespace Pitrix.Catalog.Indexing;

/// <summary>
/// Checks a repo webhook call: a GitHub-style <c>X-Hub-Signature-256: sha256=&lt;hex HMAC of the body&gt;</c>,
/// or <c>Authorization: Bearer &lt;secret&gt;</c> for senders that cannot sign. Comparisons take constant time.
/// </summary>
public static class WebhookSignature
{
    public static bool Verify(string secret, byte[] body, string? hubSignature256Header, string? authorizationHeader)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return false;
        }

        var key = Encoding.UTF8.GetBytes(secret);
        if (hubSignature256Header is { } signature && signature.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            var hex = signature.AsSpan("sha256=".Length).Trim();
            if (hex.Length != 64)
            {
                return false;
            }

            Span<byte> given = stackalloc byte[32];
            if (Convert.FromHexString(hex, given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            {
                return false;
            }

            Span<byte> expected = stackalloc byte[32];
            HMACSHA256.HashData(key, body, expected);
            return CryptographicOperations.FixedTimeEquals(expected, given);
        }

        if (authorizationHeader is { } authorization && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // Hashing both sides first keeps the comparison's time independent of the token's length too.
            var given = SHA256.HashData(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
            return CryptographicOperations.FixedTimeEquals(SHA256.HashData(key), given);
        }

        return false;
    }
}
