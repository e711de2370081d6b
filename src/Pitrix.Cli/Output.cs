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

    private void WriteTable(JsonArray items, string[] columns)
    {
        if (items.Count == 0)
        {
            writer.WriteLine("No items.");
            return;
        }

        var rows = items.Select(item => columns.Select(c => Cell(item?[c])).ToArray()).ToList();
        var widths = columns.Select((c, i) => Math.Max(c.Length, rows.Max(r => r[i].Length))).ToArray();
        writer.WriteLine(string.Join("  ", columns.Select((c, i) => c.ToUpperInvariant().PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
        {
            writer.WriteLine(string.Join("  ", row.Select((v, i) => v.PadRight(widths[i]))).TrimEnd());
        }
    }

    private static string Cell(JsonNode? value) => value switch
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
            foreach (var message in messages)
            {
                error.WriteLine($"  {field}: {message}");
            }
        }
    }
}
