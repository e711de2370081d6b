namespace Pitrix.Core.Clusters;

/// <summary>What a cluster's release applied: the release's name, its revision and the manifest (multi-document YAML).</summary>
public sealed record ClusterManifest(string Release, int Revision, string Manifest);

/// <summary>
/// Reads what a cluster of one app format runs, from the runtime itself (for Helm, the release's manifest from
/// helm). Registered by the formats that can; a format without one has no manifest to show.
/// </summary>
public interface IClusterInspector
{
    /// <summary>The app format this reads (<c>helm</c>).</summary>
    string Format { get; }

    /// <summary>The manifest of the cluster's current release revision, or of <paramref name="revision"/>.</summary>
    Task<Result<ClusterManifest>> ManifestAsync(Cluster cluster, int? revision, CancellationToken cancellationToken);

    /// <summary>
    /// What <paramref name="action"/> (<see cref="ClusterAction.UpdateConfig"/>, <see cref="ClusterAction.Upgrade"/>
    /// or <see cref="ClusterAction.Rollback"/>) would do to the cluster's manifest, changing nothing: the current
    /// manifest against the one the action applies, moving the cluster to <paramref name="targetAppVersionId"/> and
    /// <paramref name="target"/>, diffed resource by resource. For Helm, config changes and upgrades are
    /// <c>helm template</c> of the current version and values against the target's, and a rollback the revisions
    /// as helm stored them. A render that fails is an error with a stable code (<c>helm.template_failed</c>), not
    /// an exception.
    /// </summary>
    Task<Result<ManifestDiff>> DiffAsync(Cluster cluster, string action, string targetAppVersionId, ClusterDesign target, CancellationToken cancellationToken);
}
