using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Packages.Archives;
using Pitrix.Packages.Helm;
using Pitrix.Packages.VmCluster;

namespace Pitrix.Packages;

/// <summary>A file taken from a package for the catalog to show without reading the package again.</summary>
public sealed record PackageFile(string Path, string MediaType, byte[] Content);

/// <summary>
/// Everything the catalog keeps from a package: its summary and descriptive fields, README, config
/// schema (vmcluster <c>config.json</c>, or Helm <c>values.yaml</c> + <c>values.schema.json</c>), an icon
/// shipped inside it, and the lint problems found.
/// </summary>
public sealed class PackageContents
{
    /// <summary>Largest icon kept from inside a package.</summary>
    public const int MaxIconBytes = 512 * 1024;

    public required PackageSummary Summary { get; init; }

    public required string Sha256 { get; init; }

    public IReadOnlyList<(string Name, string? Email, string? Url)> Maintainers { get; init; } = [];

    public IReadOnlyList<string> Sources { get; init; } = [];

    public IReadOnlyList<string> Screenshots { get; init; } = [];

    public PackageFile? Readme { get; init; }

    public PackageFile? Config { get; init; }

    public PackageFile? Values { get; init; }

    public PackageFile? ValuesSchema { get; init; }

    /// <summary>The icon when <see cref="PackageSummary.Icon"/> names a file inside the package.</summary>
    public PackageFile? Icon { get; init; }

    public IReadOnlyList<LintProblem> Problems { get; init; } = [];

    /// <summary>Reads a package archive with the safe archive reader. Throws <see cref="PackageException"/> when it is not a package.</summary>
    public static async Task<PackageContents> ReadAsync(byte[] archive, ArchiveLimits? limits, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(archive, writable: false);
        var read = await SafeArchive.ReadAsync(stream, limits, cancellationToken);
        var files = read.ContentFiles;
        var summary = PackageSummary.Read(files);
        var problems = PackageLinter.Lint(files, summary.Format);
        if (summary.Format == PackageFormat.VmCluster)
        {
            var metadata = PackageMetadata.Parse(Encoding.UTF8.GetString(files[PackageMetadata.FileName]));
            return new PackageContents
            {
                Summary = summary,
                Sha256 = read.Sha256,
                Maintainers = metadata.Maintainers.Where(m => !string.IsNullOrWhiteSpace(m.Name)).Select(m => (m.Name!, m.Email, m.Url)).ToList(),
                Sources = metadata.Sources,
                Screenshots = metadata.Screenshots,
                Readme = FindReadme(files),
                Config = File(files, ConfigSchema.FileName, "application/json"),
                Icon = FindIcon(files, summary.Icon),
                Problems = problems,
            };
        }

        var chart = HelmChart.Read(files);
        return new PackageContents
        {
            Summary = summary,
            Sha256 = read.Sha256,
            Maintainers = chart.Metadata["maintainers"] is JsonArray maintainers
                ? maintainers.OfType<JsonObject>().Where(m => m["name"] is not null).Select(m => ((string)m["name"]!, (string?)m["email"], (string?)m["url"])).ToList()
                : [],
            Sources = chart.Metadata["sources"] is JsonArray sources ? sources.Select(s => s?.ToString() ?? "").Where(s => s.Length > 0).ToList() : [],
            Readme = FindReadme(files),
            Values = File(files, "values.yaml", "application/yaml"),
            ValuesSchema = File(files, "values.schema.json", "application/schema+json"),
            Icon = FindIcon(files, summary.Icon),
            Problems = problems,
        };
    }

    private static PackageFile? File(IReadOnlyDictionary<string, byte[]> files, string path, string mediaType) =>
        files.TryGetValue(path, out var content) ? new PackageFile(path, mediaType, content) : null;

    private static PackageFile? FindReadme(IReadOnlyDictionary<string, byte[]> files)
    {
        var name = files.Keys.Where(k => !k.Contains('/', StringComparison.Ordinal) && k.StartsWith("README", StringComparison.OrdinalIgnoreCase))
            .OrderBy(k => k.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ? 0 : 1).ThenBy(k => k, StringComparer.Ordinal).FirstOrDefault();
        return name is null ? null : new PackageFile(name, name.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ? "text/markdown" : "text/plain", files[name]);
    }

    private static PackageFile? FindIcon(IReadOnlyDictionary<string, byte[]> files, string? icon)
    {
        if (icon is null || icon.Contains("://", StringComparison.Ordinal) || icon.StartsWith("data:", StringComparison.Ordinal))
        {
            return null;
        }

        var path = icon.TrimStart('.', '/');
        if (!files.TryGetValue(path, out var content) || content.Length > MaxIconBytes)
        {
            return null;
        }

        var mediaType = System.IO.Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".svg" => "image/svg+xml",
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".gif" => "image/gif",
            ".webp" => "image/webp",
            _ => null,
        };
        return mediaType is null ? null : new PackageFile(path, mediaType, content);
    }
}
