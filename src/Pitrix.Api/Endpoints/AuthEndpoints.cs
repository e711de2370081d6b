using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pitrix.Api.Auditing;
using Pitrix.Api.Http;
using Pitrix.Api.Security;
using Pitrix.Core;
using Pitrix.Core.Identity;
using Pitrix.Persistence;

namespace Pitrix.Api.Endpoints;

/// <summary>Sign-in, refresh, sign-out, and the caller's own account and personal API tokens.</summary>
public static class AuthEndpoints
{
    public const string LoginRateLimitPolicy = "login";

    public static void MapAuthEndpoints(this IEndpointRouteBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Auth").WithMetadata(new ResourceTypeMetadata("session"));
        auth.MapPost("/login", LoginAsync).WithName("auth.login").AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        auth.MapPost("/refresh", RefreshAsync).WithName("auth.refresh").AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        auth.MapPost("/logout", LogoutAsync).WithName("auth.logout");

        var me = api.MapGroup("/me").WithTags("Me").WithMetadata(new ResourceTypeMetadata("user"));
        me.MapGet("/", GetMeAsync).WithName("me.get");
        me.MapPut("/password", ChangePasswordAsync).WithName("me.change_password");
        var tokens = me.MapGroup("/tokens").WithMetadata(new ResourceTypeMetadata("api_token"));
        tokens.MapGet("/", ListTokensAsync).WithName("api_token.list");
        tokens.MapPost("/", CreateTokenAsync).WithName("api_token.create");
        tokens.MapDelete("/{id}", RevokeTokenAsync).WithName("api_token.revoke");
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, HttpContext http, PitrixDbContext db, PasswordPolicy passwords, TokenService tokens,
        IOptions<AuthOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Required("username", request.Username).Required("password", request.Password);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var normalized = request.Username!.Trim().ToLowerInvariant();
        var user = await db.Users.Include(u => u.Roles).Include(u => u.Groups).AsSplitQuery()
            .SingleOrDefaultAsync(u => u.NormalizedName == normalized, cancellationToken);
        if (http.Features.Get<AuditFeature>() is { } audit)
        {
            audit.UserId = user?.Id;
            audit.UserName = request.Username.Length <= 64 ? request.Username : request.Username[..64];
        }

        if (!passwords.Verify(user, request.Password!) || user is null)
        {
            return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.invalid_credentials", "The user name or password is wrong."));
        }

        if (user.Disabled)
        {
            return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.user_disabled", "The account is disabled."));
        }

        var now = time.GetUtcNow();
        var refresh = Tokens.NewRefreshToken();
        var session = new Session
        {
            Id = Id.New(IdPrefix.Session),
            UserId = user.Id,
            RefreshTokenHash = Tokens.Hash(refresh),
            CreatedAt = now,
            ExpiresAt = now + options.Value.RefreshTokenLifetime,
            Address = http.Connection.RemoteIpAddress?.ToString(),
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(Issue(tokens, user, session.Id, refresh, time));
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> RefreshAsync(
        RefreshRequest request, HttpContext http, PitrixDbContext db, TokenService tokens, IOptions<AuthOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (new FieldErrors().Required("refresh_token", request.RefreshToken).ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var hash = Tokens.Hash(request.RefreshToken!);
        var now = time.GetUtcNow();
        var session = await db.Sessions.SingleOrDefaultAsync(s => s.RefreshTokenHash == hash, cancellationToken);
        if (session is null)
        {
            // A refresh token that was already exchanged is being replayed: whoever holds it stole it,
            // so the whole sign-in ends for both parties.
            var reused = await db.Sessions.FirstOrDefaultAsync(s => s.PreviousRefreshTokenHash == hash, cancellationToken);
            if (reused is not null && reused.RevokedAt is null)
            {
                reused.RevokedAt = now;
                await db.SaveChangesAsync(cancellationToken);
                return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.refresh_reused", "This refresh token was already used; the sign-in has been ended for safety."));
            }

            return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.refresh_invalid", "The refresh token is unknown."));
        }

        if (session.RevokedAt is not null || session.ExpiresAt <= now)
        {
            return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.refresh_invalid", "The sign-in has ended or expired; sign in again."));
        }

        var user = await db.Users.Include(u => u.Roles).Include(u => u.Groups).AsSplitQuery().SingleAsync(u => u.Id == session.UserId, cancellationToken);
        if (http.Features.Get<AuditFeature>() is { } audit)
        {
            audit.UserId = user.Id;
            audit.UserName = user.Name;
        }

        if (user.Disabled)
        {
            return Problems.From(new Error(ErrorKind.Unauthenticated, "auth.user_disabled", "The account is disabled."));
        }

        var refresh = Tokens.NewRefreshToken();
        session.PreviousRefreshTokenHash = session.RefreshTokenHash;
        session.RefreshTokenHash = Tokens.Hash(refresh);
        session.ExpiresAt = now + options.Value.RefreshTokenLifetime;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(Issue(tokens, user, session.Id, refresh, time));
    }

    private static TokenResponse Issue(TokenService tokens, User user, string sessionId, string refresh, TimeProvider time)
    {
        var (access, expires) = tokens.CreateAccessToken(user.Id, sessionId);
        return new TokenResponse(access, "Bearer", (int)(expires - time.GetUtcNow()).TotalSeconds, expires, refresh, UserDto.From(user));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> LogoutAsync(Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (caller.SessionId is null)
        {
            return Problems.From(Error.Validation("auth.logout_requires_session", "Sign-out ends a sign-in made with a password; revoke an API token with DELETE /api/v1/me/tokens/{id}."));
        }

        var session = await db.Sessions.SingleAsync(s => s.Id == caller.SessionId, cancellationToken);
        session.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<UserDto>> GetMeAsync(Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().Include(u => u.Roles).Include(u => u.Groups).AsSplitQuery().SingleAsync(u => u.Id == caller.UserId, cancellationToken);
        return TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ChangePasswordAsync(
        ChangePasswordRequest request, Caller caller, PitrixDbContext db, PasswordPolicy passwords, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Required("current_password", request.CurrentPassword);
        passwords.Check(errors, "new_password", request.NewPassword);
        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        var user = await db.Users.SingleAsync(u => u.Id == caller.UserId, cancellationToken);
        if (!passwords.Verify(user, request.CurrentPassword!))
        {
            return Problems.From(Error.Validation("auth.invalid_credentials", "The current password is wrong.", new Dictionary<string, string[]> { ["current_password"] = ["Wrong password."] }));
        }

        var now = time.GetUtcNow();
        user.PasswordHash = passwords.Hash(user, request.NewPassword!);
        user.UpdatedAt = now;

        // A new password ends every other sign-in; the current one continues.
        await db.Sessions.Where(s => s.UserId == user.Id && s.RevokedAt == null && s.Id != caller.SessionId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<List<ApiTokenDto>>> ListTokensAsync(Caller caller, PitrixDbContext db, CancellationToken cancellationToken)
    {
        var list = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == caller.UserId).ToListAsync(cancellationToken);
        return TypedResults.Ok(list.OrderByDescending(t => t.CreatedAt).Select(ApiTokenDto.From).ToList());
    }

    private static async Task<Results<Created<CreatedApiTokenDto>, ProblemHttpResult>> CreateTokenAsync(
        CreateApiTokenRequest request, Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors().Name("name", request.Name);
        if (request.ExpiresInDays is < 1 or > 3650)
        {
            errors.Add("expires_in_days", "Must be from 1 to 3650, or omitted for a token that does not expire.");
        }

        if (errors.ToError() is { } invalid)
        {
            return Problems.From(invalid);
        }

        if (await db.ApiTokens.AnyAsync(t => t.UserId == caller.UserId && t.Name == request.Name && t.RevokedAt == null, cancellationToken))
        {
            return Problems.From(Error.Conflict("api_token.name_taken", $"You already have an API token named '{request.Name}'."));
        }

        var now = time.GetUtcNow();
        var secret = Tokens.NewApiToken();
        var token = new ApiToken
        {
            Id = Id.New(IdPrefix.ApiToken),
            UserId = caller.UserId,
            Name = request.Name!,
            TokenHash = Tokens.Hash(secret),
            Prefix = secret[..10],
            CreatedAt = now,
            ExpiresAt = request.ExpiresInDays is { } days ? now.AddDays(days) : null,
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/me/tokens/{token.Id}", new CreatedApiTokenDto(token.Id, token.Name, secret, token.CreatedAt, token.ExpiresAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(string id, Caller caller, PitrixDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        // Tokens belong to their user alone: even an admin revokes another user's tokens by disabling the user.
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == id && t.UserId == caller.UserId, cancellationToken);
        if (token is null)
        {
            return Problems.From(Error.NotFound("api_token", id));
        }

        token.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
