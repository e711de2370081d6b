using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Pitrix.Templates;

namespace Pitrix.Packages.VmCluster;

/// <summary>
/// Renders <c>cluster.json.tmpl</c> with a user's configuration values so that no value can break
/// or inject JSON: every action that prints is passed through a JSON encoder — a whole-string
/// action (<c>"{{.cluster.name}}"</c>) becomes a JSON literal (strings quoted, numbers bare), an action
/// inside a longer string is escaped, one outside strings becomes a literal. The AppCenter shorthand
/// <c>{{cluster.zk_node.count}}</c> is accepted beside Go's <c>{{.cluster.zk_node.count}}</c>.
/// </summary>
public static partial class ClusterTemplate
{
    public const string FileName = "cluster.json.tmpl";
    private const string JsonFunction = "pitrixJson";
    private const string EscapeFunction = "pitrixJsonEscape";

    private static readonly JsonSerializerOptions Encoder = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] ControlWords = ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"];

    /// <summary>Renders and parses the cluster definition; template and JSON errors name the file and position.</summary>
    public static JsonObject Render(string template, JsonObject values, TemplateOptions? options = null)
    {
        var functions = new FunctionLibrary().AddSprig();
        functions.Add(JsonFunction, [GoParam.Any], args => JsonSerializer.Serialize(ToJson(args[0]), Encoder));
        functions.Add(EscapeFunction, [GoParam.Any], args => Escape(args[0]));
        var set = new TemplateSet(functions, options ?? TemplateOptions.Default);

        string rendered;
        try
        {
            set.Parse(FileName, Rewrite(template));
            rendered = set.Execute(FileName, ToTemplateValue(values));
        }
        catch (TemplateException ex)
        {
            throw new PackageException(ex.Code, ex.Message.Replace(JsonFunction, "json", StringComparison.Ordinal).Replace(EscapeFunction, "json", StringComparison.Ordinal), FileName);
        }

        try
        {
            return JsonNode.Parse(rendered, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject
                ?? throw new PackageException("cluster.invalid", "The rendered cluster is not a JSON object.", FileName);
        }
        catch (JsonException ex)
        {
            var lines = rendered.Split('\n');
            var line = (int)(ex.LineNumber ?? 0);
            var excerpt = line < lines.Length ? lines[line].Trim() : "";
            throw new PackageException("cluster.invalid_json", $"The rendered cluster is not valid JSON at rendered line {line + 1}: {excerpt}", FileName);
        }
    }

    /// <summary>Adds the JSON encoders to every printing action and turns the shorthand into Go syntax.</summary>
    public static string Rewrite(string template)
    {
        var output = new StringBuilder(template.Length + 256);
        var inString = false;
        var position = 0;
        while (position < template.Length)
        {
            var open = template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                inString = ScanText(template.AsSpan(position), inString);
                output.Append(template, position, template.Length - position);
                break;
            }

            inString = ScanText(template.AsSpan(position, open - position), inString);
            output.Append(template, position, open - position);
            var close = FindClose(template, open + 2);
            var raw = template[(open + 2)..close];
            position = close + 2;

            var leftTrim = raw.StartsWith("- ", StringComparison.Ordinal) || raw == "-";
            var rightTrim = raw.EndsWith(" -", StringComparison.Ordinal);
            var content = raw[(leftTrim ? 1 : 0)..(raw.Length - (rightTrim && raw.Length > 1 ? 1 : 0))].Trim();
            if (!PrintsOutput(content))
            {
                output.Append("{{").Append(raw).Append("}}");
                continue;
            }

            if (ShorthandPattern().IsMatch(content))
            {
                content = "." + content;
            }

            // "{{X}}" filling a whole JSON string becomes a JSON literal of X, without the quotes.
            var wholeString = inString && output.Length > 0 && output[^1] == '"' && position < template.Length && template[position] == '"';
            string function;
            if (wholeString)
            {
                output.Length--;
                position++;
                inString = false;
                function = JsonFunction;
            }
            else
            {
                function = inString ? EscapeFunction : JsonFunction;
            }

            output.Append(leftTrim ? "{{- " : "{{ ").Append(content).Append(" | ").Append(function).Append(rightTrim ? " -}}" : " }}");
        }

        return output.ToString();
    }

    private static bool PrintsOutput(string content)
    {
        if (content.Length == 0 || content.StartsWith("/*", StringComparison.Ordinal) || DeclarationPattern().IsMatch(content))
        {
            return false;
        }

        var firstWord = content.Split([' ', '\t', '\n', '\r', '('], 2)[0];
        return !ControlWords.Contains(firstWord, StringComparer.Ordinal);
    }

    /// <summary>Tracks whether the template text leaves us inside a JSON string.</summary>
    private static bool ScanText(ReadOnlySpan<char> text, bool inString)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"' && (!inString || !IsEscaped(text, i)))
            {
                inString = !inString;
            }
        }

        return inString;
    }

    private static bool IsEscaped(ReadOnlySpan<char> text, int index)
    {
        var backslashes = 0;
        for (var i = index - 1; i >= 0 && text[i] == '\\'; i--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    /// <summary>Finds the <c>}}</c> closing an action, skipping quoted strings and comments inside it.</summary>
    private static int FindClose(string template, int start)
    {
        var i = start;
        while (i < template.Length - 1)
        {
            var c = template[i];
            if (c is '"' or '`' or '\'')
            {
                var end = i + 1;
                while (end < template.Length && template[end] != c)
                {
                    end += c != '`' && template[end] == '\\' ? 2 : 1;
                }

                i = end + 1;
                continue;
            }

            if (c == '/' && template[i + 1] == '*')
            {
                var end = template.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? template.Length : end + 2;
                continue;
            }

            if (c == '}' && template[i + 1] == '}')
            {
                return i;
            }

            i++;
        }

        var line = template.AsSpan(0, start).Count('\n') + 1;
        throw new PackageException(TemplateErrorCodes.ParseError, $"Line {line}: an action opened with '{{{{' is never closed.", FileName);
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long or int or short or byte => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        double or float or decimal => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        IDictionary map => new JsonObject(map.Keys.Cast<object>().OrderBy(k => k.ToString(), StringComparer.Ordinal).Select(k => KeyValuePair.Create(k.ToString()!, ToJson(map[k])))),
        IEnumerable list => new JsonArray(list.Cast<object?>().Select(ToJson).ToArray()),

        // The engine's "no value" marker for a missing key: JSON has null for that.
        _ when value.ToString() == "<no value>" => null,
        _ => JsonValue.Create(value.ToString()),
    };

    private static string Escape(object? value)
    {
        var text = value switch
        {
            null => "",
            string s => s,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ when value.ToString() == "<no value>" => "",
            _ => JsonSerializer.Serialize(ToJson(value), Encoder),
        };
        var quoted = JsonSerializer.Serialize(text, Encoder);
        return quoted[1..^1];
    }

    /// <summary>JSON values as the template engine's value model (Go <c>int</c> for integers, as the engine's own JSON reader gives).</summary>
    public static object? ToTemplateValue(JsonNode? node) => node is null ? null : TemplateValues.FromJson(node.ToJsonString());

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")]
    private static partial Regex ShorthandPattern();

    [GeneratedRegex(@"^\$[A-Za-z0-9_]*\s*:?=")]
    private static partial Regex DeclarationPattern();
}
