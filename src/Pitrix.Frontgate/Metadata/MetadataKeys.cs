using System.Text.RegularExpressions;

namespace Pitrix.Frontgate.Metadata;

/// <summary>
/// What a cluster id and a metadata key may look like. Keys are relative to a cluster root: segments
/// separated by '/', none empty, none '.' or '..', no control characters, at most 1024 characters. The
/// rules keep one cluster's keys from ever naming another's root in any backend.
/// </summary>
public static partial class MetadataKeys
{
    private const int MaxKeyLength = 1024;

    /// <summary>Whether <paramref name="clusterId"/> can be a cluster root: 1-128 letters, digits, '.', '_' or '-'.</summary>
    public static bool IsValidClusterId(string? clusterId) => clusterId is not null && ClusterIdPattern().IsMatch(clusterId);

    /// <summary>Whether <paramref name="key"/> is a valid key for a put or an exact delete.</summary>
    public static bool IsValidKey(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxKeyLength)
        {
            return false;
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Any(char.IsControl))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="prefix"/> is a valid delete prefix: empty (the whole cluster), or a key optionally ending in '/'.</summary>
    public static bool IsValidPrefix(string? prefix) =>
        prefix is not null && (prefix.Length == 0 || IsValidKey(prefix.EndsWith('/') ? prefix[..^1] : prefix));

    /// <summary>Whether <paramref name="key"/> is <paramref name="root"/> itself or lies under it.</summary>
    public static bool IsUnder(string key, string root) =>
        key.Length == root.Length
            ? key == root
            : key.Length > root.Length && key[root.Length] == '/' && key.StartsWith(root, StringComparison.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex ClusterIdPattern();
}
