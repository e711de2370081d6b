using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pitrix.Api.Security;

/// <summary>Issues and validates JWT access tokens (HMAC-SHA256, subject = user id, sid = session id).</summary>
public sealed class TokenService(IOptions<AuthOptions> options, SigningKeyProvider keys, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public (string Token, DateTimeOffset ExpiresAt) CreateAccessToken(string userId, string sessionId)
    {
        var now = time.GetUtcNow();
        var expires = now + options.Value.AccessTokenLifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Issuer,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Subject = new ClaimsIdentity([
                new Claim(JwtRegisteredClaimNames.Sub, userId),
                new Claim(JwtRegisteredClaimNames.Sid, sessionId),
                new Claim(JwtRegisteredClaimNames.Jti, Tokens.Random(12)),
            ]),
            SigningCredentials = new SigningCredentials(keys.Key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    public Task<TokenValidationResult> ValidateAccessTokenAsync(string token) =>
        _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = options.Value.Issuer,
            ValidAudience = options.Value.Issuer,
            IssuerSigningKey = keys.Key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            LifetimeValidator = (notBefore, expires, _, parameters) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                if (expires is null || expires.Value + parameters.ClockSkew < now)
                {
                    throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires ?? DateTime.MinValue };
                }

                return notBefore is null || notBefore.Value - parameters.ClockSkew <= now;
            },
        });
}
