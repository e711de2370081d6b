using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Pitrix.Packages.Repos;

/// <summary>
/// Reads an <c>index.yaml</c> from YamlDotNet's event parser straight into <see cref="RepoIndex"/> and
/// <see cref="IndexEntry"/> objects, without building a document graph first: a large index costs about
/// what its entries cost. Values come out as YamlDotNet's untyped deserializer made them (a scalar is a
/// string, or null when it is a plain <c>~</c>, <c>null</c> or empty; a tagged scalar is whatever the
/// deserializer makes of its tag), mappings as <c>Dictionary&lt;string, object?&gt;</c> and sequences as
/// <c>List&lt;object?&gt;</c>.
/// </summary>
/// <remarks>
/// Aliases are expanded into copies, each node of the copy counting against <see cref="MaxNodes"/>, so an
/// alias bomb ("billion laughs") stops at the budget instead of exhausting memory. Errors in the index's
/// shape (an entry without a version, say) are held until the whole document has been read, so a YAML
/// error or a limit anywhere wins over them and they come in the order of the document's keys, as they
/// did when the document was parsed into a graph first.
/// </remarks>
internal sealed class RepoIndexReader
{
    /// <summary>Nodes a document may expand to, aliases included.</summary>
    internal const int MaxNodes = 2_000_000;

    /// <summary>
    /// Nesting a document may reach, aliases included. A Helm index needs about ten levels; the limit keeps
    /// the recursive consumers of the parsed values (fingerprints, YAML and JSON writers) far from their own.
    /// </summary>
    internal const int MaxDepth = 64;

    /// <summary>Longer scalars are rarely repeated (descriptions, digests); hashing them to share them is wasted work.</summary>
    private const int MaxInternedLength = 256;

    private const string Path = "index.yaml";

    private static readonly Lazy<IDeserializer> Untyped = new(() => new DeserializerBuilder().Build());

    /// <summary>What the untyped deserializer's key (a collection) printed as once it became a string key.</summary>
    private static readonly string MappingKeyText = typeof(Dictionary<object, object>).ToString();

    private static readonly string SequenceKeyText = typeof(List<object>).ToString();

    /// <summary>Marks an anchor whose node is still being read; an alias to it would make the document infinite.</summary>
    private static readonly Anchored Open = new(null, 0, 0);

    private readonly IParser _parser;
    private readonly Dictionary<string, Anchored> _anchors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object?> _scratch = new(StringComparer.Ordinal);
    private int _budget = MaxNodes;
    private int _deepest;

    private RepoIndexReader(IParser parser) => _parser = parser;

    public static RepoIndex Read(TextReader reader)
    {
        try
        {
            return new RepoIndexReader(new Parser(reader)).ReadStream();
        }
        catch (YamlException ex)
        {
            throw new PackageException("index.invalid_yaml", $"Line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}", Path);
        }
    }

    /// <summary>The top level, as <c>Deserializer.Deserialize(IParser, Type)</c> reads it.</summary>
    private RepoIndex ReadStream()
    {
        var hasStreamStart = _parser.TryConsume<StreamStart>(out _);
        var hasDocumentStart = _parser.TryConsume<DocumentStart>(out _);
        var index = new RepoIndex();
        var isMapping = false;
        Entries? entries = null;

        // A limit (index.too_complex, index.too_deep) ends the read where it is hit: the rest of a hostile
        // document is not worth parsing (YamlDotNet's scanner is quadratic in flow depth), so a YAML error
        // after it goes unreported, where the graph reader, which parsed first, reported that error.
        if (!_parser.Accept<DocumentEnd>(out _) && !_parser.Accept<StreamEnd>(out _))
        {
            if (_parser.Current is MappingStart start && start.Anchor.IsEmpty)
            {
                entries = ReadRoot(start, index);
                isMapping = true;
            }
            else if (ReadValue(1) is Dictionary<string, object?> root)
            {
                entries = ApplyRoot(root, index);
                isMapping = true;
            }
        }

        if (hasDocumentStart)
        {
            _parser.Consume<DocumentEnd>();
        }

        if (hasStreamStart)
        {
            _parser.Consume<StreamEnd>();
        }

        if (!isMapping)
        {
            throw new PackageException("index.invalid", "The index is not a YAML mapping.", Path);
        }

        entries?.CopyTo(index);
        index.Sort();
        return index;
    }

