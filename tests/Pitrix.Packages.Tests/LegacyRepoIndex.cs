using Pitrix.Core.Versioning;
using Pitrix.Packages.Repos;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Pitrix.Packages.Tests;

/// <summary>
/// The graph-building <see cref="RepoIndex.Parse(string)"/> that the streaming reader replaced, kept as
/// the reference the streaming reader must match: YamlDotNet's untyped deserializer, then a plain copy
/// with a node budget, then the entries.
/// </summary>
internal static class LegacyRepoIndex
{
    private const int MaxNodes = 2_000_000;

    private static readonly HashSet<string> Named = new(StringComparer.Ordinal) { "name", "version", "urls", "digest", "created", "removed" };

    public static RepoIndex Parse(string yaml)
    {
        if (yaml.Length > RepoIndex.MaxBytes)
        {
            throw new PackageException("index.too_large", $"The index is larger than {RepoIndex.MaxBytes} bytes.", "index.yaml");
        }

        object? document;
        try
        {
            document = new DeserializerBuilder().Build().Deserialize<object>(yaml);
        }
        catch (YamlException ex)
        {
            throw new PackageException("index.invalid_yaml", $"Line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}", "index.yaml");
        }

        var budget = MaxNodes;
        if (Plain(document, ref budget) is not Dictionary<string, object?> root)
        {
            throw new PackageException("index.invalid", "The index is not a YAML mapping.", "index.yaml");
        }

        var index = new RepoIndex();
        foreach (var (key, value) in root)
        {
            switch (key)
            {
                case "apiVersion":
                    index.ApiVersion = value as string ?? "v1";
                    break;
                case "generated":
                    index.Generated = value as string;
                    break;
                case "entries" when value is null:
                    break;
                case "entries" when value is Dictionary<string, object?> entries:
                    foreach (var (name, versions) in entries)
                    {
                        if (versions is not List<object?> list)
                        {
                            throw new PackageException("index.invalid", $"entries.{name} must be a list of versions.", "index.yaml");
                        }

                        index.Entries[name] = list.Select((v, i) => FromYaml(name, i, v)).ToList();
                    }

                    break;
                case "entries":
                    throw new PackageException("index.invalid", "'entries' must be a mapping of app names to version lists.", "index.yaml");
                default:
                    index.Extra[key] = value;
                    break;
            }
        }

        foreach (var list in index.Entries.Values)
        {
            list.Sort((a, b) =>
            {
                var hasA = SemVersion.TryParse(a.Version, out var va);
                var hasB = SemVersion.TryParse(b.Version, out var vb);
                return (hasA, hasB) switch
                {
                    (true, true) => vb.CompareTo(va),
                    (true, false) => -1,
                    (false, true) => 1,
                    _ => string.CompareOrdinal(b.Version, a.Version),
                };
            });
        }

        return index;
    }

    private static object? Plain(object? node, ref int budget)
    {
        if (--budget < 0)
        {
            throw new PackageException("index.too_complex", $"The document has more than {MaxNodes} nodes (aliases expanding?).", "index.yaml");
        }

        switch (node)
        {
            case IDictionary<object, object?> map:
                var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (key, value) in map)
                {
                    result[key?.ToString() ?? ""] = Plain(value, ref budget);
                }

                return result;
            case IList<object?> list:
                var items = new List<object?>(list.Count);
                foreach (var item in list)
                {
                    items.Add(Plain(item, ref budget));
                }

                return items;
            default:
                return node;
        }
    }

    private static IndexEntry FromYaml(string name, int position, object? value)
    {
        if (value is not Dictionary<string, object?> map)
        {
            throw new PackageException("index.invalid", $"entries.{name}[{position}] must be a mapping.", "index.yaml");
        }

        if (map.GetValueOrDefault("version") is not string version || version.Length == 0)
        {
            throw new PackageException("index.invalid", $"entries.{name}[{position}] has no version.", "index.yaml");
        }

        var urls = map.GetValueOrDefault("urls") switch
        {
            List<object?> list => list.OfType<string>().ToList(),
            string single => [single],
            _ => [],
        };
        return new IndexEntry
        {
            Name = map.GetValueOrDefault("name") as string ?? name,
            Version = version,
            Urls = urls,
            Digest = map.GetValueOrDefault("digest") as string,
            Created = map.GetValueOrDefault("created") as string,
            Removed = map.GetValueOrDefault("removed") is string removed && bool.TryParse(removed, out var r) && r,
            Metadata = map.Where(p => !Named.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
    }
}
