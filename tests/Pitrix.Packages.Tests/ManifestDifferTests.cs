using Pitrix.Core.Clusters;
using Pitrix.Packages.Helm;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Packages.Tests;

public sealed class ManifestDifferTests
{
    private const string Current = """
        ---
        # Source: web/templates/configmap.yaml
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web
        data:
          a: "1"
        ---
        # Source: web/templates/deployment.yaml
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 1
          template:
            spec:
              containers:
                - name: web
                  image: nginx:1.25
        ---
        # Source: web/templates/old-job.yaml
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: migrate
          namespace: other
        spec: {}

        """;

    [Fact]
    public void Diff_ReportsChangedAddedRemovedAndUnchangedResources_ByKindNamespaceAndName()
    {
        var planned = Current
            .Replace("replicas: 1", "replicas: 3", StringComparison.Ordinal)
            .Replace("""
                ---
                # Source: web/templates/old-job.yaml
                apiVersion: batch/v1
                kind: Job
                metadata:
                  name: migrate
                  namespace: other
                spec: {}
                """, """
                ---
                # Source: web/templates/service.yaml
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  ports:
                    - port: 80
                """, StringComparison.Ordinal);

        var diff = ManifestDiffer.Diff(Current, planned, "apps");

        Assert.Equal(
            [("ConfigMap", "apps", "web", ResourceChange.Unchanged), ("Deployment", "apps", "web", ResourceChange.Changed), ("Service", "apps", "web", ResourceChange.Added), ("Job", "other", "migrate", ResourceChange.Removed)],
            diff.Resources.Select(r => (r.Kind, r.Namespace, r.Name, r.Change)));
        Assert.Equal((1, 1, 1, 1, true), (diff.Added, diff.Removed, diff.Changed, diff.Unchanged, diff.HasChanges));
        Assert.Null(diff.Resources[0].Diff);
        Assert.Equal("web/templates/deployment.yaml", diff.Resources[1].Source);

        // The Source comment is not part of the resource; the hunk has three lines of context each side.
        Assert.Equal("""
            --- current/Deployment/apps/web
            +++ planned/Deployment/apps/web
            @@ -3,7 +3,7 @@
             metadata:
               name: web
             spec:
            -  replicas: 1
            +  replicas: 3
               template:
                 spec:
                   containers:

            """, diff.Resources[1].Diff);
        Assert.StartsWith("--- /dev/null\n+++ planned/Service/apps/web\n@@ -0,0 +1,7 @@\n+apiVersion: v1\n+kind: Service\n", diff.Resources[2].Diff, StringComparison.Ordinal);
        Assert.StartsWith("--- current/Job/other/migrate\n+++ /dev/null\n@@ -1,6 +0,0 @@\n-apiVersion: batch/v1\n", diff.Resources[3].Diff, StringComparison.Ordinal);
        Assert.Equal(diff.Resources[1].Diff + diff.Resources[2].Diff + diff.Resources[3].Diff, diff.Unified);
    }

    [Fact]
    public void Diff_SameResourcesFromOtherTemplateFiles_AndEmptyDocuments_ChangeNothing()
    {
        var moved = Current.Replace("templates/deployment.yaml", "templates/workloads/web.yaml", StringComparison.Ordinal)
            .Replace("---\n# Source: web/templates/old-job.yaml", "---\n# Source: web/templates/empty.yaml\n\n---\n# Source: web/templates/old-job.yaml", StringComparison.Ordinal)
            .ReplaceLineEndings("\r\n");

        var diff = ManifestDiffer.Diff(Current, moved, "apps");

        Assert.False(diff.HasChanges, diff.Unified);
        Assert.Equal(3, diff.Unchanged);
        Assert.Equal("", diff.Unified);
        Assert.Equal("web/templates/workloads/web.yaml", diff.Resources[1].Source);
    }

    [Fact]
    public void Diff_ANamespaceGivenOrDefaulted_AndDuplicateIdentities_AreKeptApart()
    {
        const string current = "kind: ConfigMap\nmetadata:\n  name: a\n  namespace: apps\ndata: {x: '1'}\n---\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {x: '2'}\n";
        const string planned = "kind: ConfigMap\nmetadata:\n  name: a\ndata: {x: '1'}\n---\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {x: '2'}\n---\nnot: [a kubernetes object\n";

        var diff = ManifestDiffer.Diff(current, planned, "apps");

        // Explicit "apps" and the default "apps" are one identity: the first pair is unchanged (the namespace line
        // aside), the second occurrence pairs with the second; a document that is not YAML is still a resource.
        Assert.Equal(
            [("ConfigMap", "apps", "a", ResourceChange.Changed), ("ConfigMap", "apps", "a", ResourceChange.Unchanged), ("", "apps", "document 3", ResourceChange.Added)],
            diff.Resources.Select(r => (r.Kind, r.Namespace, r.Name, r.Change)));
        Assert.Contains("-  namespace: apps\n", diff.Resources[0].Diff, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_OfRealHelmTemplates_ShowsTheReplicaChange()
    {
        var helm = new HelmCli(HelmBinaries.Path(3));
        var chart = RepoFiles.Path("samples", "charts", "hello-web");
        var one = await helm.TemplateAsync(chart, "web-1", "apps", null, TimeSpan.FromSeconds(60), CancellationToken.None);
        var three = await helm.TemplateAsync(chart, "web-1", "apps", """{"replicaCount":3}""", TimeSpan.FromSeconds(60), CancellationToken.None);

        var diff = ManifestDiffer.Diff(one, three, "apps");

        var changed = Assert.Single(diff.Resources, r => r.Change == ResourceChange.Changed);
        Assert.Equal(("Deployment", "apps", "web-1-hello-web", "hello-web/templates/deployment.yaml"), (changed.Kind, changed.Namespace, changed.Name, changed.Source));
        Assert.Equal(["-  replicas: 1", "+  replicas: 3"], changed.Diff!.Split('\n').Where(l => l.StartsWith('-') || l.StartsWith('+')).Where(l => !l.StartsWith("---", StringComparison.Ordinal) && !l.StartsWith("+++", StringComparison.Ordinal)));
        Assert.Equal(2, diff.Unchanged);
        Assert.False(ManifestDiffer.Diff(one, one, "apps").HasChanges);
    }
}
