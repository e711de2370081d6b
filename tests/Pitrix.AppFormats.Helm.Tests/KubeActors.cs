using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Pitrix.Testing;

namespace Pitrix.AppFormats.Helm.Tests;

/// <summary>What the tests do in the API server in place of the components that do not run here, and test charts.</summary>
internal static class KubeActors
{
    /// <summary>
    /// A TEST-ONLY template added to a copy of the sample chart: when the value <c>migrate</c> is true, a
    /// pre-upgrade hook Job that helm waits for; with no kubelet here it never completes, so helm blocks in the
    /// middle of the upgrade with the release <c>pending-upgrade</c>, where the tests interrupt it.
    /// </summary>
    public const string BlockingHook = """
        {{- if .Values.migrate }}
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{ .Release.Name }}-migrate-{{ .Release.Revision }}
          annotations:
            "helm.sh/hook": pre-upgrade
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: migrate
                  image: busybox
                  command: ["true"]
        {{- end }}
        """;

    /// <summary>Adds <see cref="BlockingHook"/> to the chart in <paramref name="chartDirectory"/>.</summary>
    public static void AddBlockingHook(string chartDirectory) =>
        File.WriteAllText(Path.Combine(chartDirectory, "templates", "migrate-hook.yaml"), BlockingHook);

    /// <summary>ACTS AS THE KUBELET AND DEPLOYMENT CONTROLLER (none runs here): reports every replica of the current generation ready.</summary>
    public static async Task ActAsTheDeploymentControllerAsync(k8s.Kubernetes client, string ns, string name)
    {
        var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns);
        var replicas = deployment.Spec.Replicas ?? 1;
        var status = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["observedGeneration"] = deployment.Metadata.Generation,
                ["replicas"] = replicas,
                ["updatedReplicas"] = replicas,
                ["readyReplicas"] = replicas,
                ["availableReplicas"] = replicas,
            },
        };
        await client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns);
    }

    /// <summary>
    /// ACTS AS THE REPLICASET CONTROLLER, SCHEDULER AND KUBELET (none runs here): creates <paramref name="count"/> pods
    /// the Deployment selects, bound to node <c>node-a</c>, and reports them running and ready with pod IPs
    /// 10.244.0.10, .11… The namespace's <c>default</c> service account, which the controller manager would make,
    /// is made first.
    /// </summary>
    public static async Task<List<string>> ActAsTheKubeletAsync(k8s.Kubernetes client, string ns, string deploymentName, int count)
    {
        var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(deploymentName, ns);
        try
        {
            await client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "default" } }, ns);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }

        var names = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = $"{deploymentName}-{Guid.NewGuid().ToString("N")[..5]}";
            await client.CoreV1.CreateNamespacedPodAsync(
                new V1Pod
                {
                    Metadata = new V1ObjectMeta { Name = name, Labels = deployment.Spec.Template.Metadata.Labels },
                    Spec = new V1PodSpec
                    {
                        NodeName = "node-a",
                        AutomountServiceAccountToken = false,
                        Containers = [new V1Container { Name = "web", Image = "nginx" }],
                    },
                },
                ns);
            var status = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["phase"] = "Running",
                    ["podIP"] = $"10.244.0.{10 + i}",
                    ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
                    ["containerStatuses"] = new JsonArray(new JsonObject { ["name"] = "web", ["ready"] = true, ["restartCount"] = 0, ["image"] = "nginx", ["imageID"] = "", ["state"] = new JsonObject { ["running"] = new JsonObject() } }),
                },
            };
            await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns);
            names.Add(name);
        }

        return names;
    }

    /// <summary>Runs the real helm at <paramref name="helmPath"/> with <paramref name="kubeconfig"/> when given (paths in <paramref name="args"/> absolute); fails the test when helm fails.</summary>
    public static async Task<string> HelmAsync(string helmPath, string? kubeconfig, params string[] args)
    {
        var path = kubeconfig is null ? null : Path.Combine(Directory.CreateTempSubdirectory("pitrix-helm-test-").FullName, "kubeconfig");
        if (path is not null)
        {
            await File.WriteAllTextAsync(path, kubeconfig);
        }

        try
        {
            var (exitCode, stdout, stderr) = await new Pitrix.Packages.Helm.HelmCli(helmPath).RunAsync(args, TimeSpan.FromMinutes(1), CancellationToken.None, path);
            Xunit.Assert.True(exitCode == 0, $"helm {string.Join(' ', args)}: {stderr}");
            return stdout;
        }
        finally
        {
            if (path is not null)
            {
                Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
            }
        }
    }

    public static async Task<V1Deployment?> DeploymentAsync(k8s.Kubernetes client, string ns, string name)
    {
        try
        {
            return await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The helm processes started by this test process (the server runs in it) working on <paramref name="release"/>.</summary>
    public static List<int> HelmProcessesOf(string release)
    {
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                var parent = File.ReadAllText(Path.Combine(directory, "stat")).Split(' ')[3];
                if (Path.GetFileName(argv[0]) == "helm" && argv.Contains(release) && parent == self.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return found;
    }

    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Timed out waiting for {what}.");
    }

    /// <summary>Kills a process this test started (a helm child of the in-process server), by its pid.</summary>
    public static void Kill(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill();
        process.WaitForExit(10_000);
    }

    /// <summary>A copy of the sample chart with <see cref="BlockingHook"/>, in a temporary directory the caller deletes.</summary>
    public static string ChartWithBlockingHook()
    {
        var directory = SamplePackages.CopyTree(RepoFiles.Path("samples", "charts", "hello-web"), "pitrix-hook-chart-");
        AddBlockingHook(directory);
        return directory;
    }
}
