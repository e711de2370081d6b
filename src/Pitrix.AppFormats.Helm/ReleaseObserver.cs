using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Pitrix.Core.Clusters;

namespace Pitrix.AppFormats.Helm;

/// <summary>A release as the API server shows it: its readiness and the cluster view built from its live objects.</summary>
public sealed record ReleaseObservation(
    ReleaseStatus Status,
    int? Revision,
    IReadOnlyList<ObservedWorkload> Workloads,
    IReadOnlyList<ObservedPod> Pods,
    IReadOnlyDictionary<string, string> Endpoints)
{
    /// <summary>The release's <see cref="ObservedState"/>.</summary>
    public string State => ReleaseObserver.StateName(Status.State);

    /// <summary>What is not current, one resource per clause; empty when the release is ready.</summary>
    public string Message => string.Join("; ", Status.Resources.Where(r => r.State != ResourceState.Current).Select(r => $"{r.Kind}/{r.Name}: {r.Message}"));

    /// <summary>The observation as stored for the cluster.</summary>
    public ClusterObservation ToObservation(string clusterId, DateTimeOffset at) => new()
    {
        ClusterId = clusterId,
        ObservedAt = at,
        State = State,
        Message = Message.Length > 4000 ? Message[..4000] + "…" : Message,
        Revision = Revision,
        Workloads = [.. Workloads],
        Pods = [.. Pods],
        Endpoints = new Dictionary<string, string>(Endpoints, StringComparer.Ordinal),
    };
}

/// <summary>
/// Reads a Helm release's cluster view from the API server: its manifest (from the release's own Secret, as helm
/// stores it, without starting helm; <c>helm get manifest</c> when it is stored otherwise), every object judged by
/// <see cref="ReleaseReadiness"/>, the workloads with desired and ready replicas, the pods each workload selects
/// (phase, readiness, node, IP) and the endpoints its Services and Ingresses offer. <see cref="WaitForChangeAsync"/>
/// watches the namespace's pods and workloads, so a caller re-reads as soon as something moves rather than polling.
/// </summary>
public sealed class ReleaseObserver(HelmReleases helm)
{
    private static readonly HashSet<string> WatchedWorkloads = new(StringComparer.Ordinal) { "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet" };

    public async Task<ReleaseObservation> ObserveAsync(IKubernetes client, HelmTarget target, string release, CancellationToken cancellationToken)
    {
        var (manifest, revision) = await StoredManifestAsync(client, target.Namespace, release, cancellationToken)
            ?? (await helm.ManifestAsync(target, release, cancellationToken), null);
        var live = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var status = await ReleaseReadiness.EvaluateAsync(client, manifest, target.Namespace, cancellationToken, live);

        var workloads = new List<ObservedWorkload>();
        var pods = new List<ObservedPod>();
        var seenPods = new HashSet<string>(StringComparer.Ordinal);
        var endpoints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in status.Resources)
        {
            live.TryGetValue(ReleaseReadiness.Key(resource.Kind, resource.Namespace, resource.Name), out var found);
            if (resource.IsWorkload)
            {
                workloads.Add(new ObservedWorkload(resource.Kind, resource.Name, resource.Desired ?? 0, resource.Ready ?? 0, StateName(resource.State), resource.Message));
                if (found?["spec"]?["selector"] is JsonObject selector && SelectorOrNull(selector) is { Length: > 0 } labels)
                {
                    var selected = await client.CoreV1.ListNamespacedPodAsync(resource.Namespace, labelSelector: labels, cancellationToken: cancellationToken);
                    pods.AddRange(selected.Items.Where(p => seenPods.Add(p.Metadata.Name))
                        .Select(p => Pod(p.Metadata.Name, $"{resource.Kind}/{resource.Name}", (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(p))!)));
                }
            }
            else if (resource.Kind == "Pod" && found is not null && seenPods.Add(resource.Name))
            {
                pods.Add(Pod(resource.Name, resource.Name, found));
            }
            else if (resource.Kind == "Service" && found is not null)
            {
                AddServiceEndpoints(endpoints, resource.Name, found);
            }
            else if (resource.Kind == "Ingress" && found is not null)
            {
                AddIngressEndpoints(endpoints, resource.Name, found);
            }
        }

