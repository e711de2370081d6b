using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Pitrix.Templates;

namespace Pitrix.Drone.Metadata;

/// <summary>
/// An immutable view of the node's metadata, as confd templates read it: <c>/self/host/ip</c>,
/// <c>/hosts/&lt;role&gt;/&lt;node&gt;/ip</c>, <c>/env/…</c>, <c>/cluster/…</c>, <c>/links/…</c>.
/// </summary>
public sealed class MetadataSnapshot : IKeyValueView
{
    private readonly FrozenDictionary<string, string> _values;
    private readonly string[] _sortedKeys;

    public MetadataSnapshot(long revision, IEnumerable<KeyValuePair<string, string>> values)
    {
        Revision = revision;
        _values = values.ToFrozenDictionary(StringComparer.Ordinal);
        _sortedKeys = [.. _values.Keys.Order(StringComparer.Ordinal)];
    }

    public static MetadataSnapshot Empty { get; } = new(0, []);

    /// <summary>Increases with every change the source delivers.</summary>
    public long Revision { get; }

    public IReadOnlyDictionary<string, string> Values => _values;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _values.TryGetValue(key, out value);

    public IEnumerable<KeyValuePair<string, string>> EnumeratePrefix(string prefix) =>
        _sortedKeys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Select(k => KeyValuePair.Create(k, _values[k]));

    /// <summary>A view limited to the keys under the given prefixes, as confd loads only a resource's <c>keys</c>.</summary>
    public IKeyValueView Restrict(IReadOnlyList<string> prefixes) =>
        prefixes.Any(p => p is "/" or "")
            ? this
            : new InMemoryKeyValueView(_values.Where(kv => prefixes.Any(p => IsUnder(kv.Key, p))));

    private static bool IsUnder(string key, string prefix)
    {
        var trimmed = prefix.TrimEnd('/');
        return key == trimmed || key.StartsWith(trimmed + "/", StringComparison.Ordinal);
    }
}

/// <summary>Delivers the node's metadata: the current snapshot, and a signal on every change.</summary>
public interface IMetadataSource
{
    /// <summary>The latest snapshot.</summary>
    MetadataSnapshot Current { get; }

    /// <summary>
    /// Completes when a snapshot newer than <paramref name="knownRevision"/> is available (at once when one already
    /// is), with that snapshot. Watch-driven: implementations complete it from the change itself, never by polling.
    /// </summary>
    Task<MetadataSnapshot> WaitForChangeAsync(long knownRevision, CancellationToken cancellationToken);
}

/// <summary>An in-memory <see cref="IMetadataSource"/> for tests and for a drone fed by pushes.</summary>
public sealed class InMemoryMetadataSource : IMetadataSource
{
    private readonly Lock _gate = new();
    private MetadataSnapshot _current;
    private TaskCompletionSource<MetadataSnapshot> _next = NewSignal();

    public InMemoryMetadataSource(IEnumerable<KeyValuePair<string, string>>? values = null) =>
        _current = new MetadataSnapshot(1, values ?? []);

    public MetadataSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public Task<MetadataSnapshot> WaitForChangeAsync(long knownRevision, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _current.Revision > knownRevision ? Task.FromResult(_current) : _next.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Sets one key.</summary>
    public void Set(string key, string value) => Update(values => values[key] = value);

    /// <summary>Removes every key under <paramref name="prefix"/>.</summary>
    public void DeletePrefix(string prefix) => Update(values =>
    {
        foreach (var key in values.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            values.Remove(key);
        }
    });

    /// <summary>Replaces the whole tree.</summary>
    public void Replace(IEnumerable<KeyValuePair<string, string>> values) => Update(current =>
    {
        current.Clear();
        foreach (var (key, value) in values)
        {
            current[key] = value;
        }
    });

    private void Update(Action<Dictionary<string, string>> change)
    {
        TaskCompletionSource<MetadataSnapshot> signal;
        MetadataSnapshot snapshot;
        lock (_gate)
        {
            var values = new Dictionary<string, string>(_current.Values, StringComparer.Ordinal);
            change(values);
            snapshot = new MetadataSnapshot(_current.Revision + 1, values);
            _current = snapshot;
            signal = _next;
            _next = NewSignal();
        }

        signal.TrySetResult(snapshot);
    }

    private static TaskCompletionSource<MetadataSnapshot> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