    private Entries? ReadRoot(MappingStart start, RepoIndex index)
    {
        Enter(start, 1);
        Entries? entries = null;
        while (_parser.Current is not MappingEnd)
        {
            var key = ReadKey(start, 2);
            if (key == "entries")
            {
                entries = ReadEntries(2);
            }
            else
            {
                ApplyRootField(index, key, ReadValue(2));
            }
        }

        _parser.MoveNext();
        return entries;
    }

    private static Entries? ApplyRoot(Dictionary<string, object?> root, RepoIndex index)
    {
        Entries? entries = null;
        foreach (var (key, value) in root)
        {
            if (key == "entries")
            {
                entries = Entries.FromPlain(value);
            }
            else
            {
                ApplyRootField(index, key, value);
            }
        }

        return entries;
    }

    private static void ApplyRootField(RepoIndex index, string key, object? value)
    {
        switch (key)
        {
            case "apiVersion":
                index.ApiVersion = value as string ?? "v1";
                break;
            case "generated":
                index.Generated = value as string;
                break;
            default:
                index.Extra[key] = value;
                break;
        }
    }

    private Entries ReadEntries(int depth)
    {
        if (_parser.Current is not MappingStart start || !start.Anchor.IsEmpty)
        {
            return Entries.FromPlain(ReadValue(depth));
        }

        Enter(start, depth);
        var entries = new Entries();
        while (_parser.Current is not MappingEnd)
        {
            var name = ReadKey(start, depth + 1);
            entries.Apps[name] = ReadVersions(name, depth + 1);
        }

        _parser.MoveNext();
        return entries;
    }

    private Versions ReadVersions(string name, int depth)
    {
        if (_parser.Current is not SequenceStart start || !start.Anchor.IsEmpty)
        {
            return Versions.FromPlain(name, ReadValue(depth));
        }

        Enter(start, depth);
        var versions = new Versions();
        for (var position = 0; _parser.Current is not SequenceEnd; position++)
        {
            if (versions.Error is not null)
            {
                // The list is already rejected; what follows is still read for YAML errors and limits.
                ReadValue(depth + 1);
                continue;
            }

            var entry = ReadEntry(name, position, depth + 1, out var error);
            if (entry is not null)
            {
                versions.List.Add(entry);
            }
            else
            {
                versions.Error = error;
            }
        }

        _parser.MoveNext();
        return versions;
    }

    private IndexEntry? ReadEntry(string name, int position, int depth, out PackageException? error)
    {
        if (_parser.Current is not MappingStart start || !start.Anchor.IsEmpty)
        {
            return IndexEntry.FromPlain(name, position, ReadValue(depth), out error);
        }

        Enter(start, depth);
        var fields = new IndexEntry.Fields();
        _scratch.Clear();
        while (_parser.Current is not MappingEnd)
        {
            var key = ReadKey(start, depth + 1);
            var value = ReadValue(depth + 1);
            if (!fields.TrySet(key, value))
            {
                _scratch[key] = value;
            }
        }

        _parser.MoveNext();

        // Copied at its final size: an entry's metadata lives as long as the index, the scratch map does not.
        return fields.Build(name, position, new Dictionary<string, object?>(_scratch, StringComparer.Ordinal), out error);
    }

    /// <summary>Reads one node (and everything under it) into a plain value.</summary>
    private object? ReadValue(int depth)
    {
        switch (_parser.Current)
        {
            case Scalar scalar:
            {
                Count(1, scalar);
                Reach(depth, scalar);
                _parser.MoveNext();
                var value = ResolveValue(scalar);
                if (!scalar.Anchor.IsEmpty)
                {
                    _anchors[scalar.Anchor.Value] = new Anchored(value, 1, 1);
                }

                return value;
            }

            case AnchorAlias alias:
                _parser.MoveNext();
                return Expand(alias, depth);
            case NodeEvent start when start is SequenceStart or MappingStart:
                return ReadCollection(start, depth);
            default:
                var unexpected = _parser.Current ?? throw new YamlException("The document ended unexpectedly.");
                throw new YamlException(unexpected.Start, unexpected.End, $"Unexpected '{unexpected.GetType().Name}'.");
        }
    }

