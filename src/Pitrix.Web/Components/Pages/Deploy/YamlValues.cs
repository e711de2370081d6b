using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Pitrix.Web.Components.Pages.Deploy;

/// <summary>
/// Reads values written as YAML into JSON, as the CLI reads a values file: plain scalars that read as numbers,
/// booleans or null become them, quoted ones stay text. Syntax errors are said with their line and column, so the
/// form can point at them before anything is sent; aliases cannot expand past <see cref="MaxNodes"/> nodes.
/// </summary>
public static class YamlValues
{
    public const int MaxNodes = 100_000;
    private const int MaxDepth = 64;

    /// <summary>The mapping written (empty for blank text), or the reason it is not one.</summary>
    public static (JsonObject? Values, string? Error) Parse(string? yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml))
        {
            return ([], null);
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            return (null, Describe(ex));
        }
        catch (ArgumentException ex)
        {
            // A mapping with a key given twice.
            return (null, ex.Message);
        }

        if (stream.Documents.Count == 0)
        {
            return ([], null);
        }

        if (stream.Documents.Count > 1)
        {
            return (null, "Write one YAML document: '---' starts a second one.");
        }

        var budget = MaxNodes;
        try
        {
            return Convert(stream.Documents[0].RootNode, ref budget, 0) switch
            {
                JsonObject values => (values, null),
                null => ([], null),
                _ => (null, "Write the values as a mapping of keys to values (key: value), not a list or a single value."),
            };
        }
        catch (YamlException ex)
        {
            return (null, Describe(ex));
        }
    }

    private static string Describe(YamlException ex)
    {
        // YamlDotNet prefixes its message with the span, "(Line: 2, Col: 3, Idx: 9) - (Line: …): ".
        var message = ex.Message;
        var span = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && span > 0)
        {
            message = message[(span + 3)..];
        }

        return $"Line {ex.Start.Line.ToString(CultureInfo.InvariantCulture)}, column {ex.Start.Column.ToString(CultureInfo.InvariantCulture)}: {message}";
    }

    private static JsonNode? Convert(YamlNode node, ref int budget, int depth)
    {
        if (--budget < 0 || depth > MaxDepth)
        {
            throw new YamlException(node.Start, node.End, $"The values are too large or too deeply nested (aliases expanding?); at most {MaxNodes} values.");
        }

        switch (node)
        {
            case YamlMappingNode map:
                var values = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new YamlException(key.Start, key.End, "A key must be a plain text, not a list or a mapping.");
                    }

                    values[name] = Convert(value, ref budget, depth + 1);
                }

                return values;
            case YamlSequenceNode sequence:
                var list = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    list.Add(Convert(item, ref budget, depth + 1));
                }

                return list;
            case YamlScalarNode { Style: ScalarStyle.Plain } plain:
                return Plain(plain.Value ?? "");
            case YamlScalarNode scalar:
                return JsonValue.Create(scalar.Value ?? "");
            default:
                throw new YamlException(node.Start, node.End, "Unsupported YAML node.");
        }
    }

    /// <summary>An unquoted scalar: null, a boolean, an integer, a finite number, or else text.</summary>
    private static JsonValue? Plain(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? JsonValue.Create(number)
            : JsonValue.Create(text);
    }
}
