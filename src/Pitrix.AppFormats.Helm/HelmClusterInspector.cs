using System.Text.Json.Nodes;
using Pitrix.Catalog.Fetching;
using Pitrix.Core;
using Pitrix.Core.Clusters;
using Pitrix.Packages;
using Pitrix.Packages.Helm;

namespace Pitrix.AppFormats.Helm;

/// <summary>
/// A Helm cluster's manifest, as <c>helm get manifest</c> gives it from the runtime, and the preview of a change to
/// it: <c>helm template</c> of the current and the planned chart and values, diffed as the <c>helm diff</c> plugin does.
/// </summary>
public sealed class HelmClusterInspector(HelmRuntimeContext runtimes, HelmReleases helm, HelmCli cli) : IClusterInspector
{
    public const string TemplateFailed = "helm.template_failed";

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

    /// <summary>
    /// Config changes and upgrades: <c>helm template</c> of both sides with the release's name and namespace and no
    /// cluster access (capabilities are helm's defaults, not the runtime's), so such a plan reads nothing from the
    /// runtime; the current side is what the cluster's version and values render to now, which is what the release
    /// runs unless it was changed outside Pitrix. A rollback applies a stored revision (with that revision's values),
    /// not a new render, so its preview is the current revision's manifest against that one, read from helm.
    /// </summary>
    public async Task<Result<ManifestDiff>> DiffAsync(Cluster cluster, string action, string targetAppVersionId, ClusterDesign target, CancellationToken cancellationToken)
    {
        var release = HelmFormat.ReleaseName(cluster.Id);
        if (action == ClusterAction.Rollback)
        {
            return await RollbackDiffAsync(cluster, release, HelmFormat.ChartOf(target.Spec), cancellationToken);
        }

        string ns;
        try
        {
            ns = await runtimes.NamespaceAsync(cluster.RuntimeId, cancellationToken);
        }
        catch (HelmReleaseException e)
        {
            return new Error(ErrorKind.Unavailable, e.Code, e.Message);
        }

        var currentValues = JsonNode.Parse(cluster.ConfigValues) as JsonObject ?? [];
        var current = RenderAsync(cluster.AppVersionId, currentValues, release, ns, "the cluster's current version and values", cancellationToken);
        var planned = RenderAsync(targetAppVersionId, target.Values, release, ns, "the planned version and values", cancellationToken);
        await Task.WhenAll(current, planned);
        var (before, after) = (await current, await planned);

        // The planned render's failure is the one the caller can act on, so it is the one reported.
        return !after.IsSuccess ? after.Error!
            : !before.IsSuccess ? before.Error!
            : ManifestDiffer.Diff(before.Value!, after.Value!, ns);
    }

    /// <summary>The current revision's manifest against the one the rollback returns to (chosen as the rollback task chooses it).</summary>
    private async Task<Result<ManifestDiff>> RollbackDiffAsync(Cluster cluster, string release, string? chart, CancellationToken cancellationToken)
    {
        try
        {
            var target = await runtimes.TargetAsync(cluster.RuntimeId, cancellationToken);
            var history = await helm.HistoryAsync(target, release, cancellationToken);
            if (history.Count == 0)
            {
                return Error.Conflict("cluster.no_release", $"Cluster '{cluster.Name}' has no Helm release {release} in namespace {target.Namespace} now.");
            }

            var to = HelmReleaseHandler.RollbackRevision(release, history, null, chart);
            var current = await helm.ManifestAsync(target, release, cancellationToken);
            var planned = await helm.ManifestAsync(target, release, cancellationToken, to);
            return ManifestDiffer.Diff(current, planned, target.Namespace);
        }
        catch (HelmReleaseException e) when (e.Code is HelmReleaseHandler.NoPreviousRevision or HelmReleaseException.NotFound)
        {
            return Error.Conflict(e.Code, e.Message);
        }
        catch (HelmReleaseException e)
        {
            return new Error(ErrorKind.Unavailable, e.Code, e.Message);
        }
    }

    private async Task<Result<string>> RenderAsync(string versionId, JsonObject values, string release, string ns, string what, CancellationToken cancellationToken)
    {
        try
        {
            var chart = await runtimes.ChartAsync(versionId);
            return await cli.TemplateAsync(chart, release, ns, values.Count > 0 ? values.ToJsonString() : null, null, cancellationToken);
        }
        catch (PackageException e) when (e.Code == TemplateFailed)
        {
            // The message names the chart's private directory; helm's own words follow it.
            var reason = e.Path is { } path && e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;
            return new Error(ErrorKind.Unprocessable, TemplateFailed, $"helm template failed for {what}: {reason}");
        }
        catch (PackageException e)
        {
            return new Error(ErrorKind.Unavailable, e.Code, e.Message);
        }
        catch (FetchException e)
        {
            return new Error(ErrorKind.Unavailable, e.Code, $"The chart of version {versionId} could not be fetched from its repo: {e.Message}");
        }
        catch (HelmReleaseException e)
        {
            return new Error(ErrorKind.Unavailable, e.Code, e.Message);
        }
    }
}
