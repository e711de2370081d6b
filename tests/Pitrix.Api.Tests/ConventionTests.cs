using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>Conventions every endpoint shares: problem details, limits, audit, health, OpenAPI.</summary>
public abstract class ConventionTests(ServerFixture fixture)
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task MalformedJson_Returns400ProblemWithCode()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("json"), ["user"]);
        var response = await user.SendAsync(HttpMethod.Post, "/api/v1/runtimes", null, rawJson: "{\"name\": \"x\",");
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("request.malformed_json", response.Code);
        Assert.NotNull(response.Body!["trace_id"]);

        var unknownField = await user.SendAsync(HttpMethod.Post, "/api/v1/runtimes", null, rawJson: "{\"name\":\"x\",\"provider\":\"local\",\"providr\":1}");
        Assert.Equal(HttpStatusCode.BadRequest, unknownField.Status);
        Assert.Contains("providr", (string?)unknownField.Body!["detail"], StringComparison.Ordinal);
        Assert.DoesNotContain("Pitrix.Api", unknownField.Text, StringComparison.Ordinal);
        Assert.Equal(0, (int)(await user.GetAsync($"/api/v1/runtimes?owner_id={user.UserId}")).Body!["total"]!);
    }

    [Fact]
    public async Task OversizedBody_Returns413_AndStoresNothing()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("big"), ["user"]);
        var huge = new string('a', 2 * 1024 * 1024);
        var response = await user.PostAsync("/api/v1/runtimes", new { name = "big", provider = "local", description = huge });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.Status);
        Assert.Equal("request.too_large", response.Code);
        Assert.Equal(0, (int)(await user.GetAsync($"/api/v1/runtimes?owner_id={user.UserId}")).Body!["total"]!);
    }

    [Fact]
    public async Task UnknownRouteAndMethod_ReturnProblemDetails()
    {
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("lost"), ["user"]);
        Assert.Equal("route.not_found", (await user.GetAsync("/api/v1/nothing-here")).Code);
        var wrongMethod = await user.PutAsync("/api/v1/runtimes", new { });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.Equal("route.method_not_allowed", wrongMethod.Code);
    }

    [Fact]
    public async Task Unauthenticated_Returns401WithCode()
    {
        using var anonymous = Server.Anonymous();
        var response = await anonymous.GetAsync("/api/v1/runtimes");
        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("auth.unauthenticated", response.Code);

        // Basic is for tools like helm, with an API token as the password; an account password is refused.
        anonymous.Http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Basic YWRtaW46YWRtaW4=");
        Assert.Equal("auth.basic_requires_api_token", (await anonymous.GetAsync("/api/v1/runtimes")).Code);

        using var digest = Server.Anonymous();
        digest.Http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Digest username=\"admin\"");
        Assert.Equal("auth.scheme_unsupported", (await digest.GetAsync("/api/v1/runtimes")).Code);
    }

    [Fact]
    public async Task Audit_RecordsSuccessAndFailure_WithActorAddressAndCode()
    {
        var name = ServerFixture.Unique("audited");
        using var user = await Server.CreateUserAsync(name, ["user"]);
        var created = await user.PostAsync("/api/v1/runtimes", new { name = "audited-rt", provider = "local" });
        var duplicate = await user.PostAsync("/api/v1/runtimes", new { name = "audited-rt", provider = "local" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);

        var mine = await user.GetAsync("/api/v1/audit?action=runtime.create&limit=10");
        var entries = mine.Body!["items"]!.AsArray();
        Assert.Equal(2, entries.Count);
        var failure = entries[0]!;
        Assert.Equal("failure", (string?)failure["outcome"]);
        Assert.Equal("runtime.name_taken", (string?)failure["error_code"]);
        Assert.Equal(409, (int)failure["status_code"]!);
        var success = entries[1]!;
        Assert.Equal("success", (string?)success["outcome"]);
        Assert.Equal(created.Id, (string?)success["resource_id"]);
        Assert.Equal(user.UserId, (string?)success["user_id"]);
        Assert.Equal("127.0.0.1", (string?)success["address"]);

        using var anonymous = Server.Anonymous();
        await anonymous.PostAsync("/api/v1/auth/login", new { username = name, password = "wrong-password" });
        using var admin = await Server.LoginAdminAsync();
        var logins = await admin.GetAsync($"/api/v1/audit?action=auth.login&user_id={user.UserId}&outcome=failure");
        Assert.Equal(1, (int)logins.Body!["total"]!);
        Assert.Equal("auth.invalid_credentials", (string?)logins.Body["items"]![0]!["error_code"]);
    }

    [Fact]
    public async Task Audit_NonAdminSeesOnlyOwnEntries_EvenWhenAskingForOthers()
    {
        using var admin = await Server.LoginAdminAsync();
        await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("noise") });
        using var user = await Server.CreateUserAsync(ServerFixture.Unique("nosy"), ["user"]);
        var others = await user.GetAsync($"/api/v1/audit?user_id={admin.UserId}");
        Assert.Equal(0, (int)others.Body!["total"]!);
        var all = await user.GetAsync("/api/v1/audit?limit=200");
        Assert.All(all.Body!["items"]!.AsArray(), e => Assert.Equal(user.UserId, (string?)e!["user_id"]));
    }

    [Fact]
    public async Task HealthAndOpenApi_AreServed()
    {
        using var anonymous = Server.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).Status);
        var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        Assert.Equal("Healthy", ready.Text);

        var document = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.Status);
        Assert.NotNull(document.Body!["paths"]!["/api/v1/runtimes/{id}:validate"]);
        Assert.NotNull(document.Body["components"]!["securitySchemes"]!["bearer"]);
        var list = document.Body["paths"]!["/api/v1/runtimes"]!["get"]!;
        Assert.Contains("limit", list["parameters"]!.AsArray().Select(p => (string?)p!["name"]));
        Assert.NotNull(list["responses"]!["default"]!["content"]!["application/problem+json"]);
        var reference = await anonymous.GetAsync("/api/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, reference.Status);
        Assert.Contains("swagger", reference.Text, StringComparison.OrdinalIgnoreCase);
    }
}

