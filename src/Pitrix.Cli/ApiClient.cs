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

    public Task<JsonNode?> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, bool authenticate = true) =>
        SendContentAsync(method, path, body is null ? null : () => JsonContent(body), cancellationToken, authenticate);

    /// <summary>Sends a body built by <paramref name="content"/>, which is called again if the request is retried after a token refresh.</summary>
    public async Task<JsonNode?> SendContentAsync(HttpMethod method, string path, Func<HttpContent>? content, CancellationToken cancellationToken, bool authenticate = true)
    {
        using var response = await SendCheckedAsync(method, path, content, "application/json", authenticate, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Downloads a file; the name is the one the server suggests in Content-Disposition, if any.</summary>
    public async Task<(byte[] Content, string? FileName)> DownloadAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(HttpMethod.Get, path, null, "*/*", authenticate: true, cancellationToken);
        var disposition = response.Content.Headers.ContentDisposition;
        var fileName = (disposition?.FileNameStar ?? disposition?.FileName)?.Trim('"');
        return (await response.Content.ReadAsByteArrayAsync(cancellationToken), fileName);
    }

    /// <summary>
    /// Opens a Server-Sent Events stream, resuming after <paramref name="lastEventId"/> when given; null when the
    /// server answers anything but 200 <c>text/event-stream</c> (or cannot be reached), so the caller can poll instead.
    /// The caller disposes the response, which ends the stream.
    /// </summary>
    public async Task<HttpResponseMessage?> OpenEventStreamAsync(string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        Authorize(request);
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        HttpResponseMessage response;
        try
        {
            // Only the headers are awaited: the body is the stream, read as events arrive, beyond the client's timeout.
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            return response;
        }

        response.Dispose();
        return null;
    }

    private async Task<HttpResponseMessage> SendCheckedAsync(HttpMethod method, string path, Func<HttpContent>? content, string accept, bool authenticate, CancellationToken cancellationToken)
    {
        var response = await SendOnceAsync(method, path, content, accept, authenticate, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized && authenticate && _config.ApiToken is null && _config.RefreshToken is not null)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            if (problem.Code == "auth.token_expired" && await TryRefreshAsync(cancellationToken))
            {
                response.Dispose();
                response = await SendOnceAsync(method, path, content, accept, authenticate, cancellationToken);
            }
            else
            {
                response.Dispose();
                throw problem;
            }
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await ReadProblemAsync(response, cancellationToken);
            }
        }

        return response;
    }

    private async Task<bool> TryRefreshAsync(CancellationToken cancellationToken)
    {
        using var response = await SendOnceAsync(HttpMethod.Post, "api/v1/auth/refresh", () => JsonContent(new { refresh_token = _config.RefreshToken }), "application/json", authenticate: false, cancellationToken);
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

    private static StringContent JsonContent(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, Func<HttpContent>? content, string accept, bool authenticate, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        if (authenticate)
        {
            Authorize(request);
        }

        request.Content = content?.Invoke();

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

    private void Authorize(HttpRequestMessage request)
    {
        var token = _config.ApiToken ?? _config.AccessToken;
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
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
