using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using k8s;
using k8s.Autorest;
using Pitrix.Packages.Yaml;

namespace Pitrix.AppFormats.Helm;

/// <summary>How far a resource is from what its manifest asks, in kstatus's terms.</summary>
public enum ResourceState
{
    /// <summary>Reconciled and ready: what the manifest asks is what runs.</summary>
    Current,

    /// <summary>Still converging (rolling out, pending, unbound, waiting for a load balancer).</summary>
    InProgress,

    /// <summary>Converging failed (a job failed, a pod failed).</summary>
    Failed,

    /// <summary>The manifest names it and the cluster does not have it (deleted by hand, or not applied).</summary>
    NotFound,
}

/// <summary>One resource of a release as the cluster shows it. <see cref="Desired"/> and <see cref="Ready"/> are replica counts of workloads.</summary>
public sealed record ResourceStatus(string ApiVersion, string Kind, string Namespace, string Name, ResourceState State, string Message, int? Desired = null, int? Ready = null)
{
    public bool IsWorkload => Kind is "Deployment" or "StatefulSet" or "DaemonSet" or "Job" or "ReplicaSet";
}

/// <summary>A release's readiness: every resource of its manifest, and the whole (the worst of them).</summary>
public sealed record ReleaseStatus(IReadOnlyList<ResourceStatus> Resources)
{
    public ResourceState State =>
        Resources.Any(r => r.State == ResourceState.Failed) ? ResourceState.Failed
        : Resources.Any(r => r.State == ResourceState.NotFound) ? ResourceState.NotFound
        : Resources.Any(r => r.State == ResourceState.InProgress) ? ResourceState.InProgress
        : ResourceState.Current;

    public bool IsReady => State == ResourceState.Current;
}

/// <summary>
/// Reads a release's readiness from the cluster, not from helm's exit code: every object of the release's
/// manifest (<c>helm get manifest</c>) is fetched from the API server and judged as kstatus does —
/// Deployments, StatefulSets, DaemonSets and ReplicaSets by observed generation and updated/ready/available
/// replicas, Jobs by their conditions, PersistentVolumeClaims bound, Services of type LoadBalancer with an
/// ingress, Pods running and ready (or succeeded); anything else is current once it exists.
/// </summary>
public static partial class ReleaseReadiness
{
    /// <summary>The objects a manifest holds: (apiVersion, kind, namespace, name), the namespace defaulting to <paramref name="defaultNamespace"/>.</summary>
    public static IReadOnlyList<(string ApiVersion, string Kind, string Namespace, string Name)> Objects(string manifest, string defaultNamespace)
    {
        var objects = new List<(string, string, string, string)>();
        foreach (var document in DocumentSeparator().Split(manifest))
        {
            if (string.IsNullOrWhiteSpace(document) || YamlJson.Parse(document, "manifest") is not JsonObject item)
            {
                continue;
            }

            var apiVersion = (string?)item["apiVersion"];
            var kind = (string?)item["kind"];
            var name = (string?)item["metadata"]?["name"];
            if (apiVersion is null || kind is null || name is null)
            {
                continue;
            }

            if (kind == "List" && item["items"] is JsonArray)
            {
                continue;
            }

            objects.Add((apiVersion, kind, (string?)item["metadata"]?["namespace"] ?? defaultNamespace, name));
        }

        return objects;
    }

    /// <summary>
    /// Fetches and judges every object of <paramref name="manifest"/>. When <paramref name="live"/> is given, each
    /// object found is put there (spec and status as JSON) under <see cref="Key"/>.
    /// </summary>
    public static async Task<ReleaseStatus> EvaluateAsync(IKubernetes client, string manifest, string defaultNamespace, CancellationToken cancellationToken, IDictionary<string, JsonObject>? live = null)
    {
        var statuses = new List<ResourceStatus>();
        foreach (var (apiVersion, kind, ns, name) in Objects(manifest, defaultNamespace))
        {
            var found = await GetAsync(client, apiVersion, kind, ns, name, cancellationToken);
            if (found is not null && live is not null)
            {
                live[Key(kind, ns, name)] = found;
            }

            statuses.Add(found is null
                ? new ResourceStatus(apiVersion, kind, ns, name, ResourceState.NotFound, $"{kind} {name} does not exist in the cluster.")
                : Judge(apiVersion, kind, ns, name, found));
        }

        return new ReleaseStatus(statuses);
    }