        return new ReleaseObservation(status, revision, workloads, [.. pods.OrderBy(p => p.Workload, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal)], endpoints);
    }

    /// <summary>
    /// Waits until a pod or a workload of <paramref name="kinds"/> changes in the namespace (a watch from the
    /// current resource version), or <paramref name="budget"/> passes. True when something changed.
    /// </summary>
    public static async Task<bool> WaitForChangeAsync(IKubernetes client, string ns, IEnumerable<string> kinds, TimeSpan budget, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(budget);
        var seconds = (int)Math.Max(1, Math.Ceiling(budget.TotalSeconds));
        var watches = new List<Task<bool>> { WatchPodsAsync(client, ns, seconds, stop.Token) };
        foreach (var kind in kinds.Where(WatchedWorkloads.Contains).Distinct(StringComparer.Ordinal))
        {
            watches.Add(WatchWorkloadsAsync(client, ns, kind, seconds, stop.Token));
        }

        try
        {
            while (watches.Count > 0)
            {
                var first = await Task.WhenAny(watches);
                watches.Remove(first);
                if (await first)
                {
                    return true;
                }
            }

            return false;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(watches.Select(w => w.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)));
        }
    }

    /// <summary>An observation's state name for a <see cref="ResourceState"/>.</summary>
    public static string StateName(ResourceState state) => state switch
    {
        ResourceState.Current => ObservedState.Current,
        ResourceState.Failed => ObservedState.Failed,
        ResourceState.NotFound => ObservedState.NotFound,
        _ => ObservedState.InProgress,
    };

    /// <summary>
    /// The manifest and revision of the release's newest revision, read from the Secret helm keeps it in
    /// (<c>sh.helm.release.v1.NAME.vN</c>: base64 of gzipped JSON), or null when helm stores it otherwise.
    /// </summary>
    public static async Task<(string Manifest, int? Revision)?> StoredManifestAsync(IKubernetes client, string ns, string release, CancellationToken cancellationToken)
    {
        var secrets = await client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: $"owner=helm,name={release}", cancellationToken: cancellationToken);
        var newest = secrets.Items
            .Where(s => s.Type == "helm.sh/release.v1" && s.Data?.ContainsKey("release") == true)
            .Select(s => (Secret: s, Version: s.Metadata.Labels is { } labels && labels.TryGetValue("version", out var label) && int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
            .MaxBy(s => s.Version);
        if (newest.Secret is null)
        {
            return null;
        }

        try
        {
            var encoded = Convert.FromBase64String(Encoding.ASCII.GetString(newest.Secret.Data["release"]));
            var json = encoded is [0x1f, 0x8b, ..] ? Gunzip(encoded) : encoded;
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty("manifest", out var manifest) && manifest.ValueKind == JsonValueKind.String
                ? (manifest.GetString()!, newest.Version)
                : null;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or JsonException)
        {
            return null;
        }
    }

    /// <summary>A label selector (matchLabels and matchExpressions) in the API's string form.</summary>
    public static string Selector(JsonObject selector)
    {
        var terms = new List<string>();
        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            terms.Add($"{key}={value}");
        }

        foreach (var expression in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = (string?)expression["key"];
            var values = string.Join(",", (expression["values"] as JsonArray ?? []).Select(v => (string?)v));
            terms.Add((string?)expression["operator"] switch
            {
                "In" => $"{key} in ({values})",
                "NotIn" => $"{key} notin ({values})",
                "Exists" => $"{key}",
                "DoesNotExist" => $"!{key}",
                var other => throw new ArgumentException($"Unknown selector operator {other}.", nameof(selector)),
            });
        }

        return string.Join(",", terms);
    }

    /// <summary>The selector, or null for one this reader does not understand (its pods are then not listed rather than all pods).</summary>
    private static string? SelectorOrNull(JsonObject selector)
    {
        try
        {
            return Selector(selector);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static ObservedPod Pod(string name, string workload, JsonObject live) => new(
        name,
        workload,
        (string?)live["status"]?["phase"] ?? "Pending",
        (live["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => (string?)c["type"] == "Ready" && (string?)c["status"] == "True") == true,
        (string?)live["spec"]?["nodeName"],
        (string?)live["status"]?["podIP"],
        (live["status"]?["containerStatuses"] as JsonArray)?.OfType<JsonObject>().Sum(c => (int?)c["restartCount"] ?? 0) ?? 0);

    /// <summary>One endpoint per port: the load balancer's address once it has one, else the cluster IP (headless Services have none).</summary>
    private static void AddServiceEndpoints(Dictionary<string, string> endpoints, string name, JsonObject live)
    {
        var spec = live["spec"] as JsonObject;
        var type = (string?)spec?["type"] ?? "ClusterIP";
        var ingress = (live["status"]?["loadBalancer"]?["ingress"] as JsonArray)?.OfType<JsonObject>().Select(i => (string?)i["ip"] ?? (string?)i["hostname"]).FirstOrDefault(a => a is not null);
        var clusterIp = (string?)spec?["clusterIP"];
        var host = type == "LoadBalancer" && ingress is not null ? ingress
            : type == "ExternalName" ? (string?)spec?["externalName"]
            : clusterIp is null or "None" ? null : clusterIp;
        if (host is null)
        {
            return;
        }

        foreach (var port in (spec?["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var number = (int?)port["port"] ?? 0;
            var protocol = (string?)port["protocol"] ?? "TCP";
            var address = $"{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{number}{(protocol == "TCP" ? "" : "/" + protocol)}";
            if (type == "NodePort" && (int?)port["nodePort"] is { } nodePort)
            {
                address += $" (node port {nodePort})";
            }

            endpoints[$"service/{name}:{(string?)port["name"] ?? number.ToString(CultureInfo.InvariantCulture)}"] = address;
        }
    }

    /// <summary>One endpoint per rule host and path: https where the Ingress has TLS for the host.</summary>
    private static void AddIngressEndpoints(Dictionary<string, string> endpoints, string name, JsonObject live)
    {
        var tlsHosts = (live["spec"]?["tls"] as JsonArray ?? []).OfType<JsonObject>()
            .SelectMany(t => (t["hosts"] as JsonArray ?? []).Select(h => (string?)h)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var address = (live["status"]?["loadBalancer"]?["ingress"] as JsonArray)?.OfType<JsonObject>().Select(i => (string?)i["ip"] ?? (string?)i["hostname"]).FirstOrDefault(a => a is not null);
        foreach (var rule in (live["spec"]?["rules"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var host = (string?)rule["host"] ?? address ?? "*";
            var paths = (rule["http"]?["paths"] as JsonArray ?? []).OfType<JsonObject>().Select(p => (string?)p["path"] ?? "/").DefaultIfEmpty("/");
            foreach (var path in paths)
            {
                endpoints[$"ingress/{name}:{host}{path}"] = $"{(tlsHosts.Contains(host) ? "https" : "http")}://{host}{path}";
            }
        }
    }

    // KubernetesClient marks WatchAsync over a list call obsolete, but offers no replacement for core kinds (pods).
#pragma warning disable CS0618
    private static async Task<bool> WatchPodsAsync(IKubernetes client, string ns, int seconds, CancellationToken cancellationToken)
    {
        try
        {
            var list = await client.CoreV1.ListNamespacedPodAsync(ns, limit: 1, cancellationToken: cancellationToken);
            var watch = client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
                ns, resourceVersion: list.Metadata.ResourceVersion, timeoutSeconds: seconds, watch: true, cancellationToken: cancellationToken);
            await foreach (var _ in watch.WatchAsync<V1Pod, V1PodList>(cancellationToken: cancellationToken))
            {
                return true;
            }
        }
        catch (Exception e) when (IsWatchEnd(e, cancellationToken))
        {
        }

        return false;
    }

    private static async Task<bool> WatchWorkloadsAsync(IKubernetes client, string ns, string kind, int seconds, CancellationToken cancellationToken)
    {
        var (group, version) = kind == "Job" ? ("batch", "v1") : ("apps", "v1");
        var plural = ReleaseReadiness.Plural(kind);
        try
        {
            var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(group, version, ns, plural, limit: 1, cancellationToken: cancellationToken);
            var resourceVersion = list.GetProperty("metadata").GetProperty("resourceVersion").GetString();
            var watch = client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<JsonElement>(
                group, version, ns, plural, resourceVersion: resourceVersion, timeoutSeconds: seconds, watch: true, cancellationToken: cancellationToken);
            await foreach (var _ in watch.WatchAsync<JsonElement, JsonElement>(cancellationToken: cancellationToken))
            {
                return true;
            }
        }
        catch (Exception e) when (IsWatchEnd(e, cancellationToken))
        {
        }

        return false;
    }

#pragma warning restore CS0618

    /// <summary>A watch that ended without an event: the budget ran out, or the API server refused or dropped it (the caller reads again anyway).</summary>
    private static bool IsWatchEnd(Exception e, CancellationToken cancellationToken) =>
        (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
        || e is HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Gone }
        || e is HttpRequestException or IOException or KubernetesException;
}
