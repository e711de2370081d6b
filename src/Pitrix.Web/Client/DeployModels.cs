using System.Text.Json.Nodes;

namespace Pitrix.Web.Client;

// What the deploy wizard reads from and sends to the API (GET /app_versions/{id}, /locales, POST /clusters:plan, /clusters).

/// <summary>
/// A version with what its deploy form is made from (<c>GET /api/v1/app_versions/{id}</c>): <see cref="Config"/> is a
/// vmcluster package's <c>config.json</c>; <see cref="ValuesYaml"/> and <see cref="ValuesSchema"/> a chart's
/// <c>values.yaml</c> and <c>values.schema.json</c>; <see cref="Providers"/> the providers its runtimes may have.
/// </summary>
public sealed record DeployVersionInfo(
    string Id,
    string AppId,
    string AppName,
    string Version,
    string? AppVersion,
    string Format,
    string Status,
    string? Description,
    DateTimeOffset CreatedAt,
    JsonNode? Config,
    string? ValuesYaml,
    JsonNode? ValuesSchema,
    IReadOnlyList<string>? Providers);

/// <summary>A package's translations by lower-case language tag (<c>GET /api/v1/app_versions/{id}/locales</c>).</summary>
public sealed record DeployLocales(string AppVersionId, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Locales);

/// <summary>The body of <c>POST /api/v1/clusters</c> and <c>/clusters:plan</c>.</summary>
public sealed record DeployRequest(string Name, string? Description, string AppVersionId, string RuntimeId, JsonObject Values);

/// <summary>One task of a plan; <see cref="DependsOn"/> names other tasks' keys.</summary>
public sealed record DeployPlanTask(string Key, string Kind, IReadOnlyList<string> DependsOn, bool Compensation, int MaxAttempts, int TimeoutSeconds);

/// <summary>One resource of a manifest diff: <see cref="Change"/> is added, removed, changed or unchanged.</summary>
public sealed record DeployResourceDiff(string Kind, string Namespace, string Name, string Change, string? Source, string? Diff);

public sealed record DeployManifestDiff(IReadOnlyList<DeployResourceDiff> Resources, int Added, int Removed, int Changed, int Unchanged, string Unified);

/// <summary>The task DAG an action would run (<c>:plan</c>), and for Helm changes what they do to the manifest.</summary>
public sealed record DeployPlan(string Action, IReadOnlyList<DeployPlanTask> Tasks, DeployManifestDiff? ManifestDiff);

public sealed record DeployedClusterRef(string Id, string Name, string Status);

public sealed record DeployJobRef(string Id, string Action, string Status);

/// <summary>The answer of <c>POST /api/v1/clusters</c>: the new cluster and the job creating it.</summary>
public sealed record DeployedCluster(DeployedClusterRef Cluster, DeployJobRef Job);
