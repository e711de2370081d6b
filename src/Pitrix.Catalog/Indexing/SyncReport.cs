using Pitrix.Core.Catalog;

namespace Pitrix.Catalog.Indexing;

/// <summary>What one sync did so far: counts, per-package errors (capped), and the error that failed it.</summary>
public sealed class SyncReport
{
    private readonly List<SyncError> _errors = [];

    public bool Unchanged { get; set; }

    public int Added { get; set; }

    public int Updated { get; set; }

    public int Removed { get; set; }

    /// <summary>Packages that were skipped or failed (every one, even past the error list's cap).</summary>
    public int Failed { get; private set; }

    public int PackagesFetched { get; set; }

    public string? ErrorCode { get; private set; }

    public string? ErrorMessage { get; private set; }

    public IReadOnlyList<SyncError> Errors => _errors;

    public void AddError(string app, string version, string code, string message)
    {
        Failed++;
        if (_errors.Count < RepoSync.MaxErrors)
        {
            _errors.Add(new SyncError(app, version, code, Clip(message, 1000)));
        }
    }

    /// <summary>Fails the whole sync; the catalog keeps what it had before the failing phase.</summary>
    public void Fail(string code, string message)
    {
        ErrorCode = code;
        ErrorMessage = Clip(message, 2000);
    }

    public string Status => ErrorCode is not null ? SyncStatus.Failed : Failed > 0 ? SyncStatus.PartiallySucceeded : SyncStatus.Succeeded;

    internal static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
