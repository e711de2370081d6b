using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Pitrix.Core.Versioning;
using Pitrix.Packages.Yaml;

namespace Pitrix.Packages.Helm;

/// <summary>A dependency declared in Chart.yaml.</summary>
public sealed record ChartDependency(string Name, string? Version, string? Repository, string? Condition, string? Alias);

/// <summary>
/// A Helm chart read from its files (as returned by <see cref="Archives.PackageArchive.ContentFiles"/>):
/// Chart.yaml, values.yaml, values.schema.json, README, templates, subcharts and CRDs.
/// </summary>
public sealed class HelmChart
{
    public required JsonObject Metadata { get; init; }

    public required string ApiVersion { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    public string? AppVersion => (string?)Metadata["appVersion"];

    public string? Description => (string?)Metadata["description"];

    public string? KubeVersion => (string?)Metadata["kubeVersion"];

    /// <summary><c>application</c> (default) or <c>library</c>.</summary>
    public string Type => (string?)Metadata["type"] ?? "application";

    public IReadOnlyList<ChartDependency> Dependencies { get; init; } = [];

    /// <summary>values.yaml as written (comments kept, for the YAML editor).</summary>
    public string? ValuesYaml { get; init; }

    /// <summary>values.yaml as data.</summary>
    public JsonObject Values { get; init; } = [];

    public string? ValuesSchemaJson { get; init; }

    public string? Readme { get; init; }

    public IReadOnlyList<string> Templates { get; init; } = [];

    /// <summary>Subcharts vendored under <c>charts/</c> (archives or directories).</summary>
    public IReadOnlyList<string> Subcharts { get; init; } = [];

    public IReadOnlyList<string> Crds { get; init; } = [];

    private JsonSchema? _schema;

    public static HelmChart Read(IReadOnlyDictionary<string, byte[]> files)
    {
        if (!files.TryGetValue("Chart.yaml", out var chartBytes))
        {
            throw new PackageException("chart.missing_chart_yaml", "A Helm chart needs a Chart.yaml at its root.", "Chart.yaml");
        }

        if (YamlJson.Parse(Text(chartBytes), "Chart.yaml") is not JsonObject metadata)
        {
            throw new PackageException("chart.invalid", "Chart.yaml must be a mapping.", "Chart.yaml");
        }

        var apiVersion = (string?)metadata["apiVersion"] ?? "";
        if (apiVersion is not ("v1" or "v2"))
        {
            throw new PackageException("chart.invalid_api_version", $"apiVersion must be v1 or v2 (got '{apiVersion}').", "Chart.yaml");
        }

        var name = metadata["name"] is JsonValue n && n.TryGetValue<string>(out var ns) ? ns : "";
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
        {
            throw new PackageException("chart.invalid_name", $"name is required and may not contain '/' or '..' (got '{name}').", "Chart.yaml");
        }

        var version = metadata["version"]?.ToString() ?? "";
        if (!SemVersion.TryParse(version, out _))
        {
            throw new PackageException("chart.invalid_version", $"version must be a semantic version (got '{version}').", "Chart.yaml");
        }

        var type = (string?)metadata["type"];
        if (type is not (null or "application" or "library"))
        {
            throw new PackageException("chart.invalid_type", $"type must be application or library (got '{type}').", "Chart.yaml");
        }

        var dependencies = new List<ChartDependency>();
        if (metadata["dependencies"] is JsonArray deps)
        {
            foreach (var dep in deps)
            {
                if (dep is not JsonObject d || (string?)d["name"] is not { Length: > 0 } depName)
                {
                    throw new PackageException("chart.invalid_dependency", "Each dependency needs a name.", "Chart.yaml");
                }

                dependencies.Add(new ChartDependency(depName, d["version"]?.ToString(), (string?)d["repository"], (string?)d["condition"], (string?)d["alias"]));
            }
        }

        var valuesYaml = files.TryGetValue("values.yaml", out var valuesBytes) ? Text(valuesBytes) : null;
        var values = valuesYaml is null ? null : YamlJson.Parse(valuesYaml, "values.yaml");
        if (values is not null and not JsonObject)
        {
            throw new PackageException("chart.invalid_values", "values.yaml must be a mapping.", "values.yaml");
        }

        string? schemaJson = null;
        JsonSchema? schema = null;
        if (files.TryGetValue("values.schema.json", out var schemaBytes))
        {
            schemaJson = Text(schemaBytes);
            try
            {
                schema = JsonSchema.FromText(NormalizeDialect(schemaJson));
            }
            catch (JsonException ex)
            {
                throw new PackageException("chart.invalid_schema", "values.schema.json is not a valid JSON Schema: " + ex.Message, "values.schema.json");
            }
        }

        var readme = files.FirstOrDefault(f => f.Key.Equals("README.md", StringComparison.OrdinalIgnoreCase) || f.Key.Equals("README.txt", StringComparison.OrdinalIgnoreCase) || f.Key.Equals("README", StringComparison.OrdinalIgnoreCase));
        return new HelmChart
        {
            Metadata = metadata,
            ApiVersion = apiVersion,
            Name = name,
            Version = version,
            Dependencies = dependencies,
            ValuesYaml = valuesYaml,
            Values = (JsonObject?)values ?? [],
            ValuesSchemaJson = schemaJson,
            _schema = schema,
            Readme = readme.Value is null ? null : Text(readme.Value),
            Templates = files.Keys.Where(k => k.StartsWith("templates/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList(),
            Subcharts = files.Keys.Where(k => k.StartsWith("charts/", StringComparison.Ordinal)).Select(k => k.Split('/')[1]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            Crds = files.Keys.Where(k => k.StartsWith("crds/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>
    /// Merges user values over values.yaml as Helm does (maps merge deeply, a null removes a key) and
    /// checks the result against values.schema.json. Errors are keyed by JSON path, for example <c>/replicaCount</c>.
    /// </summary>
    public (JsonObject Values, IReadOnlyDictionary<string, string[]> Errors) ValidateValues(JsonObject? overrides)
    {
        var merged = (JsonObject)Values.DeepClone();
        if (overrides is not null)
        {
            Merge(merged, overrides);
        }

        if (_schema is null)
        {
            return (merged, new Dictionary<string, string[]>());
        }

        EvaluationResults result;
        try
        {
            result = _schema.Evaluate(merged, new EvaluationOptions { OutputFormat = OutputFormat.List });
        }
        catch (Exception ex) when (ex is RefResolutionException or JsonSchemaException)
        {
            // Like Helm, Pitrix fetches nothing while validating: remote $refs cannot be resolved.
            throw new PackageException("chart.invalid_schema", "values.schema.json cannot be evaluated: " + ex.Message, "values.schema.json");
        }

        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (!result.IsValid)
        {
            foreach (var detail in result.Details.Where(d => d.Errors is { Count: > 0 }))
            {
                var path = detail.InstanceLocation.ToString();
                path = path.Length == 0 ? "/" : path;
                if (!errors.TryGetValue(path, out var list))
                {
                    errors[path] = list = [];
                }

                list.AddRange(detail.Errors!.Values);
            }

            if (errors.Count == 0)
            {
                errors["/"] = ["The values do not match values.schema.json."];
            }
        }

        return (merged, errors.ToDictionary(e => e.Key, e => e.Value.Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal));
    }

    /// <summary>
    /// Charts often name draft-04/06/07 with an https URI, which is not those drafts' identifier;
    /// Helm's validator ignores <c>$schema</c>, so map them to the identifiers the library knows.
    /// </summary>
    private static string NormalizeDialect(string schemaJson)
    {
        if (JsonNode.Parse(schemaJson) is JsonObject root && (string?)root["$schema"] is { } dialect
            && dialect.StartsWith("https://json-schema.org/draft-0", StringComparison.Ordinal))
        {
            root["$schema"] = "http://" + dialect["https://".Length..];
            return root.ToJsonString();
        }

        return schemaJson;
    }

    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject sourceMap && target[key] is JsonObject targetMap)
            {
                Merge(targetMap, sourceMap);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
