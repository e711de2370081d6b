using System.Text.RegularExpressions;

namespace Pitrix.Web.Client;

/// <summary>A version as its authors see it (<c>GET /apps/{id}/versions</c>, <c>/app_versions/{id}</c>, an upload's or action's answer).</summary>
public sealed record DeveloperVersion(
    string Id,
    string AppId,
    string AppName,
    string Version,
    string? AppVersion,
    string Format,
    string Status,
    DateTimeOffset StatusChangedAt,
    string? Description,
    long? PackageSize,
    string? Message,
    DateTimeOffset CreatedAt);

/// <summary>One step of a version's review history (<c>GET /app_versions/{id}/events</c>).</summary>
public sealed record VersionEvent(string Id, string Action, string? FromStatus, string ToStatus, string ActorId, string ActorName, bool ByReviewer, string? Message, DateTimeOffset At);

/// <summary>Clusters per version of an app (<c>GET /apps/{id}/usage</c>), counting those the caller may read.</summary>
public sealed record AppUsage(string AppId, int Clusters, IReadOnlyList<VersionUsage> Versions);

public sealed record VersionUsage(string AppVersionId, string Version, int Clusters, IReadOnlyDictionary<string, int> Statuses);

/// <summary>
/// One problem the API found in an uploaded package. The API reports them as the problem's field errors: the
/// file inside the package as the field, each message ending in its code in brackets (<c>"… [locale.invalid_json]"</c>);
/// a line number, when the checker knew one, is part of the message, and is taken from there.
/// </summary>
public sealed partial record PackageProblem(string File, int? Line, string? Code, string Message)
{
    /// <summary>Every problem of a refused upload, in the API's order; empty when the refusal names no file (not a lint failure).</summary>
    public static IReadOnlyList<PackageProblem> From(ApiException problem)
    {
        var rows = new List<PackageProblem>();
        foreach (var (file, messages) in problem.Fields)
        {
            foreach (var text in messages)
            {
                var message = text.Trim();
                string? code = null;
                if (CodeSuffix().Match(message) is { Success: true } suffix)
                {
                    code = suffix.Groups[1].Value;
                    message = message[..suffix.Index].TrimEnd();
                }

                // Messages repeat the file in front ("config.json: …"); the table has a column for it.
                if (message.StartsWith(file + ": ", StringComparison.Ordinal))
                {
                    message = message[(file.Length + 2)..];
                }

                rows.Add(new PackageProblem(file, LineOf(message, file), code, message));
            }
        }

        return rows;
    }

    /// <summary>"Invalid JSON at line 3, …", "Line 12: …" or Go templates' "template: cluster.json.tmpl:12: …"; not the line of a rendered output.</summary>
    private static int? LineOf(string message, string file)
    {
        var template = Regex.Match(message, "template: " + Regex.Escape(file) + @":(\d+):", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var match = template.Success ? template : SourceLine().Match(message);
        return match.Success && int.TryParse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out var line) ? line : null;
    }

    [GeneratedRegex(@"\s*\[([a-z0-9_]+(?:\.[a-z0-9_]+)+)\]$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CodeSuffix();

    [GeneratedRegex(@"(?<!rendered )\b[Ll]ine (\d+)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SourceLine();
}
