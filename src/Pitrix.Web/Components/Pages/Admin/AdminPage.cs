using System.Globalization;

namespace Pitrix.Web.Components.Pages.Admin;

/// <summary>
/// A page of the administration: before anything else it asks the API whether the caller administers
/// the platform, so a non-admin sees the API's refusal and nothing of the section (even where the
/// section's own API would answer them with their own resources). Actions run only once that is
/// established; each ends with <see cref="Notice"/> (what happened) or <see cref="SignedInPage.Problem"/>.
/// </summary>
public abstract class AdminPage : SignedInPage
{
    /// <summary>Rows per page of the administration's lists.</summary>
    public const int PageSize = 20;

    /// <summary>True once the API has accepted the caller as an administrator.</summary>
    protected bool Allowed { get; private set; }

    /// <summary>What the last action did, shown as a success message.</summary>
    protected string? Notice { get; set; }

    protected sealed override async Task LoadAsync()
    {
        await Api.Admin.CheckAccessAsync();
        Allowed = true;
        await LoadSectionAsync();
    }

    /// <summary>Reads what the section shows.</summary>
    protected abstract Task LoadSectionAsync();

    /// <summary>
    /// Runs an action: on success sets <see cref="Notice"/> to <paramref name="success"/>'s text and reloads the
    /// section, so the page shows the new state; on refusal the API's problem is shown. False when it failed.
    /// </summary>
    protected async Task<bool> ActAsync(Func<Task> action, Func<string> success)
    {
        if (!Allowed)
        {
            return false;
        }

        if (!await RunAsync(action))
        {
            return false;
        }

        Notice = success();
        await RunAsync(LoadSectionAsync);
        return true;
    }

    /// <summary>
    /// Every value the posted form holds under <paramref name="name"/> (checkboxes sharing a name), read from the
    /// request itself; empty when this is not a form post.
    /// </summary>
    protected IReadOnlyList<string> FormValues(string name) =>
        HttpContext?.Request is { HasFormContentType: true } request
            ? request.Form[name].Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()).ToList()
            : [];

    /// <summary>The first value the posted form holds under <paramref name="name"/>, exactly as sent (passwords, secrets); null when empty.</summary>
    protected string? RawFormValue(string name) =>
        HttpContext?.Request is { HasFormContentType: true } request && request.Form[name].FirstOrDefault() is { Length: > 0 } value ? value : null;

    /// <summary>A file of the posted (multipart) form; null when none was chosen.</summary>
    protected Microsoft.AspNetCore.Http.IFormFile? FormFile(string name) =>
        HttpContext?.Request is { HasFormContentType: true } request && request.Form.Files.GetFile(name) is { Length: > 0 } file ? file : null;

    /// <summary>Blank or whitespace becomes null; anything else is trimmed.</summary>
    protected static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>The offset of a 1-based page number from the query (clamped to sane values).</summary>
    protected static int OffsetOf(int? page) => (Math.Clamp(page ?? 1, 1, 100_000) - 1) * PageSize;

    /// <summary>A status as words: <c>in_review</c> reads "in review".</summary>
    public static string Words(string? status) => status?.Replace('_', ' ') ?? "";
}
