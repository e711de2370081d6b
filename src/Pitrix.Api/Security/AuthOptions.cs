using Microsoft.Extensions.Options;

namespace Pitrix.Api.Security;

/// <summary>Sign-in and token settings.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>Lifetime of a JWT access token. Default: 15 minutes.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of a sign-in (its refresh token) without being refreshed. Default: 30 days.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Issuer and audience of access tokens. Default: <c>pitrix</c>.</summary>
    public string Issuer { get; set; } = "pitrix";

    /// <summary>
    /// Base64 HMAC-SHA256 key for access tokens, shared by every API replica. Default: a random key
    /// created once in the data directory's <c>keys/</c> folder.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>Login attempts allowed per client address per minute. Default: 10.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    /// <summary>Minimum password length. Default: 8.</summary>
    public int MinPasswordLength { get; set; } = 8;
}

public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (options.AccessTokenLifetime <= TimeSpan.Zero)
        {
            failures.Add("Auth:AccessTokenLifetime must be positive.");
        }

        if (options.RefreshTokenLifetime < options.AccessTokenLifetime)
        {
            failures.Add("Auth:RefreshTokenLifetime must be at least Auth:AccessTokenLifetime.");
        }

        if (options.LoginAttemptsPerMinute < 1)
        {
            failures.Add("Auth:LoginAttemptsPerMinute must be at least 1.");
        }

        if (options.SigningKey is not null && (!TryBase64(options.SigningKey, out var bytes) || bytes < 32))
        {
            failures.Add("Auth:SigningKey must be base64 of at least 32 bytes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool TryBase64(string value, out int length)
    {
        var buffer = new byte[value.Length];
        var ok = Convert.TryFromBase64String(value, buffer, out length);
        return ok;
    }
}
