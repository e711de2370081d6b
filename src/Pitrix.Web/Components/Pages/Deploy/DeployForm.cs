using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pitrix.Web.Components.Pages.Deploy;

/// <summary>How a field is edited.</summary>
public enum FieldKind
{
    Text,
    Password,
    Integer,
    Number,
    Boolean,

    /// <summary>One of <see cref="FormField.Options"/> (a <c>range</c> or an <c>enum</c>).</summary>
    Choice,

    /// <summary>Several of <see cref="FormField.Options"/>, joined by <see cref="FormField.Separator"/> (a <c>multichoice</c> range).</summary>
    MultiChoice,
}

/// <summary>
/// A value of <c>config.json</c> the wizard fills from the cluster's own fields rather than asking twice:
/// <c>cluster.name</c> and <c>cluster.description</c>, which AppCenter packages render into the cluster.
/// </summary>
public enum FieldBinding
{
    None,
    ClusterName,
    ClusterDescription,
}

/// <summary>An allowed value: its text in the form and the JSON value it stands for.</summary>
public sealed record FieldOption(string Value, JsonNode? Json);

/// <summary>A field or a group of fields at a path of the values (<c>cluster</c> → <c>zk_node</c> → <c>count</c>).</summary>
public abstract class FormItem
{
    private protected FormItem(IReadOnlyList<string> segments, string label, string? description, string? language)
    {
        Segments = segments;
        Label = label;
        Description = description;
        Language = language;
    }

    public IReadOnlyList<string> Segments { get; }

    /// <summary>The label shown: translated when the package's locale has it, else the package's label, else the key.</summary>
    public string Label { get; }

    public string? Description { get; }

    /// <summary>The language of a translated label (for the <c>lang</c> attribute); null when it is the package's own text.</summary>
    public string? Language { get; }

    /// <summary>The path as config.json errors name it: <c>cluster.zk_node.count</c>.</summary>
    public string Dotted => string.Join('.', Segments);

    /// <summary>The path as a JSON pointer, as values.schema.json errors name it: <c>/image/tag</c>.</summary>
    public string Pointer => DeployPaths.Pointer(Segments);

    /// <summary>True when an API error key names this item.</summary>
    public bool IsNamedBy(string errorKey) => errorKey == Pointer || (Segments.Count > 0 && errorKey == Dotted);
}

public sealed class FormGroup : FormItem
{
    public FormGroup(IReadOnlyList<string> segments, string label, string? description, string? language, IReadOnlyList<FormItem> items)
        : base(segments, label, description, language) => Items = items;

    public IReadOnlyList<FormItem> Items { get; }
}

public sealed class FormField : FormItem
{
    public FormField(IReadOnlyList<string> segments, string label, string? description, string? language, string id)
        : base(segments, label, description, language) => Id = id;

    /// <summary>The input's element id, unique in the form.</summary>
    public string Id { get; }

    /// <summary>The input's name in the form post: <c>cfg</c> followed by the JSON pointer.</summary>
    public string Name => DeployPaths.FieldPrefix + Pointer;

    public FieldKind Kind { get; init; }

    public bool Required { get; init; }

    /// <summary>The package's default (config.json's <c>default</c>, or values.yaml's value).</summary>
    public JsonNode? Default { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }

    public double? Step { get; init; }

    public string? Pattern { get; init; }

    public int? MinLength { get; init; }

    public int? MaxLength { get; init; }

    public IReadOnlyList<FieldOption> Options { get; init; } = [];

    public string Separator { get; init; } = ",";

    public FieldBinding Binding { get; init; }

    /// <summary>The default as the form shows it ("" when there is none).</summary>
    public string DefaultText => DeployPaths.Text(Default);

    private static string Characters(int count) => count == 1 ? "1 character" : $"{count} characters";

