using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Testing;

namespace Pitrix.VmCluster.E2E.Tests;

/// <summary>A server running every role, the local runtime with the real agents, and helpers to drive clusters through the API.</summary>
public sealed class VmServerFixture : IAsyncLifetime
{
    private TestServer? _server;

    public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "sqlite",
        "--Providers:Local:StopGracePeriod=00:00:05");

    /// <summary>
    /// Stops the server, then ends whatever a failed test left running on its local runtime (agents and app
    /// processes carry their node's root, under the server's data directory, in PITRIX_ROOT).
    /// </summary>
    public async Task DisposeAsync()
    {
        if (_server is null)
        {
            return;
        }

        var dataDirectory = _server.DataDirectory;
        await _server.DisposeAsync();
        foreach (var pid in VmWorld.ProcessesUnder(dataDirectory))
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
                await System.Diagnostics.Process.GetProcessById(pid).WaitForExitAsync();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        // And the namespaces and host routes a netns runtime of a failed test left.
        var zones = Path.Combine(dataDirectory, "local");
        foreach (var zone in Directory.Exists(zones) ? Directory.EnumerateDirectories(zones) : [])
        {
            await new Pitrix.Providers.Local.LocalCloud(zone, new Pitrix.Providers.Local.LocalRuntimeOptions()).DeleteAllNamespacesAsync(CancellationToken.None);
        }
    }
}

/// <summary>The VM-cluster tests share one server and run one after another: each runs real app processes.</summary>
[CollectionDefinition(Name)]
public sealed class VmServerGroup : ICollectionFixture<VmServerFixture>
{
    public const string Name = "vm-clusters";
}

