using Pitrix.Core;
using Pitrix.Core.Clusters;

namespace Pitrix.AppFormats.Helm;

/// <summary>The manifest of a Helm cluster's release, as <c>helm get manifest</c> gives it from the runtime.</summary>
public sealed class HelmClusterInspector(HelmRuntimeContext runtimes, HelmReleases helm) : IClusterInspector
{
    public string Format => HelmFormat.FormatName;

    public async Task<Result<ClusterManifest>> ManifestAsync(Cluster cluster, int? revision, CancellationToken cancellationToken)
    {
        var release = HelmFormat.ReleaseName(cluster.Id);
        try
        {
            var target = await runtimes.TargetAsync(cluster.RuntimeId, cancellationToken);
            var status = await helm.StatusAsync(target, release, cancellationToken);
            if (status is null)
            {
                return Error.Conflict("cluster.no_release", $"Cluster '{cluster.Name}' has no Helm release {release} in namespace {target.Namespace} now.");
            }

            var manifest = await helm.ManifestAsync(target, release, cancellationToken, revision);
            return new ClusterManifest(release, revision ?? status.Revision, manifest);
        }
        catch (HelmReleaseException e) when (e.Code == HelmReleaseException.NotFound)
        {
            return Error.NotFound("revision", revision?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? release);
        }
        catch (HelmReleaseException e)
        {
            return new Error(ErrorKind.Unavailable, e.Code, e.Message);
        }
    }
}
