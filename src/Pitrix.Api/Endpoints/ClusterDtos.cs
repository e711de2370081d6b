using System.Text.Json.Nodes;
using Pitrix.Api.Auditing;
using Pitrix.Core.Access;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;

namespace Pitrix.Api.Endpoints;

/// <summary>What the cluster is doing now: the unfinished job holding its lease.</summary>
public sealed record ClusterTransitionDto(string JobId, string Action, string Status);

/// <summary>A role: for VM apps a group of nodes of one size; for Helm a workload (<c>Deployment/web</c>), <c>count</c> its desired replicas and <c>ready</c> its ready ones.</summary>
public sealed record ClusterRoleDto(string Name, int Count, int Cpu, int Memory, int Gpu, int VolumeSize, IReadOnlyDictionary<string, string> Env, int? Ready = null)
{
    private static readonly Dictionary<string, string> NoEnv = [];

    public static ClusterRoleDto From(ClusterRole r) => new(r.Name, r.Count, r.Cpu, r.Memory, r.Gpu, r.VolumeSize, r.Env);

    public static ClusterRoleDto From(ObservedWorkload w) => new($"{w.Kind}/{w.Name}", w.Desired, 0, 0, 0, 0, NoEnv, w.Ready);
}

/// <summary>A node: for VM apps an instance; for Helm a pod (<c>status</c> its phase, <c>health</c> from its readiness, <c>host</c> the Kubernetes node it runs on).</summary>
public sealed record ClusterNodeDto(string Id, string Role, int ServerId, string? InstanceId, string? PrivateIp, IReadOnlyList<string> Volumes, string Status, string Health, DateTimeOffset CreatedAt, string? Host = null)
{
    public static ClusterNodeDto From(ClusterNode n) => new(n.Id, n.Role, n.ServerId, n.InstanceId, n.PrivateIp, n.Volumes, n.Status, n.Health, n.CreatedAt);

    public static ClusterNodeDto From(ObservedPod p, int index, DateTimeOffset observedAt) => new(
        p.Name, p.Workload, index, null, p.Ip, [], p.Phase.ToLowerInvariant(),
        p.Ready ? NodeHealth.Healthy : p.Phase is "Running" or "Failed" ? NodeHealth.Unhealthy : NodeHealth.Unknown, observedAt, p.Host);
}

/// <summary>What the runtime showed of the cluster when last read (<c>state</c>: current, in_progress, failed, not_found, unreachable), and when.</summary>
public sealed record ClusterObservationDto(string State, string Message, int? Revision, DateTimeOffset ObservedAt, IReadOnlyList<ObservedWorkload> Workloads, IReadOnlyList<ObservedPod> Pods, IReadOnlyDictionary<string, string> Endpoints)
{
    public static ClusterObservationDto From(ClusterObservation o) => new(o.State, o.Message, o.Revision, o.ObservedAt, o.Workloads, o.Pods, o.Endpoints);
}

public sealed record ClusterDto(
    string Id,
    string Name,
    string? Description,
    string AppId,
    string AppVersionId,
    string? PreviousAppVersionId,
    string RuntimeId,
    string Format,
    string Status,
    string? StatusReason,
    ClusterTransitionDto? Transition,
    IReadOnlyDictionary<string, string> Endpoints,
    IReadOnlyDictionary<string, string> Labels,
    string OwnerId,
    string? GroupId,
    Visibility Visibility,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? DeletedAt) : IHasId
{
    public static ClusterDto From(Cluster c, Job? holder) => new(
        c.Id, c.Name, c.Description, c.AppId, c.AppVersionId, c.PreviousAppVersionId, c.RuntimeId, c.Format, c.Status, c.StatusReason,
        holder is null ? null : new ClusterTransitionDto(holder.Id, holder.Action, holder.Status),
        c.Endpoints, c.Labels, c.OwnerId, c.GroupId, c.Visibility, c.CreatedAt, c.UpdatedAt, c.DeletedAt);
}

/// <summary>
/// A cluster with its configuration, roles and nodes. For a cluster whose format observes its runtime (Helm),
/// roles, nodes and endpoints come from the last <c>observed</c> view of the runtime. <c>custom_actions</c> names
/// the actions outside the standard lifecycle that the cluster's package declares (run with <c>:run_action</c>).
/// </summary>
public sealed record ClusterDetailDto(ClusterDto Cluster, JsonNode? ConfigValues, IReadOnlyList<ClusterRoleDto> Roles, IReadOnlyList<ClusterNodeDto> Nodes, ClusterObservationDto? Observed = null)
{
    public IReadOnlyList<string> CustomActions { get; init; } = [];

