using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Pitrix.Packages.VmCluster;

/// <summary>The value types of the AppCenter <c>config.json</c> dialect; <c>array</c> is a node with properties.</summary>
public enum ConfigType
{
    Array,
    String,
    Password,
    Integer,
    Number,
    Boolean,
}

/// <summary>One node of <c>config.json</c>: a group (<see cref="ConfigType.Array"/>) or a value.</summary>
public sealed class ConfigNode
{
    public required string Key { get; init; }

    public required ConfigType Type { get; init; }

    public string? Label { get; init; }

    public string? Description { get; init; }

    public JsonNode? Default { get; init; }

    public bool Required { get; init; }

    /// <summary>Allowed values.</summary>
    public IReadOnlyList<JsonNode?> Range { get; init; } = [];

    public double? Min { get; init; }

    public double? Max { get; init; }

    public double? Step { get; init; }

    public string? Pattern { get; init; }

    /// <summary>Whether the value may change after the cluster exists (reconfigure). Default true.</summary>
    public bool Changeable { get; init; } = true;

    /// <summary>With <see cref="MultiChoice"/>: several values from <see cref="Range"/>, joined by this separator in strings.</summary>
    public string? Separator { get; init; }

    public bool MultiChoice { get; init; }

    public IReadOnlyList<ConfigNode> Properties { get; init; } = [];

    /// <summary>Every field of the node as written, including ones this model does not name (limits, port, allowed_operations…).</summary>
    public required JsonObject Raw { get; init; }
}

/// <summary>
/// The deploy form of a vmcluster package (<c>config.json</c>): parses the tree and validates user values
/// against it — types, ranges, bounds, steps, patterns, required keys — filling defaults, with errors
/// naming the key path (for example <c>cluster.zk_node.count</c>).
/// </summary>
public sealed class ConfigSchema
{
    public const string FileName = "config.json";
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    private ConfigSchema(ConfigNode root) => Root = root;

    /// <summary>A synthetic root whose properties are the top-level nodes (usually <c>cluster</c> and <c>env</c>).</summary>
    public ConfigNode Root { get; }

    public static ConfigSchema Parse(string json)
    {
        JsonNode? document;
        try
        {
            document = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new PackageException("config.invalid_json", JsonOptions.Describe(ex), FileName);
        }

        // Accept both the AppCenter form {"type":"array","properties":[...]} and a bare list of nodes.
        var top = document switch
        {
            JsonObject o when o["properties"] is JsonArray => o,
            JsonArray a => new JsonObject { ["key"] = "", ["type"] = "array", ["properties"] = a.DeepClone() },
            _ => throw new PackageException("config.invalid", "config.json must be an object with 'properties' or a list of nodes.", FileName),
        };
        var root = ParseNode(top, "", isRoot: true);
        return new ConfigSchema(root);
    }

