namespace Pitrix.Catalog.Fetching;

/// <summary>Limits and address policy of every outbound fetch (repo indexes and packages).</summary>
public sealed class FetchOptions
{
    public const string SectionName = "Fetch";

    /// <summary>Largest response body. Default: 64 MiB.</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Time for a whole fetch, connection to last byte. Default: 60 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Redirects followed. Default: 5.</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>
    /// Allow loopback addresses (127.0.0.0/8, ::1): the server's own machine. Default: false, so a repo
    /// URL cannot reach services that listen only locally.
    /// </summary>
    public bool AllowLoopback { get; set; }

    /// <summary>Allow link-local addresses (169.254.0.0/16, fe80::/10), where cloud metadata services live. Default: false.</summary>
    public bool AllowLinkLocal { get; set; }
}

/// <summary>
/// How to authenticate to a repository, and which CA to trust for it. There is deliberately no way to
/// switch TLS verification off: a private CA is given as a bundle instead.
/// </summary>
public sealed record FetchCredentials
{
    public string? Username { get; init; }

    public string? Password { get; init; }

    public string? BearerToken { get; init; }

    /// <summary>PEM certificates trusted instead of the system store for this repository.</summary>
    public string? CaBundlePem { get; init; }
}

/// <summary>A fetched body, or "not modified" when the validators still match.</summary>
public sealed record FetchResult(bool NotModified, byte[] Body, string? ETag, DateTimeOffset? LastModified, string Sha256);

/// <summary>A fetch that failed; <see cref="Code"/> is stable (for example <c>fetch.timeout</c>).</summary>
public sealed class FetchException(string code, string message, int? httpStatus = null) : Exception(message)
{
    public string Code { get; } = code;

    public int? HttpStatus { get; } = httpStatus;

    /// <summary>Whether trying again later may succeed (timeouts, 5xx, 429, unreachable).</summary>
    public bool IsRetryable => Code is "fetch.timeout" or "fetch.unreachable" || HttpStatus is >= 500 or 429;
}
