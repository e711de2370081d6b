using System.Text.Json.Nodes;

namespace Pitrix.Web.Client;

// The console's view of clusters, jobs and plans (GET /api/v1/clusters…, /jobs/{id}, POST …:plan): only what
// its pages use. Unknown fields are ignored, so the API may grow.

/// <summary>What a cluster is doing now: the unfinished job holding it.</summary>
public sealed record ClusterTransition(string JobId, string Action, string Status);

/// <summary>A cluster as listed (<c>GET /api/v1/clusters</c>) and at the head of its detail.</summary>
public sealed record ClusterInfo(
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
    ClusterTransition? Transition,
    IReadOnlyDictionary<string, string> Endpoints,
    IReadOnlyDictionary<string, string> Labels,
    string OwnerId,
    string? GroupId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? DeletedAt);

/// <summary>A role: for VM apps a group of nodes of one size; for Helm a workload, <see cref="Ready"/> its ready replicas.</summary>
public sealed record ClusterRoleInfo(string Name, int Count, int Cpu, int Memory, int Gpu, int VolumeSize, int? Ready);

/// <summary>A node: for VM apps an instance; for Helm a pod (<see cref="Host"/> the Kubernetes node it runs on).</summary>
public sealed record ClusterNodeInfo(string Id, string Role, int ServerId, string? InstanceId, string? PrivateIp, string Status, string Health, DateTimeOffset CreatedAt, string? Host);

/// <summary>What the runtime showed of a Helm cluster when last read.</summary>
public sealed record ClusterObservationInfo(string State, string Message, int? Revision, DateTimeOffset ObservedAt);

/// <summary><c>GET /api/v1/clusters/{id}</c>: the cluster, its roles and nodes, and the custom actions its package declares.</summary>
public sealed record ClusterDetail(
    ClusterInfo Cluster,
    JsonNode? ConfigValues,
    IReadOnlyList<ClusterRoleInfo> Roles,
    IReadOnlyList<ClusterNodeInfo> Nodes,
    ClusterObservationInfo? Observed,
    IReadOnlyList<string>? CustomActions);

/// <summary>The user's configuration values of a cluster (<c>GET /clusters/{id}/values</c>).</summary>
public sealed record ClusterValuesInfo(string ClusterId, string AppVersionId, string Format, JsonObject Values);

/// <summary>A job: one action on a cluster.</summary>
public sealed record JobInfo(
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
    int TasksTotal,
    int TasksDone);

/// <summary>One run of a task.</summary>
public sealed record TaskAttemptInfo(int Number, string Worker, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Outcome, string? ErrorCode, string? ErrorMessage, string? Output);

/// <summary>A task of a job's DAG; <see cref="DependsOn"/> names other tasks' keys.</summary>
public sealed record TaskInfo(
    string Id,
    string Key,
    string Kind,
    IReadOnlyList<string> DependsOn,
    string Status,
    bool Compensation,
    int Attempts,
    int MaxAttempts,
    int TimeoutSeconds,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? ErrorCode,
    string? ErrorMessage,
    string? Output,
    IReadOnlyList<TaskAttemptInfo> AttemptHistory);

/// <summary><c>GET /api/v1/jobs/{id}</c>: a job with its whole task DAG.</summary>
public sealed record JobDetail(JobInfo Job, IReadOnlyList<TaskInfo> Tasks);

/// <summary>A task an action would run.</summary>
public sealed record PlannedTaskInfo(string Key, string Kind, IReadOnlyList<string> DependsOn, bool Compensation, int MaxAttempts, int TimeoutSeconds);

/// <summary>One resource of a Helm manifest diff.</summary>
public sealed record ResourceDiffInfo(string Kind, string Namespace, string Name, string Change, string? Source, string? Diff);

/// <summary>What a change does to a Helm cluster's rendered manifest.</summary>
public sealed record ManifestDiffInfo(IReadOnlyList<ResourceDiffInfo> Resources, int Added, int Removed, int Changed, int Unchanged, string Unified);

/// <summary><c>POST /clusters/{id}:plan</c>: the task DAG an action would run, and for Helm the manifest diff.</summary>
public sealed record PlanInfo(string Action, IReadOnlyList<PlannedTaskInfo> Tasks, ManifestDiffInfo? ManifestDiff);

/// <summary>What the clusters list asks for: search words, filters and the page.</summary>
public sealed record ClusterQuery(string? Q, string? Status, string? AppId, string? RuntimeId, int Limit, int Offset);

/// <summary>One change from the API's event stream (<c>GET /api/v1/events?cluster=ID</c>).</summary>
public sealed record ClusterEvent(long Seq, string Type, string? ClusterId, string? JobId, string? TaskId);
