using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Pitrix.Web.Session;

namespace Pitrix.Web.Client;

/// <summary>
/// The console's client of the REST API, the same API the CLI uses: every call carries the signed-in
/// user's access token, an access token about to expire (or refused as expired) is refreshed once through
/// <see cref="SessionStore"/>, a sign-in the API no longer accepts ends the web session
/// (<see cref="SignInRequiredException"/>), and every other refusal becomes an <see cref="ApiException"/>
/// carrying the problem details. Each area of the console keeps its calls in its own part
/// (<c>PitrixApi.Clusters.cs</c>, …), built on <see cref="GetAsync{T}"/> and <see cref="SendAsync{T}"/>.
/// </summary>
public sealed partial class PitrixApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly HttpClient _http;
    private readonly WebSession _session;
    private readonly SessionStore _store;
    private readonly WebOptions _options;
    private readonly TimeProvider _time;
    private bool _refreshedInScope;

    public PitrixApi(HttpClient http, ApiAddress address, WebSession session, SessionStore store, IOptions<WebOptions> options, TimeProvider time)
    {
        _http = http;
        _http.BaseAddress ??= address.BaseAddress;
        _session = session;
        _store = store;
        _options = options.Value;
        _time = time;
    }

    /// <summary>Signs in with a user name and password and starts the web session; wrong credentials throw the API's problem.</summary>
    public async Task<UserInfo> SignInAsync(string username, string password, CancellationToken cancellationToken)
    {
        var pair = await SendAsync<TokenPair>(HttpMethod.Post, "api/v1/auth/login", new { username, password }, authenticate: false, cancellationToken);
        _session.Start(pair);
        return pair.User;
    }

    /// <summary>Ends the sign-in at the API (best effort: an API that already ended it is fine) and clears the session.</summary>
    public async Task SignOutAsync(CancellationToken cancellationToken)
    {
        if (_session.Tokens is not null)
        {
            try
            {
                await SendAsync<JsonNode>(HttpMethod.Post, "api/v1/auth/logout", null, authenticate: true, cancellationToken);
            }
            catch (Exception ex) when (ex is ApiException or SignInRequiredException)
            {
                // The sign-in is already over at the API, or the API cannot be reached: the browser's session ends anyway.
            }
        }

        _session.End(expired: false);
    }

    /// <summary>Refreshes the access token now when it expires within <see cref="WebOptions.RefreshMargin"/>.</summary>
    public async Task EnsureFreshAsync(CancellationToken cancellationToken)
    {
        if (!_refreshedInScope && _session.Tokens is { } tokens && tokens.AccessExpiresAt - _time.GetUtcNow() < _options.RefreshMargin)
        {
            await RefreshAsync(tokens, cancellationToken);
        }
    }

    public Task<UserInfo> GetMeAsync(CancellationToken cancellationToken) => GetAsync<UserInfo>("api/v1/me", cancellationToken);

    public Task<List<ApiTokenInfo>> ListTokensAsync(CancellationToken cancellationToken) => GetAsync<List<ApiTokenInfo>>("api/v1/me/tokens", cancellationToken);

    public Task<CreatedApiToken> CreateTokenAsync(string? name, int? expiresInDays, CancellationToken cancellationToken) =>
        SendAsync<CreatedApiToken>(HttpMethod.Post, "api/v1/me/tokens", new { name, expires_in_days = expiresInDays }, authenticate: true, cancellationToken);

    public Task RevokeTokenAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<JsonNode>(HttpMethod.Delete, "api/v1/me/tokens/" + Uri.EscapeDataString(id), null, authenticate: true, cancellationToken);

    public Task<PageOf<AppInfo>> ListAppsAsync(AppQuery query, CancellationToken cancellationToken) =>
        GetAsync<PageOf<AppInfo>>("api/v1/apps" + Query(
            ("q", query.Q), ("category", query.Category), ("repo", query.Repo), ("format", query.Format), ("provider", query.Provider),
            ("limit", query.Limit.ToString(CultureInfo.InvariantCulture)), ("offset", query.Offset.ToString(CultureInfo.InvariantCulture))), cancellationToken);

    public Task<AppInfo> GetAppAsync(string id, CancellationToken cancellationToken) => GetAsync<AppInfo>("api/v1/apps/" + Uri.EscapeDataString(id), cancellationToken);

    public Task<PageOf<AppVersionInfo>> ListVersionsAsync(string appId, int limit, CancellationToken cancellationToken) =>
        GetAsync<PageOf<AppVersionInfo>>($"api/v1/apps/{Uri.EscapeDataString(appId)}/versions?limit={limit.ToString(CultureInfo.InvariantCulture)}", cancellationToken);

    public Task<AppVersionInfo> GetVersionAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync<AppVersionInfo>("api/v1/app_versions/" + Uri.EscapeDataString(versionId), cancellationToken);

    /// <summary>The runtimes the caller may deploy the version to (runtime matching is the API's).</summary>
    public Task<List<RuntimeInfo>> ListMatchingRuntimesAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync<List<RuntimeInfo>>($"api/v1/app_versions/{Uri.EscapeDataString(versionId)}/runtimes", cancellationToken);

    public Task<PageOf<CategoryInfo>> ListCategoriesAsync(CancellationToken cancellationToken) => GetAsync<PageOf<CategoryInfo>>("api/v1/categories?limit=200", cancellationToken);

    public Task<PageOf<RepoInfo>> ListReposAsync(CancellationToken cancellationToken) => GetAsync<PageOf<RepoInfo>>("api/v1/repos?limit=200", cancellationToken);

    /// <summary>An app's stored icon; null when it has none.</summary>
    public async Task<IconContent?> GetIconAsync(string appId, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendCheckedAsync(HttpMethod.Get, $"api/v1/apps/{Uri.EscapeDataString(appId)}/icon", null, authenticate: true, cancellationToken);
            var mediaType = response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream";
            return new IconContent(await response.Content.ReadAsByteArrayAsync(cancellationToken), mediaType, response.Headers.ETag?.Tag);
        }
        catch (ApiException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) => SendAsync<T>(HttpMethod.Get, path, null, authenticate: true, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, bool authenticate, CancellationToken cancellationToken)
    {
        using var response = await SendCheckedAsync(method, path, body, authenticate, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return default!;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return JsonSerializer.Deserialize<T>(text, Json)
            ?? throw new ApiException((int)response.StatusCode, "web.empty_response", "Empty response", $"The API answered {path} with no content.", null);
    }

    /// <summary>
    /// Sends a request as the signed-in user (refreshing the access token when it is about to expire or refused as
    /// expired) and returns the successful response; a refusal throws. With <paramref name="stream"/> only the
    /// response headers are awaited, so the caller reads the body as it arrives (an event stream).
    /// </summary>
    private async Task<HttpResponseMessage> SendCheckedAsync(HttpMethod method, string path, object? body, bool authenticate, CancellationToken cancellationToken, StreamRequest? stream = null)
    {
        SessionTokens? tokens = null;
        if (authenticate)
        {
            tokens = _session.Tokens ?? throw new SignInRequiredException(_session.Ended);

            // Once per request is enough: a pair shorter-lived than the margin must not be exchanged on every call.
            if (!_refreshedInScope && tokens.AccessExpiresAt - _time.GetUtcNow() < _options.RefreshMargin)
            {
                tokens = await RefreshAsync(tokens, cancellationToken);
            }
        }

        var response = await SendOnceAsync(method, path, body, tokens, cancellationToken, stream);
        if (response.StatusCode == HttpStatusCode.Unauthorized && tokens is not null)
        {
            var problem = await ReadProblemAsync(response, cancellationToken);
            response.Dispose();
            if (problem.Code != "auth.token_expired")
            {
                // Revoked, signed out elsewhere, password changed, account disabled: this sign-in is over.
                _session.End(expired: true);
                throw new SignInRequiredException(expired: true);
            }

            tokens = await RefreshAsync(tokens, cancellationToken);
            response = await SendOnceAsync(method, path, body, tokens, cancellationToken, stream);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var problem = await ReadProblemAsync(response, cancellationToken);
                if (response.StatusCode == HttpStatusCode.Unauthorized && tokens is not null)
                {
                    _session.End(expired: true);
                    throw new SignInRequiredException(expired: true);
                }

                throw problem;
            }
        }

        return response;
    }

    private async Task<SessionTokens> RefreshAsync(SessionTokens tokens, CancellationToken cancellationToken)
    {
        var refreshed = await _store.RefreshAsync(tokens, ExchangeAsync, cancellationToken);
        if (refreshed is null)
        {
            _session.End(expired: true);
            throw new SignInRequiredException(expired: true);
        }

        _refreshedInScope = true;
        _session.Replace(refreshed);
        return refreshed;
    }

    /// <summary>POST /auth/refresh; null when the API refuses the refresh token (the sign-in is over).</summary>
    private async Task<TokenPair?> ExchangeAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var response = await SendOnceAsync(HttpMethod.Post, "api/v1/auth/refresh", new { refresh_token = refreshToken }, null, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await ReadProblemAsync(response, cancellationToken);
        }

        return JsonSerializer.Deserialize<TokenPair>(await response.Content.ReadAsStringAsync(cancellationToken), Json);
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, string path, object? body, SessionTokens? tokens, CancellationToken cancellationToken, StreamRequest? stream = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream?.MediaType ?? "application/json"));
        if (stream?.LastEventId is { } lastEventId)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        if (tokens is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        }

        // Content built by the caller (a multipart upload) goes as it is; anything else as JSON. The content is
        // rebuilt per attempt where it can be: a byte array upload is wrapped anew each time.
        request.Content = body switch
        {
            null => null,
            Func<HttpContent> content => content(),
            HttpContent => throw new ArgumentException("Pass a Func<HttpContent>, so a retried request gets fresh content.", nameof(body)),
            _ => new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json"),
        };

        try
        {
            return await _http.SendAsync(request, stream is null ? HttpCompletionOption.ResponseContentRead : HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiException(0, "web.api_unreachable", "API unreachable", $"The console cannot reach the API at {_http.BaseAddress}: {ex.Message}", null, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ApiException(0, "web.api_timeout", "API timed out", $"The API at {_http.BaseAddress} did not answer in time.", null, ex);
        }
    }

    private static async Task<ApiException> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            if (JsonNode.Parse(text) is JsonObject problem)
            {
                Dictionary<string, string[]>? fields = null;
                if (problem["errors"] is JsonObject errors)
                {
                    fields = errors.ToDictionary(
                        e => e.Key,
                        e => e.Value is JsonArray list ? list.Select(m => (string?)m ?? "").ToArray() : [e.Value?.ToString() ?? ""],
                        StringComparer.Ordinal);
                }

                return new ApiException(
                    status,
                    (string?)problem["code"] ?? "request.failed",
                    (string?)problem["title"] ?? response.ReasonPhrase ?? "Request failed",
                    (string?)problem["detail"],
                    fields);
            }
        }
        catch (JsonException)
        {
        }

        return new ApiException(status, "request.failed", response.ReasonPhrase ?? "Request failed", $"The API answered {status} {response.ReasonPhrase}.", null);
    }

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }
}

/// <summary>A request whose response body is read as it arrives: what it accepts, and where an event stream resumes.</summary>
internal sealed record StreamRequest(string MediaType, string? LastEventId);
