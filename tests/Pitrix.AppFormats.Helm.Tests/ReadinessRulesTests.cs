using System.Text.Json.Nodes;

namespace Pitrix.AppFormats.Helm.Tests;

/// <summary>The readiness rules per kind, on objects as the API server returns them (no server needed).</summary>
public sealed class ReadinessRulesTests
{
    [Theory]
    [InlineData("StatefulSet", """{"metadata":{"generation":2},"spec":{"replicas":3},"status":{"observedGeneration":2,"readyReplicas":3,"updatedReplicas":3,"currentRevision":"r2","updateRevision":"r2"}}""", ResourceState.Current)]
    [InlineData("StatefulSet", """{"metadata":{"generation":2},"spec":{"replicas":3},"status":{"observedGeneration":2,"readyReplicas":3,"updatedReplicas":1,"currentRevision":"r1","updateRevision":"r2"}}""", ResourceState.InProgress)]
    [InlineData("StatefulSet", """{"metadata":{"generation":3},"spec":{"replicas":1},"status":{"observedGeneration":2,"readyReplicas":1,"updatedReplicas":1}}""", ResourceState.InProgress)]
    [InlineData("DaemonSet", """{"metadata":{"generation":1},"status":{"observedGeneration":1,"desiredNumberScheduled":2,"numberReady":2,"updatedNumberScheduled":2,"numberAvailable":2}}""", ResourceState.Current)]
    [InlineData("DaemonSet", """{"metadata":{"generation":1},"status":{"observedGeneration":1,"desiredNumberScheduled":2,"numberReady":1,"updatedNumberScheduled":2,"numberAvailable":1}}""", ResourceState.InProgress)]
    [InlineData("Deployment", """{"metadata":{"generation":4},"spec":{"replicas":2},"status":{"observedGeneration":4,"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","message":"too slow"}]}}""", ResourceState.Failed)]
    [InlineData("Job", """{"spec":{"completions":1},"status":{"succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}}""", ResourceState.Current)]
    [InlineData("Job", """{"spec":{},"status":{"failed":6,"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}}""", ResourceState.Failed)]
    [InlineData("Job", """{"spec":{},"status":{"active":1}}""", ResourceState.InProgress)]
    [InlineData("PersistentVolumeClaim", """{"status":{"phase":"Bound"}}""", ResourceState.Current)]
    [InlineData("PersistentVolumeClaim", """{"status":{"phase":"Pending"}}""", ResourceState.InProgress)]
    [InlineData("Service", """{"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10"}}""", ResourceState.Current)]
    [InlineData("Service", """{"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{}}}""", ResourceState.InProgress)]
    [InlineData("Service", """{"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]}}}""", ResourceState.Current)]
    [InlineData("Pod", """{"spec":{"nodeName":"n1"},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}""", ResourceState.Current)]
    [InlineData("Pod", """{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}]}}""", ResourceState.InProgress)]
    [InlineData("Pod", """{"status":{"phase":"Failed","reason":"Evicted"}}""", ResourceState.Failed)]
    [InlineData("ConfigMap", """{"data":{"a":"b"}}""", ResourceState.Current)]
    public void Judge_FollowsKstatus(string kind, string live, ResourceState expected)
    {
        var status = ReleaseReadiness.Judge("v1", kind, "ns", "x", (JsonObject)JsonNode.Parse(live)!);

        Assert.Equal(expected, status.State);
    }

    [Fact]
    public void Objects_ReadsEveryDocumentOfAHelmManifest_DefaultingTheNamespace()
    {
        var manifest = """
            ---
            # Source: web/templates/service.yaml
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            ---
            # Source: web/templates/deployment.yaml
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: other
            ---
            """;

        var objects = ReleaseReadiness.Objects(manifest, "apps");

        Assert.Equal([("v1", "Service", "apps", "web"), ("apps/v1", "Deployment", "other", "web")], objects);
    }

    [Theory]
    [InlineData("""{"matchLabels":{"app":"web","tier":"front"}}""", "app=web,tier=front")]
    [InlineData("""{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"In","values":["a","b"]},{"key":"canary","operator":"DoesNotExist"}]}""", "app=web,env in (a,b),!canary")]
    [InlineData("""{"matchExpressions":[{"key":"env","operator":"NotIn","values":["x"]},{"key":"zone","operator":"Exists"}]}""", "env notin (x),zone")]
    public void A_workload_selector_becomes_the_API_label_selector_of_its_pods(string selector, string expected) =>
        Assert.Equal(expected, ReleaseObserver.Selector((JsonObject)JsonNode.Parse(selector)!));

    [Fact]
    public void An_unknown_selector_operator_is_refused_rather_than_selecting_every_pod() =>
        Assert.Throws<ArgumentException>(() => ReleaseObserver.Selector((JsonObject)JsonNode.Parse("""{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}""")!));
}
