using System.Diagnostics;
using System.Net;
using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local.Tests;

/// <summary>
/// The local cloud's instances as processes: the agent it starts (a <see cref="TestAgentScript"/>), what the
/// agent gets, and how stopping, starting, a server restart, a crash and terminating treat it and the app
/// processes it started. Every process a test starts carries its instance's marker and is ended afterwards.
/// </summary>
public sealed class LocalCloudProcessTests : IAsyncLifetime, IDisposable
{
    private const string Cidr = "127.79.0.0/24";

    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-local-process-").FullName;
    private readonly TestAgentScript _agent;
    private readonly LocalRuntimeOptions _options;
    private readonly LocalCloud _cloud;
    private readonly List<string> _instances = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private CloudNetwork? _network;

    public LocalCloudProcessTests()
    {
        _agent = new TestAgentScript(_directory);
        _options = new LocalRuntimeOptions
        {
            DroneCommand = _agent.Path,
            FrontgateCommand = _agent.Path,
            StopGracePeriod = TimeSpan.FromSeconds(5),
        };
        _cloud = new LocalCloud(Path.Combine(_directory, "zone"), _options);
    }

    private CancellationToken Ct => _timeout.Token;

    private string NetworkId => _network?.Id ?? throw new InvalidOperationException("The network is made in InitializeAsync.");

    public async Task InitializeAsync() =>
        _network = await _cloud.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", Cidr), Ct);

    public async Task DisposeAsync()
    {
        // Whatever a test left, every process carrying one of its instances' markers ends here.
        foreach (var instanceId in _instances)
        {
            await _cloud.Launcher.StopAllAsync(instanceId, TimeSpan.FromSeconds(1), CancellationToken.None);
            Assert.Empty(_cloud.Launcher.FindAll(instanceId));
        }

        Directory.Delete(_directory, recursive: true);
    }

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task CreateInstance_WithANodeBootstrap_StartsTheDroneWithItsArgumentsAndEnvironment_InASessionOfItsOwn()
    {
        Environment.SetEnvironmentVariable("PITRIX_TEST_SERVER_ONLY", "server");
        var instance = await CreateAsync("node-1");
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var root = _cloud.InstanceRoot(instance.Id);

        var record = _agent.Record(instance.Id, pid);
        Assert.Equal(
            ["--bootstrap", $"{root}/etc/pitrix/agent.json", "--data-dir", $"{root}/var/lib/pitrix-agent", "--root", root],
            record.Where(l => l.StartsWith("arg=")).Select(l => l[4..]));
        Assert.Contains($"env=PITRIX_LOCAL_INSTANCE={instance.Id}", record);
        Assert.Contains($"env=PITRIX_ROOT={root}", record);
        Assert.Contains($"env=PITRIX_NODE_IP={instance.PrivateIp}", record);
        Assert.DoesNotContain(record, l => l.StartsWith("env=PITRIX_TEST_SERVER_ONLY="));
        Assert.Equal(pid, ProcFs.ReadStat(pid)?.Session);
        Assert.Contains($"test agent {pid} started", await File.ReadAllTextAsync(_cloud.AgentLogPath(instance.Id)));

        // The app it started inherits the marker, though it left the agent's process tree.
        var child = _agent.Child(instance.Id, pid);
        Assert.Contains($"PITRIX_LOCAL_INSTANCE={instance.Id}", (await File.ReadAllTextAsync($"/proc/{child}/environ")).Split('\0'));
        Assert.Equal(Sorted([pid, child]), Sorted(_cloud.Launcher.FindAll(instance.Id).Select(p => p.Pid)));
    }

