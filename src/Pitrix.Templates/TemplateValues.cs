using System.Globalization;
using System.Text.Json;

namespace Pitrix.Templates;

/// <summary>How JSON numbers become template values.</summary>
public enum JsonNumbers
{
    /// <summary>Integer literals become Go <c>int</c> (<see cref="long"/>), everything else <c>float64</c>.</summary>
    IntegersAsInt,

    /// <summary>Every number becomes <c>float64</c>, as Go's <c>json.Unmarshal</c> into <c>interface{}</c> (and so Helm) does.</summary>
    AllFloat64,
}

/// <summary>Builds the engine's value model (maps, lists, strings, numbers, bools, nil) from JSON and YAML documents.</summary>
public static class TemplateValues
{
    /// <summary>Parses a JSON document. Objects become <c>map[string]interface{}</c>, arrays <c>[]interface{}</c>.</summary>
    /// <exception cref="JsonException">The text is not valid JSON.</exception>
    public static object? FromJson(string json, JsonNumbers numbers = JsonNumbers.IntegersAsInt)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1000 });
        return FromJson(doc.RootElement, numbers);
    }

    /// <summary>Converts a parsed JSON element.</summary>
    public static object? FromJson(JsonElement element, JsonNumbers numbers = JsonNumbers.IntegersAsInt) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject()
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => FromJson(g.Last().Value, numbers), StringComparer.Ordinal),
        JsonValueKind.Array => element.EnumerateArray().Select(e => FromJson(e, numbers)).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when numbers == JsonNumbers.IntegersAsInt
            && long.TryParse(element.GetRawText(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        JsonValueKind.Number => element.GetDouble(),
        _ => null,
    };

    /// <summary>
    /// Parses a YAML mapping the way Helm reads values files (sigs.k8s.io/yaml): YAML 1.1 scalars, anchors and merge
    /// keys, and every number as <c>float64</c>. An empty document gives an empty map.
    /// </summary>
    /// <exception cref="FormatException">The text is not valid YAML or is not a mapping; the message is Go's.</exception>
    public static Dictionary<string, object?> FromYaml(string yaml) => GoYaml.UnmarshalMap(yaml);

    /// <summary>Parses any YAML document (mapping, list or scalar) the way Helm does. Aliases share one object.</summary>
    /// <exception cref="FormatException">The text is not valid YAML; the message is Go's.</exception>
    public static object? FromYamlDocument(string yaml) => GoYaml.Unmarshal(yaml);
}