    /// <summary>What the form says about the allowed values: bounds, step, length, pattern.</summary>
    public string? Constraints
    {
        get
        {
            var parts = new List<string>();
            if (Kind is FieldKind.Integer or FieldKind.Number)
            {
                if (Min is { } min && Max is { } max)
                {
                    parts.Add($"From {DeployPaths.Number(min)} to {DeployPaths.Number(max)}");
                }
                else if (Min is { } atLeast)
                {
                    parts.Add($"At least {DeployPaths.Number(atLeast)}");
                }
                else if (Max is { } atMost)
                {
                    parts.Add($"At most {DeployPaths.Number(atMost)}");
                }

                if (Step is { } step and > 0)
                {
                    parts.Add($"in steps of {DeployPaths.Number(step)}");
                }
            }

            if (MinLength is { } shortest && MaxLength is { } longest)
            {
                parts.Add($"{shortest} to {Characters(longest)}");
            }
            else if (MaxLength is { } most)
            {
                parts.Add($"at most {Characters(most)}");
            }
            else if (MinLength is { } least and > 0)
            {
                parts.Add($"at least {Characters(least)}");
            }

            if (Pattern is { Length: > 0 })
            {
                parts.Add($"matching {Pattern}");
            }

            if (parts.Count == 0)
            {
                return null;
            }

            var text = string.Join(", ", parts);
            return char.ToUpperInvariant(text[0]) + text[1..] + ".";
        }
    }
}

/// <summary>
/// The configuration form of a version, generated from its package: a vmcluster package's <c>config.json</c>
/// (types, ranges, bounds, defaults, required keys, descriptions; labels translated from <c>locale/</c>) or a
/// chart's <c>values.schema.json</c> with defaults from <c>values.yaml</c> (nested objects as groups). It only
/// shapes the form and turns a post back into values: checking them is the API's.
/// </summary>
public sealed class DeployForm
{
    private const int MaxDepth = 16;

    private DeployForm(string format, FormGroup root, IReadOnlyList<string> yamlOnly)
    {
        Format = format;
        Root = root;
        YamlOnly = yamlOnly;
    }

    public string Format { get; }

    /// <summary>The top-level items (a group without a legend of its own).</summary>
    public FormGroup Root { get; }

    /// <summary>Values (JSON pointers) the form has no field for — lists, free-form objects — editable in YAML.</summary>
    public IReadOnlyList<string> YamlOnly { get; }

    /// <summary>Helm apps take values as YAML too.</summary>
    public bool TakesYaml => Format == "helm";

    /// <summary>Every field, depth first.</summary>
    public IEnumerable<FormField> Fields => Flatten(Root);

    /// <summary>Every group, depth first (the root excluded).</summary>
    public IEnumerable<FormGroup> Groups => GroupsOf(Root);

    /// <summary>
    /// The form of a vmcluster package's <c>config.json</c> (<c>{"type": "array", "properties": [...]}</c> or a bare
    /// list of nodes). Labels and descriptions are looked up in <paramref name="translations"/> (by text, then by key).
    /// </summary>
    public static DeployForm FromConfig(JsonNode? config, IReadOnlyDictionary<string, string>? translations = null, string? language = null)
    {
        var nodes = config switch
        {
            JsonObject o when o["properties"] is JsonArray list => list,
            JsonArray list => list,
            _ => [],
        };
        var builder = new Builder(translations, language);
        return new DeployForm("vmcluster", new FormGroup([], "", null, null, builder.ConfigItems(nodes, [], 0)), []);
    }

    /// <summary>
    /// The form of a chart: fields from <c>values.schema.json</c>, defaults from <c>values.yaml</c>. A chart without a
    /// schema gets fields for the scalar values of its values.yaml.
    /// </summary>
    public static DeployForm FromValuesSchema(JsonNode? schema, JsonObject? defaults)
    {
        var builder = new Builder(null, null);
        var items = schema is JsonObject root
            ? builder.SchemaItems(root, [], defaults, 0)
            : builder.ValuesItems(defaults ?? [], [], 0);
        return new DeployForm("helm", new FormGroup([], "", null, null, items), builder.YamlOnly);
    }