    /// <summary>The key of a live object in <see cref="EvaluateAsync"/>'s dictionary.</summary>
    public static string Key(string kind, string ns, string name) => $"{kind}/{ns}/{name}";

    /// <summary>Judges one live object (its JSON as the API server returns it).</summary>
    public static ResourceStatus Judge(string apiVersion, string kind, string ns, string name, JsonObject live)
    {
        var spec = live["spec"] as JsonObject;
        var status = live["status"] as JsonObject;
        var generation = (long?)live["metadata"]?["generation"] ?? 0;
        var observed = (long?)status?["observedGeneration"] ?? 0;
        ResourceStatus Result(ResourceState state, string message, int? desired = null, int? ready = null) => new(apiVersion, kind, ns, name, state, message, desired, ready);

        switch (kind)
        {
            case "Deployment" or "ReplicaSet":
            {
                var desired = (int?)spec?["replicas"] ?? 1;
                var updated = kind == "Deployment" ? (int?)status?["updatedReplicas"] ?? 0 : desired;
                var ready = (int?)status?["readyReplicas"] ?? 0;
                var available = (int?)status?["availableReplicas"] ?? 0;
                if (observed < generation)
                {
                    return Result(ResourceState.InProgress, $"generation {generation} not observed yet (observed {observed})", desired, ready);
                }

                if (Condition(status, "Progressing") is { } progressing && (string?)progressing["reason"] == "ProgressDeadlineExceeded")
                {
                    return Result(ResourceState.Failed, $"progress deadline exceeded: {progressing["message"]}", desired, ready);
                }

                return updated >= desired && ready >= desired && available >= desired
                    ? Result(ResourceState.Current, $"{ready}/{desired} ready", desired, ready)
                    : Result(ResourceState.InProgress, $"{updated} updated, {ready} ready, {available} available of {desired}", desired, ready);
            }

            case "StatefulSet":
            {
                var desired = (int?)spec?["replicas"] ?? 1;
                var ready = (int?)status?["readyReplicas"] ?? 0;
                var updated = (int?)status?["updatedReplicas"] ?? 0;
                var rolling = (string?)spec?["updateStrategy"]?["type"] is null or "RollingUpdate";
                var revisionsMatch = (string?)status?["currentRevision"] == (string?)status?["updateRevision"];
                if (observed < generation)
                {
                    return Result(ResourceState.InProgress, $"generation {generation} not observed yet (observed {observed})", desired, ready);
                }

                return ready >= desired && (!rolling || (updated >= desired && revisionsMatch))
                    ? Result(ResourceState.Current, $"{ready}/{desired} ready", desired, ready)
                    : Result(ResourceState.InProgress, $"{updated} updated, {ready} ready of {desired}", desired, ready);
            }

            case "DaemonSet":
            {
                var desired = (int?)status?["desiredNumberScheduled"] ?? 0;
                var ready = (int?)status?["numberReady"] ?? 0;
                var updated = (int?)status?["updatedNumberScheduled"] ?? 0;
                var available = (int?)status?["numberAvailable"] ?? 0;
                if (observed < generation)
                {
                    return Result(ResourceState.InProgress, $"generation {generation} not observed yet (observed {observed})", desired, ready);
                }

                return updated >= desired && ready >= desired && available >= desired
                    ? Result(ResourceState.Current, $"{ready}/{desired} ready", desired, ready)
                    : Result(ResourceState.InProgress, $"{updated} updated, {ready} ready, {available} available of {desired}", desired, ready);
            }

            case "Job":
            {
                var completions = (int?)spec?["completions"] ?? 1;
                var succeeded = (int?)status?["succeeded"] ?? 0;
                if (Condition(status, "Failed") is { } failed && (string?)failed["status"] == "True")
                {
                    return Result(ResourceState.Failed, $"failed: {failed["reason"]} {failed["message"]}".Trim(), completions, succeeded);
                }

                return Condition(status, "Complete") is { } complete && (string?)complete["status"] == "True"
                    ? Result(ResourceState.Current, $"complete ({succeeded}/{completions})", completions, succeeded)
                    : Result(ResourceState.InProgress, $"{succeeded}/{completions} completed, {(int?)status?["active"] ?? 0} active", completions, succeeded);
            }

            case "PersistentVolumeClaim":
            {
                var phase = (string?)status?["phase"] ?? "Pending";
                return phase switch
                {
                    "Bound" => Result(ResourceState.Current, "bound"),
                    "Lost" => Result(ResourceState.Failed, "lost its volume"),
                    _ => Result(ResourceState.InProgress, phase.ToLowerInvariant()),
                };
            }

            case "Service":
            {
                if ((string?)spec?["type"] != "LoadBalancer")
                {
                    return Result(ResourceState.Current, (string?)spec?["clusterIP"] is { } ip ? $"cluster IP {ip}" : "exists");
                }

                var ingress = status?["loadBalancer"]?["ingress"] as JsonArray;
                return ingress is { Count: > 0 }
                    ? Result(ResourceState.Current, "load balancer at " + string.Join(", ", ingress.Select(i => (string?)i?["ip"] ?? (string?)i?["hostname"])))
                    : Result(ResourceState.InProgress, "waiting for a load balancer address");
            }

            case "Pod":
            {
                var phase = (string?)status?["phase"] ?? "Pending";
                if (phase == "Succeeded")
                {
                    return Result(ResourceState.Current, "succeeded");
                }

                if (phase == "Failed")
                {
                    return Result(ResourceState.Failed, $"failed: {status?["reason"]} {status?["message"]}".Trim());
                }

                return phase == "Running" && Condition(status, "Ready") is { } podReady && (string?)podReady["status"] == "True"
                    ? Result(ResourceState.Current, $"running on {spec?["nodeName"]}")
                    : Result(ResourceState.InProgress, phase.ToLowerInvariant());
            }

            default:
                return Result(ResourceState.Current, "exists");
        }
    }

