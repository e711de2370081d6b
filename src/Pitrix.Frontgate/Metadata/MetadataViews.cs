namespace Pitrix.Frontgate.Metadata;

/// <summary>
/// A node's view of the metadata, the security core of the frontgate: what one drone may read, with keys
/// relative to the view. A node belongs to the cluster whose keys include <c>hosts/&lt;role&gt;/&lt;node_id&gt;/…</c>;
/// its view is
/// <list type="bullet">
/// <item><c>host/&lt;k&gt;</c> = <c>hosts/&lt;role&gt;/&lt;node_id&gt;/&lt;k&gt;</c> (its own host);</item>
/// <item><c>hosts/…</c>, <c>cluster/…</c>, <c>endpoints/…</c> and the five <c>*-hosts/…</c> trees of its cluster, as they are;</item>
/// <item><c>env/&lt;k&gt;</c> = <c>env/&lt;role&gt;/&lt;k&gt;</c> (its own role's environment only);</item>
/// <item><c>links/&lt;name&gt;/…</c> = the <c>hosts/</c>, <c>cluster/</c> and <c>endpoints/</c> trees of the cluster named by its
/// cluster's key <c>links/&lt;name&gt;</c>, when this frontgate holds that cluster.</item>
/// </list>
/// Nothing else: no other cluster's keys, no other role's environment, no <c>cmd/</c>.
/// </summary>
public static class MetadataViews
{
    /// <summary>The trees of a node's cluster that its view shows as they are.</summary>
    public static IReadOnlyList<string> SharedRoots { get; } =
        ["hosts", "cluster", "endpoints", "adding-hosts", "deleting-hosts", "scaling-hosts", "stopping-hosts", "starting-hosts"];

    /// <summary>The trees of a linked cluster that a link shows.</summary>
    public static IReadOnlyList<string> LinkedRoots { get; } = ["hosts", "cluster", "endpoints"];

    /// <summary>
    /// The view of <paramref name="nodeId"/> in <paramref name="state"/>, and the clusters it was drawn from
    /// (its own and every link target, present or not), so a watcher knows which changes concern it.
    /// </summary>
    internal static (SortedDictionary<string, string> View, HashSet<string> Sources) Compute(MetadataState state, string nodeId)
    {
        var view = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var sources = new HashSet<string>(StringComparer.Ordinal);
        if (state.FindNode(nodeId) is not { } member)
        {
            return (view, sources);
        }

        var (clusterId, role) = member;

        sources.Add(clusterId);
        var keys = state.Cluster(clusterId)!;
        var hostPrefix = $"hosts/{role}/{nodeId}/";
        var envPrefix = $"env/{role}/";
        var links = new List<(string Name, string Target)>();
        foreach (var (key, value) in keys)
        {
            if (key.StartsWith(hostPrefix, StringComparison.Ordinal))
            {
                view["host/" + key[hostPrefix.Length..]] = value;
            }

            if (SharedRoots.Any(root => MetadataKeys.IsUnder(key, root)))
            {
                view[key] = value;
            }
            else if (key.StartsWith(envPrefix, StringComparison.Ordinal) && key.Length > envPrefix.Length)
            {
                view["env/" + key[envPrefix.Length..]] = value;
            }
            else if (key.StartsWith("links/", StringComparison.Ordinal) && key.IndexOf('/', 6) < 0 && key.Length > 6)
            {
                links.Add((key[6..], value.Trim()));
            }
        }

        foreach (var (name, target) in links)
        {
            if (!MetadataKeys.IsValidClusterId(target))
            {
                continue;
            }

            sources.Add(target);
            if (state.Cluster(target) is not { } linked)
            {
                continue;
            }

            foreach (var (key, value) in linked)
            {
                if (LinkedRoots.Any(root => MetadataKeys.IsUnder(key, root)))
                {
                    view[$"links/{name}/{key}"] = value;
                }
            }
        }

        return (view, sources);
    }
}