    /// <summary>
    /// The values a post asks for: for each field posted, its value when it differs from the package's default (the
    /// API fills in defaults, and for Helm keeping them out lets an upgrade take the new chart's), typed as the field
    /// is (text that is not a number stays text, for the API to refuse by path).
    /// </summary>
    public JsonObject ToValues(FormInput input, string? clusterName, string? clusterDescription)
    {
        var values = new JsonObject();
        foreach (var field in Fields)
        {
            string text;
            switch (field.Binding)
            {
                case FieldBinding.ClusterName:
                    text = clusterName?.Trim() ?? "";
                    break;
                case FieldBinding.ClusterDescription:
                    text = clusterDescription?.Trim() ?? "";
                    break;
                default:
                    if (!input.Has(field))
                    {
                        continue;
                    }

                    text = input.Text(field);
                    break;
            }

            // A check box cannot say "not set": unticked, one without a default is left unset.
            var baseline = field.Kind == FieldKind.Boolean && field.Default is null ? "false" : field.DefaultText;
            if (text == baseline || (field.Kind == FieldKind.Choice && text.Length == 0))
            {
                continue;
            }

            DeployPaths.Set(values, field.Segments, Convert(field, text));
        }

        return values;
    }

    private static JsonNode? Convert(FormField field, string text)
    {
        switch (field.Kind)
        {
            case FieldKind.Integer or FieldKind.Number when text.Length > 0:
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
                {
                    return JsonValue.Create(whole);
                }

                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? JsonValue.Create(number)
                    : JsonValue.Create(text);
            case FieldKind.Boolean when text is "true" or "false":
                return JsonValue.Create(text == "true");
            case FieldKind.Choice:
                return field.Options.FirstOrDefault(o => o.Value == text) is { } option ? option.Json?.DeepClone() : JsonValue.Create(text);
            default:
                return JsonValue.Create(text);
        }
    }

    private static IEnumerable<FormField> Flatten(FormGroup group) =>
        group.Items.SelectMany(i => i is FormGroup g ? Flatten(g) : [(FormField)i]);

    private static IEnumerable<FormGroup> GroupsOf(FormGroup group) =>
        group.Items.OfType<FormGroup>().SelectMany(g => (IEnumerable<FormGroup>)[g, .. GroupsOf(g)]);

    /// <summary>Builds items, handing out unique element ids and recording what only YAML can set.</summary>
    private sealed class Builder(IReadOnlyDictionary<string, string>? translations, string? language)
    {
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

        public List<string> YamlOnly { get; } = [];

        public List<FormItem> ConfigItems(JsonArray nodes, IReadOnlyList<string> parent, int depth)
        {
            var items = new List<FormItem>();
            if (depth > MaxDepth)
            {
                return items;
            }

            foreach (var node in nodes.OfType<JsonObject>())
            {
                if (Text(node, "key") is not { Length: > 0 } key || items.Any(i => i.Segments[^1] == key))
                {
                    continue;
                }

                IReadOnlyList<string> segments = [.. parent, key];
                var type = Text(node, "type")?.ToLowerInvariant() ?? (node["properties"] is JsonArray ? "array" : "string");
                var rawLabel = Text(node, "label");
                var (label, labelLanguage) = Translate(rawLabel, key);
                var description = TranslateText(Text(node, "description"));
                if (type == "array")
                {
                    if (node["properties"] is JsonArray children)
                    {
                        // A group without a label is named by its description (AppCenter's "cluster" and "env" are).
                        var legend = rawLabel is null && description is not null ? (description, (string?)null) : (label, labelLanguage);
                        items.Add(new FormGroup(segments, legend.Item1, rawLabel is null ? null : description, legend.Item2, ConfigItems(children, segments, depth + 1)));
                    }

                    continue;
                }

                var range = node["range"] as JsonArray ?? [];
                var multiple = Flag(node["multichoice"]);
                var kind = range.Count > 0
                    ? multiple ? FieldKind.MultiChoice : FieldKind.Choice
                    : type switch
                    {
                        "password" => FieldKind.Password,
                        "integer" => FieldKind.Integer,
                        "number" => FieldKind.Number,
                        "boolean" => FieldKind.Boolean,
                        _ => FieldKind.Text,
                    };
                var binding = segments is ["cluster", "name"] && kind == FieldKind.Text ? FieldBinding.ClusterName
                    : segments is ["cluster", "description"] && kind == FieldKind.Text ? FieldBinding.ClusterDescription
                    : FieldBinding.None;
                items.Add(new FormField(segments, label, description, labelLanguage, NewId(segments))
                {
                    Kind = kind,
                    Required = Flag(node["required"]),
                    Default = node["default"]?.DeepClone(),
                    Min = NumberOf(node["min"]),
                    Max = NumberOf(node["max"]),
                    Step = NumberOf(node["step"]),
                    Pattern = Text(node, "pattern"),
                    Options = range.Select(r => new FieldOption(DeployPaths.Text(r), r?.DeepClone())).DistinctBy(o => o.Value).ToList(),
                    Separator = Text(node, "separator") is { Length: > 0 } separator ? separator : ",",
                    Binding = binding,
                });
            }

            return items;
        }

