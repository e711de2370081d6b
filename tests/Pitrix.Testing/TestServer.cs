using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Pitrix.Server;

namespace Pitrix.Testing;

/// <summary>
/// A real Pitrix server — the same composition as <c>pitrix-server</c> — listening on a free loopback
/// port with its own data directory and database, driven over real HTTP.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AdminPassword = "admin-password-for-tests";

    private readonly TestDatabase _database;
    private readonly string[] _args;
    private readonly Action<WebApplicationBuilder>? _configure;
    private WebApplication _app;

    private TestServer(WebApplication app, TestDatabase database, string dataDirectory, Uri address, string[] args, Action<WebApplicationBuilder>? configure)
    {
        _app = app;
        _database = database;
        _args = args;
        _configure = configure;
        DataDirectory = dataDirectory;
        Address = address;
    }

    public Uri Address { get; private set; }

    public string DataDirectory { get; }

    public TestDatabase Database => _database;

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server on the given database kind (<c>sqlite</c> or <c>postgres</c>).</summary>
    public static Task<TestServer> StartAsync(string databaseKind, params string[] extraArgs) => StartAsync(databaseKind, null, extraArgs);

    /// <summary>Starts a server with extra registrations (a fake cloud for engine tests, for example).</summary>
    public static async Task<TestServer> StartAsync(string databaseKind, Action<WebApplicationBuilder>? configure, params string[] extraArgs)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("pitrix-test-").FullName;
        var database = databaseKind == "postgres" ? await TestDatabase.PostgresAsync() : TestDatabase.Sqlite(dataDirectory);
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--data-dir={dataDirectory}",
            $"--database={database.Provider}",
            $"--connection-string={database.ConnectionString}",
            $"--ADMIN_PASSWORD={AdminPassword}",
            "--Auth:LoginAttemptsPerMinute=100000",
            "--Logging:LogLevel:Default=Warning",

            // Pilot's listener takes a free port too (PilotEndpoint says which), so servers run side by side.
            "--Agent:Pilot:Listen=127.0.0.1:0",
            .. extraArgs,
        ];
        var (app, address) = await StartAppAsync(args, configure);
        return new TestServer(app, database, dataDirectory, address, args, configure);
    }

    /// <summary>
    /// Stops the server and starts it again on the same data directory and database, as a process
    /// restart would; everything held only in memory is lost. Listeners on port 0 get new ports.
    /// </summary>
    public async Task RestartAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        (_app, var address) = await StartAppAsync(_args, _configure);
        Address = address;
    }

    private static async Task<(WebApplication App, Uri Address)> StartAppAsync(string[] args, Action<WebApplicationBuilder>? configure)
    {
        var app = PitrixServer.Build(args, configure);
        await PitrixServer.InitializeAsync(app, TextWriter.Null);
        await app.StartAsync();
        return (app, new Uri(app.Urls.First()));
    }

    public ApiSession Anonymous() => new(new HttpClient { BaseAddress = Address });

    public async Task<ApiSession> LoginAsync(string user, string password)
    {
        var session = Anonymous();
        var response = await session.PostAsync("/api/v1/auth/login", new { username = user, password });
        if (response.Status != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Login as {user} failed: {response.Status} {response.Body}");
        }

        session.Token = (string)response.Body!["access_token"]!;
        session.RefreshToken = (string)response.Body["refresh_token"]!;
        session.UserId = (string)response.Body["user"]!["id"]!;
        return session;
    }

    public Task<ApiSession> LoginAdminAsync() => LoginAsync("admin", AdminPassword);

    /// <summary>Creates a user with the given roles (and groups) as admin, and signs in as that user.</summary>
    public async Task<ApiSession> CreateUserAsync(string name, string[] roles, string[]? groupIds = null)
    {
        using var admin = await LoginAdminAsync();
        var created = await admin.PostAsync("/api/v1/users", new { name, password = "password-" + name, roles, group_ids = groupIds });
        if (created.Status != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating user {name} failed: {created.Status} {created.Body}");
        }

        return await LoginAsync(name, "password-" + name);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _database.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An HTTP client of the test server, optionally signed in.</summary>
public sealed class ApiSession(HttpClient http) : IDisposable
{
    public string? Token { get; set; }

    public string? RefreshToken { get; set; }

    public string? UserId { get; set; }

    public HttpClient Http => http;

    public Task<ApiResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<ApiResponse> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);

    public Task<ApiResponse> PutAsync(string path, object? body = null) => SendAsync(HttpMethod.Put, path, body);

    public Task<ApiResponse> PatchAsync(string path, object? body = null) => SendAsync(HttpMethod.Patch, path, body);

    public Task<ApiResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body, string? rawJson = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (Token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }

        if (rawJson is not null)
        {
            request.Content = new StringContent(rawJson, Encoding.UTF8, "application/json");
        }
        else if (body is not null || method == HttpMethod.Post || method == HttpMethod.Put || method == HttpMethod.Patch)
        {
            request.Content = JsonContent.Create(body ?? new { });
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            json = JsonNode.Parse(text);
        }

        return new ApiResponse(response.StatusCode, json, text, response.Headers);
    }

    /// <summary>Posts a multipart form with a <c>package</c> file, as <c>pitrix app upload</c> does.</summary>
    public async Task<ApiResponse> UploadAsync(string path, byte[] package, string fileName = "package.tgz", IReadOnlyDictionary<string, string>? fields = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (Token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }

        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(package);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        form.Add(file, "package", fileName);
        foreach (var (name, value) in fields ?? new Dictionary<string, string>())
        {
            form.Add(new StringContent(value), name);
        }

        request.Content = form;
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : null;
        return new ApiResponse(response.StatusCode, json, text, response.Headers);
    }

    public void Dispose() => http.Dispose();
}

public sealed record ApiResponse(HttpStatusCode Status, JsonNode? Body, string Text, HttpResponseHeaders Headers)
{
    public string? Code => (string?)Body?["code"];

    public string Id => (string)Body!["id"]!;

    public override string ToString() => $"{(int)Status} {Text}";
}
