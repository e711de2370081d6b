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
}