        public List<FormItem> SchemaItems(JsonObject schema, IReadOnlyList<string> parent, JsonObject? defaults, int depth)
        {
            var items = new List<FormItem>();
            if (schema["properties"] is not JsonObject properties || depth > MaxDepth)
            {
                return items;
            }

            var required = (schema["required"] as JsonArray ?? []).Select(r => r is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var (key, value) in properties)
            {
                IReadOnlyList<string> segments = [.. parent, key];
                if (value is not JsonObject property)
                {
                    continue;
                }

                var type = TypeOf(property);
                var label = Text(property, "title") ?? key;
                var description = Text(property, "description");
                var fallback = defaults is not null && defaults.TryGetPropertyValue(key, out var given) ? given : property["default"];
                if (type == "object" && property["properties"] is JsonObject { Count: > 0 })
                {
                    items.Add(new FormGroup(segments, label, description, null, SchemaItems(property, segments, fallback as JsonObject, depth + 1)));
                    continue;
                }

                var options = property["enum"] is JsonArray allowed
                    ? allowed.Where(a => a is not null).Select(a => new FieldOption(DeployPaths.Text(a), a!.DeepClone())).DistinctBy(o => o.Value).ToList()
                    : [];
                FieldKind? kind = options.Count > 0 ? FieldKind.Choice : type switch
                {
                    "string" => Flag(property["writeOnly"]) || Text(property, "format") == "password" ? FieldKind.Password : FieldKind.Text,
                    "integer" => FieldKind.Integer,
                    "number" => FieldKind.Number,
                    "boolean" => FieldKind.Boolean,
                    _ => null,
                };
                if (kind is not { } known)
                {
                    // Lists, free-form objects, $ref and combinations: YAML says them better than a field.
                    YamlOnly.Add(DeployPaths.Pointer(segments));
                    continue;
                }

                items.Add(new FormField(segments, label, description, null, NewId(segments))
                {
                    Kind = known,
                    Required = required.Contains(key),
                    Default = fallback?.DeepClone(),
                    Min = NumberOf(property["minimum"]),
                    Max = NumberOf(property["maximum"]),
                    Step = NumberOf(property["multipleOf"]),
                    Pattern = Text(property, "pattern"),
                    MinLength = (int?)NumberOf(property["minLength"]),
                    MaxLength = (int?)NumberOf(property["maxLength"]),
                    Options = options,
                });
            }

            return items;
        }

