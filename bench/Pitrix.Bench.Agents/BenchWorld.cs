using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Packages;
using Pitrix.Testing;

namespace Pitrix.Bench.Agents;

/// <summary>A cluster the benchmark created: its ids, where its nodes live, and the job that made it.</summary>
public sealed record BenchCluster(string Id, string RuntimeId, string Zone, IReadOnlyList<BenchNode> Nodes);

public sealed record BenchNode(string Id, string InstanceId, string Ip);

/// <summary>
/// What the benchmark needs of the API, after tests/Pitrix.VmCluster.E2E.Tests/VmWorld.cs (copied rather than
/// referenced: the benchmark must not depend on a test project); failures throw instead of asserting.
/// </summary>
public static class BenchWorld
{
    public static string PackageDirectory => RepoFiles.Path("bench", "Pitrix.Bench.Agents", "package");

    /// <summary>Uploads the bench package under a unique name and takes it through review to active.</summary>
    public static async Task<string> ReleaseBenchPackageAsync(ApiSession admin, string repoId)
    {
        var work = Directory.CreateTempSubdirectory("pitrix-bench-pkg-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(PackageDirectory, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(work, Path.GetRelativePath(PackageDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var metadataPath = Path.Combine(work, "package.json");
            var metadata = JsonNode.Parse(await File.ReadAllTextAsync(metadataPath))!;
            metadata["name"] = ServerFixture.Unique("agent-bench");
            await File.WriteAllTextAsync(metadataPath, metadata.ToJsonString());
            var (_, archive, _) = await PackageBuilder.BuildAsync(work, CancellationToken.None);
            var uploaded = await admin.UploadAsync("/api/v1/apps", archive, fields: new Dictionary<string, string> { ["repo_id"] = repoId });
            Expect(uploaded.Status == HttpStatusCode.Created, $"upload: {uploaded}");
            foreach (var action in new[] { "submit", "review", "pass", "release" })
            {
                var moved = await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{action}");
                Expect(moved.Status == HttpStatusCode.OK, $"{action}: {moved}");
            }

            return uploaded.Id;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A public local runtime with a zone of its own.</summary>
    public static async Task<(string Id, string Zone)> LocalRuntimeAsync(ApiSession admin)
    {
        var zone = ServerFixture.Unique("z");
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("local"), provider = "local", zone, visibility = "public" });
        Expect(runtime.Status == HttpStatusCode.Created, $"runtime: {runtime}");
        return (runtime.Id, zone);
    }

    public static JsonObject BenchValues(int count, string value) => new()
    {
        ["cluster"] = new JsonObject { ["subnet"] = "default", ["bench_node"] = new JsonObject { ["count"] = count } },
        ["env"] = new JsonObject { ["value"] = value },
    };

    public static JsonObject ZooKeeperValues(int count) => new()
    {
        ["cluster"] = new JsonObject { ["subnet"] = "default", ["zk_node"] = new JsonObject { ["count"] = count, ["volume_size"] = 10 } },
        ["env"] = new JsonObject { ["four_letter_words"] = "ruok,srvr,conf" },
    };

