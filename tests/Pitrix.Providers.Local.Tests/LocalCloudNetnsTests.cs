using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pitrix.Agent;
using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local.Tests;

/// <summary>
/// The local cloud with netns isolation (these tests run as root, as test.sh does): real network namespaces, a
/// bridge per network, veth pairs, and the host's unreachable route. Agents are the <see cref="TestAgentScript"/>;
/// what each test makes is removed afterwards, namespaces and routes included.
/// </summary>
public sealed class LocalCloudNetnsTests : IAsyncLifetime, IDisposable
{
    // Shared address space (RFC 6598), away from the 198.18.0.0/15 the provider picks by default for runtimes.
    private const string Cidr = "100.64.201.0/24";

    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-local-netns-").FullName;
    private readonly TestAgentScript _agent;
    private readonly LocalCloud _cloud;
    private readonly List<string> _instances = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private CloudNetwork? _network;

    public LocalCloudNetnsTests()
    {
        _agent = new TestAgentScript(_directory);
        var options = new LocalRuntimeOptions { DroneCommand = _agent.Path, FrontgateCommand = _agent.Path, StopGracePeriod = TimeSpan.FromSeconds(5) };
        _cloud = new LocalCloud(Path.Combine(_directory, "zone"), options, isolation: LocalIsolation.Netns);
    }

    private CancellationToken Ct => _timeout.Token;

    private string NetworkId => _network?.Id ?? throw new InvalidOperationException("The network is made in InitializeAsync.");

    public async Task InitializeAsync() =>
        _network = await _cloud.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", Cidr), Ct);