        /// <summary>Fields for a chart without a schema: its values.yaml's scalars, typed as they are written.</summary>
        public List<FormItem> ValuesItems(JsonObject values, IReadOnlyList<string> parent, int depth)
        {
            var items = new List<FormItem>();
            foreach (var (key, value) in values)
            {
                IReadOnlyList<string> segments = [.. parent, key];
                if (value is JsonObject { Count: > 0 } child && depth < MaxDepth)
                {
                    items.Add(new FormGroup(segments, key, null, null, ValuesItems(child, segments, depth + 1)));
                    continue;
                }

                FieldKind? kind = value is JsonValue v ? v.GetValueKind() switch
                {
                    JsonValueKind.String => FieldKind.Text,
                    JsonValueKind.True or JsonValueKind.False => FieldKind.Boolean,
                    JsonValueKind.Number => v.TryGetValue<long>(out _) || DeployPaths.Text(v).All(c => char.IsAsciiDigit(c) || c == '-') ? FieldKind.Integer : FieldKind.Number,
                    _ => null,
                }
                : null;
                if (kind is not { } known)
                {
                    YamlOnly.Add(DeployPaths.Pointer(segments));
                    continue;
                }

                items.Add(new FormField(segments, key, null, null, NewId(segments)) { Kind = known, Default = value?.DeepClone() });
            }

            return items;
        }

        private static string? TypeOf(JsonObject property)
        {
            switch (property["type"])
            {
                case JsonValue v when v.TryGetValue<string>(out var single):
                    return single;
                case JsonArray several:
                    return several.Select(t => t is JsonValue x && x.TryGetValue<string>(out var s) ? s : null).FirstOrDefault(s => s is not null and not "null");
            }

            if (property["properties"] is JsonObject)
            {
                return "object";
            }

            return property["enum"] is JsonArray allowed && allowed.FirstOrDefault(a => a is not null) is JsonValue first
                ? first.GetValueKind() switch
                {
                    JsonValueKind.String => "string",
                    JsonValueKind.Number => "number",
                    JsonValueKind.True or JsonValueKind.False => "boolean",
                    _ => null,
                }
                : null;
        }

        private (string Label, string? Language) Translate(string? label, string key)
        {
            foreach (var text in new[] { label, key })
            {
                if (text is not null && translations is not null && translations.TryGetValue(text, out var translated) && translated.Length > 0)
                {
                    return (translated, language);
                }
            }

            return (label ?? key, null);
        }

        private string? TranslateText(string? text) =>
            text is not null && translations is not null && translations.TryGetValue(text, out var translated) && translated.Length > 0 ? translated : text;

        private string NewId(IReadOnlyList<string> segments)
        {
            var baseId = "cfg-" + string.Concat(string.Join('-', segments).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
            var id = baseId;
            for (var n = 2; !_ids.Add(id); n++)
            {
                id = $"{baseId}-{n.ToString(CultureInfo.InvariantCulture)}";
            }

            return id;
        }

        private static string? Text(JsonObject node, string name) => node[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        /// <summary>JSON booleans, or as config.json writes them: "yes"/"no", "true"/"false".</summary>
        private static bool Flag(JsonNode? node) => node is JsonValue v && (v.TryGetValue<bool>(out var b) ? b : v.TryGetValue<string>(out var s) && s.ToLowerInvariant() is "yes" or "true");

        private static double? NumberOf(JsonNode? node) =>
            node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n
            : node is JsonValue t && t.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed
            : null;
    }
}

/// <summary>
/// What a form post said for each field (several values for check boxes), keyed by the field's input name. The
/// form shows it back, so input is kept across steps and refusals.
/// </summary>
public sealed class FormInput(IReadOnlyDictionary<string, IReadOnlyList<string>> posted)
{
    public static FormInput Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>());

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Posted => posted;

    public bool Has(FormField field) => posted.ContainsKey(field.Name);

    public IReadOnlyList<string> Raw(FormField field) => posted.TryGetValue(field.Name, out var values) ? values : [];

    /// <summary>
    /// The field's value as text: a check box posts a hidden "false" then "true" when ticked (the last counts); a
    /// multi-choice posts a hidden "" then each ticked option (joined with the separator); others post one value.
    /// Not posted: the default.
    /// </summary>
    public string Text(FormField field)
    {
        if (!posted.TryGetValue(field.Name, out var values) || values.Count == 0)
        {
            return field.DefaultText;
        }

        return field.Kind switch
        {
            FieldKind.Boolean => values[^1],
            FieldKind.MultiChoice => string.Join(field.Separator, values.Where(v => v.Length > 0)),
            _ => values[0],
        };
    }