    [Fact]
    public async Task CreateInstance_WritesTheBootstrap_ReadableByItsOwnerOnly_WithTheNodeIp()
    {
        var instance = await CreateAsync("node-1");

        var path = Path.Combine(_cloud.InstanceRoot(instance.Id), "etc", "pitrix", "agent.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var written = AgentBootstrap.TryParse(await File.ReadAllTextAsync(path));
        Assert.NotNull(written);
        Assert.Equal(("node-1", "join-token", instance.PrivateIp), (written.Id, written.JoinToken, written.NodeIp));
    }

    [Fact]
    public async Task CreateInstance_WithAFrontgateBootstrap_StartsTheFrontgate_WithoutARoot()
    {
        var instance = await CreateAsync("fg-1", agent: AgentKinds.Frontgate);
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var root = _cloud.InstanceRoot(instance.Id);

        Assert.Equal(
            ["--bootstrap", $"{root}/etc/pitrix/agent.json", "--data-dir", $"{root}/var/lib/pitrix-agent"],
            _agent.Record(instance.Id, pid).Where(l => l.StartsWith("arg=")).Select(l => l[4..]));
    }

    [Fact]
    public async Task CreateInstance_WithoutABootstrap_StartsNothing()
    {
        var instance = await _cloud.CreateInstanceAsync(new CloudInstanceRequest("plain", NetworkId, "plain", 1, 256, "image") { UserData = "#cloud-config\n" }, Ct);
        _instances.Add(instance.Id);

        Assert.Equal(CloudInstanceState.Running, (await _cloud.DescribeInstanceAsync(instance.Id, Ct)).State);
        Assert.True(Directory.Exists(_cloud.InstanceRoot(instance.Id)));
        Assert.Empty(_cloud.Launcher.FindAll(instance.Id));
        Assert.Empty(_agent.Starts(instance.Id));
    }

    [Fact]
    public async Task StopInstance_EndsTheAgentAndTheAppItDaemonized_StartRunsTheAgentAgain()
    {
        var instance = await CreateAsync("node-1");
        var first = await _agent.WaitForStartsAsync(instance.Id, 1);
        var firstChild = _agent.Child(instance.Id, first);

        var stopped = await _cloud.StopInstanceAsync(instance.Id, Ct);

        Assert.Equal(CloudInstanceState.Stopped, stopped.State);
        Assert.False(IsAlive(first));
        Assert.False(IsAlive(firstChild));
        Assert.Empty(_cloud.Launcher.FindAll(instance.Id));
        Assert.Equal(CloudInstanceState.Stopped, (await _cloud.DescribeInstanceAsync(instance.Id, Ct)).State);
        Assert.Single(_agent.Starts(instance.Id));

        var started = await _cloud.StartInstanceAsync(instance.Id, Ct);

        Assert.Equal(CloudInstanceState.Running, started.State);
        var second = await _agent.WaitForStartsAsync(instance.Id, 2);
        Assert.NotEqual(first, second);
        Assert.True(IsAlive(second));
        Assert.True(IsAlive(_agent.Child(instance.Id, second)));
    }

    [Fact]
    public async Task StopInstance_AnAgentIgnoringSigterm_IsKilledAfterTheGracePeriod()
    {
        _agent.IgnoreTerm();
        var cloud = new LocalCloud(_cloud.Root, new LocalRuntimeOptions { DroneCommand = _agent.Path, StopGracePeriod = TimeSpan.FromSeconds(1) });
        var instance = await CreateAsync("node-1");
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var child = _agent.Child(instance.Id, pid);

        var clock = Stopwatch.StartNew();
        await cloud.StopInstanceAsync(instance.Id, Ct);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"Stopping took {clock.Elapsed}, less than the grace period: SIGTERM was not ignored.");
        Assert.False(IsAlive(pid));
        Assert.False(IsAlive(child));
    }

    [Fact]
    public async Task NewLocalCloudOverTheSameRoot_SeesTheInstanceRunning_AndStartsNoSecondAgent()
    {
        var instance = await CreateAsync("node-1");
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);

        // The server restarts: a new driver over the same zone directory, nothing shared in memory.
        var restarted = new LocalCloud(_cloud.Root, _options);

        Assert.Equal(CloudInstanceState.Running, (await restarted.DescribeInstanceAsync(instance.Id, Ct)).State);
        Assert.Equal(0, await restarted.RecoverAsync(Ct));
        Assert.Equal(instance.Id, (await restarted.FindInstanceAsync("node-1", Ct))?.Id);
        Assert.Equal([pid], _agent.Starts(instance.Id));
        Assert.True(IsAlive(pid));

