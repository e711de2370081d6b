using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Local;

/// <summary>
/// The <c>local</c> cloud, Pitrix's embedded default runtime: "VMs" on the server's own machine. One
/// <see cref="LocalCloud"/> is one zone, rooted at <c>{WorkRoot}/{zone}</c>:
/// <list type="bullet">
/// <item>A network is a block of loopback addresses (inside <c>127.0.0.0/8</c>, not holding <c>127.0.0.1</c>,
/// overlapping no other network of the zone); each instance gets the lowest free address of it (network and
/// broadcast addresses skipped), released when it is terminated. Linux routes all of <c>127.0.0.0/8</c> to
/// the loopback interface, so an instance's services bind its own address and nothing leaves the machine.</item>
/// <item>An instance is a directory, <c>instances/&lt;id&gt;/root</c>, its disk. When its user data is an
/// <see cref="AgentBootstrap"/>, the bootstrap is written to <c>&lt;root&gt;/etc/pitrix/agent.json</c> (mode
/// 0600) and the agent it names runs (see <see cref="LocalRuntimeOptions.DroneCommand"/>), in a session of
/// its own so it outlives the server, logging to <c>instances/&lt;id&gt;/agent.log</c>, with
/// <see cref="InstanceMarkerVariable"/>, <see cref="RootVariable"/> and <see cref="NodeIpVariable"/> in its
/// environment, which every process it starts inherits. Without a bootstrap an instance is only its
/// directory, an image without an agent.</item>
/// <item>Stopping ends every process carrying the instance's marker (SIGTERM, then SIGKILL after
/// <see cref="LocalRuntimeOptions.StopGracePeriod"/>), even ones that daemonized themselves; starting runs the
/// agent again with its data directory kept. Resizing records cpu and memory and enforces neither.</item>
/// <item>A volume is a directory, <c>volumes/&lt;id&gt;</c>; attached, it is a symbolic link at
/// <c>&lt;instance root&gt;&lt;mount point&gt;</c> (<see cref="CloudVolumeRequest.MountPoint"/>, default
/// <c>/mnt/&lt;volume id&gt;</c>). Its size is recorded, not enforced.</item>
/// </list>
/// <para>
/// State is JSON files under <c>state/</c>, changed under an exclusive file lock, so several engine processes
/// and a restarted server see one world. The agent's pid and start time are recorded, so a new
/// <see cref="LocalCloud"/> recognizes a running agent after a server restart and never takes a reused pid for it.
/// </para>
/// <para>
/// A running instance whose agent has died (crashed, or the machine rebooted) is rebooted by the next call that
/// looks at it (<see cref="DescribeInstanceAsync"/>, <see cref="StartInstanceAsync"/>, a create that finds it)
/// or by <see cref="RecoverAsync"/>: what is left of its processes is ended and the agent starts again, as a
/// VM's agent does when the VM reboots. The engine polls instances through describe, so it sees them running.
/// </para>
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class LocalCloud : ICloudDriver
{
    /// <summary>The environment variable that marks every process of an instance with its id.</summary>
    public const string InstanceMarkerVariable = "PITRIX_LOCAL_INSTANCE";

    /// <summary>The environment variable holding the instance's root directory.</summary>
    public const string RootVariable = "PITRIX_ROOT";

    /// <summary>The environment variable holding the instance's private IP.</summary>
    public const string NodeIpVariable = "PITRIX_NODE_IP";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private static readonly IPNetwork Loopback = IPNetwork.Parse("127.0.0.0/8");

    /// <summary>Where networks of namespaces may take their range: RFC 1918, shared (RFC 6598) and benchmarking (RFC 2544) space.</summary>
    private static readonly IPNetwork[] PrivateRanges =
        [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("198.18.0.0/15")];

    private static readonly IPAddress Localhost = IPAddress.Parse("127.0.0.1");

    private readonly LocalRuntimeOptions _options;
    private readonly IInstanceProcessLauncher _launcher;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly NetnsPlumbing _plumbing;

    /// <summary>A local cloud over <paramref name="root"/>, created when missing.</summary>
    /// <param name="root">The zone's directory; every <see cref="LocalCloud"/> over one root sees the same instances.</param>
    /// <param name="options">The agent commands, the stop grace period and the log bound.</param>
    /// <param name="launcher">How instance processes run. Default: <see cref="SessionProcessLauncher"/>.</param>
    /// <param name="timeProvider">The clock. Default: the system's.</param>
    /// <param name="logger">Where agent starts, restarts and stops are logged. Default: nowhere.</param>
    /// <param name="isolation">How networks this cloud makes keep their instances apart; a network keeps the isolation it was made with.</param>
    public LocalCloud(string root, LocalRuntimeOptions options, IInstanceProcessLauncher? launcher = null, TimeProvider? timeProvider = null, ILogger<LocalCloud>? logger = null, LocalIsolation isolation = LocalIsolation.Loopback)
    {
        Root = Path.GetFullPath(root);
        Isolation = isolation;
        _plumbing = new NetnsPlumbing(Root);
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _launcher = launcher ?? new SessionProcessLauncher(_time);
        _logger = logger ?? NullLogger<LocalCloud>.Instance;
    }

    public string Name => LocalRuntimeProvider.ProviderName;

    /// <summary>The zone's directory.</summary>
    public string Root { get; }

    /// <summary>The isolation of the networks this cloud makes.</summary>
    public LocalIsolation Isolation { get; }

    /// <summary>The network namespaces of this zone that exist now (netns isolation), for diagnostics and clean-up.</summary>
    public IReadOnlyList<string> FindNamespaces() => _plumbing.FindNamespaces();

    /// <summary>
    /// Removes every network namespace of this zone and the host routes of its networks of namespaces, whatever
    /// their records say: clean-up after a crash or a test. Processes still in a namespace keep it alive, unnamed.
    /// </summary>
    public Task DeleteAllNamespacesAsync(CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            foreach (var network in ReadAll<LocalNetworkRecord>(NetworkStates).Select(n => n.Item).Where(n => n.IsNetns))
            {
                await _plumbing.DeleteNetworkAsync(network.NetworkId, IPNetwork.Parse(network.Cidr), cancellationToken);
            }

            foreach (var name in _plumbing.FindNamespaces())
            {
                await NetnsPlumbing.DeleteNamespaceAsync(name, cancellationToken);
            }

            return 0;
        }, cancellationToken);

    /// <summary>
    /// The network namespace an instance's processes run in (netns isolation), as a path for <c>nsenter --net=</c>
    /// or <c>setns</c>; null for an instance on the host's network. It exists while the instance does.
    /// </summary>
    public string? InstanceNamespacePath(string instanceId) =>
        InstanceById(instanceId) is { Item: var instance } && NetworkById(instance.NetworkId)?.Item is { IsNetns: true }
            ? NetnsPlumbing.NamespacePath(_plumbing.NamespaceName(instanceId))
            : null;

    /// <summary>How this cloud's instance processes are launched and ended.</summary>
    public IInstanceProcessLauncher Launcher => _launcher;

    private string InstanceStates => Path.Combine(Root, "state", "instances");

    private string TerminatedStates => Path.Combine(Root, "state", "terminated");

    private string VolumeStates => Path.Combine(Root, "state", "volumes");

    private string NetworkStates => Path.Combine(Root, "state", "networks");

    /// <summary>An instance's directory: its <c>root</c> and its <c>agent.log</c>.</summary>
    public string InstanceDirectory(string instanceId) => Path.Combine(Root, "instances", CheckId(instanceId));

    /// <summary>An instance's root directory, its disk.</summary>
    public string InstanceRoot(string instanceId) => Path.Combine(InstanceDirectory(instanceId), "root");

    /// <summary>Where an instance's agent writes its standard output and error.</summary>
    public string AgentLogPath(string instanceId) => Path.Combine(InstanceDirectory(instanceId), "agent.log");

    /// <summary>A volume's data directory.</summary>
    public string VolumeDirectory(string volumeId) => Path.Combine(Root, "volumes", CheckId(volumeId));

    public Task<CloudNetwork> EnsureNetworkAsync(CloudNetworkRequest request, CancellationToken cancellationToken)
    {
        RequireText(request.IdempotencyKey, "idempotency key");
        RequireText(request.Name, "network name");
        if (!IPNetwork.TryParse(request.Cidr, out var range) || range.BaseAddress.AddressFamily != AddressFamily.InterNetwork || range.PrefixLength > 30)
        {
            throw CloudException.InvalidRequest($"'{request.Cidr}' is not an IPv4 CIDR block of at least 4 addresses (such as {(Isolation == LocalIsolation.Netns ? "198.18.7.0/24" : "127.77.0.0/24")}).");
        }

        if (Isolation == LocalIsolation.Loopback && (range.PrefixLength < 8 || !Loopback.Contains(range.BaseAddress) || range.Contains(Localhost)))
        {
            throw CloudException.InvalidRequest(
                $"A local network is a block of loopback addresses inside 127.0.0.0/8 that leaves out 127.0.0.1 (such as 127.77.0.0/24), not '{request.Cidr}'.");
        }

        if (Isolation == LocalIsolation.Netns && (range.PrefixLength < 16 || !PrivateRanges.Any(p => p.Contains(range.BaseAddress) && p.PrefixLength <= range.PrefixLength)))
        {
            throw CloudException.InvalidRequest(
                $"A network of namespaces is a private range of at most 65536 addresses inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 or 198.18.0.0/15 (such as 198.18.7.0/24), not '{request.Cidr}'.");
        }

        return LockedAsync(async () =>
        {
            var path = KeyPath(NetworkStates, request.IdempotencyKey);
            if (File.Exists(path))
            {
                var found = Read<LocalNetworkRecord>(path);
                if (found.IsNetns)
                {
                    // Made again after a reboot (namespaces live in /run) or a create killed half-way.
                    await _plumbing.EnsureNetworkAsync(found.NetworkId, IPNetwork.Parse(found.Cidr), cancellationToken);
                }

                return ToCloud(found);
            }

            if (ReadAll<LocalNetworkRecord>(NetworkStates).Select(n => n.Item).FirstOrDefault(n => Overlap(IPNetwork.Parse(n.Cidr), range)) is { } other)
            {
                throw CloudException.InvalidRequest($"The range {range} overlaps network '{other.NetworkId}' ({other.Cidr}); local networks share the loopback interface and must not overlap.");
            }

            var network = new LocalNetworkRecord
            {
                NetworkId = NewId("net-"),
                IdempotencyKey = request.IdempotencyKey,
                Name = request.Name,
                Cidr = range.ToString(),
                Isolation = Isolation == LocalIsolation.Netns ? "netns" : null,
                Labels = new(request.Labels),
            };
            if (network.IsNetns)
            {
                if (!Environment.IsPrivilegedProcess)
                {
                    throw CloudException.InvalidState("The local runtime's netns isolation makes network namespaces, which needs root; run the server as root or leave the runtime's isolation label out.");
                }

                if (await NetnsPlumbing.ConflictingHostRoutesAsync(range, cancellationToken) is { Count: > 0 } conflicts)
                {
                    throw CloudException.InvalidRequest(
                        $"The range {range} overlaps this machine's own routes ({string.Join(", ", conflicts)}); choose another with the runtime's network.cidr label.");
                }

                await _plumbing.EnsureNetworkAsync(network.NetworkId, range, cancellationToken);
            }

            Write(path, network);
            return ToCloud(network);
        }, cancellationToken);
    }

    public Task<CloudNetwork> DescribeNetworkAsync(string networkId, CancellationToken cancellationToken) =>
        LockedAsync(() => Task.FromResult(ToCloud(NetworkById(networkId)?.Item ?? throw CloudException.NotFound("network", networkId))), cancellationToken);

    public Task DeleteNetworkAsync(string networkId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (NetworkById(networkId) is not { Path: var path, Item: var network })
            {
                return 0;
            }

            if (ReadAll<LocalInstanceRecord>(InstanceStates).Any(i => i.Item.NetworkId == networkId))
            {
                throw CloudException.InvalidState($"Network '{networkId}' still has instances; terminate them first.");
            }

            if (network.IsNetns)
            {
                await _plumbing.DeleteNetworkAsync(networkId, IPNetwork.Parse(network.Cidr), cancellationToken);
            }

            File.Delete(path);
            return 0;
        }, cancellationToken);

    public Task<CloudInstance> CreateInstanceAsync(CloudInstanceRequest request, CancellationToken cancellationToken)
    {
        RequireText(request.IdempotencyKey, "idempotency key");
        RequireText(request.Name, "instance name");
        RequireText(request.Image, "image");
        CheckSize(request.Cpu, request.MemoryMib);
        if (request.Gpu < 0)
        {
            throw CloudException.InvalidRequest($"An instance cannot have {request.Gpu} GPUs.");
        }

        var bootstrap = AgentBootstrap.TryParse(request.UserData);
        return LockedAsync(async () =>
        {
            var path = KeyPath(InstanceStates, request.IdempotencyKey);
            if (File.Exists(path))
            {
                // A create killed half-way is finished by its retry: volumes attached, agent started.
                var found = Read<LocalInstanceRecord>(path);
                Directory.CreateDirectory(InstanceRoot(found.InstanceId));
                foreach (var (volumePath, volume) in request.VolumeIds.Select(VolumeById).OfType<(string, LocalVolumeRecord)>().Where(v => v.Item2.InstanceId is null))
                {
                    LinkVolume(found.InstanceId, volume);
                    Write(volumePath, volume with { InstanceId = found.InstanceId });
                }

                await PlumbAgentlessAsync(found, cancellationToken);
                return ToCloud(await EnsureAgentAsync(path, found, cancellationToken));
            }

            var network = NetworkById(request.NetworkId)?.Item ?? throw CloudException.NotFound("network", request.NetworkId);
            var volumes = new List<(string Path, LocalVolumeRecord Item)>();
            foreach (var volumeId in request.VolumeIds.Distinct(StringComparer.Ordinal))
            {
                var volume = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
                if (volume.Item.InstanceId is { } holder)
                {
                    throw CloudException.InvalidState($"Volume '{volumeId}' is attached to instance '{holder}'.");
                }

                volumes.Add(volume);
            }

            if (bootstrap is not null)
            {
                // Checked before anything is made: a missing agent binary is a setting to fix, not a half instance.
                AgentCommands.Resolve(bootstrap.Agent, _options);
            }

            var instanceId = NewId("i-");
            var privateIp = AllocateAddress(network);

            // The disk, the bootstrap and the volume links exist before the record: once the key is found,
            // only the volume records and the agent can be missing, and the found path above adds them.
            var root = InstanceRoot(instanceId);
            Directory.CreateDirectory(root);
            if (bootstrap is not null)
            {
                WriteBootstrap(root, bootstrap.Agent == AgentKinds.Node && bootstrap.NodeIp is null ? bootstrap with { NodeIp = privateIp } : bootstrap);
            }

            foreach (var (_, volume) in volumes)
            {
                LinkVolume(instanceId, volume);
            }

            var instance = new LocalInstanceRecord
            {
                InstanceId = instanceId,
                IdempotencyKey = request.IdempotencyKey,
                NetworkId = network.NetworkId,
                Name = request.Name,
                State = "running",
                PrivateIp = privateIp,
                Cpu = request.Cpu,
                MemoryMib = request.MemoryMib,
                Gpu = request.Gpu,
                Image = request.Image,
                Labels = new(request.Labels),
                Agent = bootstrap?.Agent,
                CreatedAt = _time.GetUtcNow(),
            };
            Write(path, instance);
            foreach (var (volumePath, volume) in volumes)
            {
                Write(volumePath, volume with { InstanceId = instanceId });
            }

            await PlumbAgentlessAsync(instance, cancellationToken);
            return ToCloud(await EnsureAgentAsync(path, instance, cancellationToken));
        }, cancellationToken);
    }

    public Task<CloudInstance?> FindInstanceAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        RequireText(idempotencyKey, "idempotency key");
        return LockedAsync(() =>
        {
            var path = KeyPath(InstanceStates, idempotencyKey);
            return Task.FromResult(File.Exists(path) ? ToCloud(Read<LocalInstanceRecord>(path)) : null);
        }, cancellationToken);
    }

    public Task<CloudInstance> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (InstanceById(instanceId) is { Path: var path, Item: var live })
            {
                return ToCloud(await EnsureAgentAsync(path, live, cancellationToken));
            }

            return TerminatedById(instanceId) is { } terminated ? ToCloud(terminated) : throw CloudException.NotFound("instance", instanceId);
        }, cancellationToken);

    public Task<CloudInstance> StartInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            var (path, instance) = LiveInstance(instanceId);
            var running = instance with { State = "running" };
            if (instance.State != "running")
            {
                Write(path, running);
            }

            return ToCloud(await EnsureAgentAsync(path, running, cancellationToken));
        }, cancellationToken);

    public Task<CloudInstance> StopInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            var (path, instance) = LiveInstance(instanceId);

            // Recorded first: a stop killed half-way is retried, and meanwhile no describe restarts the agent.
            var stopped = instance with { State = "stopped", AgentPid = null, AgentStartTime = null };
            Write(path, stopped);
            await _launcher.StopAllAsync(instanceId, _options.StopGracePeriod, cancellationToken);
            if (instance.State == "running" && instance.Agent is not null)
            {
                LogAgentStopped(instanceId);
            }

            return ToCloud(stopped);
        }, cancellationToken);

    /// <summary>Records the new size; the local runtime enforces neither cpu nor memory, running or not.</summary>
    public Task<CloudInstance> ResizeInstanceAsync(string instanceId, int cpu, int memoryMib, CancellationToken cancellationToken)
    {
        CheckSize(cpu, memoryMib);
        return LockedAsync(() =>
        {
            var (path, instance) = LiveInstance(instanceId);
            var resized = instance with { Cpu = cpu, MemoryMib = memoryMib };
            Write(path, resized);
            return Task.FromResult(ToCloud(resized));
        }, cancellationToken);
    }

    public Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (InstanceById(instanceId) is not { Path: var path, Item: var instance })
            {
                return 0;
            }

            // Each step may be repeated: a terminate killed half-way is finished by its retry.
            await _launcher.StopAllAsync(instanceId, _options.StopGracePeriod, cancellationToken);
            foreach (var (volumePath, volume) in ReadAll<LocalVolumeRecord>(VolumeStates).Where(v => v.Item.InstanceId == instanceId))
            {
                UnlinkVolume(instanceId, volume);
                Write(volumePath, volume with { InstanceId = null });
            }

            // Its namespace, and with it its veth pair, once no process is left in it.
            await _plumbing.DeleteInstanceAsync(instanceId, cancellationToken);
            var directory = InstanceDirectory(instanceId);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            // Kept under its id, out of the key's way: the key and the address are free for a new instance.
            Write(Path.Combine(TerminatedStates, instanceId + ".json"), instance with { State = "terminated", AgentPid = null, AgentStartTime = null });
            File.Delete(path);
            LogInstanceTerminated(instanceId);
            return 0;
        }, cancellationToken);

    public Task<CloudVolume> CreateVolumeAsync(CloudVolumeRequest request, CancellationToken cancellationToken)
    {
        RequireText(request.IdempotencyKey, "idempotency key");
        RequireText(request.Name, "volume name");
        CheckVolumeSize(request.SizeGib);
        var mountPoint = request.MountPoint is null ? null : NormalizeMountPoint(request.MountPoint);
        return LockedAsync(() =>
        {
            var path = KeyPath(VolumeStates, request.IdempotencyKey);
            if (File.Exists(path))
            {
                return Task.FromResult(ToCloud(Read<LocalVolumeRecord>(path)));
            }

            var volumeId = NewId("vol-");
            Directory.CreateDirectory(VolumeDirectory(volumeId));
            var volume = new LocalVolumeRecord
            {
                VolumeId = volumeId,
                IdempotencyKey = request.IdempotencyKey,
                Name = request.Name,
                SizeGib = request.SizeGib,
                MountPoint = mountPoint ?? $"/mnt/{volumeId}",
                Labels = new(request.Labels),
            };
            Write(path, volume);
            return Task.FromResult(ToCloud(volume));
        }, cancellationToken);
    }

    public Task<CloudVolume> DescribeVolumeAsync(string volumeId, CancellationToken cancellationToken) =>
        LockedAsync(() => Task.FromResult(ToCloud(VolumeById(volumeId)?.Item ?? throw CloudException.NotFound("volume", volumeId))), cancellationToken);

    public Task<CloudVolume> AttachVolumeAsync(string volumeId, string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(() =>
        {
            var (path, volume) = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
            var (_, instance) = LiveInstance(instanceId);
            if (volume.InstanceId is { } holder && holder != instance.InstanceId)
            {
                throw CloudException.InvalidState($"Volume '{volumeId}' is attached to instance '{holder}'; detach it first.");
            }

            LinkVolume(instanceId, volume);
            var attached = volume with { InstanceId = instanceId };
            Write(path, attached);
            return Task.FromResult(ToCloud(attached));
        }, cancellationToken);

    public Task<CloudVolume> DetachVolumeAsync(string volumeId, CancellationToken cancellationToken) =>
        LockedAsync(() =>
        {
            var (path, volume) = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
            if (volume.InstanceId is { } holder)
            {
                UnlinkVolume(holder, volume);
            }

            var detached = volume with { InstanceId = null };
            Write(path, detached);
            return Task.FromResult(ToCloud(detached));
        }, cancellationToken);

    /// <summary>Records the new size; a volume is a plain directory and its size is not enforced.</summary>
    public Task<CloudVolume> ResizeVolumeAsync(string volumeId, int sizeGib, CancellationToken cancellationToken)
    {
        CheckVolumeSize(sizeGib);
        return LockedAsync(() =>
        {
            var (path, volume) = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
            if (sizeGib < volume.SizeGib)
            {
                throw CloudException.InvalidRequest($"Volume '{volumeId}' has {volume.SizeGib} GiB; volumes only grow, not to {sizeGib} GiB.");
            }

            var resized = volume with { SizeGib = sizeGib };
            Write(path, resized);
            return Task.FromResult(ToCloud(resized));
        }, cancellationToken);
    }

    public Task DeleteVolumeAsync(string volumeId, CancellationToken cancellationToken) =>
        LockedAsync(() =>
        {
            if (VolumeById(volumeId) is not { Path: var path, Item: var volume })
            {
                return Task.FromResult(0);
            }

            if (volume.InstanceId is { } holder)
            {
                throw CloudException.InvalidState($"Volume '{volumeId}' is attached to instance '{holder}'; detach it first.");
            }

            // The data first, the record last: a delete killed half-way is found and finished by its retry.
            var directory = VolumeDirectory(volumeId);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            File.Delete(path);
            return Task.FromResult(0);
        }, cancellationToken);

    /// <summary>
    /// Starts the agent of every running instance whose agent is not running, as after a reboot of the machine;
    /// a host calls it at start so that nodes come back without waiting for a describe. Returns how many agents
    /// it started.
    /// </summary>
    public Task<int> RecoverAsync(CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            var started = 0;
            foreach (var (path, instance) in ReadAll<LocalInstanceRecord>(InstanceStates).ToList())
            {
                var ensured = await EnsureAgentAsync(path, instance, cancellationToken);
                started += ensured.AgentStarts - instance.AgentStarts;
            }

            return started;
        }, cancellationToken);

    /// <summary>
    /// Makes a running instance's agent run: nothing when the recorded process is alive; otherwise what is left
    /// of the instance's processes is ended (a reboot leaves no app daemon behind) and the agent starts again.
    /// </summary>
    private async Task<LocalInstanceRecord> EnsureAgentAsync(string path, LocalInstanceRecord instance, CancellationToken cancellationToken)
    {
        if (instance.State != "running" || instance.Agent is null)
        {
            return instance;
        }

        RotateLog(AgentLogPath(instance.InstanceId));
        if (instance.AgentProcess is { } process && _launcher.IsRunning(process))
        {
            return instance;
        }

        if (instance.AgentProcess is { } dead)
        {
            LogAgentDied(instance.InstanceId, dead.Pid);
        }

        await _launcher.StopAllAsync(instance.InstanceId, _options.StopGracePeriod, cancellationToken);
        var root = InstanceRoot(instance.InstanceId);
        var command = AgentCommands.Resolve(instance.Agent, _options);
        List<string> arguments = ["--bootstrap", Path.Combine(root, "etc", "pitrix", "agent.json"), "--data-dir", Path.Combine(root, "var", "lib", "pitrix-agent")];
        if (instance.Agent == AgentKinds.Node)
        {
            arguments.AddRange(["--root", root]);
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [InstanceMarkerVariable] = instance.InstanceId,
            [RootVariable] = root,
            [NodeIpVariable] = instance.PrivateIp,
        };

        // In a network of namespaces a node runs inside its own; the frontgate runs on the host, where it dials
        // Pilot, and listens inside its instance's namespace, where the drones dial it: the network's only way out.
        var namespacePath = await PlumbAsync(instance, cancellationToken);
        if (namespacePath is not null && instance.Agent == AgentKinds.Frontgate)
        {
            arguments.AddRange(["--listen-netns", namespacePath]);
        }

        var started = _launcher.Launch(new LocalLaunchRequest(instance.InstanceId, command, arguments, environment, root, AgentLogPath(instance.InstanceId))
        {
            NetworkNamespace = instance.Agent == AgentKinds.Node ? namespacePath : null,
        });
        var running = instance with { AgentPid = started.Pid, AgentStartTime = started.StartTime, AgentStarts = instance.AgentStarts + 1 };
        Write(path, running);
        LogAgentStarted(instance.InstanceId, instance.Agent, started.Pid, running.AgentStarts);
        return running;
    }

    /// <summary>
    /// Makes the namespace of an instance of a network of namespaces, with its interface on the network's bridge
    /// (again after a reboot emptied <c>/run/netns</c>), and returns its path; null on a loopback network.
    /// </summary>
    private async Task<string?> PlumbAsync(LocalInstanceRecord instance, CancellationToken cancellationToken)
    {
        if (NetworkById(instance.NetworkId)?.Item is not { IsNetns: true } network)
        {
            return null;
        }

        var range = IPNetwork.Parse(network.Cidr);
        await _plumbing.EnsureNetworkAsync(network.NetworkId, range, cancellationToken);
        await _plumbing.EnsureInstanceAsync(instance.InstanceId, network.NetworkId, range, instance.PrivateIp, cancellationToken);
        return NetnsPlumbing.NamespacePath(_plumbing.NamespaceName(instance.InstanceId));
    }

    /// <summary>An instance without an agent gets its namespace at create; one with an agent gets it when the agent starts.</summary>
    private Task PlumbAgentlessAsync(LocalInstanceRecord instance, CancellationToken cancellationToken) =>
        instance.Agent is null ? PlumbAsync(instance, cancellationToken) : Task.CompletedTask;

    private async Task<T> LockedAsync<T>(Func<Task<T>> action, CancellationToken cancellationToken)
    {
        using var held = await LocalStateLock.AcquireAsync(Root, _time, cancellationToken);
        try
        {
            return await action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CloudException.Unavailable($"The local cloud in '{Root}' could not read or write its files: {e.Message}", e);
        }
    }

    private (string Path, LocalInstanceRecord Item) LiveInstance(string instanceId) =>
        InstanceById(instanceId) ?? throw (TerminatedById(instanceId) is not null
            ? CloudException.InvalidState($"Instance '{instanceId}' is terminated.")
            : CloudException.NotFound("instance", instanceId));

    private (string Path, LocalInstanceRecord Item)? InstanceById(string id) =>
        IdPattern().IsMatch(id) ? Find<LocalInstanceRecord>(InstanceStates, i => i.InstanceId == id) : null;

    private LocalInstanceRecord? TerminatedById(string id)
    {
        var path = Path.Combine(TerminatedStates, id + ".json");
        return IdPattern().IsMatch(id) && File.Exists(path) ? Read<LocalInstanceRecord>(path) : null;
    }

    private (string Path, LocalVolumeRecord Item)? VolumeById(string id) =>
        IdPattern().IsMatch(id) ? Find<LocalVolumeRecord>(VolumeStates, v => v.VolumeId == id) : null;

    private (string Path, LocalNetworkRecord Item)? NetworkById(string id) =>
        IdPattern().IsMatch(id) ? Find<LocalNetworkRecord>(NetworkStates, n => n.NetworkId == id) : null;

    /// <summary>The lowest free host address of the network: <c>.1</c> first, never the network or broadcast address.</summary>
    private string AllocateAddress(LocalNetworkRecord network)
    {
        var range = IPNetwork.Parse(network.Cidr);
        var first = BinaryPrimitives.ReadUInt32BigEndian(range.BaseAddress.GetAddressBytes()) + 1;
        var hosts = (1U << (32 - range.PrefixLength)) - 2;
        var used = ReadAll<LocalInstanceRecord>(InstanceStates).Select(i => i.Item.PrivateIp).ToHashSet(StringComparer.Ordinal);
        var bytes = new byte[4];
        for (var offset = 0U; offset < hosts; offset++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, first + offset);
            var address = new IPAddress(bytes).ToString();
            if (!used.Contains(address))
            {
                return address;
            }
        }

        throw CloudException.QuotaExceeded($"Network '{network.NetworkId}' ({network.Cidr}) has no free address.");
    }

    private void LinkVolume(string instanceId, LocalVolumeRecord volume)
    {
        var link = MountPath(instanceId, volume);
        var target = VolumeDirectory(volume.VolumeId);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        var existing = new FileInfo(link);
        if (existing.LinkTarget is { } current)
        {
            if (current == target)
            {
                return;
            }

            // A link left by a detach killed half-way, to another volume of this cloud, is stale; anything else is the instance's own.
            if (!current.StartsWith(Path.Combine(Root, "volumes") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw CloudException.InvalidState($"The mount point {volume.MountPoint} of volume '{volume.VolumeId}' in instance '{instanceId}' is a link to '{current}'.");
            }

            File.Delete(link);
        }
        else if (Directory.Exists(link))
        {
            if (Directory.EnumerateFileSystemEntries(link).Any())
            {
                throw CloudException.InvalidState($"The mount point {volume.MountPoint} of volume '{volume.VolumeId}' in instance '{instanceId}' is a directory holding files.");
            }

            Directory.Delete(link);
        }
        else if (File.Exists(link))
        {
            throw CloudException.InvalidState($"The mount point {volume.MountPoint} of volume '{volume.VolumeId}' in instance '{instanceId}' is a file.");
        }

        Directory.CreateSymbolicLink(link, target);
    }

    private void UnlinkVolume(string instanceId, LocalVolumeRecord volume)
    {
        var link = MountPath(instanceId, volume);
        if (new FileInfo(link).LinkTarget == VolumeDirectory(volume.VolumeId))
        {
            File.Delete(link);
        }
    }

    private string MountPath(string instanceId, LocalVolumeRecord volume) => InstanceRoot(instanceId) + volume.MountPoint;

    private static string NormalizeMountPoint(string mountPoint)
    {
        var segments = mountPoint.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!mountPoint.StartsWith('/') || segments.Length == 0 || segments.Any(s => s is "." or ".." || s.Contains('\0', StringComparison.Ordinal)))
        {
            throw CloudException.InvalidRequest($"A volume's mount point is an absolute path below / without '.' or '..' (such as /var/lib/data), not '{mountPoint}'.");
        }

        return "/" + string.Join('/', segments);
    }

    private void RotateLog(string logPath)
    {
        var log = new FileInfo(logPath);
        if (!log.Exists || log.Length <= _options.MaxAgentLogBytes)
        {
            return;
        }

        // Copy then truncate: the agent holds the log open for appending and goes on writing at its new end.
        File.Copy(logPath, logPath + ".1", overwrite: true);
        using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.SetLength(0);
    }

    private static void WriteBootstrap(string root, AgentBootstrap bootstrap)
    {
        var directory = Path.Combine(root, "etc", "pitrix");
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Path.Combine(directory, "agent.json");
        var temporary = path + ".tmp";
        File.Delete(temporary);

        // Created 0600 from the start: the join token is never readable by others, not even for a moment.
        using (var stream = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            stream.Write(Encoding.UTF8.GetBytes(bootstrap.ToJson()));
        }

        File.Move(temporary, path, overwrite: true);
    }

    private CloudInstance ToCloud(LocalInstanceRecord instance) => new(
        instance.InstanceId,
        instance.IdempotencyKey,
        instance.NetworkId,
        instance.Name,
        instance.State switch
        {
            "running" => CloudInstanceState.Running,
            "stopped" => CloudInstanceState.Stopped,
            "terminated" => CloudInstanceState.Terminated,
            _ => CloudInstanceState.Pending,
        },
        instance.PrivateIp,
        instance.Cpu,
        instance.MemoryMib,
        instance.Gpu,
        instance.Image,
        instance.State == "terminated" ? [] : ReadAll<LocalVolumeRecord>(VolumeStates).Where(v => v.Item.InstanceId == instance.InstanceId).Select(v => v.Item.VolumeId).Order(StringComparer.Ordinal).ToList(),
        instance.Labels);

    private static CloudVolume ToCloud(LocalVolumeRecord volume) => new(volume.VolumeId, volume.IdempotencyKey, volume.Name, volume.SizeGib, volume.InstanceId, volume.Labels);

    private static CloudNetwork ToCloud(LocalNetworkRecord network) => new(network.NetworkId, network.IdempotencyKey, network.Name, network.Cidr, network.Labels);

    private static bool Overlap(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);

    private static string CheckId(string id) =>
        IdPattern().IsMatch(id) ? id : throw new ArgumentException($"'{id}' is not an id of the local cloud.", nameof(id));

    private static void RequireText(string? value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw CloudException.InvalidRequest($"The {what} is empty.");
        }
    }

    private static void CheckSize(int cpu, int memoryMib)
    {
        if (cpu < 1 || memoryMib < 1)
        {
            throw CloudException.InvalidRequest($"An instance needs at least 1 CPU and 1 MiB of memory, not {cpu} CPU and {memoryMib} MiB.");
        }
    }

    private static void CheckVolumeSize(int sizeGib)
    {
        if (sizeGib < 1)
        {
            throw CloudException.InvalidRequest($"A volume needs at least 1 GiB, not {sizeGib}.");
        }
    }

    private static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static string KeyPath(string directory, string idempotencyKey) =>
        Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..32] + ".json");

    private static (string Path, T Item)? Find<T>(string directory, Func<T, bool> match)
        where T : class =>
        ReadAll<T>(directory).Where(i => match(i.Item)).Select(i => ((string, T)?)i).FirstOrDefault();

    private static IEnumerable<(string Path, T Item)> ReadAll<T>(string directory) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*.json").Select(p => (p, Read<T>(p))) : [];

    private static T Read<T>(string path) => JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json)!;

    private static void Write<T>(string path, T item)
    {
        // Written whole and renamed into place: a process killed mid-write leaves no half record.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(item, Json));
        File.Move(temporary, path, overwrite: true);
    }

    [GeneratedRegex("^(i|vol|net)-[0-9a-f]{12}$")]
    private static partial Regex IdPattern();
}
