using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Serialization;

namespace Pitrix.Cli;

/// <summary>Prints API results as a table (default), JSON or YAML.</summary>
public sealed class Output(TextWriter writer, string format)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public string Format { get; } = format;

    /// <summary>Prints a single resource, or a page of them when it has <c>items</c>.</summary>
    public void Write(JsonNode? node, params string[] columns)
    {
        switch (Format)
        {
            case "json":
                writer.WriteLine(node?.ToJsonString(Indented) ?? "null");
                return;
            case "yaml":
                writer.Write(new SerializerBuilder().Build().Serialize(ToPlain(node)));
                return;
        }

        if (node is JsonObject page && page["items"] is JsonArray items)
        {
            WriteTable(items, columns);
            if (page["total"] is JsonNode total && (int)total > items.Count)
            {
                writer.WriteLine($"({items.Count} of {total}; use --offset {(int?)page["next_offset"] ?? 0} for more)");
            }
        }
        else if (node is JsonArray array)
        {
            WriteTable(array, columns);
        }
        else if (node is JsonObject single)
        {
            var width = single.Max(p => p.Key.Length);
            foreach (var (key, value) in single)
            {
                writer.WriteLine($"{key.PadRight(width)}  {Cell(value)}");
            }
        }
    }

    /// <summary>
    /// Prints <paramref name="text"/> as it is (a manifest, values as YAML) in the default format; JSON and YAML
    /// get the server's <paramref name="document"/> unchanged.
    /// </summary>
    public void WriteText(JsonNode? document, string text)
    {
        if (Format is "json" or "yaml")
        {
            Write(document);
            return;
        }

        writer.Write(text);
        if (!text.EndsWith('\n'))
        {
            writer.WriteLine();
        }
    }

    /// <summary>A JSON document as YAML.</summary>
    public static string Yaml(JsonNode? node) => new SerializerBuilder().Build().Serialize(ToPlain(node));

    /// <summary>
    /// Prints a page or list with computed columns in a table; JSON and YAML get the server's
    /// document unchanged, so scripts never depend on the table's shape.
    /// </summary>
    public void WriteRows(JsonNode? node, IReadOnlyList<Column> columns)
    {
        var items = node switch
        {
            JsonArray array => array,
            JsonObject result => result["items"] as JsonArray,
            _ => null,
        };
        if (Format != "table" || items is null)
        {
            Write(node);
            return;
        }

        WriteTable(items, columns);
        if (node is JsonObject page && page["total"] is JsonNode total && (int)total > items.Count)
        {
            writer.WriteLine($"({items.Count} of {total}; use --offset {(int?)page["next_offset"] ?? 0} for more)");
        }
    }

    private void WriteTable(JsonArray items, string[] columns) =>
        WriteTable(items, columns.Select(c => Column.Field(c)).ToArray());

    private void WriteTable(JsonArray items, IReadOnlyList<Column> columns)
    {
        if (items.Count == 0)
        {
            writer.WriteLine("No items.");
            return;
        }

        var rows = items.Select(item => columns.Select(c => Cell(c.Value(item))).ToArray()).ToList();
        var widths = columns.Select((c, i) => Math.Max(c.Name.Length, rows.Max(r => r[i].Length))).ToArray();
        writer.WriteLine(string.Join("  ", columns.Select((c, i) => c.Name.ToUpperInvariant().PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
        {
            writer.WriteLine(string.Join("  ", row.Select((v, i) => v.PadRight(widths[i]))).TrimEnd());
        }
    }

    /// <summary>The text of one value in a table cell.</summary>
    public static string Cell(JsonNode? value) => value switch
    {
        null => "-",
        JsonObject o => string.Join(",", o.Select(p => $"{p.Key}={Cell(p.Value)}")),
        JsonArray a => string.Join(",", a.Select(Cell)),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => value.ToJsonString(),
    };

    private static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToPlain(p.Value)),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => node.ToJsonString(),
    };

    /// <summary>Prints a failure for humans (table/yaml) or as JSON problem details (json).</summary>
    public static void WriteError(TextWriter error, string format, ApiException ex)
    {
        if (format == "json")
        {
            var problem = new JsonObject
            {
                ["status"] = ex.Status,
                ["code"] = ex.Code,
                ["title"] = ex.Title,
                ["detail"] = ex.Detail,
            };
            if (ex.Fields is not null)
            {
                problem["errors"] = new JsonObject(ex.Fields.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)new JsonArray(f.Value.Select(m => (JsonNode?)m).ToArray()))));
            }

            error.WriteLine(problem.ToJsonString(Indented));
            return;
        }

        var status = ex.Status > 0 ? ex.Status.ToString(CultureInfo.InvariantCulture) + " " : "";
        error.WriteLine($"Error: {ex.Detail ?? ex.Title}");
        error.WriteLine($"  ({status}{ex.Title}, code {ex.Code})");
        foreach (var (field, messages) in ex.Fields ?? new Dictionary<string, string[]>())
        {
            // A package's lint problems are keyed by file, often several per file: list them under it, like `pitrix lint`.
            if (ex.Code == "package.lint_failed")
            {
                error.WriteLine($"  {field}:");
                foreach (var message in messages)
                {
                    error.WriteLine($"    ERROR {message}");
                }

                continue;
            }

            foreach (var message in messages)
            {
                error.WriteLine($"  {field}: {message}");
            }
        }
    }
}

/// <summary>A table column: its header and how to get its value from one item.</summary>
public sealed record Column(string Name, Func<JsonNode?, JsonNode?> Value)
{
    /// <summary>A column showing the item's field of the same name.</summary>
    public static Column Field(string name) => new(name, item => item?[name]);

    /// <summary>A column showing the item's field <paramref name="field"/> under another header.</summary>
    public static Column Field(string name, string field) => new(name, item => item?[field]);
}
