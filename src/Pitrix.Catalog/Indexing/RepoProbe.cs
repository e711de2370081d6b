using Pitrix.Catalog.Fetching;
using Pitrix.Catalog.Repos;
using Pitrix.Packages;
using Pitrix.Packages.Repos;

namespace Pitrix.Catalog.Indexing;

/// <summary>The answer to "is this a repo?": how many apps and versions its index lists, or why it cannot be read.</summary>
public sealed record RepoValidation(bool Ok, int Apps, int Versions, string? ErrorCode, string? ErrorMessage)
{
    public static RepoValidation Failed(string code, string message) => new(false, 0, 0, code, message);
}

/// <summary>Checks a repo URL before it is saved (<c>POST /repos:validate</c>): fetches and parses its index, writes nothing.</summary>
public sealed class RepoProbe(RepoSource source)
{
    public async Task<RepoValidation> ValidateAsync(string url, RepoCredential? credential, string? caBundlePem, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "file"))
        {
            return RepoValidation.Failed("repo.url_invalid", "The URL must be an absolute http://, https:// or file:// URL.");
        }

        FetchCredentials? credentials = credential is null && caBundlePem is null
            ? null
            : new FetchCredentials { Username = credential?.Username, Password = credential?.Password, BearerToken = credential?.BearerToken, CaBundlePem = caBundlePem };
        try
        {
            var fetched = await source.FetchIndexAsync(url, credentials, null, null, cancellationToken);
            var index = RepoIndex.Parse(fetched.Body);
            var live = index.Entries.Values.Select(entries => entries.Count(e => !e.Removed)).Where(n => n > 0).ToList();
            return new RepoValidation(true, live.Count, live.Sum(), null, null);
        }
        catch (FetchException ex)
        {
            return RepoValidation.Failed(ex.Code, ex.Message);
        }
        catch (PackageException ex)
        {
            return RepoValidation.Failed(ex.Code, ex.Message);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            return RepoValidation.Failed("repo.ca_bundle_invalid", "The CA bundle is not valid PEM: " + ex.Message);
        }
    }
}
