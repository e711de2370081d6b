using Microsoft.Extensions.Options;

namespace Pitrix.Web;

/// <summary>Settings of the web console.</summary>
public sealed class WebOptions
{
    public const string SectionName = "Web";

    /// <summary>
    /// Base URL of the REST API the console calls for every page (with the signed-in user's token).
    /// Default: the server's own listening address, http preferred, with a wildcard host replaced by loopback.
    /// </summary>
    public string? ApiBaseUrl { get; set; }

    /// <summary>Apps shown on one page of the store. Default: 24.</summary>
    public int StorePageSize { get; set; } = 24;

    /// <summary>
    /// How long before its expiry an access token is exchanged for a new one, so a page never starts with a
    /// token that runs out while it renders. Default: 60 seconds.
    /// </summary>
    public TimeSpan RefreshMargin { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Largest package the developer console takes in an upload form (it passes it on to the API, which applies
    /// its own <c>Api:MaxPackageBytes</c>): keep the two equal. Default: 20 MiB, the API's default.
    /// </summary>
    public long MaxPackageBytes { get; set; } = 20L * 1024 * 1024;
}

/// <summary>Checks <see cref="WebOptions"/> at start.</summary>
public sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        var failures = new List<string>();
        if (options.ApiBaseUrl is { } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            failures.Add("Web:ApiBaseUrl must be an absolute http:// or https:// URL.");
        }

        if (options.StorePageSize is < 1 or > 200)
        {
            failures.Add("Web:StorePageSize must be from 1 to 200 (the API's largest page).");
        }

        if (options.RefreshMargin < TimeSpan.Zero || options.RefreshMargin > TimeSpan.FromHours(1))
        {
            failures.Add("Web:RefreshMargin must be from 0 to 1 hour.");
        }

        if (options.MaxPackageBytes is < 1024 or > 1L << 32)
        {
            failures.Add("Web:MaxPackageBytes must be from 1024 bytes to 4 GiB (the API's range).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