    private object ReadCollection(NodeEvent start, int depth)
    {
        var anchor = start.Anchor.IsEmpty ? null : start.Anchor.Value;
        var budgetBefore = _budget;
        var deepestBefore = _deepest;
        if (anchor is not null)
        {
            _anchors[anchor] = Open;
            _deepest = 0;
        }

        Enter(start, depth);
        object value;
        if (start is MappingStart mappingStart)
        {
            var map = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (_parser.Current is not MappingEnd)
            {
                var key = ReadKey(mappingStart, depth + 1);
                map[key] = ReadValue(depth + 1);
            }

            value = map;
        }
        else
        {
            var items = new List<object?>();
            while (_parser.Current is not SequenceEnd)
            {
                items.Add(ReadValue(depth + 1));
            }

            value = items;
        }

        _parser.MoveNext();
        if (anchor is not null)
        {
            _anchors[anchor] = new Anchored(value, budgetBefore - _budget, _deepest - depth + 1);
            _deepest = Math.Max(_deepest, deepestBefore);
        }

        return value;
    }

    /// <summary>
    /// A mapping key as the old reader's <c>key.ToString()</c> had it: a scalar's text, a tagged scalar's
    /// value printed, a collection's type name. A key that comes out null fails as it did in YamlDotNet.
    /// </summary>
    private string ReadKey(MappingStart owner, int depth)
    {
        object? key;
        switch (_parser.Current)
        {
            case Scalar scalar:
                _parser.MoveNext();
                key = scalar.Tag.IsEmpty
                    ? scalar.Style == ScalarStyle.Plain && scalar.Value.Length == 0 ? null : Intern(scalar.Value)
                    : Deserialize(scalar);
                if (!scalar.Anchor.IsEmpty)
                {
                    _anchors[scalar.Anchor.Value] = new Anchored(key, 1, 1);
                }

                break;
            case AnchorAlias alias:
                _parser.MoveNext();
                var anchored = Resolve(alias);
                key = anchored.Value;
                break;
            default:
                // A collection as a key: read like a value (its nodes count too), then printed as its type was.
                key = ReadValue(depth);
                break;
        }

        return key switch
        {
            null => throw new YamlException(owner.Start, owner.End, "Empty key names are not supported yet. (Parameter 'tKey')"),
            string text => text,
            Dictionary<string, object?> => MappingKeyText,
            List<object?> => SequenceKeyText,
            _ => Convert.ToString(key, CultureInfo.InvariantCulture) ?? "",
        };
    }

    private object? ResolveValue(Scalar scalar)
    {
        if (!scalar.Tag.IsEmpty)
        {
            return Deserialize(scalar);
        }

        return scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL" ? null : Intern(scalar.Value);
    }

    /// <summary>Counts a collection's node, checks its depth and its tag, and steps past its start.</summary>
    private void Enter(NodeEvent start, int depth)
    {
        Count(1, start);
        Reach(depth, start);
        if (!start.Tag.IsEmpty)
        {
            // The old reader accepted exactly the tags YamlDotNet's deserializer resolves to a collection
            // (only !!map, on a mapping); let it judge, on the node alone, so the error is the same too.
            ParsingEvent end = start is MappingStart ? new MappingEnd(start.Start, start.End) : new SequenceEnd(start.Start, start.End);
            Deserialize(start, end);
        }

        _parser.MoveNext();
    }

    private object? Expand(AnchorAlias alias, int depth)
    {
        var anchored = Resolve(alias);
        Count(anchored.Nodes, alias);
        Reach(depth - 1 + anchored.Height, alias);
        return Copy(anchored.Value);
    }

    private Anchored Resolve(AnchorAlias alias)
    {
        if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
        {
            throw new YamlException(alias.Start, alias.End, $"Alias ${alias.Value.Value} cannot precede anchor declaration");
        }

        if (ReferenceEquals(anchored, Open))
        {
            throw new PackageException("index.too_complex", $"Line {alias.Start.Line}, column {alias.Start.Column}: the alias *{alias.Value.Value} refers to a node that contains it, which would never end.", Path);
        }

        return anchored;
    }

