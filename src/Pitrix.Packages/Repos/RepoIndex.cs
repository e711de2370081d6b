using System.Globalization;
using Pitrix.Core.Versioning;
using System.Runtime.InteropServices;
using System.Text;
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

    public string ApiVersion { get; set; } = "v1";

    public string? Generated { get; set; }

    /// <summary>Entries by app name; each list is sorted newest version first.</summary>
    public SortedDictionary<string, List<IndexEntry>> Entries { get; } = new(StringComparer.Ordinal);

    /// <summary>Top-level fields this model does not name.</summary>
    public Dictionary<string, object?> Extra { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Parses an index. Throws <see cref="PackageException"/>: <c>index.too_large</c>, <c>index.invalid_yaml</c>
    /// (with line and column), <c>index.too_complex</c> (more than 2,000,000 nodes once aliases are expanded,
    /// or an alias inside its own anchor), <c>index.too_deep</c> (nested deeper than 64 levels) or
    /// <c>index.invalid</c> (naming the entry, as <c>entries.NAME[i]</c>).
    /// </summary>
    public static RepoIndex Parse(string yaml)
    {
        if (yaml.Length > MaxBytes)
        {
            throw TooLarge();
        }

        using var reader = new StringReader(yaml);
        return RepoIndexReader.Read(reader);
    }

    /// <summary>Parses an index from its UTF-8 bytes (a byte order mark is skipped), without decoding them into one string first.</summary>
    public static RepoIndex Parse(ReadOnlyMemory<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            throw TooLarge();
        }

        using var stream = MemoryMarshal.TryGetArray(utf8, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(utf8.ToArray(), writable: false);
        return Parse(stream);
    }

    /// <summary>Parses an index read from <paramref name="utf8"/> (UTF-8; a byte order mark is skipped), reading at most <see cref="MaxBytes"/>.</summary>
    public static RepoIndex Parse(Stream utf8)
    {
        if (utf8.CanSeek && utf8.Length - utf8.Position > MaxBytes)
        {
            throw TooLarge();
        }

        using var reader = new StreamReader(new BoundedStream(utf8, MaxBytes, TooLarge), Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024);
        return RepoIndexReader.Read(reader);
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

    private static PackageException TooLarge() => new("index.too_large", $"The index is larger than {MaxBytes} bytes.", "index.yaml");

    internal void Sort()
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
}

/// <summary>One version of one app in a repository index.</summary>
public sealed class IndexEntry
{
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

    /// <summary>An entry from a plain value read before it was known to be one (an alias, say); the value is left as it was.</summary>
    internal static IndexEntry? FromPlain(string name, int position, object? value, out PackageException? error)
    {
        if (value is not Dictionary<string, object?> map)
        {
            error = new PackageException("index.invalid", $"entries.{name}[{position}] must be a mapping.", "index.yaml");
            return null;
        }

        var fields = new Fields();
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, item) in map)
        {
            if (!fields.TrySet(key, item))
            {
                metadata[key] = item;
            }
        }

        return fields.Build(name, position, metadata, out error);
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

    /// <summary>The fields an entry names, collected while its mapping is read; a repeated key keeps its last value.</summary>
    internal struct Fields
    {
        private object? _name;
        private object? _version;
        private object? _urls;
        private object? _digest;
        private object? _created;
        private object? _removed;

        /// <summary>Takes <paramref name="value"/> if <paramref name="key"/> is a named field; false leaves it to the metadata.</summary>
        public bool TrySet(string key, object? value)
        {
            switch (key)
            {
                case "name":
                    _name = value;
                    return true;
                case "version":
                    _version = value;
                    return true;
                case "urls":
                    _urls = value;
                    return true;
                case "digest":
                    _digest = value;
                    return true;
                case "created":
                    _created = value;
                    return true;
                case "removed":
                    _removed = value;
                    return true;
                default:
                    return false;
            }
        }

        public readonly IndexEntry? Build(string name, int position, Dictionary<string, object?> metadata, out PackageException? error)
        {
            if (_version is not string version || version.Length == 0)
            {
                error = new PackageException("index.invalid", $"entries.{name}[{position}] has no version.", "index.yaml");
                return null;
            }

            error = null;
            return new IndexEntry
            {
                Name = _name as string ?? name,
                Version = version,
                Urls = _urls switch
                {
                    List<object?> list => list.OfType<string>().ToList(),
                    string single => [single],
                    _ => [],
                },
                Digest = _digest as string,
                Created = _created as string,
                Removed = _removed is string removed && bool.TryParse(removed, out var r) && r,
                Metadata = metadata,
            };
        }
    }
}