    private static ConfigNode ParseNode(JsonObject raw, string parentPath, bool isRoot = false)
    {
        var key = raw["key"] is JsonValue k && k.TryGetValue<string>(out var ks) ? ks : isRoot ? "" : null;
        if (key is null || (!isRoot && !Regex.IsMatch(key, "^[A-Za-z0-9_][A-Za-z0-9_.-]*$", RegexOptions.None, RegexTimeout)))
        {
            throw new PackageException("config.invalid", $"A node under '{Display(parentPath)}' has a missing or invalid 'key'.", FileName);
        }

        var path = parentPath.Length == 0 ? key : $"{parentPath}.{key}";
        var typeText = raw["type"] is JsonValue t && t.TryGetValue<string>(out var ts) ? ts : (raw["properties"] is JsonArray ? "array" : null);
        if (typeText is null || !Enum.TryParse<ConfigType>(typeText, ignoreCase: true, out var type) || !Enum.IsDefined(type))
        {
            throw new PackageException("config.invalid_type", $"'{Display(path)}' has type '{typeText}'; use array, string, password, integer, number or boolean.", FileName);
        }

        var properties = new List<ConfigNode>();
        if (type == ConfigType.Array)
        {
            if (raw["properties"] is not JsonArray children)
            {
                throw new PackageException("config.invalid", $"'{Display(path)}' is of type array but has no 'properties' list.", FileName);
            }

            foreach (var child in children)
            {
                if (child is not JsonObject childObject)
                {
                    throw new PackageException("config.invalid", $"'{Display(path)}.properties' must hold objects.", FileName);
                }

                var node = ParseNode(childObject, path);
                if (properties.Any(p => p.Key == node.Key))
                {
                    throw new PackageException("config.duplicate_key", $"'{path}.{node.Key}' is defined twice.", FileName);
                }

                properties.Add(node);
            }
        }

        var pattern = Text(raw, "pattern");
        if (pattern is not null)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.None, RegexTimeout);
            }
            catch (ArgumentException)
            {
                throw new PackageException("config.invalid_pattern", $"'{path}' has a pattern that is not a valid regular expression.", FileName);
            }
        }

        return new ConfigNode
        {
            Key = key,
            Type = type,
            Label = Text(raw, "label"),
            Description = Text(raw, "description"),
            Default = raw["default"]?.DeepClone(),
            Required = Bool(raw, "required") ?? false,
            Range = raw["range"] is JsonArray range ? range.Select(r => r?.DeepClone()).ToList() : [],
            Min = Number(raw, "min", path),
            Max = Number(raw, "max", path),
            Step = Number(raw, "step", path),
            Pattern = pattern,
            Changeable = Bool(raw, "changeable") ?? true,
            Separator = Text(raw, "separator"),
            MultiChoice = Bool(raw, "multichoice") ?? false,
            Properties = properties,
            Raw = (JsonObject)raw.DeepClone(),
        };
    }

    /// <summary>
    /// Checks <paramref name="values"/> (shaped like the tree: <c>{"cluster": {"zk_node": {"count": 3}}}</c>)
    /// and returns the complete values with defaults filled in, or the errors by key path.
    /// </summary>
    public (JsonObject Values, IReadOnlyDictionary<string, string[]> Errors) Validate(JsonObject? values)
    {
        var errors = new PathErrors();
        var result = ValidateGroup(Root, values ?? [], "", errors);
        return (result, errors.ToDictionary());
    }

    /// <summary>
    /// Values for checking a package without a user: defaults, and for required keys without one a
    /// placeholder of the right type (the minimum, the first allowed value, or "placeholder").
    /// </summary>
    public JsonObject SampleValues() => Sample(Root);

    private static JsonObject Sample(ConfigNode group)
    {
        var result = new JsonObject();
        foreach (var node in group.Properties)
        {
            result[node.Key] = node.Type == ConfigType.Array ? Sample(node) : node.Default?.DeepClone() is { } value && value.ToString().Length > 0 ? value : Placeholder(node);
        }

        return result;
    }

    private static JsonNode? Placeholder(ConfigNode node) => node.Range.Count > 0
        ? node.Range[0]?.DeepClone()
        : node.Type switch
        {
            ConfigType.Integer => JsonValue.Create((long)(node.Min ?? 1)),
            ConfigType.Number => JsonValue.Create(node.Min ?? 1),
            ConfigType.Boolean => JsonValue.Create(false),
            _ => node.Required ? JsonValue.Create("placeholder") : JsonValue.Create(""),
        };

    private static JsonObject ValidateGroup(ConfigNode group, JsonObject values, string path, PathErrors errors)
    {
        var result = new JsonObject();
        foreach (var (key, _) in values)
        {
            if (group.Properties.All(p => p.Key != key))
            {
                errors.Add(Join(path, key), "Unknown key.");
            }
        }

        foreach (var node in group.Properties)
        {
            var nodePath = Join(path, node.Key);
            values.TryGetPropertyValue(node.Key, out var given);
            if (node.Type == ConfigType.Array)
            {
                if (given is not null and not JsonObject)
                {
                    errors.Add(nodePath, "Must be an object.");
                    continue;
                }

                result[node.Key] = ValidateGroup(node, (JsonObject?)given ?? [], nodePath, errors);
                continue;
            }

            var value = given ?? node.Default?.DeepClone();
            // An empty string is "no value": required keys reject it, optional text keeps it as "".
            if (value is null || (value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0))
            {
                if (node.Required)
                {
                    errors.Add(nodePath, "Required.");
                }

                result[node.Key] = value is not null && node.Type is ConfigType.String or ConfigType.Password ? "" : null;
                continue;
            }

            if (CheckValue(node, value, nodePath, errors) is { } accepted)
            {
                result[node.Key] = accepted;
            }
        }

        return result;
    }

    private static JsonNode? CheckValue(ConfigNode node, JsonNode value, string path, PathErrors errors)
    {
        if (value is not JsonValue scalar)
        {
            errors.Add(path, $"Must be a single {Describe(node.Type)}.");
            return null;
        }

        JsonNode accepted;
        switch (node.Type)
        {
            case ConfigType.Boolean:
                if (!scalar.TryGetValue<bool>(out var flag))
                {
                    errors.Add(path, "Must be true or false.");
                    return null;
                }

                accepted = JsonValue.Create(flag);
                break;
            case ConfigType.Integer or ConfigType.Number:
                if (!TryNumber(scalar, out var number) || (node.Type == ConfigType.Integer && number != Math.Floor(number)))
                {
                    errors.Add(path, $"Must be {(node.Type == ConfigType.Integer ? "an integer" : "a number")}.");
                    return null;
                }

                if (node.Min is { } min && number < min)
                {
                    errors.Add(path, $"Must be at least {Format(min)}.");
                }

                if (node.Max is { } max && number > max)
                {
                    errors.Add(path, $"Must be at most {Format(max)}.");
                }

                if (node.Step is { } step and > 0 && Math.Abs(Math.IEEERemainder(number - (node.Min ?? 0), step)) > 1e-9)
                {
                    errors.Add(path, $"Must be {Format(node.Min ?? 0)} plus a multiple of {Format(step)}.");
                }

                accepted = node.Type == ConfigType.Integer ? JsonValue.Create((long)number) : JsonValue.Create(number);
                break;
            default:
                if (!scalar.TryGetValue<string>(out var text))
                {
                    errors.Add(path, "Must be a string.");
                    return null;
                }

                if (node.Pattern is not null && !MatchesPattern(node.Pattern, text))
                {
                    errors.Add(path, $"Must match the pattern {node.Pattern}.");
                }

                accepted = JsonValue.Create(text);
                break;
        }

        if (node.Range.Count > 0)
        {
            var chosen = node.MultiChoice && accepted is JsonValue sv && sv.TryGetValue<string>(out var joined)
                ? joined.Split(node.Separator ?? ",", StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(p => (JsonNode)JsonValue.Create(p)).ToList()
                : [accepted];
            foreach (var item in chosen.Where(item => !node.Range.Any(r => SameScalar(r, item))))
            {
                errors.Add(path, $"{item.ToJsonString()} is not one of {string.Join(", ", node.Range.Select(r => r?.ToJsonString() ?? "null"))}.");
            }
        }

        return accepted;
    }

    private static bool MatchesPattern(string pattern, string text)
    {
        try
        {
            return Regex.IsMatch(text, pattern, RegexOptions.None, RegexTimeout);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static bool SameScalar(JsonNode? a, JsonNode b)
    {
        if (a is JsonValue av && b is JsonValue bv && TryNumber(av, out var an) && TryNumber(bv, out var bn))
        {
            return an == bn;
        }

        return a is not null && JsonNode.DeepEquals(a, b)
            || (a is JsonValue x && b is JsonValue y && x.TryGetValue<string>(out var xs) && y.TryGetValue<string>(out var ys) && xs == ys);
    }

    private static bool TryNumber(JsonValue value, out double number)
    {
        if (value.GetValueKind() == JsonValueKind.Number)
        {
            // A value may hold a JsonElement, a long or a double depending on where it came from.
            if (value.TryGetValue<double>(out number))
            {
                return true;
            }

            if (value.TryGetValue<long>(out var whole))
            {
                number = whole;
                return true;
            }

            if (value.TryGetValue<int>(out var small))
            {
                number = small;
                return true;
            }

            number = double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
            return true;
        }

        // Form posts send numbers as text; accept them when they are plainly numbers.
        if (value.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            return true;
        }

        number = 0;
        return false;
    }

    private static string Describe(ConfigType type) => type switch
    {
        ConfigType.Integer => "integer",
        ConfigType.Number => "number",
        ConfigType.Boolean => "boolean",
        _ => "string",
    };

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Display(string path) => path.Length == 0 ? "(root)" : path;

    private static string? Text(JsonObject raw, string name) => raw[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Booleans as JSON, or as the AppCenter dialect writes them: "yes"/"no", "true"/"false".</summary>
    private static bool? Bool(JsonObject raw, string name) => raw[name] switch
    {
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s.ToLowerInvariant() switch
        {
            "yes" or "true" => true,
            "no" or "false" or "" => false,
            _ => throw new PackageException("config.invalid", $"'{name}' must be true/false or yes/no (got '{s}').", FileName),
        },
        null => null,
        _ => throw new PackageException("config.invalid", $"'{name}' must be true/false or yes/no.", FileName),
    };

    private static double? Number(JsonObject raw, string name, string path)
    {
        if (raw[name] is null)
        {
            return null;
        }

        return raw[name] is JsonValue v && TryNumber(v, out var n)
            ? n
            : throw new PackageException("config.invalid", $"'{path}.{name}' must be a number.", FileName);
    }
}
