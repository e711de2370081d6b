namespace Pitrix.Core.Clusters;

/// <summary>How a cluster's live objects compare with what it should run (kstatus's terms, snake_case).</summary>
public static class ObservedState
{
    /// <summary>Everything is reconciled and ready.</summary>
    public const string Current = "current";

    /// <summary>Something is still converging (rolling out, pending, unbound).</summary>
    public const string InProgress = "in_progress";

    /// <summary>Something failed to converge (a failed job or pod, a deadline exceeded).</summary>
    public const string Failed = "failed";

    /// <summary>An object the cluster should have is missing (deleted by hand, or never applied).</summary>
    public const string NotFound = "not_found";

    /// <summary>The runtime could not be read.</summary>
    public const string Unreachable = "unreachable";
}

/// <summary>One workload of a cluster as last observed (for Helm: a Deployment, StatefulSet, DaemonSet or Job).</summary>
public sealed record ObservedWorkload(string Kind, string Name, int Desired, int Ready, string State, string Message);

/// <summary>One pod (for Helm) as last observed: the workload it belongs to, its phase, readiness, node and IP.</summary>
public sealed record ObservedPod(string Name, string Workload, string Phase, bool Ready, string? Host, string? Ip, int Restarts);

/// <summary>
/// What a cluster's runtime shows of it, read from the runtime rather than remembered from the last job: for a
/// Helm release, its workloads with desired and ready replicas, its pods, and its endpoints (Services and
/// Ingresses). Refreshed while a job waits for readiness and periodically afterwards, so a workload deleted or
/// scaled by hand shows up (drift). One row per cluster, replaced on each observation.
/// </summary>
public sealed class ClusterObservation
{
    public required string ClusterId { get; init; }

    public DateTimeOffset ObservedAt { get; set; }

    /// <summary>An <see cref="ObservedState"/>: the worst state of any observed object.</summary>
    public required string State { get; set; }

    /// <summary>What is not current (empty when everything is).</summary>
    public string Message { get; set; } = "";

    /// <summary>The release revision observed, where the format has revisions.</summary>
    public int? Revision { get; set; }

    public List<ObservedWorkload> Workloads { get; set; } = [];

    public List<ObservedPod> Pods { get; set; } = [];

    /// <summary>Endpoint name (<c>service/web:http</c>, <c>ingress/web</c>) to address.</summary>
    public Dictionary<string, string> Endpoints { get; set; } = new(StringComparer.Ordinal);
}
