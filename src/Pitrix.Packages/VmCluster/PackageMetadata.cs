using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Pitrix.Core.Versioning;

namespace Pitrix.Packages.VmCluster;

/// <summary>A maintainer of a package.</summary>
public sealed record Maintainer(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("url")] string? Url);

/// <summary><c>package.json</c> of a vmcluster package.</summary>
public sealed partial record PackageMetadata
{
    [JsonPropertyName("api_version")]
    public string ApiVersion { get; init; } = "v1";

    [JsonPropertyName("name")]
    public string Name { get; init; } = "";

    [JsonPropertyName("version")]
    public string Version { get; init; } = "";

    [JsonPropertyName("app_version")]
    public string? AppVersion { get; init; }

    [JsonPropertyName("description")]
    public string? Description { get; init; }

    [JsonPropertyName("home")]
    public string? Home { get; init; }

    [JsonPropertyName("icon")]
    public string? Icon { get; init; }

    [JsonPropertyName("maintainers")]
    public IReadOnlyList<Maintainer> Maintainers { get; init; } = [];

    [JsonPropertyName("screenshots")]
    public IReadOnlyList<string> Screenshots { get; init; } = [];

    [JsonPropertyName("keywords")]
    public IReadOnlyList<string> Keywords { get; init; } = [];

    [JsonPropertyName("sources")]
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Fields this model does not name, kept as they are.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    public const string FileName = "package.json";

    /// <summary>Parses and checks <c>package.json</c>: a name Pitrix can use in URLs and a SemVer version.</summary>
    public static PackageMetadata Parse(string json)
    {
        PackageMetadata? metadata;
        try
        {
            metadata = JsonSerializer.Deserialize<PackageMetadata>(json, JsonOptions.Strict);
        }
        catch (JsonException ex)
        {
            throw new PackageException("package.invalid_json", JsonOptions.Describe(ex), FileName);
        }

        if (metadata is null)
        {
            throw new PackageException("package.invalid_json", "The file is empty or 'null'.", FileName);
        }

        if (!NamePattern().IsMatch(metadata.Name))
        {
            throw new PackageException("package.invalid_name", $"'name' must be 1-63 lower-case letters, digits or '-', starting with a letter or digit (got '{metadata.Name}').", FileName);
        }

        if (!SemVersion.TryParse(metadata.Version, out _))
        {
            throw new PackageException("package.invalid_version", $"'version' must be a semantic version such as 1.2.3 (got '{metadata.Version}').", FileName);
        }

        if (metadata.ApiVersion != "v1")
        {
            throw new PackageException("package.unsupported_api_version", $"'api_version' must be v1 (got '{metadata.ApiVersion}').", FileName);
        }

        return metadata;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();
}

internal static class JsonOptions
{
    public static readonly JsonSerializerOptions Strict = new()
    {
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    /// <summary>A parse error with its position, without .NET type names.</summary>
    public static string Describe(JsonException ex) =>
        ex.LineNumber is { } line
            ? $"Invalid JSON at line {line + 1}, byte {ex.BytePositionInLine + 1}{(ex.Path is { Length: > 0 } path ? $" ({path})" : "")}."
            : "Invalid JSON: " + ex.Message;
}
