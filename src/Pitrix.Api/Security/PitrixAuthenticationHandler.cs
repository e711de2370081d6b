using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pitrix.Api.Http;
using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Persistence;

namespace Pitrix.Api.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer</c> requests carrying either a JWT access token (checked
/// for signature, expiry and a live session) or a personal API token (<c>pxt_…</c>, looked up by hash),
/// then loads the user's roles and groups. <c>Basic</c> is accepted with a personal API token as the
/// password, for tools such as helm. Challenges and denials are written as problem details.
/// </summary>
public sealed class PitrixAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PitrixDbContext db,
    TokenService tokens,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Pitrix";
    private const string FailureKey = "pitrix.auth_failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        string token;
        string? basicUser = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) && DecodeBasic(header["Basic ".Length..].Trim()) is var (user, password))
        {
            // Basic auth exists for tools such as helm that only speak it (helm repo add --username --password);
            // the password must be a personal API token, never the account password.
            if (!password.StartsWith(Tokens.ApiTokenPrefix, StringComparison.Ordinal))
            {
                return Fail(new Error(ErrorKind.Unauthenticated, "auth.basic_requires_api_token", "With Basic authentication the password must be a personal API token (pxt_…)."));
            }

            token = password;
            basicUser = user;
        }
        else
        {
            return Fail(new Error(ErrorKind.Unauthenticated, "auth.scheme_unsupported", "Use 'Authorization: Bearer <token>'."));
        }

        string userId;
        string? sessionId = null;
        string? apiTokenId = null;
        var now = time.GetUtcNow();
        if (token.StartsWith(Tokens.ApiTokenPrefix, StringComparison.Ordinal))
        {
            var hash = Tokens.Hash(token);
            var apiToken = await db.ApiTokens.SingleOrDefaultAsync(t => t.TokenHash == hash, Context.RequestAborted);
            if (apiToken is null || apiToken.RevokedAt is not null)
            {
                return Fail(new Error(ErrorKind.Unauthenticated, "auth.token_revoked", "The API token is unknown or has been revoked."));
            }

            if (apiToken.ExpiresAt is { } expires && expires <= now)
            {
                return Fail(new Error(ErrorKind.Unauthenticated, "auth.token_expired", "The API token has expired."));
            }

            // Record use at most once a minute, so a busy script does not write on every call.
            if (apiToken.LastUsedAt is null || now - apiToken.LastUsedAt > TimeSpan.FromMinutes(1))
            {
                apiToken.LastUsedAt = now;
                await db.SaveChangesAsync(Context.RequestAborted);
            }

            userId = apiToken.UserId;
            apiTokenId = apiToken.Id;
        }
        else
        {
            var validation = await tokens.ValidateAccessTokenAsync(token);
            if (!validation.IsValid)
            {
                return validation.Exception is SecurityTokenExpiredException
                    ? Fail(new Error(ErrorKind.Unauthenticated, "auth.token_expired", "The access token has expired; refresh it or sign in again."))
                    : Fail(new Error(ErrorKind.Unauthenticated, "auth.token_invalid", "The access token is malformed or its signature is not valid."));
            }

            userId = (string)validation.Claims[JwtRegisteredClaimNames.Sub];
            sessionId = validation.Claims.TryGetValue(JwtRegisteredClaimNames.Sid, out var sid) ? sid as string : null;
            var session = sessionId is null ? null : await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sessionId, Context.RequestAborted);
            if (session is null || session.RevokedAt is not null || session.UserId != userId)
            {
                return Fail(new Error(ErrorKind.Unauthenticated, "auth.token_revoked", "The sign-in this token belongs to has ended; sign in again."));
            }
        }

        var principal = await LoadPrincipalAsync(userId);
        if (principal is null)
        {
            return Fail(new Error(ErrorKind.Unauthenticated, "auth.user_disabled", "The account is disabled or no longer exists."));
        }

        if (basicUser is not null && !string.Equals(basicUser, principal.Name, StringComparison.OrdinalIgnoreCase))
        {
            return Fail(new Error(ErrorKind.Unauthenticated, "auth.token_user_mismatch", "The API token does not belong to that user name."));
        }

        new Caller(principal, sessionId, apiTokenId).Attach(Context);
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, principal.UserId), new(ClaimTypes.Name, principal.Name) };
        claims.AddRange(principal.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task<Principal?> LoadPrincipalAsync(string userId)
    {
        var user = await db.Users.AsNoTracking()
            .Include(u => u.Roles)
            .Include(u => u.Groups)
            .AsSingleQuery()
            .SingleOrDefaultAsync(u => u.Id == userId, Context.RequestAborted);
        if (user is null || user.Disabled)
        {
            return null;
        }

        var tree = user.Groups.Count == 0
            ? new Dictionary<string, string?>()
            : await db.Groups.AsNoTracking().ToDictionaryAsync(g => g.Id, g => g.ParentId, Context.RequestAborted);
        return Principal.Create(user.Id, user.Name, user.Roles.Select(r => r.Role), user.Groups.Select(g => g.GroupId), tree);
    }

    private static (string User, string Password)? DecodeBasic(string encoded)
    {
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : (text[..colon], text[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private AuthenticateResult Fail(Error error)
    {
        Context.Items[FailureKey] = error;
        return AuthenticateResult.Fail(error.Message);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var error = Context.Items.TryGetValue(FailureKey, out var value) && value is Error e
            ? e
            : new Error(ErrorKind.Unauthenticated, "auth.unauthenticated", "Sign in first: send 'Authorization: Bearer <token>'.");
        Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.WriteAsync(Context, error);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, Error.Forbidden("access.role_required", "Your roles do not allow this operation."));
}
