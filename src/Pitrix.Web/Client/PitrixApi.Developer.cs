using System.Globalization;
using System.Net.Http.Headers;

namespace Pitrix.Web.Client;

// The developer console's calls: the caller's own apps with their drafts, uploads, the review workflow's
// author actions, a version's review history and the clusters running each version.
public sealed partial class PitrixApi
{
    /// <summary>The apps of repos the caller may author in, whatever their status (<c>authored=true&amp;status=any</c>).</summary>
    public Task<PageOf<AppInfo>> ListMyAppsAsync(string? q, int limit, int offset, CancellationToken cancellationToken) =>
        GetAsync<PageOf<AppInfo>>("api/v1/apps" + Query(
            ("authored", "true"), ("status", "any"), ("q", q),
            ("limit", limit.ToString(CultureInfo.InvariantCulture)), ("offset", offset.ToString(CultureInfo.InvariantCulture))), cancellationToken);

    /// <summary>An app's versions newest first, drafts and the rest of the workflow included for its authors (deleted ones left out).</summary>
    public Task<PageOf<DeveloperVersion>> ListDeveloperVersionsAsync(string appId, int limit, int offset, CancellationToken cancellationToken) =>
        GetAsync<PageOf<DeveloperVersion>>($"api/v1/apps/{Uri.EscapeDataString(appId)}/versions" + Query(
            ("limit", limit.ToString(CultureInfo.InvariantCulture)), ("offset", offset.ToString(CultureInfo.InvariantCulture))), cancellationToken);

    public Task<DeveloperVersion> GetDeveloperVersionAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync<DeveloperVersion>("api/v1/app_versions/" + Uri.EscapeDataString(versionId), cancellationToken);

    /// <summary>A version's review history, oldest first (authors and reviewers only).</summary>
    public Task<List<VersionEvent>> ListVersionEventsAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync<List<VersionEvent>>($"api/v1/app_versions/{Uri.EscapeDataString(versionId)}/events", cancellationToken);

    /// <summary>Clusters per version of the app that the caller may read.</summary>
    public Task<AppUsage> GetAppUsageAsync(string appId, CancellationToken cancellationToken) =>
        GetAsync<AppUsage>($"api/v1/apps/{Uri.EscapeDataString(appId)}/usage", cancellationToken);

    /// <summary>Takes a review workflow step: <c>POST /app_versions/{id}:{action}</c>.</summary>
    public Task<DeveloperVersion> VersionActionAsync(string versionId, string action, string? message, CancellationToken cancellationToken) =>
        SendAsync<DeveloperVersion>(HttpMethod.Post, $"api/v1/app_versions/{Uri.EscapeDataString(versionId)}:{Uri.EscapeDataString(action)}", new { message }, authenticate: true, cancellationToken);

    /// <summary>
    /// Uploads a package as a draft, as <c>pitrix app upload</c> does: a new app (<c>POST /apps</c>, into the
    /// caller's upload repo) or a new version of <paramref name="appId"/> (<c>POST /apps/{id}/versions</c>).
    /// A package the API refuses (lint problems among them) throws its problem.
    /// </summary>
    public Task<DeveloperVersion> UploadPackageAsync(string? appId, string fileName, byte[] package, string? message, CancellationToken cancellationToken)
    {
        var path = appId is null ? "api/v1/apps" : $"api/v1/apps/{Uri.EscapeDataString(appId)}/versions";
        return SendAsync<DeveloperVersion>(HttpMethod.Post, path, (Func<HttpContent>)(() =>
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(package);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
            form.Add(file, "package", fileName);
            if (!string.IsNullOrWhiteSpace(message))
            {
                form.Add(new StringContent(message), "message");
            }

            return form;
        }), authenticate: true, cancellationToken);
    }
}
