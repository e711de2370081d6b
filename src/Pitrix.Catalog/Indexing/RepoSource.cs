using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Pitrix.Catalog.Fetching;
using Pitrix.Packages;

namespace Pitrix.Catalog.Indexing;

/// <summary>An index as fetched: not modified (304), or its bytes with their validators and sha256.</summary>
public sealed record IndexFetch(bool NotModified, byte[] Body, string Sha256, string? ETag, DateTimeOffset? LastModified);

/// <summary>
/// Reads a repo's <c>index.yaml</c> and packages from where the repo lives: <c>http(s)://</c> through
/// <see cref="SafeFetcher"/> (conditional GET, the repo's credentials), or <c>file://</c> from a server
/// directory, never reading outside it.
/// </summary>
public sealed class RepoSource(SafeFetcher fetcher, IOptions<FetchOptions> fetchOptions, IOptions<IndexerOptions> indexerOptions)
{
    public const string IndexFileName = "index.yaml";

    /// <summary>The repo URL as a directory (trailing slash), against which relative package URLs resolve.</summary>
    public static Uri BaseUri(string repoUrl)
    {
        var url = repoUrl.EndsWith('/') ? repoUrl : repoUrl + "/";
        return new Uri(url, UriKind.Absolute);
    }

    /// <summary>Whether <paramref name="url"/> has the scheme, host and port of <paramref name="repo"/>.</summary>
    public static bool SameOrigin(Uri repo, Uri url) =>
        string.Equals(repo.Scheme, url.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(repo.IdnHost, url.IdnHost, StringComparison.OrdinalIgnoreCase)
        && repo.Port == url.Port;

    /// <summary>
    /// Resolves an index entry's package URL against the repo. Returns null and sets <paramref name="error"/>
    /// (a code and message) when it points to another origin or, for a directory repo, outside the directory.
    /// </summary>
    public static Uri? ResolvePackageUrl(Uri repoBase, string url, out (string Code, string Message)? error)
    {
        error = null;
        if (!Uri.TryCreate(repoBase, url, out var resolved))
        {
            error = ("package.url_invalid", $"'{url}' is not a valid URL.");
            return null;
        }

        if (!SameOrigin(repoBase, resolved))
        {
            error = ("package.foreign_host", $"'{url}' is not on the repo's scheme, host and port ({repoBase.GetLeftPart(UriPartial.Authority)}); packages are only fetched from the repo itself.");
            return null;
        }

        if (resolved.IsFile && !IsInside(repoBase.LocalPath, resolved.LocalPath))
        {
            error = ("package.path_escape", $"'{url}' points outside the repo directory.");
            return null;
        }

        if (resolved.OriginalString.Length > 2048)
        {
            error = ("package.url_invalid", "The package URL is longer than 2048 characters.");
            return null;
        }

        return resolved;
    }

    /// <summary>Fetches the index; with <paramref name="etag"/> or <paramref name="lastModified"/> an HTTP repo may answer "not modified".</summary>
    public async Task<IndexFetch> FetchIndexAsync(string repoUrl, FetchCredentials? credentials, string? etag, DateTimeOffset? lastModified, CancellationToken cancellationToken)
    {
        var repoBase = BaseUri(repoUrl);
        var maxBytes = indexerOptions.Value.MaxIndexBytes;
        if (repoBase.IsFile)
        {
            var body = await ReadFileAsync(repoBase, Path.Combine(repoBase.LocalPath, IndexFileName), maxBytes, "index.too_large", cancellationToken);
            return new IndexFetch(false, body, Convert.ToHexStringLower(SHA256.HashData(body)), null, null);
        }

        FetchResult result;
        try
        {
            result = await fetcher.GetAsync(new Uri(repoBase, IndexFileName), credentials, etag, lastModified, cancellationToken);
        }
        catch (FetchException ex) when (ex.Code == "fetch.too_large")
        {
            throw new PackageException("index.too_large", ex.Message, IndexFileName);
        }

        if (!result.NotModified && result.Body.Length > maxBytes)
        {
            throw new PackageException("index.too_large", $"The index is {result.Body.Length} bytes; the limit is {maxBytes}.", IndexFileName);
        }

        return new IndexFetch(result.NotModified, result.Body, result.Sha256, result.ETag, result.LastModified);
    }

    /// <summary>
    /// Fetches a package archive from <paramref name="packageUrl"/>, which must be on the repo's origin
    /// (credentials are sent nowhere else). Throws <see cref="FetchException"/>.
    /// </summary>
    public async Task<byte[]> FetchPackageAsync(string repoUrl, Uri packageUrl, FetchCredentials? credentials, CancellationToken cancellationToken)
    {
        var repoBase = BaseUri(repoUrl);
        if (!SameOrigin(repoBase, packageUrl))
        {
            throw new FetchException("package.foreign_host", $"{packageUrl} is not on the repo's origin; credentials and fetches stay with the repo.");
        }

        if (repoBase.IsFile)
        {
            return await ReadFileAsync(repoBase, packageUrl.LocalPath, fetchOptions.Value.MaxBytes, "fetch.too_large", cancellationToken);
        }

        var result = await fetcher.GetAsync(packageUrl, credentials, null, null, cancellationToken);
        return result.Body;
    }

    private static async Task<byte[]> ReadFileAsync(Uri repoBase, string path, long maxBytes, string tooLargeCode, CancellationToken cancellationToken)
    {
        var directory = repoBase.LocalPath;
        var full = Path.GetFullPath(path);
        var file = new FileInfo(full);
        if (!IsInside(directory, full) || (file.LinkTarget is not null && file.ResolveLinkTarget(returnFinalTarget: true) is { } target && !IsInside(directory, target.FullName)))
        {
            throw new FetchException("fetch.path_escape", $"{Path.GetFileName(full)} resolves outside the repo directory.");
        }

        if (!file.Exists)
        {
            throw new FetchException("fetch.file_not_found", $"{full} does not exist: check the repo URL.");
        }

        if (file.Length > maxBytes)
        {
            var message = $"{file.Name} is {file.Length} bytes; the limit is {maxBytes}.";
            throw tooLargeCode.StartsWith("index.", StringComparison.Ordinal) ? new PackageException(tooLargeCode, message, IndexFileName) : new FetchException(tooLargeCode, message);
        }

        try
        {
            return await File.ReadAllBytesAsync(full, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FetchException("fetch.file_unreadable", $"{full} cannot be read: {ex.Message}");
        }
    }

    private static bool IsInside(string directory, string path)
    {
        var root = Path.GetFullPath(directory);
        if (!root.EndsWith(Path.DirectorySeparatorChar))
        {
            root += Path.DirectorySeparatorChar;
        }

        return Path.GetFullPath(path).StartsWith(root, StringComparison.Ordinal);
    }
}