public static class VmWorld
{
    /// <summary>A public local runtime with a zone of its own and the given isolation (loopback or netns); returns its id and zone.</summary>
    public static async Task<(string Id, string Zone)> LocalRuntimeAsync(ApiSession admin, string isolation = "loopback")
    {
        var zone = ServerFixture.Unique("z");
        var labels = new Dictionary<string, string> { ["isolation"] = isolation };
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("local"), provider = "local", zone, visibility = "public", labels });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());
        return (runtime.Id, zone);
    }

    public static async Task<(string ClusterId, string JobId)> CreateAsync(ApiSession session, string versionId, string runtimeId, JsonObject values)
    {
        var created = await session.PostAsync("/api/v1/clusters", new { name = ServerFixture.Unique("zk"), app_version_id = versionId, runtime_id = runtimeId, values });
        Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
        return ((string)created.Body!["cluster"]!["id"]!, (string)created.Body["job"]!["id"]!);
    }

    /// <summary>Waits for the job to finish and its result to be applied; fails with the job's own account when it did not succeed.</summary>
    public static async Task<JsonNode> WaitAsync(ApiSession session, string clusterId, string jobId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(5));
        while (DateTime.UtcNow < deadline)
        {
            var job = await session.GetAsync($"/api/v1/jobs/{jobId}");
            var cluster = await session.GetAsync($"/api/v1/clusters/{clusterId}");
            if (job.Body!["job"]!["finished_at"] is not null && (string?)cluster.Body!["cluster"]!["transition"]?["job_id"] != jobId)
            {
                Assert.True((string?)job.Body["job"]!["status"] == "succeeded", $"job {jobId}: {Summary(job.Body)}");
                return job.Body;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Job {jobId} did not finish: {Summary((await session.GetAsync($"/api/v1/jobs/{jobId}")).Body!)}");
    }

    public static async Task<JsonNode> ActAsync(ApiSession session, string clusterId, string action, object? body = null)
    {
        var started = await session.PostAsync($"/api/v1/clusters/{clusterId}:{action}", body);
        Assert.True(started.Status == HttpStatusCode.Accepted, $"{action}: {started}");
        return await WaitAsync(session, clusterId, started.Id);
    }

    public static async Task<JsonNode> ClusterAsync(ApiSession session, string id) => (await session.GetAsync($"/api/v1/clusters/{id}")).Body!;

    public static async Task<List<(string Id, string Ip)>> RunningNodesAsync(ApiSession session, string clusterId) =>
        (await ClusterAsync(session, clusterId))["nodes"]!.AsArray()
            .Where(n => (string?)n!["status"] == "running")
            .Select(n => ((string)n!["id"]!, (string)n["private_ip"]!)).ToList();

    /// <summary>A ZooKeeper four-letter-word command on a node's client address; null when nothing answers.</summary>
    public static async Task<string?> FourLetterAsync(NodeAccess access, string ip, string command)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await using var stream = await access.ConnectAsync(ip, 2181, timeout.Token);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            return await reader.ReadToEndAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Waits until every node answers <c>srvr</c> in a quorum: one leader, the rest followers (a lone server: standalone).</summary>
    public static async Task<Dictionary<string, string>> WaitForQuorumAsync(NodeAccess access, IReadOnlyList<(string Id, string Ip)> nodes, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        var modes = new Dictionary<string, string>();
        while (DateTime.UtcNow < deadline)
        {
            modes.Clear();
            foreach (var (_, ip) in nodes)
            {
                var answer = await FourLetterAsync(access, ip, "srvr");
                var mode = answer?.Split('\n').FirstOrDefault(l => l.StartsWith("Mode: ", StringComparison.Ordinal))?["Mode: ".Length..].Trim();
                modes[ip] = mode ?? "(no answer)";
            }

            if ((nodes.Count == 1 && modes.Values.Single() == "standalone")
                || (modes.Values.Count(m => m == "leader") == 1 && modes.Values.Count(m => m == "follower") == nodes.Count - 1))
            {
                return modes;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"No quorum of {nodes.Count}: {string.Join(", ", modes.Select(m => $"{m.Key}={m.Value}"))}");
    }

    /// <summary>Runs Debian's zkCli.sh against one node.</summary>
    public static async Task<string> ZkCliAsync(NodeAccess access, string ip, params string[] command)
    {
        var start = access.Command("/usr/share/zookeeper/bin/zkCli.sh");
        start.ArgumentList.Add("-server");
        start.ArgumentList.Add($"{ip}:2181");
        foreach (var part in command)
        {
            start.ArgumentList.Add(part);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return await output + await error;
    }

    /// <summary>
    /// Loopback isolation: every node on a loopback address, reached from the host. Netns isolation: every node on
    /// an address of 198.18.0.0/15 that the host has no route to (a connection fails at once, no packet leaves),
    /// reached only from inside the network.
    /// </summary>
    public static async Task AssertIsolationAsync(string isolation, NodeAccess access, IReadOnlyList<(string Id, string Ip)> nodes)
    {
        if (isolation == "loopback")
        {
            Assert.Same(NodeAccess.Host, access);
            Assert.All(nodes, n => Assert.StartsWith("127.", n.Ip));
            return;
        }

        Assert.NotNull(access.NamespacePath);
        var range = IPNetwork.Parse("198.18.0.0/15");
        foreach (var (_, ip) in nodes)
        {
            Assert.True(range.Contains(IPAddress.Parse(ip)), $"{ip} is not in {range}");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var refused = await Assert.ThrowsAnyAsync<SocketException>(() => NodeAccess.Host.ConnectAsync(ip, 2181, timeout.Token));
            Assert.True(refused.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable, $"from the host, {ip}:2181 gave {refused.SocketErrorCode}, not 'no route'");
        }
    }

    /// <summary>After the runtime's last cluster is ceased: no network namespace of the zone and no host route Pitrix added for it is left.</summary>
    public static async Task AssertNetworkGoneAsync(string zoneRoot, string nodeIp)
    {
        Assert.Empty(new Pitrix.Providers.Local.LocalCloud(zoneRoot, new Pitrix.Providers.Local.LocalRuntimeOptions()).FindNamespaces());
        var start = new System.Diagnostics.ProcessStartInfo("ip", ["route", "show", "proto", "201"]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var routes = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var address = IPAddress.Parse(nodeIp);
        Assert.DoesNotContain(
            routes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 1 && f[0] == "unreachable").Select(f => f[1]),
            cidr => IPNetwork.TryParse(cidr, out var range) && range.Contains(address));
    }

    /// <summary>Processes whose node root (PITRIX_ROOT) lies under <paramref name="directory"/>.</summary>
    public static List<int> ProcessesUnder(string directory) => ProcessesWith(Encoding.ASCII.GetBytes($"PITRIX_ROOT={directory}"));

    /// <summary>Processes carrying a local instance's marker (the agent and every app process it started).</summary>
    public static List<int> ProcessesOf(string instanceId) => ProcessesWith(Encoding.ASCII.GetBytes($"PITRIX_LOCAL_INSTANCE={instanceId}\0"));

    private static List<int> ProcessesWith(byte[] marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var environment = File.ReadAllBytes(Path.Combine(dir, "environ"));
                if (environment.AsSpan().IndexOf(marker) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>What a failing test shows about a zone's nodes: each one's rendered files, app output and agent log tail.</summary>
    public static string Diagnose(string zoneRoot)
    {
        var report = new StringBuilder();
        foreach (var instance in Directory.Exists(Path.Combine(zoneRoot, "instances")) ? Directory.EnumerateDirectories(Path.Combine(zoneRoot, "instances")) : [])
        {
            report.AppendLine($"=== {Path.GetFileName(instance)}");
            foreach (var relative in new[] { "root/etc/zookeeper/conf/zoo.cfg", "root/var/lib/zookeeper/myid", "root/var/log/zookeeper/zookeeper.out", "agent.log" })
            {
                var path = Path.Combine(instance, relative);
                if (File.Exists(path))
                {
                    var text = File.ReadAllText(path);
                    report.AppendLine($"--- {relative}").AppendLine(text.Length > 3000 ? text[^3000..] : text);
                }
            }
        }

        return report.ToString();
    }

    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Timed out waiting for {what}.");
    }

    private static string Summary(JsonNode job)
    {
        var header = job["job"]!;
        var failed = job["tasks"]?.AsArray().Where(t => (string?)t!["status"] is "failed").Select(t => $"{t!["key"]}: {t["error_code"]} {t["error_message"]} {t["output"]}");
        return $"{header["status"]} {header["error_code"]} {header["error_message"]} | {string.Join(" | ", failed ?? [])}";
    }
}
