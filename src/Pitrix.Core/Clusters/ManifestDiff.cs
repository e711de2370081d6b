namespace Pitrix.Core.Clusters;

/// <summary>How a resource of a manifest changes between the current and the planned render.</summary>
public static class ResourceChange
{
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Changed = "changed";
    public const string Unchanged = "unchanged";
}

/// <summary>
/// One resource (one YAML document) of a manifest diff, identified by kind, namespace and name.
/// <see cref="Diff"/> is its unified diff (all <c>+</c> lines when added, all <c>-</c> when removed), null when
/// unchanged; <see cref="Source"/> is the template that renders it (helm's <c>Source</c> comment), when known.
/// </summary>
public sealed record ResourceDiff(string Kind, string Namespace, string Name, string Change, string? Source, string? Diff);

/// <summary>
/// What an action would change in a cluster's manifest: every resource of the current and the planned render
/// with its <see cref="ResourceChange"/>, and <see cref="Unified"/>, the unified diffs of the resources that
/// change, one after the other (empty when nothing changes).
/// </summary>
public sealed record ManifestDiff(IReadOnlyList<ResourceDiff> Resources, string Unified)
{
    public int Added => Resources.Count(r => r.Change == ResourceChange.Added);

    public int Removed => Resources.Count(r => r.Change == ResourceChange.Removed);

    public int Changed => Resources.Count(r => r.Change == ResourceChange.Changed);

    public int Unchanged => Resources.Count(r => r.Change == ResourceChange.Unchanged);

    /// <summary>Whether any resource is added, removed or changed.</summary>
    public bool HasChanges => Resources.Any(r => r.Change != ResourceChange.Unchanged);
}
