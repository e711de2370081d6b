using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Pitrix.Core.Clusters;
using Pitrix.Core.Text;
using Pitrix.Packages.Yaml;

namespace Pitrix.Packages.Helm;

/// <summary>
/// Diffs two rendered manifests (multi-document YAML, as <c>helm template</c> or <c>helm get manifest</c> print
/// them) resource by resource, as the <c>helm diff</c> plugin does: each document is keyed by its kind, namespace
/// (the release's when it names none) and name, and reported added, removed, changed (with a unified line diff)
/// or unchanged. Helm's <c>#&#160;Source:</c> comment is not part of a resource, so a template that moved to
/// another file changes nothing; it is kept as the resource's <see cref="ResourceDiff.Source"/>.
/// </summary>
public static partial class ManifestDiffer
{
    private const string SourcePrefix = "# Source: ";

    /// <summary>The diff from <paramref name="current"/> to <paramref name="planned"/>; resources in the planned manifest's order, then the removed ones.</summary>
    public static ManifestDiff Diff(string current, string planned, string defaultNamespace, int context = 3)
    {
        var before = Documents(current, defaultNamespace);
        var after = Documents(planned, defaultNamespace);
        var beforeByKey = before.ToDictionary(d => d.Key, StringComparer.Ordinal);
        var afterKeys = after.Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
        var resources = new List<ResourceDiff>();
        foreach (var document in after)
        {
            if (!beforeByKey.TryGetValue(document.Key, out var old))
            {
                resources.Add(document.ToDiff(ResourceChange.Added, LineDiff.Unified([], document.Lines, "/dev/null", document.Label("planned"), context)));
                continue;
            }

            var diff = LineDiff.Unified(old.Lines, document.Lines, old.Label("current"), document.Label("planned"), context);
            resources.Add(document.ToDiff(diff.Length == 0 ? ResourceChange.Unchanged : ResourceChange.Changed, diff.Length == 0 ? null : diff));
        }

        foreach (var old in before.Where(d => !afterKeys.Contains(d.Key)))
        {
            resources.Add(old.ToDiff(ResourceChange.Removed, LineDiff.Unified(old.Lines, [], old.Label("current"), "/dev/null", context)));
        }

        return new ManifestDiff(resources, string.Concat(resources.Select(r => r.Diff)));
    }

    /// <summary>The resources of a manifest; empty documents and documents of only comments are none.</summary>
    private static List<Document> Documents(string manifest, string defaultNamespace)
    {
        var documents = new List<Document>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in DocumentSeparator().Split(manifest.ReplaceLineEndings("\n")))
        {
            string? source = null;
            var lines = new List<string>();
            foreach (var line in LineDiff.SplitLines(text))
            {
                if (line.StartsWith(SourcePrefix, StringComparison.Ordinal) && lines.Count == 0)
                {
                    source = line[SourcePrefix.Length..].Trim();
                }
                else if (lines.Count > 0 || !string.IsNullOrWhiteSpace(line))
                {
                    lines.Add(line);
                }
            }

            while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1]))
            {
                lines.RemoveAt(lines.Count - 1);
            }

            if (lines.All(l => string.IsNullOrWhiteSpace(l) || l.TrimStart().StartsWith('#')))
            {
                continue;
            }

            var (kind, ns, name) = Identity(string.Join('\n', lines), defaultNamespace, source, documents.Count + 1);
            var key = $"{kind}\n{ns}\n{name}";

            // The same identity twice (a chart's mistake, or a List) stays two resources, paired in order.
            var occurrence = seen[key] = seen.GetValueOrDefault(key) + 1;
            documents.Add(new Document(occurrence == 1 ? key : $"{key}\n{occurrence}", kind, ns, name, source, lines));
        }

        return documents;
    }

    /// <summary>A document's kind, namespace and name; a document that is not a Kubernetes object is named after its template or position.</summary>
    private static (string Kind, string Namespace, string Name) Identity(string yaml, string defaultNamespace, string? source, int position)
    {
        JsonNode? parsed;
        try
        {
            parsed = YamlJson.Parse(yaml, source ?? "manifest");
        }
        catch (PackageException)
        {
            parsed = null;
        }

        var kind = parsed is JsonObject ? Text(parsed["kind"]) : null;
        var name = parsed is JsonObject ? Text(parsed["metadata"]?["name"]) : null;
        var ns = parsed is JsonObject ? Text(parsed["metadata"]?["namespace"]) : null;
        return (kind ?? "", string.IsNullOrEmpty(ns) ? defaultNamespace : ns, name ?? source ?? $"document {position}");

        static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node?.ToJsonString();
    }

    private sealed record Document(string Key, string Kind, string Namespace, string Name, string? Source, IReadOnlyList<string> Lines)
    {
        /// <summary>The name of the resource's side of the diff: <c>current/Kind/namespace/name</c> or <c>planned/…</c>.</summary>
        public string Label(string side) => $"{side}/{(Kind.Length == 0 ? "-" : Kind)}/{Namespace}/{Name}";

        public ResourceDiff ToDiff(string change, string? diff) => new(Kind, Namespace, Name, change, Source, diff);
    }

    [GeneratedRegex(@"^---[ \t]*(?:#.*)?$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}
