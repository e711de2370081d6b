using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pitrix.Cli;

/// <summary>A failed call, carrying the server's problem details (or a connection failure).</summary>
public sealed class ApiException(int status, string code, string title, string? detail, IReadOnlyDictionary<string, string[]>? fields) : Exception(detail ?? title)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public string Title { get; } = title;

    public string? Detail { get; } = detail;

    public IReadOnlyDictionary<string, string[]>? Fields { get; } = fields;
}

/// <summary>
/// Thin REST client: sends the saved token, refreshes an expired access token once and saves the
/// new pair, and turns problem responses into <see cref="ApiException"/>.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly CliConfig _config;
    private readonly string _configPath;

    public ApiClient(CliConfig config, string configPath, HttpMessageHandler? handler = null, string? server = null)
    {
        _config = config;
        _configPath = configPath;
        var baseUrl = server ?? config.Server ?? throw new ApiException(0, "cli.not_logged_in", "Not signed in", "Run `pitrix login --server <url>` first.", null);
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromSeconds(100);
    }

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonNode?> PostAsync(string path, object? body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, path, body, cancellationToken);

    public Task<JsonNode?> PutAsync(string path, object? body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Put, path, body, cancellationToken);

    public Task<JsonNode?> PatchAsync(string path, object? body, CancellationToken cancellationToken) => SendAsync(HttpMethod.Patch, path, body, cancellationToken);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Delete, path, null, cancellationToken);

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, bool authenticate = true)
    {
        var response = await SendOnceAsync(method, path, body, authenticate, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized && authenticate && _config.ApiToken is null && _config.RefreshToken is not null)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            if (problem.Code == "auth.token_expired" && await TryRefreshAsync(cancellationToken))
            {
                response.Dispose();
                response = await SendOnceAsync(method, path, body, authenticate, cancellationToken);
            }
            else
            {
                response.Dispose();
                throw problem;
            }
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await ReadProblemAsync(response, cancellationToken);
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
    }

    private async Task<bool> TryRefreshAsync(CancellationToken cancellationToken)
    {
        using var response = await SendOnceAsync(HttpMethod.Post, "api/v1/auth/refresh", new { refresh_token = _config.RefreshToken }, authenticate: false, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }

        var tokens = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
        _config.AccessToken = (string?)tokens["access_token"];
        _config.RefreshToken = (string?)tokens["refresh_token"];
        _config.Save(_configPath);
        return true;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, object? body, bool authenticate, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var token = _config.ApiToken ?? _config.AccessToken;
        if (authenticate && token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        try
        {
            return await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiException(0, "cli.server_unreachable", "Server unreachable", $"Cannot reach {_http.BaseAddress}: {ex.Message}", null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ApiException(0, "cli.timeout", "Timed out", $"{_http.BaseAddress} did not answer in {_http.Timeout.TotalSeconds:0} seconds.", null);
        }
    }

    private static async Task<ApiException> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            var problem = JsonNode.Parse(text);
            Dictionary<string, string[]>? fields = null;
            if (problem?["errors"] is JsonObject errors)
            {
                fields = errors.ToDictionary(e => e.Key, e => e.Value is JsonArray a ? a.Select(x => (string?)x ?? "").ToArray() : [e.Value?.ToString() ?? ""]);
            }

            return new ApiException(status, (string?)problem?["code"] ?? $"http.{status}", (string?)problem?["title"] ?? response.ReasonPhrase ?? "Error", (string?)problem?["detail"], fields);
        }
        catch (JsonException)
        {
            return new ApiException(status, $"http.{status}", response.ReasonPhrase ?? "Error", text.Length > 500 ? text[..500] : text, null);
        }
    }

    public void Dispose() => _http.Dispose();
}