    /// <summary>
    /// The custom actions of a cluster's rendered definition: the services of its node roles that are not standard
    /// lifecycle services (a vmcluster package's <c>services</c>); none for a definition without node roles (Helm).
    /// </summary>
    public static IReadOnlyList<string> CustomActionsOf(string? spec)
    {
        try
        {
            return spec is null || JsonNode.Parse(spec)?["nodes"] is not JsonArray nodes
                ? []
                : nodes.OfType<JsonObject>()
                    .SelectMany(n => n["services"] is JsonObject services ? services.Select(s => s.Key) : [])
                    .Where(s => !Pitrix.Packages.VmCluster.ClusterSpec.StandardServices.Contains(s))
                    .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }
}

public sealed record JobDto(
    string Id,
    string ClusterId,
    string Action,
    string Status,
    string? RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? FailedTaskId,
    string? ErrorCode,
    string? ErrorMessage,
    JsonNode? Parameters,
    bool KeepOnFailure,
    int TasksTotal,
    int TasksDone) : IHasId
{
    public static JobDto From(Job j, int total = 0, int done = 0)
    {
        var parameters = JsonNode.Parse(j.Parameters) as JsonObject;
        parameters?.Remove("_target");
        return new(j.Id, j.ClusterId, j.Action, j.Status, j.RequestedBy, j.CreatedAt, j.StartedAt, j.FinishedAt, j.FailedTaskId, j.ErrorCode, j.ErrorMessage, parameters, j.KeepOnFailure, total, done);
    }
}

public sealed record TaskAttemptDto(int Number, string Worker, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Outcome, string? ErrorCode, string? ErrorMessage, string? Output)
{
    public static TaskAttemptDto From(JobTaskAttempt a) => new(a.Number, a.Worker, a.StartedAt, a.FinishedAt, a.Outcome, a.ErrorCode, a.ErrorMessage, a.Output);
}

public sealed record TaskDto(
    string Id,
    string Key,
    string Kind,
    IReadOnlyList<string> DependsOn,
    string Status,
    bool Compensation,
    int Attempts,
    int MaxAttempts,
    int TimeoutSeconds,
    string IdempotencyKey,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? ErrorCode,
    string? ErrorMessage,
    string? Output,
    IReadOnlyList<TaskAttemptDto> AttemptHistory)
{
    public static TaskDto From(JobTask t, IEnumerable<JobTaskAttempt> attempts) => new(
        t.Id, t.Key, t.Kind, t.DependsOn, t.Status, t.Compensation, t.Attempts, t.MaxAttempts, t.TimeoutSeconds, t.IdempotencyKey,
        t.StartedAt, t.FinishedAt, t.ErrorCode, t.ErrorMessage, t.Output, attempts.OrderBy(a => a.Number).Select(TaskAttemptDto.From).ToList());
}

/// <summary>A job with its whole task DAG and each task's attempts.</summary>
public sealed record JobDetailDto(JobDto Job, IReadOnlyList<TaskDto> Tasks);

/// <summary>A cluster and the job that is creating it.</summary>
public sealed record ClusterJobDto(ClusterDto Cluster, JobDto Job);

public sealed record PlannedTaskDto(string Key, string Kind, IReadOnlyList<string> DependsOn, bool Compensation, int MaxAttempts, int TimeoutSeconds, JsonNode? Input);

/// <summary>
/// The task DAG an action would run, in a valid execution order, and for update_config, upgrade and rollback of a
/// Helm cluster what the action changes in its rendered manifest (null otherwise).
/// </summary>
public sealed record PlanDto(string Action, IReadOnlyList<PlannedTaskDto> Tasks, ManifestDiffDto? ManifestDiff = null)
{
    public static PlanDto From(TaskPlan plan) => new(plan.Action, (plan.Validate().Value ?? plan.Tasks)
        .Select(t => new PlannedTaskDto(t.Key, t.Kind, t.DependsOn, t.Compensation, Math.Max(1, t.Retry?.MaxAttempts ?? 1), t.TimeoutSeconds, JsonNode.Parse(t.Input))).ToList());
}

/// <summary>
/// One resource of a manifest diff, by kind, namespace and name: <c>change</c> is added, removed, changed or
/// unchanged; <c>diff</c> its unified diff (null when unchanged); <c>source</c> the template that renders it.
/// </summary>
public sealed record ResourceDiffDto(string Kind, string Namespace, string Name, string Change, string? Source, string? Diff);

/// <summary>
/// What an action changes in a cluster's rendered manifest (current version and values against the planned
/// ones, as <c>helm template</c> renders them): every resource, the counts, and <c>unified</c>, the diffs of the
/// resources that change one after the other (empty when nothing changes).
/// </summary>
public sealed record ManifestDiffDto(IReadOnlyList<ResourceDiffDto> Resources, int Added, int Removed, int Changed, int Unchanged, string Unified)
{
    public static ManifestDiffDto From(ManifestDiff diff) => new(
        diff.Resources.Select(r => new ResourceDiffDto(r.Kind, r.Namespace, r.Name, r.Change, r.Source, r.Diff)).ToList(),
        diff.Added, diff.Removed, diff.Changed, diff.Unchanged, diff.Unified);
}

public sealed record CreateClusterRequest(
    string? Name,
    string? Description,
    string? AppVersionId,
    string? RuntimeId,
    JsonObject? Values,
    Dictionary<string, string>? Labels,
    Visibility? Visibility,
    string? GroupId,
    bool? KeepOnFailure);

/// <summary>
/// The body of every cluster action (fields an action does not use are ignored): <c>roles</c> for
/// scale_out (<c>{"role": n}</c>) and resize (<c>{"role": {"cpu": 4}}</c>), <c>node_ids</c> for scale_in,
/// <c>values</c> for update_config, <c>app_version_id</c> for upgrade, <c>name</c> and <c>parameters</c> (reaching its command as <c>PITRIX_PARAM_*</c> variables) for a custom action;
/// <c>queue</c> waits behind a running job; <c>force</c> (cease) cancels it; <c>action</c> is for <c>:plan</c>.
/// </summary>
public sealed record ClusterActionBody(
    string? Action,
    JsonObject? Roles,
    List<string>? NodeIds,
    JsonObject? Values,
    string? AppVersionId,
    string? Name,
    bool? Queue,
    bool? KeepOnFailure,
    bool? Force,
    JsonObject? Parameters = null);

/// <summary>A cluster's configuration values: the user's own, merged by its app format over the package's defaults.</summary>
public sealed record ClusterValuesDto(string ClusterId, string AppVersionId, string Format, JsonObject Values);

/// <summary>The manifest a cluster's release applied (Helm: <c>helm get manifest</c>).</summary>
public sealed record ClusterManifestDto(string ClusterId, string Release, int Revision, string Manifest);
