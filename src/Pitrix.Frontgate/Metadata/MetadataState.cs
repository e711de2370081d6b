namespace Pitrix.Frontgate.Metadata;

/// <summary>
/// Every cluster's keys held in memory, with an index from node id to the cluster and role whose
/// <c>hosts/&lt;role&gt;/&lt;node_id&gt;/…</c> keys name it. Not thread-safe: <see cref="MetadataMirror"/> guards it.
/// </summary>
internal sealed class MetadataState
{
    private readonly Dictionary<string, SortedDictionary<string, string>> _clusters = new(StringComparer.Ordinal);

    // node id → ("<cluster>\n<role>" → how many of that cluster's keys name the node under that role).
    private readonly Dictionary<string, SortedDictionary<string, int>> _membership = new(StringComparer.Ordinal);

    public IEnumerable<string> ClusterIds => _clusters.Keys;

    public IReadOnlyDictionary<string, string>? Cluster(string clusterId) =>
        _clusters.TryGetValue(clusterId, out var keys) ? keys : null;

    public IEnumerable<(string ClusterId, string Key, string Value)> All() =>
        _clusters.SelectMany(c => c.Value.Select(kv => (c.Key, kv.Key, kv.Value)));

    /// <summary>Sets (or, with a null value, removes) one key; returns the value it had.</summary>
    public string? Set(string clusterId, string key, string? value)
    {
        if (!_clusters.TryGetValue(clusterId, out var keys))
        {
            if (value is null)
            {
                return null;
            }

            keys = new SortedDictionary<string, string>(StringComparer.Ordinal);
            _clusters[clusterId] = keys;
        }

        keys.TryGetValue(key, out var old);
        if (value is null)
        {
            if (old is not null)
            {
                keys.Remove(key);
                CountMember(clusterId, key, -1);
                if (keys.Count == 0)
                {
                    _clusters.Remove(clusterId);
                }
            }
        }
        else
        {
            keys[key] = value;
            if (old is null)
            {
                CountMember(clusterId, key, +1);
            }
        }

        return old;
    }

    /// <summary>The cluster and role of <paramref name="nodeId"/>; the first cluster by id when (wrongly) several name it.</summary>
    public (string ClusterId, string Role)? FindNode(string nodeId)
    {
        if (!_membership.TryGetValue(nodeId, out var entries) || entries.Count == 0)
        {
            return null;
        }

        var first = entries.Keys.First();
        var split = first.IndexOf('\n', StringComparison.Ordinal);
        return (first[..split], first[(split + 1)..]);
    }

    public MetadataState Clone()
    {
        var copy = new MetadataState();
        foreach (var (clusterId, keys) in _clusters)
        {
            copy._clusters[clusterId] = new SortedDictionary<string, string>(keys, StringComparer.Ordinal);
        }

        foreach (var (nodeId, entries) in _membership)
        {
            copy._membership[nodeId] = new SortedDictionary<string, int>(entries, StringComparer.Ordinal);
        }

        return copy;
    }

    /// <summary>The role and node a <c>hosts/&lt;role&gt;/&lt;node&gt;/&lt;k…&gt;</c> key names.</summary>
    public static bool TryParseHostKey(string key, out string role, out string nodeId)
    {
        role = nodeId = "";
        if (!key.StartsWith("hosts/", StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key.Split('/', 4);
        if (parts.Length < 4)
        {
            return false;
        }

        role = parts[1];
        nodeId = parts[2];
        return true;
    }

    private void CountMember(string clusterId, string key, int delta)
    {
        if (!TryParseHostKey(key, out var role, out var nodeId))
        {
            return;
        }

        if (!_membership.TryGetValue(nodeId, out var entries))
        {
            entries = new SortedDictionary<string, int>(StringComparer.Ordinal);
            _membership[nodeId] = entries;
        }

        var slot = clusterId + "\n" + role;
        var count = entries.GetValueOrDefault(slot) + delta;
        if (count > 0)
        {
            entries[slot] = count;
        }
        else
        {
            entries.Remove(slot);
            if (entries.Count == 0)
            {
                _membership.Remove(nodeId);
            }
        }
    }
}