    public static async Task<(string ClusterId, string JobId)> CreateAsync(ApiSession session, string versionId, string runtimeId, JsonObject values)
    {
        var created = await session.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("bench"), app_version_id = versionId, runtime_id = runtimeId, values });
        Expect(created.Status == HttpStatusCode.Accepted, $"create: {created}");
        return ((string)created.Body!["cluster"]!["id"]!, (string)created.Body["job"]!["id"]!);
    }

    /// <summary>Waits for the job to finish and its result to be applied; throws with the job's account when it did not succeed.</summary>
    public static async Task WaitAsync(ApiSession session, string clusterId, string jobId, TimeSpan timeout, Func<bool>? abort = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var job = await session.GetAsync($"/api/v1/jobs/{jobId}");
            var cluster = await session.GetAsync($"/api/v1/clusters/{clusterId}");
            if (job.Body!["job"]!["finished_at"] is not null && (string?)cluster.Body!["cluster"]!["transition"]?["job_id"] != jobId)
            {
                Expect((string?)job.Body["job"]!["status"] == "succeeded", $"job {jobId}: {Summary(job.Body)}");
                return;
            }

            if (abort?.Invoke() == true)
            {
                throw new InvalidOperationException($"Job {jobId} aborted by the benchmark.");
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Job {jobId} did not finish in {timeout}: {Summary((await session.GetAsync($"/api/v1/jobs/{jobId}")).Body!)}");
    }

    public static async Task ActAsync(ApiSession session, string clusterId, string action, object? body, TimeSpan timeout)
    {
        var started = await session.PostAsync($"/api/v1/clusters/{clusterId}:{action}", body);
        Expect(started.Status == HttpStatusCode.Accepted, $"{action}: {started}");
        await WaitAsync(session, clusterId, started.Id, timeout);
    }

    /// <summary>Deletes and then ceases the cluster (force), as an operator would to remove it at once.</summary>
    public static async Task CeaseAsync(ApiSession session, string clusterId, TimeSpan timeout)
    {
        var status = await StatusAsync(session, clusterId);
        if (status is "active" or "stopped" or "suspended")
        {
            await ActAsync(session, clusterId, "delete", null, timeout);
            status = await StatusAsync(session, clusterId);
        }

        if (status is "deleted" or "failed")
        {
            await ActAsync(session, clusterId, "cease", new { force = true }, timeout);
        }
    }

    public static async Task<string?> StatusAsync(ApiSession session, string clusterId) =>
        (string?)(await session.GetAsync($"/api/v1/clusters/{clusterId}")).Body?["cluster"]?["status"];

    public static async Task<BenchCluster> DescribeAsync(ApiSession session, string clusterId, string runtimeId, string zone)
    {
        var cluster = (await session.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
        Expect((string?)cluster["cluster"]!["status"] == "active", $"cluster {clusterId} is {cluster["cluster"]!["status"]}");
        var nodes = cluster["nodes"]!.AsArray()
            .Where(n => (string?)n!["status"] == "running")
            .Select(n => new BenchNode((string)n!["id"]!, (string)n["instance_id"]!, (string)n["private_ip"]!))
            .ToList();
        return new BenchCluster(clusterId, runtimeId, zone, nodes);
    }

    /// <summary>A ZooKeeper four-letter-word command on a node's client address; null when nothing answers.</summary>
    public static async Task<string?> FourLetterAsync(string ip, string command)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await client.ConnectAsync(IPAddress.Parse(ip), 2181, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            return await reader.ReadToEndAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Waits until every node answers <c>srvr</c> in a quorum: one leader, the rest followers.</summary>
    public static async Task WaitForQuorumAsync(IReadOnlyList<BenchNode> nodes, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var modes = new Dictionary<string, string>();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            modes.Clear();
            foreach (var node in nodes)
            {
                var answer = await FourLetterAsync(node.Ip, "srvr");
                var mode = answer?.Split('\n').FirstOrDefault(l => l.StartsWith("Mode: ", StringComparison.Ordinal))?["Mode: ".Length..].Trim();
                modes[node.Ip] = mode ?? "(no answer)";
            }

            if (modes.Values.Count(m => m == "leader") == 1 && modes.Values.Count(m => m == "follower") == nodes.Count - 1)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No quorum of {nodes.Count}: {string.Join(", ", modes.Select(m => $"{m.Key}={m.Value}"))}");
    }

    public static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    private static string Summary(JsonNode job)
    {
        var header = job["job"]!;
        var failed = job["tasks"]?.AsArray().Where(t => (string?)t!["status"] is "failed").Select(t => $"{t!["key"]}: {t["error_code"]} {t["error_message"]} {t["output"]}");
        return $"{header["status"]} {header["error_code"]} {header["error_message"]} | {string.Join(" | ", failed ?? [])}";
    }
}