    private static JsonObject? Condition(JsonObject? status, string type) =>
        (status?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);

    /// <summary>The live object, or null when the API server has none (404).</summary>
    private static async Task<JsonObject?> GetAsync(IKubernetes client, string apiVersion, string kind, string ns, string name, CancellationToken cancellationToken)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        using var resources = new GenericClient(client, group, version, Plural(kind), disposeClient: false);
        try
        {
            var found = ClusterScopedKinds.Contains(kind)
                ? await resources.ReadAsync<RawObject>(name, cancellationToken)
                : await resources.ReadNamespacedAsync<RawObject>(ns, name, cancellationToken);
            var live = new JsonObject { ["metadata"] = new JsonObject { ["generation"] = found.Metadata?.Generation ?? 0 } };
            foreach (var (key, value) in found.Rest ?? [])
            {
                live[key] = JsonNode.Parse(value.GetRawText());
            }

            return live;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Any object: its metadata typed, everything else (spec, status) kept as JSON.</summary>
    private sealed class RawObject : IKubernetesObject<k8s.Models.V1ObjectMeta>
    {
        [JsonPropertyName("apiVersion")]
        public string ApiVersion { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = "";

        [JsonPropertyName("metadata")]
        public k8s.Models.V1ObjectMeta Metadata { get; set; } = new();

        [JsonExtensionData]
        public Dictionary<string, JsonElement>? Rest { get; set; }
    }

    private static readonly HashSet<string> ClusterScopedKinds = new(StringComparer.Ordinal)
    {
        "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass",
        "PriorityClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService", "IngressClass",
    };

    /// <summary>The resource name of a kind, as the API server's REST paths use it.</summary>
    internal static string Plural(string kind)
    {
        var lower = kind.ToLowerInvariant();
        return lower switch
        {
            "endpoints" => "endpoints",
            "ingress" => "ingresses",
            "networkpolicy" => "networkpolicies",
            "podsecuritypolicy" => "podsecuritypolicies",
            "storageclass" => "storageclasses",
            "ingressclass" => "ingressclasses",
            "priorityclass" => "priorityclasses",
            _ when lower.EndsWith('s') => lower + "es",
            _ when lower.EndsWith('y') => lower[..^1] + "ies",
            _ => lower + "s",
        };
    }

    [GeneratedRegex(@"^---\s*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}
