using Pitrix.Core.Access;

namespace Pitrix.Core.Clusters;

/// <summary>
/// Cluster status: where the cluster rests between jobs. What it is doing now (creating, scaling…) is
/// not stored here: it is the action of the unfinished job holding the cluster's lease.
/// </summary>
public static class ClusterStatus
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Stopped = "stopped";
    public const string Suspended = "suspended";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
    public const string Ceased = "ceased";

    public static IReadOnlyList<string> All { get; } = [Pending, Active, Stopped, Suspended, Failed, Deleted, Ceased];
}

/// <summary>One deployed instance of an app version on a runtime.</summary>
public sealed class Cluster : IOwnedResource
{
    public required string Id { get; init; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public required string AppId { get; init; }

    public required string AppVersionId { get; set; }

    /// <summary>The version before the last upgrade or rollback; what <c>rollback</c> returns to.</summary>
    public string? PreviousAppVersionId { get; set; }

    public required string RuntimeId { get; init; }

    /// <summary>The app format that plans this cluster's jobs (<c>vmcluster</c>, <c>helm</c>…).</summary>
    public required string Format { get; set; }

    public required string OwnerId { get; init; }

    public string? GroupId { get; set; }

    public Visibility Visibility { get; set; }

    /// <summary>The user's configuration values after validation, with defaults filled (JSON object).</summary>
    public string ConfigValues { get; set; } = "{}";

    /// <summary>The values before the last upgrade or rollback (JSON object): what <c>rollback</c> restores with <see cref="PreviousAppVersionId"/>.</summary>
    public string? PreviousConfigValues { get; set; }

    /// <summary>The format's rendered description of the cluster (for vmcluster, the rendered <c>cluster.json</c>).</summary>
    public string? Spec { get; set; }

    public required string Status { get; set; }

    /// <summary>Why the cluster is in its status (the failure of the last job, for example).</summary>
    public string? StatusReason { get; set; }

    public Dictionary<string, string> Endpoints { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Labels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The job holding the cluster's lease; once that job has finished the lease is free, whatever this says.</summary>
    public string? LeaseJobId { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the cluster was deleted; it can be recovered until the grace period ends, then it is ceased.</summary>
    public DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>One role of a cluster (for example <c>master</c>, <c>replica</c>) and the size of its nodes.</summary>
public sealed class ClusterRole
{
    public required string ClusterId { get; init; }

    public required string Name { get; init; }

    public int Count { get; set; }

    public int Cpu { get; set; }

    /// <summary>Memory in MiB.</summary>
    public int Memory { get; set; }

    public int Gpu { get; set; }

    /// <summary>Data volume size in GiB (0: none).</summary>
    public int VolumeSize { get; set; }

    public Dictionary<string, string> Env { get; set; } = new(StringComparer.Ordinal);
}

public static class NodeStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Failed = "failed";
    public const string Deleted = "deleted";
}

public static class NodeHealth
{
    public const string Unknown = "unknown";
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
}

/// <summary>One node of a cluster: a VM, a local drone process, or (for Helm) a pod.</summary>
public sealed class ClusterNode
{
    public required string Id { get; init; }

    public required string ClusterId { get; init; }

    public required string Role { get; init; }

    /// <summary>The node's number within its cluster (1, 2, …), stable for its life; templates use it.</summary>
    public int ServerId { get; init; }

    /// <summary>The provider's instance id, once created.</summary>
    public string? InstanceId { get; set; }

    public string? PrivateIp { get; set; }

    public List<string> Volumes { get; set; } = [];

    public required string Status { get; set; }

    public string Health { get; set; } = NodeHealth.Unknown;

    /// <summary>The job that added this node (create or scale-out); its compensation removes it.</summary>
    public string? CreatedByJobId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}
