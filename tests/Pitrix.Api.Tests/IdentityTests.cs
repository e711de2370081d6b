using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>Sign-in, tokens and user administration; runs once per database backend.</summary>
public abstract class IdentityTests(ServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Login_WrongPassword_Returns401InvalidCredentials()
    {
        using var anonymous = Server.Anonymous();
        var response = await anonymous.PostAsync("/api/v1/auth/login", new { username = "admin", password = "wrong-password" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("auth.invalid_credentials", response.Code);

        var unknown = await anonymous.PostAsync("/api/v1/auth/login", new { username = "nobody-" + Guid.NewGuid(), password = "whatever-pass" });
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
        Assert.Equal("auth.invalid_credentials", unknown.Code);
    }

    [Fact]
    public async Task Login_MissingFields_Returns400NamingFields()
    {
        using var anonymous = Server.Anonymous();
        var response = await anonymous.PostAsync("/api/v1/auth/login", new { username = "" });
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("validation.failed", response.Code);
        Assert.NotNull(response.Body!["errors"]!["username"]);
        Assert.NotNull(response.Body["errors"]!["password"]);
    }

    [Fact]
    public async Task Me_WithAccessToken_ReturnsUserAndRoles()
    {
        using var admin = await Server.LoginAdminAsync();
        var me = await admin.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal("admin", (string?)me.Body!["name"]);
        Assert.Contains("admin", me.Body["roles"]!.AsArray().Select(r => (string?)r));
        Assert.Null(me.Body["password_hash"]);
    }

    [Fact]
    public async Task Refresh_RotatesTokens_AndReuseOfOldTokenEndsSession()
    {
        using var session = await Server.CreateUserAsync(ServerFixture.Unique("refresher"), ["user"]);
        var firstRefresh = session.RefreshToken!;
        using var anonymous = Server.Anonymous();

        var refreshed = await anonymous.PostAsync("/api/v1/auth/refresh", new { refresh_token = firstRefresh });
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var secondRefresh = (string)refreshed.Body!["refresh_token"]!;
        Assert.NotEqual(firstRefresh, secondRefresh);

        session.Token = (string)refreshed.Body["access_token"]!;
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/v1/me")).Status);

        var replay = await anonymous.PostAsync("/api/v1/auth/refresh", new { refresh_token = firstRefresh });
        Assert.Equal(HttpStatusCode.Unauthorized, replay.Status);
        Assert.Equal("auth.refresh_reused", replay.Code);

        // The whole sign-in ended: the new access token and the new refresh token are dead too.
        var afterReplay = await session.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, afterReplay.Status);
        Assert.Equal("auth.token_revoked", afterReplay.Code);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/auth/refresh", new { refresh_token = secondRefresh })).Status);
    }

    [Fact]
    public async Task Logout_RevokesAccessTokenImmediately()
    {
        using var session = await Server.CreateUserAsync(ServerFixture.Unique("leaver"), ["user"]);
        Assert.Equal(HttpStatusCode.NoContent, (await session.PostAsync("/api/v1/auth/logout")).Status);
        var after = await session.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, after.Status);
        Assert.Equal("auth.token_revoked", after.Code);
    }

    [Fact]
    public async Task ForgedToken_SignedWithAnotherKey_Returns401TokenInvalid()
    {
        using var session = await Server.LoginAdminAsync();
        var forged = CreateJwt(Encoding.UTF8.GetBytes("an-attacker-key-that-is-long-enough-for-hs256"), session.UserId!, "ses-whatever", DateTime.UtcNow.AddMinutes(10));
        session.Token = forged;
        var response = await session.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("auth.token_invalid", response.Code);

        session.Token = "not-a-jwt-at-all";
        Assert.Equal("auth.token_invalid", (await session.GetAsync("/api/v1/me")).Code);
    }

    [Fact]
    public async Task ExpiredToken_SignedWithServerKey_Returns401TokenExpired()
    {
        using var session = await Server.LoginAdminAsync();
        var key = Convert.FromBase64String((await File.ReadAllTextAsync(Path.Combine(Server.DataDirectory, "keys", "jwt-signing.key"))).Trim());
        var sid = new JsonWebToken(session.Token).GetClaim("sid").Value;
        session.Token = CreateJwt(key, session.UserId!, sid, DateTime.UtcNow.AddMinutes(-5));
        var response = await session.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("auth.token_expired", response.Code);
    }

    [Fact]
    public async Task ApiToken_IsShownOnce_HashedAtRest_AndStopsWorkingWhenRevoked()
    {
        using var session = await Server.CreateUserAsync(ServerFixture.Unique("scripter"), ["developer"]);
        var created = await session.PostAsync("/api/v1/me/tokens", new { name = "ci" });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var token = (string)created.Body!["token"]!;
        Assert.StartsWith("pxt_", token, StringComparison.Ordinal);

        var listed = await session.GetAsync("/api/v1/me/tokens");
        Assert.DoesNotContain(token, listed.Text, StringComparison.Ordinal);
        Assert.Single(listed.Body!.AsArray());

        using var script = Server.Anonymous();
        script.Token = token;
        var me = await script.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(session.UserId, (string?)me.Body!["id"]);

        var duplicate = await session.PostAsync("/api/v1/me/tokens", new { name = "ci" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Equal("api_token.name_taken", duplicate.Code);

        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/me/tokens/{created.Id}")).Status);
        var revoked = await script.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.Status);
        Assert.Equal("auth.token_revoked", revoked.Code);
    }

    [Fact]
    public async Task Users_DuplicateName_Returns409_AndUnknownRole400()
    {
        using var admin = await Server.LoginAdminAsync();
        var name = ServerFixture.Unique("dup");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/v1/users", new { name, password = "password-1" })).Status);
        var again = await admin.PostAsync("/api/v1/users", new { name = name.ToUpperInvariant(), password = "password-1" });
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("user.name_taken", again.Code);

        var badRole = await admin.PostAsync("/api/v1/users", new { name = ServerFixture.Unique("r"), password = "password-1", roles = new[] { "emperor" } });
        Assert.Equal(HttpStatusCode.BadRequest, badRole.Status);
        Assert.NotNull(badRole.Body!["errors"]!["roles"]);

        var shortPassword = await admin.PostAsync("/api/v1/users", new { name = ServerFixture.Unique("p"), password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, shortPassword.Status);
        Assert.NotNull(shortPassword.Body!["errors"]!["password"]);
    }

    [Fact]
    public async Task DisablingUser_EndsSessions_AndBlocksLogin()
    {
        var name = ServerFixture.Unique("disabled");
        using var session = await Server.CreateUserAsync(name, ["user"]);
        using var admin = await Server.LoginAdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync($"/api/v1/users/{session.UserId}", new { disabled = true })).Status);

        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync("/api/v1/me")).Status);
        using var anonymous = Server.Anonymous();
        var login = await anonymous.PostAsync("/api/v1/auth/login", new { username = name, password = "password-" + name });
        Assert.Equal(HttpStatusCode.Unauthorized, login.Status);
        Assert.Equal("auth.user_disabled", login.Code);
    }

    [Fact]
    public async Task RoleChange_TakesEffectWithoutNewToken()
    {
        using var session = await Server.CreateUserAsync(ServerFixture.Unique("promoted"), ["user"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/api/v1/users")).Status);
        using var admin = await Server.LoginAdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync($"/api/v1/users/{session.UserId}/roles", new { roles = new[] { "admin" } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/v1/users")).Status);
    }

    [Fact]
    public async Task Admin_CannotDeleteSelf()
    {
        using var admin = await Server.LoginAdminAsync();
        var self = await admin.DeleteAsync($"/api/v1/users/{admin.UserId}");
        Assert.Equal(HttpStatusCode.Conflict, self.Status);
        Assert.Equal("user.cannot_delete_self", self.Code);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/me")).Status);
    }

    [Fact]
    public async Task ChangePassword_RequiresCurrent_AndNewOneWorks()
    {
        var name = ServerFixture.Unique("changer");
        using var session = await Server.CreateUserAsync(name, ["user"]);
        var wrong = await session.PutAsync("/api/v1/me/password", new { current_password = "nope-nope", new_password = "brand-new-password" });
        Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
        Assert.Equal(HttpStatusCode.NoContent, (await session.PutAsync("/api/v1/me/password", new { current_password = "password-" + name, new_password = "brand-new-password" })).Status);
        using var again = await Server.LoginAsync(name, "brand-new-password");
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/api/v1/me")).Status);
    }

    [Fact]
    public async Task Groups_FormTree_RejectCycles_AndTrackMembers()
    {
        using var admin = await Server.LoginAdminAsync();
        var parent = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("org") });
        var child = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("team"), parent_id = parent.Id });
        Assert.Equal(HttpStatusCode.Created, child.Status);
        Assert.Equal(parent.Id, (string?)child.Body!["parent_id"]);

        var cycle = await admin.PatchAsync($"/api/v1/groups/{parent.Id}", new { parent_id = child.Id });
        Assert.Equal(HttpStatusCode.Conflict, cycle.Status);
        Assert.Equal("group.cycle", cycle.Code);

        var hasChildren = await admin.DeleteAsync($"/api/v1/groups/{parent.Id}");
        Assert.Equal("group.has_subgroups", hasChildren.Code);

        using var member = await Server.CreateUserAsync(ServerFixture.Unique("member"), ["user"]);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsync($"/api/v1/groups/{child.Id}/members/{member.UserId}")).Status);
        var group = await admin.GetAsync($"/api/v1/groups/{child.Id}");
        Assert.Contains(member.UserId, group.Body!["member_ids"]!.AsArray().Select(m => (string?)m));
        var me = await member.GetAsync("/api/v1/me");
        Assert.Contains(child.Id, me.Body!["group_ids"]!.AsArray().Select(m => (string?)m));
    }

    [Fact]
    public async Task SessionJanitor_RemovesOnlyLongEndedSessions()
    {
        using var ended = await Server.CreateUserAsync(ServerFixture.Unique("ended"), ["user"]);
        await ended.PostAsync("/api/v1/auth/logout");
        using var live = await Server.CreateUserAsync(ServerFixture.Unique("live"), ["user"]);

        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Pitrix.Persistence.PitrixDbContext>();
        var soon = DateTimeOffset.UtcNow + TimeSpan.FromDays(1);
        await Security.SessionJanitor.PurgeAsync(db, soon, CancellationToken.None);
        Assert.True(await db.Sessions.AnyAsync(s => s.UserId == ended.UserId), "A session revoked a moment ago must be kept for reuse detection.");

        await Security.SessionJanitor.PurgeAsync(db, DateTimeOffset.UtcNow + TimeSpan.FromDays(8), CancellationToken.None);
        Assert.False(await db.Sessions.AnyAsync(s => s.UserId == ended.UserId));
        Assert.True(await db.Sessions.AnyAsync(s => s.UserId == live.UserId), "A live 30-day session must survive.");
    }

    private static string CreateJwt(byte[] key, string userId, string sessionId, DateTime expires) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "pitrix",
            Audience = "pitrix",
            IssuedAt = expires.AddMinutes(-15),
            NotBefore = expires.AddMinutes(-15),
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = userId, ["sid"] = sessionId },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
}

public sealed class SqliteIdentityTests(SqliteServerFixture fixture) : IdentityTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresIdentityTests(PostgresServerFixture fixture) : IdentityTests(fixture), IClassFixture<PostgresServerFixture>;
