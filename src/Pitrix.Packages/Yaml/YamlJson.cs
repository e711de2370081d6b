using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using Pitrix.Templates;

namespace Pitrix.Packages.Yaml;

/// <summary>
/// Reads YAML into JSON nodes exactly as Helm does (sigs.k8s.io/yaml over yaml.v2: YAML 1.1 scalars such
/// as <c>yes</c>/<c>on</c>, anchors and merge keys), using the template engine's Go-faithful reader, and
/// counts nodes while converting so alias expansion ("billion laughs") cannot exhaust memory.
/// </summary>
public static class YamlJson
{
    public const int MaxNodes = 1_000_000;

    /// <summary>Parses one YAML document; an empty document is null.</summary>
    public static JsonNode? Parse(string yaml, string file)
    {
        object? document;
        try
        {
            document = TemplateValues.FromYamlDocument(yaml);
        }
        catch (FormatException ex)
        {
            throw new PackageException("yaml.invalid", ex.Message, file);
        }

        var budget = MaxNodes;
        return Convert(document, file, ref budget);
    }

    private static JsonNode? Convert(object? value, string file, ref int budget)
    {
        if (--budget < 0)
        {
            throw new PackageException("yaml.too_complex", $"The document has more than {MaxNodes} nodes (aliases expanding?).", file);
        }

        switch (value)
        {
            case null:
                return null;
            case IDictionary<string, object?> map:
                var obj = new JsonObject();
                foreach (var (key, item) in map)
                {
                    obj[key] = Convert(item, file, ref budget);
                }

                return obj;
            case string text:
                return JsonValue.Create(text);
            case bool flag:
                return JsonValue.Create(flag);
            case double number:
                // Helm sees every number as float64; whole ones are written as integers, as JSON would.
                return number == Math.Floor(number) && Math.Abs(number) < 1e15 ? JsonValue.Create((long)number) : JsonValue.Create(number);
            case IConvertible convertible when value is long or int:
                return JsonValue.Create(convertible.ToInt64(CultureInfo.InvariantCulture));
            case IEnumerable list:
                var array = new JsonArray();
                foreach (var item in list)
                {
                    array.Add(Convert(item, file, ref budget));
                }

                return array;
            default:
                return JsonValue.Create(System.Convert.ToString(value, CultureInfo.InvariantCulture));
        }
    }
}