    /// <summary>The options ticked of a multi-choice: posted, or the default's.</summary>
    public IReadOnlySet<string> Chosen(FormField field) =>
        Text(field).Split(field.Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
}

/// <summary>The API's refusal by field: values errors name paths (<c>cluster.zk_node.count</c>, <c>/image/tag</c>).</summary>
public sealed class DeployErrors(IReadOnlyDictionary<string, string[]>? fields)
{
    private readonly IReadOnlyDictionary<string, string[]> _fields = fields ?? new Dictionary<string, string[]>();

    public IReadOnlyDictionary<string, string[]> All => _fields;

    public IReadOnlyList<string> For(FormItem item) => _fields.Where(e => item.IsNamedBy(e.Key)).SelectMany(e => e.Value).ToList();

    /// <summary>Messages for a field of the request itself (<c>name</c>), and for config values bound to it (<c>cluster.name</c>).</summary>
    public IReadOnlyList<string> For(string key, FormField? bound = null) =>
        _fields.Where(e => e.Key == key || (bound is not null && bound.IsNamedBy(e.Key))).SelectMany(e => e.Value).ToList();

    /// <summary>Errors whose path is a value given in <paramref name="yaml"/>, by JSON pointer.</summary>
    public IReadOnlyList<(string Path, string Message)> InYaml(JsonObject? yaml)
    {
        var found = new List<(string, string)>();
        if (yaml is null || yaml.Count == 0)
        {
            return found;
        }

        foreach (var (key, messages) in _fields)
        {
            if (key.StartsWith('/') && key.Length > 1 && DeployPaths.Find(yaml, DeployPaths.Segments(key)))
            {
                found.AddRange(messages.Select(m => (key, m)));
            }
        }

        return found;
    }
}

/// <summary>Paths of values: JSON pointers, setting and finding values by path, values as form text.</summary>
public static class DeployPaths
{
    /// <summary>Field names in the form post start with this, followed by the JSON pointer of the value.</summary>
    public const string FieldPrefix = "cfg";

    public static string Pointer(IEnumerable<string> segments) =>
        "/" + string.Join('/', segments.Select(s => s.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)));

    public static IReadOnlyList<string> Segments(string pointer) =>
        pointer.Length <= 1 ? [] : pointer[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();

    /// <summary>Sets a value at a path, making the objects on the way (replacing a non-object in the way).</summary>
    public static void Set(JsonObject root, IReadOnlyList<string> segments, JsonNode? value)
    {
        var target = root;
        for (var i = 0; i < segments.Count - 1; i++)
        {
            if (target[segments[i]] is not JsonObject child)
            {
                child = [];
                target[segments[i]] = child;
            }

            target = child;
        }

        target[segments[^1]] = value;
    }

    /// <summary>True when the path (or the start of it) is set in <paramref name="root"/>.</summary>
    public static bool Find(JsonObject root, IReadOnlyList<string> segments)
    {
        JsonNode? node = root;
        foreach (var segment in segments)
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(segment, out var next))
            {
                return false;
            }

            node = next;
            if (node is not JsonObject)
            {
                return true;
            }
        }

        return true;
    }

    /// <summary>Values given later replace earlier ones key by key, deeply (as Helm merges values files).</summary>
    public static JsonObject Merge(JsonObject baseValues, JsonObject overrides)
    {
        var merged = (JsonObject)baseValues.DeepClone();
        foreach (var (key, value) in overrides)
        {
            merged[key] = value is JsonObject child && merged[key] is JsonObject existing ? Merge(existing, child) : value?.DeepClone();
        }

        return merged;
    }

    /// <summary>A JSON value as form text: strings as they are, numbers and booleans as JSON writes them, nothing as "".</summary>
    public static string Text(JsonNode? value) => value switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.GetValueKind() is JsonValueKind.True => "true",
        JsonValue v when v.GetValueKind() is JsonValueKind.False => "false",
        _ => value.ToJsonString(),
    };

    public static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
