using System.Diagnostics;
using System.Text;

namespace Pitrix.VmCluster.E2E.Tests;

/// <summary>Helpers of the etcd sample's tests: Debian's etcdctl against the nodes' client URLs.</summary>
public static class EtcdWorld
{
    /// <summary>One member as <c>etcdctl member list</c> shows it.</summary>
    public sealed record Member(string Id, string Status, string Name, string PeerUrls, string ClientUrls);

    /// <summary>Runs <c>etcdctl --endpoints=http://ip:2379 ...</c> (API v3); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> EtcdctlAsync(NodeAccess access, string ip, params string[] command)
    {
        var start = access.Command("/usr/bin/etcdctl");
        start.Environment["ETCDCTL_API"] = "3";
        start.ArgumentList.Add($"--endpoints=http://{ip}:2379");
        start.ArgumentList.Add("--dial-timeout=3s");
        start.ArgumentList.Add("--command-timeout=10s");
        foreach (var part in command)
        {
            start.ArgumentList.Add(part);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await error);
    }

    public static async Task<bool> HealthyAsync(NodeAccess access, string ip) => (await EtcdctlAsync(access, ip, "endpoint", "health")).ExitCode == 0;

    /// <summary>The membership as one node sees it; null when it does not answer.</summary>
    public static async Task<List<Member>?> MembersAsync(NodeAccess access, string ip)
    {
        var (code, output) = await EtcdctlAsync(access, ip, "member", "list");
        if (code != 0)
        {
            return null;
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(", "))
            .Where(f => f.Length >= 5)
            .Select(f => new Member(f[0], f[1], f[2], f[3], f[4]))
            .ToList();
    }

    /// <summary>
    /// Waits until every node answers its health check and sees exactly these nodes as started members, each
    /// advertising its own IP; returns the membership.
    /// </summary>
    public static async Task<List<Member>> WaitForMembersAsync(NodeAccess access, IReadOnlyList<(string Id, string Ip)> nodes, string zoneRoot, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        var expected = nodes.Select(n => $"http://{n.Ip}:2380").Order(StringComparer.Ordinal).ToList();
        var last = "(nothing yet)";
        while (DateTime.UtcNow < deadline)
        {
            var ok = true;
            List<Member>? members = null;
            foreach (var (_, ip) in nodes)
            {
                if (!await HealthyAsync(access, ip))
                {
                    last = $"{ip} is not healthy";
                    ok = false;
                    break;
                }

                members = await MembersAsync(access, ip);
                var peers = members?.Where(m => m.Status == "started").Select(m => m.PeerUrls).Order(StringComparer.Ordinal).ToList();
                if (members is null || members.Count != nodes.Count || peers is null || !peers.SequenceEqual(expected))
                {
                    last = $"{ip} sees {(members is null ? "nothing" : string.Join("; ", members))}";
                    ok = false;
                    break;
                }
            }

            if (ok)
            {
                return members!;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"The {nodes.Count} members did not settle: {last}\n{Diagnose(zoneRoot)}");
    }

    /// <summary>A file's text, or empty while it does not exist (a pid file between stop and start).</summary>
    public static async Task<string> ReadIfAnyAsync(string path)
    {
        try
        {
            return await File.ReadAllTextAsync(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "";
        }
    }

    /// <summary>What a failing test shows about a zone's nodes: rendered files, etcd's log and the agent log's tail.</summary>
    public static string Diagnose(string zoneRoot)
    {
        var report = new StringBuilder();
        var instances = Path.Combine(zoneRoot, "instances");
        foreach (var instance in Directory.Exists(instances) ? Directory.EnumerateDirectories(instances) : [])
        {
            report.AppendLine($"=== {Path.GetFileName(instance)}");
            foreach (var relative in new[] { "root/etc/etcd/etcd.conf.yml", "root/etc/etcd/pitrix-members", "root/var/log/etcd/etcd.log", "agent.log" })
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
}
