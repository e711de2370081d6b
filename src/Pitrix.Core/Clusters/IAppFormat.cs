using System.Text.Json.Nodes;
using Pitrix.Core.Engine;

namespace Pitrix.Core.Clusters;

/// <summary>The actions a cluster supports; each runs as one job.</summary>
public static class ClusterAction
{
    public const string Create = "create";
    public const string Start = "start";
    public const string Stop = "stop";
    public const string Restart = "restart";
    public const string Delete = "delete";
    public const string Recover = "recover";
    public const string Cease = "cease";
    public const string Resize = "resize";
    public const string ScaleOut = "scale_out";
    public const string ScaleIn = "scale_in";
    public const string UpdateConfig = "update_config";
    public const string Upgrade = "upgrade";
    public const string Rollback = "rollback";

    /// <summary>A custom action declared by the package; its name is in the job's parameters.</summary>
    public const string Custom = "custom";

    public static IReadOnlyList<string> All { get; } = [Create, Start, Stop, Restart, Delete, Recover, Cease, Resize, ScaleOut, ScaleIn, UpdateConfig, Upgrade, Rollback, Custom];
}

/// <summary>A package as an app format reads it: its format and its files (already safely extracted).</summary>
public sealed record AppPackage(string Format, string Name, string Version, IReadOnlyDictionary<string, byte[]> Files);

/// <summary>The size and environment a role's nodes get.</summary>
public sealed record RoleDesign(string Name, int Count, int Cpu, int Memory, int Gpu, int VolumeSize, IReadOnlyDictionary<string, string> Env);

/// <summary>
/// What a cluster of a package looks like for given values: the validated values (defaults filled), the
/// format's rendered description, its roles, and the custom actions the package declares.
/// </summary>
public sealed record ClusterDesign(JsonObject Values, string? Spec, IReadOnlyList<RoleDesign> Roles, IReadOnlyList<string> CustomActions);

/// <summary>The cluster as a plan sees it: its rows, and for actions that change it, the design it moves to.</summary>
public sealed record ClusterState(Cluster Cluster, string Provider, string Zone, IReadOnlyList<ClusterRole> Roles, IReadOnlyList<ClusterNode> Nodes);

/// <summary>
/// One action to plan. <see cref="Target"/> is the design the cluster moves to (create, update_config,
/// upgrade, rollback); nodes this job adds are already among the state's nodes, created by <see cref="JobId"/>.
/// </summary>
public sealed record PlanRequest(string JobId, string Action, ClusterState State, JsonObject Parameters, ClusterDesign? Target, bool KeepOnFailure);

/// <summary>
/// An application type (vmcluster, helm, later serverless): reads a package and the user's values into a
/// cluster design, and plans each cluster action into a task DAG. Registered explicitly in the host.
/// </summary>
public interface IAppFormat
{
    /// <summary>The package format this plans for (<c>vmcluster</c>, <c>helm</c>…).</summary>
    string Name { get; }

    /// <summary>
    /// Validates <paramref name="values"/> against the package's configuration schema and designs the
    /// cluster. Errors are keyed by value path. For a change to an existing cluster, <paramref name="current"/>
    /// holds its values, and values the package marks as not changeable must keep them.
    /// </summary>
    Result<ClusterDesign> Design(AppPackage package, JsonObject? values, JsonObject? current = null);

    /// <summary>Plans an action; a plan never performs anything, so <c>:plan</c> can show it without running it.</summary>
    Result<TaskPlan> Plan(PlanRequest request);
}
