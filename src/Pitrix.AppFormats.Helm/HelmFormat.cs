using System.Text.Json.Nodes;
using Pitrix.Core;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Packages;
using Pitrix.Packages.Helm;

namespace Pitrix.AppFormats.Helm;

/// <summary>The task kinds of the helm format.</summary>
public static class HelmTaskKinds
{
    /// <summary>One helm operation on the cluster's release (input <c>op</c>), after repairing a release left pending.</summary>
    public const string Release = "helm.release";

    /// <summary>Waits until every resource of the release is current, read from the API server.</summary>
    public const string Ready = "helm.ready";
}

/// <summary>
/// The <c>helm</c> app format. A cluster is one Helm release named after the cluster in the runtime's namespace.
/// Its values are the user's overrides only (validated, merged with values.yaml, against values.schema.json),
/// so an upgrade takes the new chart's defaults for everything the user did not set. Every action is a short
/// DAG: one <see cref="HelmTaskKinds.Release"/> task (which first repairs a release an interrupted helm left
/// pending), then, when the release should run, <see cref="HelmTaskKinds.Ready"/>: the job succeeds when the
/// cluster's workloads are ready, not when helm exits.
/// </summary>
public sealed class HelmFormat : IAppFormat
{
    public const string FormatName = "helm";

    private static readonly RetryPolicy HelmRetry = new(MaxAttempts: 3, BaseMilliseconds: 2_000, MaxMilliseconds: 10_000);

    /// <summary>Readiness is awaited for about 15 minutes: 45 attempts of <see cref="HelmReadyHandler.WatchBudget"/> (20 s) each, 2 s apart.</summary>
    private static readonly RetryPolicy ReadyWait = new(MaxAttempts: 45, BaseMilliseconds: 2_000, MaxMilliseconds: 2_000);

    public string Name => FormatName;

    /// <summary>The release of a cluster: its id, which is a valid release name (lower-case, at most 53 characters).</summary>
    public static string ReleaseName(string clusterId) => clusterId.ToLowerInvariant().Replace('_', '-');

    /// <summary>The chart (name-version, as helm history shows it) of a design's spec; null without one.</summary>
    internal static string? ChartOf(string? spec) =>
        spec is not null && JsonNode.Parse(spec) is JsonObject parsed ? $"{parsed["chart"]}-{parsed["chart_version"]}" : null;

    public Result<ClusterDesign> Design(AppPackage package, JsonObject? values, JsonObject? current = null)
    {
        HelmChart chart;
        try
        {
            chart = HelmChart.Read(package.Files);
        }
        catch (PackageException e)
        {
            return Error.Validation(e.Code, e.Message);
        }

        var overrides = (JsonObject?)values?.DeepClone() ?? [];
        (JsonObject Values, IReadOnlyDictionary<string, string[]> Errors) checkedValues;
        try
        {
            checkedValues = chart.ValidateValues(overrides);
        }
        catch (PackageException e)
        {
            return Error.Validation(e.Code, e.Message);
        }

        if (checkedValues.Errors.Count > 0)
        {
            return Error.Validation("cluster.invalid_values", $"The values do not match {chart.Name}'s values.schema.json.", checkedValues.Errors);
        }

        var spec = new JsonObject { ["chart"] = chart.Name, ["chart_version"] = chart.Version, ["app_version"] = chart.AppVersion };
        return new ClusterDesign(overrides, spec.ToJsonString(), [], []);
    }

    public Result<TaskPlan> Plan(PlanRequest request)
    {
        var cluster = request.State.Cluster;
        var release = ReleaseName(cluster.Id);
        var values = request.Target?.Values ?? JsonNode.Parse(cluster.ConfigValues) as JsonObject ?? [];
        JsonObject Input(string op, string? versionId = null, bool withValues = false)
        {
            var input = new JsonObject { ["op"] = op, ["release"] = release };
            if (versionId is not null)
            {
                input["app_version_id"] = versionId;
            }

            if (withValues)
            {
                input["values"] = values.DeepClone();
            }

            if (request.Parameters["revision"] is JsonNode revision)
            {
                input["revision"] = revision.DeepClone();
            }

            return input;
        }

        List<PlannedTask> tasks;
        switch (request.Action)
        {
            case ClusterAction.Create:
                tasks = Then(Input("install", cluster.AppVersionId, withValues: true));
                break;
            case ClusterAction.UpdateConfig:
                tasks = Then(Input("upgrade", cluster.AppVersionId, withValues: true));
                break;
            case ClusterAction.Upgrade:
                if (request.Parameters["app_version_id"]?.GetValue<string>() is not { } target)
                {
                    return Error.Validation("cluster.invalid_parameters", "An upgrade needs the target version.");
                }

                tasks = Then(Input("upgrade", target, withValues: true));
                break;
            case ClusterAction.Rollback:
            {
                // Back to the newest earlier revision of the version rolled back to (its chart), as helm keeps it.
                var input = Input("rollback");
                if (ChartOf(request.Target?.Spec) is { } chart)
                {
                    input["chart"] = chart;
                }

                tasks = Then(input);
                break;
            }

            case ClusterAction.Recover:
                tasks = Then(Input("recover"));
                break;
            case ClusterAction.Delete:
                tasks = [Task(Input("uninstall"))];
                break;
            case ClusterAction.Cease:
                tasks = [Task(Input("purge"))];
                break;
            default:
                return Error.Validation(
                    "cluster.action_unsupported",
                    $"A Helm release cannot {request.Action.Replace('_', ' ')}: change replicas and resources through its values (update_config) or upgrade it.");
        }

        return new TaskPlan(request.Action, tasks);

        List<PlannedTask> Then(JsonObject input) =>
            [Task(input), new PlannedTask("ready", HelmTaskKinds.Ready, ["release"], new JsonObject { ["release"] = release }.ToJsonString(), ReadyWait, TimeoutSeconds: 60)];

        static PlannedTask Task(JsonObject input) => new("release", HelmTaskKinds.Release, [], input.ToJsonString(), HelmRetry, TimeoutSeconds: 600);
    }
}