    private void Count(int nodes, ParsingEvent at)
    {
        _budget -= nodes;
        if (_budget < 0)
        {
            throw new PackageException("index.too_complex", $"The document has more than {MaxNodes} nodes (aliases expanding?); stopped at line {at.Start.Line}, column {at.Start.Column}.", Path);
        }
    }

    private void Reach(int depth, ParsingEvent at)
    {
        if (depth > MaxDepth)
        {
            throw new PackageException("index.too_deep", $"Line {at.Start.Line}, column {at.Start.Column}: the document nests deeper than {MaxDepth} levels.", Path);
        }

        _deepest = Math.Max(_deepest, depth);
    }

    private string Intern(string text)
    {
        if (text.Length > MaxInternedLength)
        {
            return text;
        }

        if (_strings.TryGetValue(text, out var shared))
        {
            return shared;
        }

        _strings.Add(text);
        return text;
    }

    /// <summary>Alias targets are copied, as the old reader's expansion did, so no two places share a mutable map or list.</summary>
    private static object? Copy(object? value)
    {
        switch (value)
        {
            case Dictionary<string, object?> map:
                var mapCopy = new Dictionary<string, object?>(map.Count, StringComparer.Ordinal);
                foreach (var (key, item) in map)
                {
                    mapCopy[key] = Copy(item);
                }

                return mapCopy;
            case List<object?> list:
                var listCopy = new List<object?>(list.Count);
                foreach (var item in list)
                {
                    listCopy.Add(Copy(item));
                }

                return listCopy;
            default:
                return value;
        }
    }

    /// <summary>Hands a node that carries a tag to YamlDotNet's untyped deserializer, which decides what the tag means.</summary>
    private static object? Deserialize(params ParsingEvent[] events) => Untyped.Value.Deserialize<object?>(new Replay(events));

    private sealed record Anchored(object? Value, int Nodes, int Height);

    /// <summary>The app lists of one <c>entries</c> mapping, in the mapping's order (a repeated name keeps its first place, its last value).</summary>
    private sealed class Entries
    {
        public Dictionary<string, Versions> Apps { get; } = new(StringComparer.Ordinal);

        public PackageException? Error { get; private init; }

        public static Entries FromPlain(object? value)
        {
            var entries = new Entries();
            switch (value)
            {
                case null:
                    return entries;
                case Dictionary<string, object?> apps:
                    foreach (var (name, versions) in apps)
                    {
                        entries.Apps[name] = Versions.FromPlain(name, versions);
                    }

                    return entries;
                default:
                    return new Entries { Error = new PackageException("index.invalid", "'entries' must be a mapping of app names to version lists.", Path) };
            }
        }

        public void CopyTo(RepoIndex index)
        {
            if (Error is not null)
            {
                throw Error;
            }

            foreach (var versions in Apps.Values)
            {
                if (versions.Error is not null)
                {
                    throw versions.Error;
                }
            }

            foreach (var (name, versions) in Apps)
            {
                index.Entries[name] = versions.List;
            }
        }
    }

    private sealed class Versions
    {
        public List<IndexEntry> List { get; } = [];

        public PackageException? Error { get; set; }

        public static Versions FromPlain(string name, object? value)
        {
            var versions = new Versions();
            if (value is not List<object?> list)
            {
                versions.Error = new PackageException("index.invalid", $"entries.{name} must be a list of versions.", Path);
                return versions;
            }

            for (var position = 0; position < list.Count; position++)
            {
                if (IndexEntry.FromPlain(name, position, list[position], out var error) is not { } entry)
                {
                    versions.Error = error;
                    break;
                }

                versions.List.Add(entry);
            }

            return versions;
        }
    }

    /// <summary>Plays a few events to the deserializer as if they were a whole document.</summary>
    private sealed class Replay(ParsingEvent[] events) : IParser
    {
        private int _next;

        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            Current = _next < events.Length ? events[_next++] : null;
            return Current is not null;
        }
    }
}
