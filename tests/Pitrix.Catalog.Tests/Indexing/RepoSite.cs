using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pitrix.Testing;

namespace Pitrix.Catalog.Tests.Indexing;

/// <summary>One repo served by <see cref="RepoFileServer"/>: a directory of files, how it authenticates, and what it was asked for.</summary>
public sealed class RepoSite
{
    public required string Key { get; init; }

    public required string Directory { get; init; }

    /// <summary>Expected <c>Authorization</c> header value; null serves anyone.</summary>
    public string? Authorization { get; set; }

    /// <summary>When set, every request answers with this status.</summary>
    public int? Status { get; set; }

    /// <summary>Time the index takes to come, to make two syncs overlap.</summary>
    public TimeSpan IndexDelay { get; set; }

    public ConcurrentQueue<(string Path, int Status)> Requests { get; } = new();

    public int Count(string path, int status) => Requests.Count(r => r.Path == path && r.Status == status);

    public string IndexPath => Path.Combine(Directory, "index.yaml");

    /// <summary>A fresh copy of <c>samples/repo</c> in <paramref name="root"/>.</summary>
    public static RepoSite CopyOfSamples(string root)
    {
        var key = "r" + Guid.NewGuid().ToString("N")[..10];
        var directory = Path.Combine(root, key);
        System.IO.Directory.CreateDirectory(directory);
        foreach (var file in System.IO.Directory.GetFiles(RepoFiles.Path("samples", "repo")))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        return new RepoSite { Key = key, Directory = directory };
    }
}

/// <summary>
/// A real HTTP server on 127.0.0.1 serving repo directories at <c>/{key}/{file}</c>, with strong ETags
/// (sha256 of the file) and If-None-Match, and per-repo basic/bearer auth or a forced status.
/// </summary>
public sealed class RepoFileServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, RepoSite> _sites = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public Uri UrlOf(RepoSite site) => new(BaseAddress, site.Key + "/");

    public RepoSite Add(RepoSite site)
    {
        _sites[site.Key] = site;
        return site;
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(ServeAsync);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    private async Task ServeAsync(HttpContext http)
    {
        var parts = (http.Request.Path.Value ?? "").Trim('/').Split('/', 2);
        if (parts.Length != 2 || !_sites.TryGetValue(parts[0], out var site))
        {
            http.Response.StatusCode = 404;
            return;
        }

        var file = parts[1];
        var status = await AnswerAsync(http, site, file);
        site.Requests.Enqueue((file, status));
    }

    private static async Task<int> AnswerAsync(HttpContext http, RepoSite site, string file)
    {
        if (site.Status is { } forced)
        {
            return http.Response.StatusCode = forced;
        }

        if (site.Authorization is not null && http.Request.Headers.Authorization.ToString() != site.Authorization)
        {
            return http.Response.StatusCode = 401;
        }

        var path = Path.Combine(site.Directory, file);
        if (file.Contains("..", StringComparison.Ordinal) || !File.Exists(path))
        {
            return http.Response.StatusCode = 404;
        }

        if (file == "index.yaml" && site.IndexDelay > TimeSpan.Zero)
        {
            await Task.Delay(site.IndexDelay);
        }

        var body = await File.ReadAllBytesAsync(path);
        var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..16] + "\"";
        if (http.Request.Headers.IfNoneMatch.ToString() == etag)
        {
            return http.Response.StatusCode = 304;
        }

        http.Response.Headers.ETag = etag;
        http.Response.ContentType = file.EndsWith(".yaml", StringComparison.Ordinal) ? "application/yaml" : "application/gzip";
        await http.Response.Body.WriteAsync(body);
        return 200;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
}
