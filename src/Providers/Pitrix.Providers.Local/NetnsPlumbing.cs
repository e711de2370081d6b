using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local;

/// <summary>
/// The Linux plumbing of a local cloud in <see cref="LocalIsolation.Netns"/> mode, done with iproute2's
/// <c>ip</c> (every value passed as its own argument, never through a shell):
/// <list type="bullet">
/// <item>A network is a <em>switch</em> namespace holding a bridge, <c>br0</c>, and, in the host's main routing
/// table, an <c>unreachable</c> route for its range (protocol <see cref="RouteProtocol"/>), so the server has no
/// route to any of its addresses and no packet for them leaves the machine.</item>
/// <item>An instance is a namespace of its own with loopback up and one interface, <c>eth0</c>, holding its
/// private address; the other end of that veth pair is a port of the network's bridge. Nothing else: no default
/// route, so a node reaches its network and nothing beyond, as in a private VPC subnet.</item>
/// </list>
/// Namespace names are <c>pitrix-&lt;zone tag&gt;-&lt;id&gt;</c>, the tag being 8 hex digits of the zone
/// directory's hash, so zones never clash and a zone's namespaces are found by prefix. Every call may be
/// repeated: it finishes what an earlier call killed half-way left.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class NetnsPlumbing(string zoneRoot)
{
    /// <summary>The routing protocol number that marks the unreachable routes Pitrix adds (a free number of <c>rt_protos</c>).</summary>
    public const string RouteProtocol = "201";

    private const string BridgeName = "br0";

    private const string InstanceInterface = "eth0";

    private static readonly string[] IpPaths = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The prefix of every namespace of this zone.</summary>
    public string Prefix { get; } = "pitrix-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(zoneRoot)))[..8] + "-";

    /// <summary>The namespace of a network (its switch) or of an instance.</summary>
    public string NamespaceName(string id) => Prefix + id;

    /// <summary>The path of a namespace's handle, what <c>nsenter --net=</c> and <c>setns</c> take.</summary>
    public static string NamespacePath(string name) => Path.Combine("/run/netns", name);

    /// <summary>
    /// The ranges of the host's main routing table that <paramref name="range"/> must not overlap: all but the
    /// default route and this plumbing's own unreachable route for exactly <paramref name="range"/>.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ConflictingHostRoutesAsync(IPNetwork range, CancellationToken cancellationToken)
    {
        var output = await RunAsync(["-j", "route", "show"], cancellationToken);
        var conflicts = new List<string>();
        using var routes = JsonDocument.Parse(output.Length == 0 ? "[]" : output);
        foreach (var route in routes.RootElement.EnumerateArray())
        {
            var destination = route.TryGetProperty("dst", out var dst) ? dst.GetString() : null;
            if (destination is null or "default")
            {
                continue;
            }

            var routeRange = destination.Contains('/', StringComparison.Ordinal) ? destination : destination + "/32";
            if (!IPNetwork.TryParse(routeRange, out var other) || other.BaseAddress.AddressFamily != range.BaseAddress.AddressFamily)
            {
                continue;
            }

            var ours = route.TryGetProperty("protocol", out var protocol) && protocol.GetString() == RouteProtocol && other.Equals(range);
            if (!ours && (other.Contains(range.BaseAddress) || range.Contains(other.BaseAddress)))
            {
                conflicts.Add(destination);
            }
        }

        return conflicts;
    }

    /// <summary>Makes the network's switch namespace, its bridge and the host's unreachable route for its range.</summary>
    public async Task EnsureNetworkAsync(string networkId, IPNetwork range, CancellationToken cancellationToken)
    {
        var name = NamespaceName(networkId);
        await EnsureNamespaceAsync(name, cancellationToken);
        if (!await SucceedsAsync(["-n", name, "link", "show", BridgeName], cancellationToken))
        {
            await RunAsync(["-n", name, "link", "add", BridgeName, "type", "bridge"], cancellationToken);
        }

        await RunAsync(["-n", name, "link", "set", BridgeName, "up"], cancellationToken);
        await RunAsync(["route", "replace", "unreachable", range.ToString(), "proto", RouteProtocol], cancellationToken);
    }

    /// <summary>Removes the network's switch namespace and the host's route for its range (nothing when gone).</summary>
    public async Task DeleteNetworkAsync(string networkId, IPNetwork range, CancellationToken cancellationToken)
    {
        await DeleteNamespaceAsync(NamespaceName(networkId), cancellationToken);
        if (await SucceedsAsync(["route", "show", "exact", range.ToString(), "proto", RouteProtocol], cancellationToken, requireOutput: true))
        {
            await RunAsync(["route", "del", "unreachable", range.ToString(), "proto", RouteProtocol], cancellationToken);
        }
    }

    /// <summary>
    /// Makes the instance's namespace with <c>eth0</c> holding <paramref name="address"/> in
    /// <paramref name="range"/>, plugged into the network's bridge.
    /// </summary>
    public async Task EnsureInstanceAsync(string instanceId, string networkId, IPNetwork range, string address, CancellationToken cancellationToken)
    {
        var name = NamespaceName(instanceId);
        var switchName = NamespaceName(networkId);
        await EnsureNamespaceAsync(name, cancellationToken);

        // The switch's end is named after the instance (v + its 12 hex digits, within the 15 a name may have).
        var port = "v" + instanceId[(instanceId.IndexOf('-', StringComparison.Ordinal) + 1)..];
        if (!await SucceedsAsync(["-n", name, "link", "show", InstanceInterface], cancellationToken))
        {
            // A pair half made by a killed call has its switch end left: removed, then made whole again.
            if (await SucceedsAsync(["-n", switchName, "link", "show", port], cancellationToken))
            {
                await RunAsync(["-n", switchName, "link", "del", port], cancellationToken);
            }

            await RunAsync(["link", "add", InstanceInterface, "netns", name, "type", "veth", "peer", "name", port, "netns", switchName], cancellationToken);
        }

        await RunAsync(["-n", name, "addr", "replace", $"{address}/{range.PrefixLength}", "dev", InstanceInterface], cancellationToken);
        await RunAsync(["-n", name, "link", "set", InstanceInterface, "up"], cancellationToken);
        await RunAsync(["-n", switchName, "link", "set", port, "master", BridgeName, "up"], cancellationToken);
    }

    /// <summary>Removes the instance's namespace, and with it its veth pair (nothing when gone).</summary>
    public Task DeleteInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        DeleteNamespaceAsync(NamespaceName(instanceId), cancellationToken);

    /// <summary>Makes and removes a namespace, proving this machine allows it; returns its name.</summary>
    public static async Task<string> ProbeAsync(CancellationToken cancellationToken)
    {
        var name = "pitrix-probe-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        await EnsureNamespaceAsync(name, cancellationToken);
        await DeleteNamespaceAsync(name, cancellationToken);
        return name;
    }

    /// <summary>The namespaces of this zone that exist now.</summary>
    public IReadOnlyList<string> FindNamespaces() =>
        Directory.Exists("/run/netns")
            ? Directory.EnumerateFiles("/run/netns", Prefix + "*").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal).ToList()
            : [];

    private static async Task EnsureNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        if (!File.Exists(NamespacePath(name)))
        {
            await RunAsync(["netns", "add", name], cancellationToken);
        }

        await RunAsync(["-n", name, "link", "set", "lo", "up"], cancellationToken);
    }

    /// <summary>Removes a namespace by name (nothing when gone).</summary>
    public static async Task DeleteNamespaceAsync(string name, CancellationToken cancellationToken)
    {
        if (File.Exists(NamespacePath(name)))
        {
            await RunAsync(["netns", "delete", name], cancellationToken);
        }
    }

    private static async Task<bool> SucceedsAsync(string[] arguments, CancellationToken cancellationToken, bool requireOutput = false)
    {
        var (exitCode, output, _) = await ExecuteAsync(arguments, cancellationToken);
        return exitCode == 0 && (!requireOutput || output.Trim().Length > 0);
    }

    private static async Task<string> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var (exitCode, output, error) = await ExecuteAsync(arguments, cancellationToken);
        return exitCode == 0
            ? output
            : throw CloudException.Unavailable($"'ip {string.Join(' ', arguments)}' failed (exit {exitCode}): {error.Trim()}");
    }

    private static async Task<(int ExitCode, string Output, string Error)> ExecuteAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var ip = IpPaths.FirstOrDefault(File.Exists)
            ?? throw CloudException.InvalidState("The local runtime's netns isolation needs iproute2's ip command (apt-get install iproute2).");
        var start = new ProcessStartInfo(ip) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw CloudException.Unavailable("Could not start the ip command.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw CloudException.Unavailable($"'ip {string.Join(' ', arguments)}' did not finish within {CommandTimeout.TotalSeconds} s.");
        }
    }
}