    public async Task DisposeAsync()
    {
        foreach (var instanceId in _instances)
        {
            await _cloud.Launcher.StopAllAsync(instanceId, TimeSpan.FromSeconds(1), CancellationToken.None);
        }

        await _cloud.DeleteAllNamespacesAsync(CancellationToken.None);
        Assert.Empty(_cloud.FindNamespaces());
        Assert.DoesNotContain(Cidr, await HostRoutesAsync(), StringComparison.Ordinal);
        Directory.Delete(_directory, recursive: true);
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Network_IsASwitchNamespace_AndAnUnreachableHostRoute_BothGoneWhenItIsDeleted()
    {
        Assert.Single(_cloud.FindNamespaces());
        Assert.Contains($"unreachable {Cidr} proto 201", await HostRoutesAsync(), StringComparison.Ordinal);

        // The same key again changes nothing.
        Assert.Equal(NetworkId, (await _cloud.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", Cidr), Ct)).Id);

        await _cloud.DeleteNetworkAsync(NetworkId, Ct);

        Assert.Empty(_cloud.FindNamespaces());
        Assert.DoesNotContain(Cidr, await HostRoutesAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_RunsItsAgentInANamespaceOfItsOwn_WithItsAddressOnEth0()
    {
        var instance = await CreateAsync("node-1");
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var path = _cloud.InstanceNamespacePath(instance.Id);

        Assert.NotNull(path);
        Assert.Equal(NamespaceOf(path), new FileInfo($"/proc/{pid}/ns/net").LinkTarget);
        Assert.NotEqual(HostNamespace(), NamespaceOf(path));

        // The app the agent daemonized is in it too.
        Assert.Equal(NamespaceOf(path), new FileInfo($"/proc/{_agent.Child(instance.Id, pid)}/ns/net").LinkTarget);
        var addresses = await RunAsync("ip", "-n", Path.GetFileName(path), "-o", "-4", "addr", "show", "eth0");
        Assert.Contains($"inet {instance.PrivateIp}/24", addresses, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frontgate_RunsOnTheHost_AndIsToldToListenInItsInstanceNamespace()
    {
        var instance = await CreateAsync("fg-1", AgentKinds.Frontgate);
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var root = _cloud.InstanceRoot(instance.Id);
        var path = _cloud.InstanceNamespacePath(instance.Id);

        Assert.Equal(HostNamespace(), new FileInfo($"/proc/{pid}/ns/net").LinkTarget);
        Assert.Equal(
            ["--bootstrap", $"{root}/etc/pitrix/agent.json", "--data-dir", $"{root}/var/lib/pitrix-agent", "--listen-netns", path!],
            _agent.Record(instance.Id, pid).Where(l => l.StartsWith("arg=", StringComparison.Ordinal)).Select(l => l[4..]));
    }

    [Fact]
    public async Task Instances_ReachEachOtherOverTheBridge_TheHostReachesNone()
    {
        var a = await CreatePlainAsync("a");
        var b = await CreatePlainAsync("b");
        using var listener = NetworkNamespace.Run(_cloud.InstanceNamespacePath(a.Id)!, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(a.PrivateIp!), 7070));
            socket.Listen();
            return socket;
        });

        using var client = NetworkNamespace.CreateSocket(_cloud.InstanceNamespacePath(b.Id)!, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Parse(a.PrivateIp!), 7070, Ct);
        using var accepted = await listener.AcceptAsync(Ct);
        await client.SendAsync(Encoding.ASCII.GetBytes("over the bridge"), Ct);
        var buffer = new byte[64];
        var read = await accepted.ReceiveAsync(buffer, Ct);
        Assert.Equal("over the bridge", Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal(b.PrivateIp, ((IPEndPoint)accepted.RemoteEndPoint!).Address.ToString());

        using var fromHost = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAnyAsync<SocketException>(() => fromHost.ConnectAsync(IPAddress.Parse(a.PrivateIp!), 7070, Ct).AsTask());
        Assert.Equal(SocketError.HostUnreachable, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Terminate_RemovesTheInstanceNamespace()
    {
        var instance = await CreateAsync("node-1");
        await _agent.WaitForStartsAsync(instance.Id, 1);
        var path = _cloud.InstanceNamespacePath(instance.Id)!;
        Assert.True(File.Exists(path));

        await _cloud.TerminateInstanceAsync(instance.Id, Ct);

        Assert.False(File.Exists(path));
        Assert.Empty(_cloud.Launcher.FindAll(instance.Id));
        Assert.Single(_cloud.FindNamespaces());
    }

    [Fact]
    public async Task AfterAReboot_NamespacesGone_DescribeMakesThemAgain_AndRestartsTheAgentInside()
    {
        var instance = await CreateAsync("node-1");
        var first = await _agent.WaitForStartsAsync(instance.Id, 1);

        // A reboot: every process gone, /run/netns emptied.
        await _cloud.Launcher.StopAllAsync(instance.Id, TimeSpan.FromSeconds(1), Ct);
        foreach (var name in _cloud.FindNamespaces())
        {
            await RunAsync("ip", "netns", "delete", name);
        }

        Assert.Empty(_cloud.FindNamespaces());

        await _cloud.DescribeInstanceAsync(instance.Id, Ct);

        var second = await _agent.WaitForStartsAsync(instance.Id, 2);
        Assert.NotEqual(first, second);
        var path = _cloud.InstanceNamespacePath(instance.Id)!;
        Assert.Equal(NamespaceOf(path), new FileInfo($"/proc/{second}/ns/net").LinkTarget);
        Assert.Contains($"inet {instance.PrivateIp}/24", await RunAsync("ip", "-n", Path.GetFileName(path), "-o", "-4", "addr", "show", "eth0"), StringComparison.Ordinal);
        Assert.Equal(2, _cloud.FindNamespaces().Count);
    }

    [Theory]
    [InlineData("127.90.0.0/24")]
    [InlineData("8.8.8.0/24")]
    [InlineData("10.0.0.0/8")]
    public async Task EnsureNetwork_ARangeThatIsNotPrivateOrTooLarge_IsInvalidRequest(string cidr)
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => _cloud.EnsureNetworkAsync(new CloudNetworkRequest("other", "other", cidr), Ct));

        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
        Assert.Single(_cloud.FindNamespaces());
    }

    [Fact]
    public async Task EnsureNetwork_OverlappingAHostRoute_IsInvalidRequest_NamingIt()
    {
        // Another zone's network holds 100.64.201.0/24 with its host route; a range overlapping it is refused.
        var other = new LocalCloud(Path.Combine(_directory, "other-zone"), new LocalRuntimeOptions(), isolation: LocalIsolation.Netns);

        var error = await Assert.ThrowsAsync<CloudException>(() => other.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", "100.64.201.128/25"), Ct));

        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
        Assert.Contains(Cidr, error.Message, StringComparison.Ordinal);
        Assert.Empty(other.FindNamespaces());
    }

    private async Task<CloudInstance> CreateAsync(string nodeId, string agent = AgentKinds.Node)
    {
        var instance = await _cloud.CreateInstanceAsync(
            new CloudInstanceRequest(nodeId, NetworkId, nodeId, 1, 256, "pitrix-node")
            {
                UserData = new AgentBootstrap { Agent = agent, Id = nodeId, JoinToken = "join-token", CaPem = "-----BEGIN CERTIFICATE-----" }.ToJson(),
            },
            Ct);
        _instances.Add(instance.Id);
        Assert.True(IPNetwork.Parse(Cidr).Contains(IPAddress.Parse(instance.PrivateIp!)), $"{instance.PrivateIp} is not in {Cidr}");
        return instance;
    }

    private async Task<CloudInstance> CreatePlainAsync(string key)
    {
        var instance = await _cloud.CreateInstanceAsync(new CloudInstanceRequest(key, NetworkId, key, 1, 256, "image"), Ct);
        _instances.Add(instance.Id);
        return instance;
    }

    /// <summary>The namespace a path names, as <c>/proc/PID/ns/net</c> shows it (<c>net:[inode]</c>).</summary>
    private static string NamespaceOf(string path) => NetworkNamespace.Run(path, () => new FileInfo("/proc/thread-self/ns/net").LinkTarget!);

    private static string HostNamespace() => new FileInfo("/proc/self/ns/net").LinkTarget!;

    private static Task<string> HostRoutesAsync() => RunAsync("ip", "route", "show");

    private static async Task<string> RunAsync(string fileName, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{fileName} {string.Join(' ', arguments)}: {error}");
        return output;
    }
}

/// <summary>The local cloud with netns isolation passes the cloud driver conformance suite too.</summary>
public sealed class LocalCloudNetnsConformanceTests : Conformance.CloudDriverConformanceTests
{
    private readonly string _root = Directory.CreateTempSubdirectory("pitrix-local-netns-cloud-").FullName;

    protected override string Cidr => "100.64.203.0/24";

    protected override string CidrOf(string name) => name == "net" ? Cidr : "100.64.204.0/24";

    protected override Task<ICloudDriver> CreateDriverAsync() =>
        Task.FromResult<ICloudDriver>(new LocalCloud(_root, new LocalRuntimeOptions { StopGracePeriod = TimeSpan.FromSeconds(5) }, isolation: LocalIsolation.Netns));

    protected override async Task DisposeDriverAsync(ICloudDriver driver)
    {
        // The suite's clean-up (terminate, delete) must have removed every namespace; whatever is left goes anyway.
        var cloud = (LocalCloud)driver;
        var left = cloud.FindNamespaces();
        await cloud.DeleteAllNamespacesAsync(CancellationToken.None);
        Directory.Delete(_root, recursive: true);
        Assert.Empty(left);
    }
}
