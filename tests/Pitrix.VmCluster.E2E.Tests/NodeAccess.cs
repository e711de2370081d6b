using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Pitrix.Agent;
using Pitrix.Providers.Local;

namespace Pitrix.VmCluster.E2E.Tests;

/// <summary>
/// Where a test reaches a cluster's nodes from: the host itself (loopback isolation, every node address is local),
/// or the network namespace of the runtime's frontgate (netns isolation: the server has no route to the nodes, so
/// the test looks at them from inside their network, as an operator would through a bastion).
/// </summary>
public sealed class NodeAccess
{
    private NodeAccess(string? namespacePath) => NamespacePath = namespacePath;

    /// <summary>Nodes reached from the host.</summary>
    public static NodeAccess Host { get; } = new(null);

    /// <summary>The namespace connections and commands run in; null on the host.</summary>
    public string? NamespacePath { get; }

    /// <summary>The access to a runtime's nodes: from its frontgate's namespace when its network is one of namespaces.</summary>
    public static async Task<NodeAccess> OfRuntimeAsync(string zoneRoot, string runtimeId)
    {
        var cloud = new LocalCloud(zoneRoot, new LocalRuntimeOptions());
        var frontgate = await cloud.FindInstanceAsync($"frontgate/{runtimeId}", CancellationToken.None)
            ?? throw new InvalidOperationException($"Runtime {runtimeId} has no frontgate instance in {zoneRoot}.");
        return cloud.InstanceNamespacePath(frontgate.Id) is { } path ? new NodeAccess(path) : Host;
    }

    /// <summary>A TCP connection to <paramref name="ip"/>:<paramref name="port"/> from where this access stands.</summary>
    public async Task<NetworkStream> ConnectAsync(string ip, int port, CancellationToken cancellationToken)
    {
        var socket = NamespacePath is null
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : NetworkNamespace.CreateSocket(NamespacePath, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Parse(ip), port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A command started from where this access stands: through <c>nsenter --net=</c> in a namespace.</summary>
    public ProcessStartInfo Command(string fileName)
    {
        if (NamespacePath is null)
        {
            return new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        }

        var start = new ProcessStartInfo("/usr/bin/nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--net=" + NamespacePath);
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(fileName);
        return start;
    }

    public override string ToString() => NamespacePath ?? "host";
}