public sealed class SqliteConventionTests(SqliteServerFixture fixture) : ConventionTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresConventionTests(PostgresServerFixture fixture) : ConventionTests(fixture), IClassFixture<PostgresServerFixture>;

/// <summary>The server finds helm where Helm:Path says, and refuses to start on a bad value.</summary>
public sealed class HelmConfigurationTests
{
    [Fact]
    public async Task HelmPath_FromConfiguration_RunsRealHelm()
    {
        var helm = HelmBinaries.Path(3);
        await using var server = await TestServer.StartAsync("sqlite", $"--Helm:Path={helm}", "--Helm:Timeout=00:00:45");
        var cli = server.Services.GetRequiredService<Pitrix.Packages.Helm.HelmCli>();
        Assert.Equal(helm, cli.HelmPath);
        Assert.Equal(TimeSpan.FromSeconds(45), cli.DefaultTimeout);
        Assert.StartsWith("v3.", await cli.VersionAsync(CancellationToken.None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelmTimeout_Invalid_FailsAtStart()
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestServer.StartAsync("sqlite", "--Helm:Timeout=-00:00:01"));
        Assert.Contains("Helm:Timeout", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>Login throttling is per client address and independent of the database.</summary>
public sealed class LoginRateLimitTests
{
    [Fact]
    public async Task Login_TooManyAttempts_Returns429WithRetryAfter()
    {
        await using var server = await TestServer.StartAsync("sqlite", "--Auth:LoginAttemptsPerMinute=3");
        using var anonymous = server.Anonymous();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/auth/login", new { username = "admin", password = "guess-" + i })).Status);
        }

        var limited = await anonymous.PostAsync("/api/v1/auth/login", new { username = "admin", password = TestServer.AdminPassword });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("request.rate_limited", limited.Code);
        Assert.True(limited.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Login_ConsoleSealedAddresses_AreLimitedApart_AndForgedAddressesChangeNothing()
    {
        await using var server = await TestServer.StartAsync("sqlite", "--Auth:LoginAttemptsPerMinute=2");
        var seal = server.Services.GetRequiredService<IDataProtectionProvider>()
            .CreateProtector(Http.ConsoleClientAddress.Purpose).ToTimeLimitedDataProtector();

        // Two browsers behind the console: each has its own allowance, and the audit names each.
        foreach (var address in new[] { "192.0.2.10", "192.0.2.11" })
        {
            using var browser = server.Anonymous();
            browser.Http.DefaultRequestHeaders.TryAddWithoutValidation(Http.ConsoleClientAddress.HeaderName, seal.Protect(address, TimeSpan.FromMinutes(1)));
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/api/v1/auth/login", new { username = "admin", password = "guess-" + i })).Status);
            }

            Assert.Equal(HttpStatusCode.TooManyRequests, (await browser.PostAsync("/api/v1/auth/login", new { username = "admin", password = "guess" })).Status);
        }

        // A client naming its own address (plain, or sealed by another key ring, or sealed and expired) stays itself.
        var foreign = DataProtectionProvider.Create("elsewhere")
            .CreateProtector(Http.ConsoleClientAddress.Purpose).ToTimeLimitedDataProtector();
        var forged = new[] { "192.0.2.12", foreign.Protect("192.0.2.13", TimeSpan.FromMinutes(1)), seal.Protect("192.0.2.14", DateTimeOffset.UtcNow.AddSeconds(-1)) };
        var statuses = new List<HttpStatusCode>();
        foreach (var header in forged)
        {
            using var client = server.Anonymous();
            client.Http.DefaultRequestHeaders.TryAddWithoutValidation(Http.ConsoleClientAddress.HeaderName, header);
            statuses.Add((await client.PostAsync("/api/v1/auth/login", new { username = "admin", password = "guess" })).Status);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);

        // 127.0.0.1 has used its allowance; the admin signs in as another browser behind the console.
        using var admin = server.Anonymous();
        admin.Http.DefaultRequestHeaders.TryAddWithoutValidation(Http.ConsoleClientAddress.HeaderName, seal.Protect("192.0.2.20", TimeSpan.FromMinutes(1)));
        var login = await admin.PostAsync("/api/v1/auth/login", new { username = "admin", password = TestServer.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, login.Status);
        admin.Token = (string)login.Body!["access_token"]!;
        var failures = await admin.GetAsync("/api/v1/audit?action=auth.login&outcome=failure&limit=50");
        var addresses = failures.Body!["items"]!.AsArray().Select(e => (string?)e!["address"]).ToList();
        // Each browser: two wrong passwords and one refused by the limit, all audited under its address.
        Assert.Equal(3, addresses.Count(a => a == "192.0.2.10"));
        Assert.Equal(3, addresses.Count(a => a == "192.0.2.11"));
        Assert.DoesNotContain("192.0.2.12", addresses);
        Assert.DoesNotContain("192.0.2.13", addresses);
        Assert.Equal(3, addresses.Count(a => a == "127.0.0.1"));
    }
}
