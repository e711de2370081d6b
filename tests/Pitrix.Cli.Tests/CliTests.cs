using System.Text.Json.Nodes;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Cli.Tests;

/// <summary>The <c>pitrix</c> CLI, run in-process against a real server over HTTP.</summary>
public sealed class CliTests(SqliteServerFixture fixture) : IClassFixture<SqliteServerFixture>, IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("pitrix-cli-").FullName;

    private string ConfigPath => Path.Combine(_home, "pitrix", "config.json");

    private sealed record Run(int ExitCode, string Output, string Error)
    {
        public JsonNode Json => JsonNode.Parse(Output)!;
    }

    private async Task<Run> PitrixWithInputAsync(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var env = new CliEnvironment(new StringReader(stdin), output, error, ConfigPath, InputIsTerminal: false);
        var code = await CliApp.RunAsync(args, env);
        return new Run(code, output.ToString(), error.ToString());
    }

    private Task<Run> PitrixAsync(params string[] args) => PitrixWithInputAsync("", args);

    private Task<Run> LoginAdminAsync() =>
        PitrixWithInputAsync(TestServer.AdminPassword + "\n", "login", "--server", fixture.Server.Address.ToString(), "--username", "admin", "--password-stdin");

    [Fact]
    public async Task Login_CreateRuntime_ListAsJson()
    {
        var login = await LoginAdminAsync();
        Assert.Equal(ExitCodes.Ok, login.ExitCode);
        Assert.Contains("Signed in", login.Error, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ConfigPath));

        var whoami = await PitrixAsync("whoami", "-o", "json");
        Assert.Equal("admin", (string?)whoami.Json["name"]);

        var name = ServerFixture.Unique("cli-rt");
        var created = await PitrixAsync("runtime", "create", name, "--provider", "local", "--zone", "cli", "--label", "env=dev", "-l", "tier=gold", "-o", "json");
        Assert.Equal(ExitCodes.Ok, created.ExitCode);
        var id = (string)created.Json["id"]!;
        Assert.Equal("gold", (string?)created.Json["labels"]!["tier"]);

        var list = await PitrixAsync("runtime", "list", "-q", name, "-o", "json");
        Assert.Equal(ExitCodes.Ok, list.ExitCode);
        Assert.Equal(id, (string?)list.Json["items"]![0]!["id"]);

        var table = await PitrixAsync("runtime", "list", "-q", name);
        Assert.Contains("PROVIDER", table.Output, StringComparison.Ordinal);
        Assert.Contains(name, table.Output, StringComparison.Ordinal);

        var yaml = await PitrixAsync("runtime", "get", id, "-o", "yaml");
        Assert.Contains($"name: {name}", yaml.Output, StringComparison.Ordinal);

        var validate = await PitrixAsync("runtime", "validate", id, "-o", "json");
        Assert.True((bool)validate.Json["ok"]!);
    }

    [Fact]
    public async Task Errors_ArePrintedAsProblemDetails_WithNamedExitCodes()
    {
        Assert.Equal(ExitCodes.Unauthenticated, (await PitrixAsync("runtime", "list")).ExitCode);

        var badLogin = await PitrixWithInputAsync("wrong-password\n", "login", "--server", fixture.Server.Address.ToString(), "--username", "admin", "--password-stdin");
        Assert.Equal(ExitCodes.Unauthenticated, badLogin.ExitCode);
        Assert.Contains("auth.invalid_credentials", badLogin.Error, StringComparison.Ordinal);

        await LoginAdminAsync();
        var missing = await PitrixAsync("runtime", "get", "rt-doesnotexist");
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Contains("runtime.not_found", missing.Error, StringComparison.Ordinal);

        var invalid = await PitrixAsync("runtime", "create", "x", "--provider", "mars", "-o", "json");
        Assert.Equal(ExitCodes.Invalid, invalid.ExitCode);
        var problem = JsonNode.Parse(invalid.Error)!;
        Assert.Equal("validation.failed", (string?)problem["code"]);
        Assert.NotNull(problem["errors"]!["provider"]);

        var name = ServerFixture.Unique("twice");
        await PitrixAsync("runtime", "create", name, "--provider", "local");
        Assert.Equal(ExitCodes.Conflict, (await PitrixAsync("runtime", "create", name, "--provider", "local")).ExitCode);

        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("runtime", "frobnicate")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await PitrixAsync("runtime", "list", "-o", "xml")).ExitCode);
    }

    [Fact]
    public async Task UnreachableServer_ExitsUnavailable()
    {
        var login = await PitrixWithInputAsync("x\n", "login", "--server", "http://127.0.0.1:1", "--username", "admin", "--password-stdin");
        Assert.Equal(ExitCodes.Unavailable, login.ExitCode);
        Assert.Contains("cli.server_unreachable", login.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credential_SecretFromStdin_IsNeverPrinted()
    {
        await LoginAdminAsync();
        const string secret = "cli-secret-value-42";
        var created = await PitrixWithInputAsync(secret, "credential", "create", ServerFixture.Unique("cred"), "--provider", "local", "--secret-stdin", "-o", "json");
        Assert.Equal(ExitCodes.Ok, created.ExitCode);
        Assert.True((bool)created.Json["has_secret"]!);
        var shown = await PitrixAsync("credential", "get", (string)created.Json["id"]!);
        Assert.DoesNotContain(secret, created.Output + shown.Output, StringComparison.Ordinal);

        var noSecret = await PitrixAsync("credential", "create", "nosecret", "--provider", "local");
        Assert.Equal(ExitCodes.Usage, noSecret.ExitCode);
    }

    [Fact]
    public async Task ApiToken_LoginWithToken_AndUserAdministration()
    {
        await LoginAdminAsync();
        var name = ServerFixture.Unique("cliuser");
        var user = await PitrixWithInputAsync("password-" + name + "\n", "user", "create", name, "--password-stdin", "--role", "developer", "-o", "json");
        Assert.Equal(ExitCodes.Ok, user.ExitCode);
        Assert.Equal("developer", (string?)user.Json["roles"]![0]);

        await PitrixWithInputAsync("password-" + name + "\n", "login", "--server", fixture.Server.Address.ToString(), "--username", name, "--password-stdin");
        var token = await PitrixAsync("token", "create", "ci", "-o", "json");
        var secret = (string)token.Json["token"]!;

        await PitrixAsync("logout");
        Assert.Equal(ExitCodes.Unauthenticated, (await PitrixAsync("whoami")).ExitCode);
        var tokenLogin = await PitrixAsync("login", "--server", fixture.Server.Address.ToString(), "--token", secret);
        Assert.Equal(ExitCodes.Ok, tokenLogin.ExitCode);
        Assert.Equal(name, (string?)(await PitrixAsync("whoami", "-o", "json")).Json["name"]);
        Assert.Equal(ExitCodes.Forbidden, (await PitrixAsync("user", "list")).ExitCode);

        var audit = await PitrixAsync("audit", "--action", "api_token.create", "-o", "json");
        Assert.Equal(1, (int)audit.Json["total"]!);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
