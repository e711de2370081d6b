using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Pitrix.Web.Client;

namespace Pitrix.Web.Components.Pages.Developer;

/// <summary>
/// A page of the developer console: who may use it, the package upload every page offers (the file comes
/// from the posted multipart form and goes to the API as the CLI sends it) and how statuses and times read.
/// </summary>
public abstract class DeveloperPage : SignedInPage
{
    /// <summary>The form field of the package file (the drop zone's input).</summary>
    public const string PackageField = "Package";

    [Inject]
    protected IOptions<WebOptions> WebOptions { get; set; } = default!;

    /// <summary>True for the roles the API lets upload and manage versions: developer, isv, admin.</summary>
    protected bool IsDeveloper => Session.HasRole("developer") || Session.HasRole("isv") || Session.HasRole("admin");

    protected long MaxPackageBytes => WebOptions.Value.MaxPackageBytes;

    /// <summary>The version an upload just stored as a draft.</summary>
    protected DeveloperVersion? Uploaded { get; private set; }

    /// <summary>
    /// After a successful upload the browser is sent back here with the new version's id (post, redirect, get:
    /// reloading the page does not upload again); the page then says what was stored.
    /// </summary>
    [SupplyParameterFromQuery(Name = "uploaded")]
    public string? UploadedId { get; set; }

    /// <summary>The problems of a package the API refused, one per file and message; empty otherwise.</summary>
    protected IReadOnlyList<PackageProblem> PackageProblems { get; private set; } = [];

    /// <summary>
    /// Sends the posted package to the API: a new app (or a new version of an app of the same name in the
    /// caller's upload repo) when <paramref name="appId"/> is null, else a new version of that app. A refusal
    /// becomes <see cref="SignedInPage.Problem"/>, its lint problems <see cref="PackageProblems"/>.
    /// </summary>
    protected async Task UploadAsync(string? appId, string? message)
    {
        var file = HttpContext?.Request.HasFormContentType == true ? HttpContext.Request.Form.Files.GetFile(PackageField) : null;
        if (file is null || file.Length == 0)
        {
            Problem = new ApiException(400, "web.package_missing", "No package", "Choose a package file (.tgz) to upload, or drop one on the upload area.", null);
            return;
        }

        if (file.Length > MaxPackageBytes)
        {
            Problem = new ApiException(400, "package.too_large", "Package too large", $"The package is {Size(file.Length)}; at most {Size(MaxPackageBytes)} are accepted.", null);
            return;
        }

        byte[] content;
        await using (var stream = file.OpenReadStream())
        {
            using var buffer = new MemoryStream((int)file.Length);
            await stream.CopyToAsync(buffer);
            content = buffer.ToArray();
        }

        var fileName = Path.GetFileName(file.FileName) is { Length: > 0 } name ? name : "package.tgz";
        var note = string.IsNullOrWhiteSpace(message) ? null : message.Trim();
        if (await RunAsync(async () => Uploaded = await Api.UploadPackageAsync(appId, fileName, content, note, CancellationToken.None)))
        {
            var here = Navigation.ToAbsoluteUri(Navigation.Uri).GetLeftPart(UriPartial.Path);
            Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(here, new Dictionary<string, object?> { ["uploaded"] = Uploaded!.Id }));
            return;
        }

        if (Problem is { } refused && PackageProblem.From(refused) is var problems && problems.Any(p => p.Code is not null))
        {
            // The table shows the problems; the alert keeps the API's summary without repeating them.
            PackageProblems = problems;
            Problem = new ApiException(refused.Status, refused.Code, refused.Title, refused.Message, null);
        }
    }

    /// <summary>Reads the version named by <see cref="UploadedId"/>, for the page to say it was uploaded.</summary>
    protected async Task LoadUploadedAsync()
    {
        if (UploadedId is { Length: > 0 } id && Uploaded is null)
        {
            Uploaded = await Api.GetDeveloperVersionAsync(id, CancellationToken.None);
        }
    }

    protected static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} bytes",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
    };

    /// <summary>The workflow's statuses in words (<c>in_review</c> → "in review").</summary>
    public static string StatusLabel(string status) => status.Replace('_', ' ');
}
