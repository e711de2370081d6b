using System.Security.Cryptography;
using System.Text;

namespace Pitrix.Api.Security;

/// <summary>Opaque bearer secrets: personal API tokens (<c>pxt_</c>) and refresh tokens (<c>pxr_</c>).</summary>
public static class Tokens
{
    public const string ApiTokenPrefix = "pxt_";
    public const string RefreshTokenPrefix = "pxr_";

    public static string NewApiToken() => ApiTokenPrefix + Random(32);

    public static string NewRefreshToken() => RefreshTokenPrefix + Random(32);

    /// <summary>
    /// SHA-256 of the token. The tokens carry 256 random bits, so a fast hash is enough: there is
    /// nothing to brute-force, and a database copy still cannot be replayed.
    /// </summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string Random(int bytes) => Base64Url(RandomNumberGenerator.GetBytes(bytes));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
