using System.Globalization;
using Pitrix.Core.Versioning;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Pitrix.Packages.Repos;

/// <summary>
/// A Helm-style repository index (<c>index.yaml</c>) for both package formats. Unknown fields are
/// kept and written back, so an index made by Helm or another tool survives a round trip.
/// </summary>
public sealed class RepoIndex
{
    /// <summary>Largest index accepted. Default: 32 MiB.</summary>
    public const int MaxBytes = 32 * 1024 * 1024;

    private const int MaxNodes = 2_000_000;

    public string ApiVersion { get; set; } = "v1";

    public string? Generated { get; set; }

    /// <summary>Entries by app name; each list is sorted newest version first.</summary>
    public SortedDictionary<string, List<IndexEntry>> Entries { get; } = new(StringComparer.Ordinal);

    /// <summary>Top-level fields this model does not name.</summary>
    public Dictionary<string, object?> Extra { get; } = new(StringComparer.Ordinal);

    public static RepoIndex Parse(string yaml)
    {
        if (yaml.Length > MaxBytes)
        {
            throw new PackageException("index.too_large", $"The index is larger than {MaxBytes} bytes.", "index.yaml");
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

                        index.Entries[name] = list.Select((v, i) => IndexEntry.FromYaml(name, i, v)).ToList();
                    }

                    break;
                case "entries":
                    throw new PackageException("index.invalid", "'entries' must be a mapping of app names to version lists.", "index.yaml");
                default:
                    index.Extra[key] = value;
                    break;
            }
        }

        index.Sort();
        return index;
    }

    /// <summary>Adds an entry, replacing one of the same name and version.</summary>
    public void Add(IndexEntry entry)
    {
        if (!Entries.TryGetValue(entry.Name, out var list))
        {
            Entries[entry.Name] = list = [];
        }

        list.RemoveAll(e => string.Equals(e.Version, entry.Version, StringComparison.Ordinal));
        list.Add(entry);
        Sort();
    }

    /// <summary>Adds the entries of <paramref name="older"/> that this index does not have (as <c>helm repo index --merge</c>).</summary>
    public void Merge(RepoIndex older)
    {
        foreach (var entry in older.Entries.Values.SelectMany(e => e))
        {
            if (!Entries.TryGetValue(entry.Name, out var list) || list.All(e => e.Version != entry.Version))
            {
                Add(entry);
            }
        }
    }

    public string ToYaml()
    {
        var root = new Dictionary<string, object?>(StringComparer.Ordinal) { ["apiVersion"] = ApiVersion };
        root["entries"] = Entries.ToDictionary(e => e.Key, e => (object?)e.Value.Select(v => v.ToYaml()).ToList(), StringComparer.Ordinal);
        root["generated"] = Generated ?? DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffK", CultureInfo.InvariantCulture);
        foreach (var (key, value) in Extra)
        {
            root[key] = value;
        }

        return new SerializerBuilder().WithQuotingNecessaryStrings().Build().Serialize(root);
    }

    private void Sort()
    {
        foreach (var list in Entries.Values)
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
    }

    /// <summary>
    /// Turns YamlDotNet's object graph into string-keyed dictionaries, lists and scalars, counting
    /// nodes so that alias expansion ("billion laughs") cannot blow up memory.
    /// </summary>
    internal static object? Plain(object? node, ref int budget)
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
}

/// <summary>One version of one app in a repository index.</summary>
public sealed class IndexEntry
{
    private static readonly HashSet<string> Named = new(StringComparer.Ordinal) { "name", "version", "urls", "digest", "created", "removed" };

    public required string Name { get; init; }

    public required string Version { get; init; }

    public List<string> Urls { get; init; } = [];

    /// <summary>sha256 of the package archive, lower-case hex.</summary>
    public string? Digest { get; init; }

    public string? Created { get; init; }

    public bool Removed { get; init; }

    /// <summary>Every other field: description, appVersion, keywords, maintainers, icon, apiVersion, type, Pitrix's <c>format</c>…</summary>
    public Dictionary<string, object?> Metadata { get; init; } = new(StringComparer.Ordinal);

    public string? Format => Metadata.GetValueOrDefault("format") as string;

    internal static IndexEntry FromYaml(string name, int position, object? value)
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

    internal Dictionary<string, object?> ToYaml()
    {
        var map = new SortedDictionary<string, object?>(Metadata, StringComparer.Ordinal)
        {
            ["name"] = Name,
            ["version"] = Version,
            ["urls"] = Urls,
        };
        if (Digest is not null)
        {
            map["digest"] = Digest;
        }

        if (Created is not null)
        {
            map["created"] = Created;
        }

        if (Removed)
        {
            map["removed"] = true;
        }

        return new Dictionary<string, object?>(map, StringComparer.Ordinal);
    }
}
