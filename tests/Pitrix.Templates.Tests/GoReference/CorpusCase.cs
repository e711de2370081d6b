using System.Text.Json;
using Pitrix.Templates;

namespace Pitrix.Templates.Tests.GoReference;

/// <summary>One case of the corpus in GoReference/corpus, rendered both by Go (gotmplref) and by this engine.</summary>
public sealed class CorpusCase
{
    public required string Name { get; init; }

    public required string Template { get; init; }

    public IReadOnlyDictionary<string, string> Templates { get; init; } = new Dictionary<string, string>();

    public string Entry { get; init; } = "t";

    public JsonElement? Data { get; init; }

    public string Funcs { get; init; } = "builtin";

    public IReadOnlyDictionary<string, string> KeyValues { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>Decode every number as float64, as Helm does with values.</summary>
    public bool Float64Numbers { get; init; }

    /// <summary>For features newer than the reference Go: the hand-verified result, and why.</summary>
    public RenderResult? Expected { get; init; }

    public string? HandVerified { get; init; }

    public static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "corpus");

    public static IReadOnlyList<CorpusCase> LoadAll()
    {
        var cases = new List<CorpusCase>();
        foreach (var file in Directory.GetFiles(CorpusDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var datasets = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (doc.RootElement.TryGetProperty("datasets", out var ds))
            {
                foreach (var p in ds.EnumerateObject())
                {
                    datasets[p.Name] = p.Value.Clone();
                }
            }

            var kvSets = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
            if (doc.RootElement.TryGetProperty("kvsets", out var kvs))
            {
                foreach (var p in kvs.EnumerateObject())
                {
                    kvSets[p.Name] = StringMap(p.Value);
                }
            }

            foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            {
                cases.Add(FromJson(c, datasets, kvSets));
            }
        }

        return cases;
    }

    private static Dictionary<string, string> StringMap(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);

    private static CorpusCase FromJson(JsonElement c, Dictionary<string, JsonElement> datasets, Dictionary<string, IReadOnlyDictionary<string, string>> kvSets)
    {
        JsonElement? data = null;
        if (c.TryGetProperty("dataset", out var dataset))
        {
            data = datasets[dataset.GetString()!];
        }
        else if (c.TryGetProperty("data", out var d))
        {
            data = d.Clone();
        }

        return new CorpusCase
        {
            Name = c.GetProperty("name").GetString()!,
            Template = c.GetProperty("template").GetString()!,
            Templates = c.TryGetProperty("templates", out var t)
                ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
                : new Dictionary<string, string>(),
            Entry = c.TryGetProperty("entry", out var e) ? e.GetString()! : "t",
            Data = data,
            Funcs = c.TryGetProperty("funcs", out var f) ? f.GetString()! : "builtin",
            KeyValues = c.TryGetProperty("kvset", out var kvSet) ? kvSets[kvSet.GetString()!]
                : c.TryGetProperty("kv", out var kv) ? StringMap(kv)
                : new Dictionary<string, string>(),
            Options = c.TryGetProperty("options", out var o) ? [.. o.EnumerateArray().Select(x => x.GetString()!)] : [],
            Float64Numbers = c.TryGetProperty("float64", out var f64) && f64.GetBoolean(),
            Expected = c.TryGetProperty("expected", out var x) ? RenderResult.FromJson(x) : null,
            HandVerified = c.TryGetProperty("handVerified", out var hv) ? hv.GetString() : null,
        };
    }

    /// <summary>Converts JSON the way gotmplref does: integers become int (long here), other numbers float64.</summary>
    public static object? ToValue(JsonElement e) => TemplateValues.FromJson(e);

    public RenderResult Render()
    {
        var missingKey = MissingKeyMode.Default;
        foreach (var option in Options)
        {
            missingKey = option switch
            {
                "missingkey=zero" => MissingKeyMode.Zero,
                "missingkey=error" => MissingKeyMode.Error,
                _ => MissingKeyMode.Default,
            };
        }

        var functions = new FunctionLibrary();
        switch (Funcs)
        {
            case "sprig":
                functions.AddSprig();
                break;
            case "confd":
                functions.AddConfd(new InMemoryKeyValueView(KeyValues));
                break;
        }

        var set = new TemplateSet(functions, new TemplateOptions { MissingKey = missingKey });
        try
        {
            set.Parse(Entry, Template);
            foreach (var name in Templates.Keys.Order(StringComparer.Ordinal))
            {
                set.Parse(name, Templates[name]);
            }
        }
        catch (TemplateException e)
        {
            return new RenderResult(string.Empty, e.Message, "parse");
        }

        using var writer = new StringWriter();
        try
        {
            var data = Data is { } d ? TemplateValues.FromJson(d, Float64Numbers ? JsonNumbers.AllFloat64 : JsonNumbers.IntegersAsInt) : null;
            set.Execute(writer, Entry, data);
            return new RenderResult(writer.ToString(), null, null);
        }
        catch (TemplateException e)
        {
            return new RenderResult(writer.ToString(), e.Message, "exec");
        }
    }

    public override string ToString() => Name;
}

public sealed record RenderResult(string Output, string? Error, string? Phase)
{
    public static RenderResult FromJson(JsonElement e) => new(
        e.GetProperty("output").GetString()!,
        e.TryGetProperty("error", out var err) ? err.GetString() : null,
        e.TryGetProperty("phase", out var p) ? p.GetString() : null);
}