        await restarted.StopInstanceAsync(instance.Id, Ct);
        Assert.False(IsAlive(pid));
    }

    [Fact]
    public async Task DescribeInstance_AfterTheAgentCrashed_RebootsTheInstance()
    {
        var instance = await CreateAsync("node-1");
        var first = await _agent.WaitForStartsAsync(instance.Id, 1);
        var firstChild = _agent.Child(instance.Id, first);

        await CrashAsync(first);
        var described = await _cloud.DescribeInstanceAsync(instance.Id, Ct);

        Assert.Equal(CloudInstanceState.Running, described.State);
        var second = await _agent.WaitForStartsAsync(instance.Id, 2);
        Assert.True(IsAlive(second));
        Assert.False(IsAlive(firstChild), "A reboot leaves no app process of the crashed agent behind.");
        Assert.Equal(Sorted([second, _agent.Child(instance.Id, second)]), Sorted(_cloud.Launcher.FindAll(instance.Id).Select(p => p.Pid)));
    }

    [Fact]
    public async Task RecoverAsync_StartsTheAgentsThatDied_OnlyThose()
    {
        var crashed = await CreateAsync("node-1");
        var healthy = await CreateAsync("node-2");
        await CrashAsync(await _agent.WaitForStartsAsync(crashed.Id, 1));
        var healthyPid = await _agent.WaitForStartsAsync(healthy.Id, 1);

        Assert.Equal(1, await new LocalCloud(_cloud.Root, _options).RecoverAsync(Ct));

        Assert.True(IsAlive(await _agent.WaitForStartsAsync(crashed.Id, 2)));
        Assert.Equal([healthyPid], _agent.Starts(healthy.Id));
    }

    [Fact]
    public async Task RecordedAgent_WithAnotherStartTime_IsNotTakenForTheAgent()
    {
        var instance = await CreateAsync("node-1");
        var first = await _agent.WaitForStartsAsync(instance.Id, 1);

        // The recorded pid now names "another process", as after the pid was reused: same number, other start.
        var state = Directory.GetFiles(Path.Combine(_cloud.Root, "state", "instances")).Single();
        var text = await File.ReadAllTextAsync(state);
        var startTime = ProcFs.ReadStat(first)!.StartTime;
        await File.WriteAllTextAsync(state, text.Replace($"\"agent_start_time\": {startTime}", $"\"agent_start_time\": {startTime + 1}", StringComparison.Ordinal));

        await _cloud.DescribeInstanceAsync(instance.Id, Ct);

        var second = await _agent.WaitForStartsAsync(instance.Id, 2);
        Assert.NotEqual(first, second);
        Assert.False(IsAlive(first), "The stale agent carried the instance's marker, so the reboot ended it.");
    }

    [Fact]
    public async Task TerminateInstance_EndsItsProcesses_RemovesItsDirectory_AndKeepsARecord()
    {
        var instance = await CreateAsync("node-1");
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var child = _agent.Child(instance.Id, pid);

        await _cloud.TerminateInstanceAsync(instance.Id, Ct);

        Assert.False(IsAlive(pid));
        Assert.False(IsAlive(child));
        Assert.False(Directory.Exists(_cloud.InstanceDirectory(instance.Id)));
        Assert.Equal(CloudInstanceState.Terminated, (await _cloud.DescribeInstanceAsync(instance.Id, Ct)).State);
        Assert.Null(await _cloud.FindInstanceAsync("node-1", Ct));
        Assert.Single(_agent.Starts(instance.Id));
    }

    [Fact]
    public async Task Volume_IsLinkedAtItsMountPointBeforeTheAgentStarts_AndItsDataSurvivesStopStartAndDetachAttach()
    {
        var volume = await _cloud.CreateVolumeAsync(new CloudVolumeRequest("data", "data", 1) { MountPoint = "/var/lib/data/" }, Ct);
        var instance = await CreateAsync("node-1", volumeIds: [volume.Id]);
        var pid = await _agent.WaitForStartsAsync(instance.Id, 1);
        var mount = _cloud.InstanceRoot(instance.Id) + "/var/lib/data";

        Assert.Contains($"link={mount}", _agent.Record(instance.Id, pid));
        await File.WriteAllTextAsync(Path.Combine(mount, "zoo.cfg"), "tickTime=2000");
        Assert.True(File.Exists(Path.Combine(_cloud.VolumeDirectory(volume.Id), "zoo.cfg")));

        await _cloud.StopInstanceAsync(instance.Id, Ct);
        await _cloud.StartInstanceAsync(instance.Id, Ct);
        Assert.Equal("tickTime=2000", await File.ReadAllTextAsync(Path.Combine(mount, "zoo.cfg")));

        await _cloud.DetachVolumeAsync(volume.Id, Ct);
        Assert.False(Path.Exists(mount));
        Assert.True(File.Exists(Path.Combine(_cloud.VolumeDirectory(volume.Id), "zoo.cfg")));

        await _cloud.AttachVolumeAsync(volume.Id, instance.Id, Ct);
        Assert.Equal("tickTime=2000", await File.ReadAllTextAsync(Path.Combine(mount, "zoo.cfg")));

        await _cloud.TerminateInstanceAsync(instance.Id, Ct);
        Assert.Null((await _cloud.DescribeVolumeAsync(volume.Id, Ct)).InstanceId);
        Assert.True(File.Exists(Path.Combine(_cloud.VolumeDirectory(volume.Id), "zoo.cfg")), "Terminating an instance keeps its volumes' data.");

        await _cloud.DeleteVolumeAsync(volume.Id, Ct);
        Assert.False(Directory.Exists(_cloud.VolumeDirectory(volume.Id)));
    }

    [Fact]
    public async Task Volume_WithoutAMountPoint_IsLinkedUnderMnt()
    {
        var volume = await _cloud.CreateVolumeAsync(new CloudVolumeRequest("data", "data", 1), Ct);
        var instance = await _cloud.CreateInstanceAsync(new CloudInstanceRequest("plain", NetworkId, "plain", 1, 256, "image"), Ct);
        _instances.Add(instance.Id);

        await _cloud.AttachVolumeAsync(volume.Id, instance.Id, Ct);

        Assert.Equal(_cloud.VolumeDirectory(volume.Id), new DirectoryInfo($"{_cloud.InstanceRoot(instance.Id)}/mnt/{volume.Id}").LinkTarget);
    }

    [Theory]
    [InlineData("var/lib/data")]
    [InlineData("/")]
    [InlineData("/var/../etc")]
    [InlineData("/var/./lib")]
    public async Task CreateVolume_BadMountPoint_IsInvalidRequest(string mountPoint)
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => _cloud.CreateVolumeAsync(new CloudVolumeRequest("data", "data", 1) { MountPoint = mountPoint }, Ct));

        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
    }

    [Fact]
    public async Task PrivateIps_StartAtDotOne_AreDistinct_AndAreReusedAfterTerminate()
    {
        var first = await _cloud.CreateInstanceAsync(new CloudInstanceRequest("a", NetworkId, "a", 1, 256, "image"), Ct);
        var second = await _cloud.CreateInstanceAsync(new CloudInstanceRequest("b", NetworkId, "b", 1, 256, "image"), Ct);
        _instances.AddRange([first.Id, second.Id]);

        Assert.Equal(("127.79.0.1", "127.79.0.2"), (first.PrivateIp, second.PrivateIp));

        await _cloud.TerminateInstanceAsync(first.Id, Ct);
        var third = await _cloud.CreateInstanceAsync(new CloudInstanceRequest("c", NetworkId, "c", 1, 256, "image"), Ct);
        _instances.Add(third.Id);

        Assert.Equal("127.79.0.1", third.PrivateIp);
    }

    [Fact]
    public async Task PrivateIps_WhenTheNetworkIsFull_IsQuotaExceeded()
    {
        var small = await _cloud.EnsureNetworkAsync(new CloudNetworkRequest("small", "small", "127.80.0.0/30"), Ct);
        foreach (var name in new[] { "a", "b" })
        {
            _instances.Add((await _cloud.CreateInstanceAsync(new CloudInstanceRequest(name, small.Id, name, 1, 256, "image"), Ct)).Id);
        }

        var error = await Assert.ThrowsAsync<CloudException>(() => _cloud.CreateInstanceAsync(new CloudInstanceRequest("c", small.Id, "c", 1, 256, "image"), Ct));

        Assert.Equal(CloudErrorCodes.QuotaExceeded, error.Code);
    }

    [Theory]
    [InlineData("10.0.0.0/24")]
    [InlineData("192.168.1.0/24")]
    [InlineData("0.0.0.0/0")]
    [InlineData("126.0.0.0/7")]
    [InlineData("127.0.0.0/24")]
    [InlineData("127.0.0.0/8")]
    [InlineData("127.79.0.128/25")]
    [InlineData("127.79.0.0/16")]
    public async Task EnsureNetwork_OutsideLoopback_HoldingLocalhost_OrOverlapping_IsInvalidRequest(string cidr)
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => _cloud.EnsureNetworkAsync(new CloudNetworkRequest("other", "other", cidr), Ct));

        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
        Assert.False(error.IsRetryable);
        Assert.Contains("127.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateInstance_AgentCommandMissing_IsInvalidState_AndCreatesNothing()
    {
        var cloud = new LocalCloud(_cloud.Root, new LocalRuntimeOptions { DroneCommand = Path.Combine(_directory, "no-such-drone") });

        var error = await Assert.ThrowsAsync<CloudException>(() => cloud.CreateInstanceAsync(Request("node-1"), Ct));

        Assert.Equal(CloudErrorCodes.InvalidState, error.Code);
        Assert.Contains("Providers:Local:DroneCommand", error.Message, StringComparison.Ordinal);
        Assert.Null(await cloud.FindInstanceAsync("node-1", Ct));
    }

    [Fact]
    public async Task CreateInstance_UnknownAgentKind_IsInvalidRequest()
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => _cloud.CreateInstanceAsync(Request("node-1", agent: "robot"), Ct));

        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
    }

    [Fact]
    public async Task AgentLog_PastItsBound_IsRotatedWhenTheInstanceIsDescribed()
    {
        var cloud = new LocalCloud(_cloud.Root, new LocalRuntimeOptions { DroneCommand = _agent.Path, MaxAgentLogBytes = 64 * 1024 });
        var instance = await CreateAsync("node-1");
        await _agent.WaitForStartsAsync(instance.Id, 1);
        var log = _cloud.AgentLogPath(instance.Id);
        await File.AppendAllTextAsync(log, new string('x', 100 * 1024));

        await cloud.DescribeInstanceAsync(instance.Id, Ct);

        Assert.True(new FileInfo(log + ".1").Length > 100 * 1024);
        Assert.Equal(0, new FileInfo(log).Length);
    }

    private CloudInstanceRequest Request(string nodeId, string agent = AgentKinds.Node, IReadOnlyList<string>? volumeIds = null) =>
        new(nodeId, NetworkId, nodeId, 1, 256, "pitrix-node")
        {
            UserData = new AgentBootstrap { Agent = agent, Id = nodeId, JoinToken = "join-token", CaPem = "-----BEGIN CERTIFICATE-----" }.ToJson(),
            VolumeIds = volumeIds ?? [],
        };

    private async Task<CloudInstance> CreateAsync(string nodeId, string agent = AgentKinds.Node, IReadOnlyList<string>? volumeIds = null)
    {
        var instance = await _cloud.CreateInstanceAsync(Request(nodeId, agent, volumeIds), Ct);
        _instances.Add(instance.Id);
        Assert.StartsWith("127.79.0.", IPAddress.Parse(instance.PrivateIp!).ToString(), StringComparison.Ordinal);
        return instance;
    }

    /// <summary>Kills an agent this test started, as a crash would, and waits until it is gone.</summary>
    private static async Task CrashAsync(int agentPid)
    {
        using (var process = Process.GetProcessById(agentPid))
        {
            process.Kill();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (IsAlive(agentPid))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The killed agent {agentPid} is still alive after 10 s.");
            await Task.Delay(20);
        }
    }

    private static bool IsAlive(int pid) => ProcFs.ReadStat(pid) is { IsZombie: false };

    private static int[] Sorted(IEnumerable<int> pids) => [.. pids.Order()];
}
