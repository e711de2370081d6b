using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pitrix.Catalog.Indexing;
using Pitrix.Core;
using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Core.Runtimes;
using Pitrix.Packages.Archives;

namespace Pitrix.AppFormats.VmCluster;

/// <summary>Shared plumbing of the vmcluster handlers: input parsing and mapping failures to task outcomes.</summary>
public abstract class VmTaskHandler(string kind) : ITaskHandler
{
    public string Kind { get; } = kind;

    public async Task<TaskOutcome> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var input = JsonNode.Parse(context.Input) as JsonObject ?? [];
        try
        {
            return await RunAsync(context, input, cancellationToken);
        }
        catch (CloudException e)
        {
            return e.ToTaskOutcome();
        }
    }

    protected abstract Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken);

    protected static string NodeId(JsonObject input) => input["node_id"]?.GetValue<string>() ?? throw CloudException.InvalidRequest("The task input has no node_id.");

    protected static bool Flag(JsonObject input, string name) => input[name]?.GetValue<bool>() ?? false;

    /// <summary>
    /// Agent errors: a frontgate or drone not connected (yet), timeouts and whatever the agent marked retryable
    /// (its <c>retryable</c> extension) are worth retrying; refusals are not.
    /// </summary>
    protected static TaskOutcome FromAgentError(Error error, string? output = null) =>
        TaskOutcome.Failure(
            error.Code,
            error.Message,
            error.Code is AgentNetworkErrors.FrontgateNotConnected or AgentNetworkErrors.NodeNotConnected or AgentNetworkErrors.Timeout
                || error.Extensions?.GetValueOrDefault("retryable") is true,
            output);

    protected static async Task<FrontgateLocation> FrontgateAsync(VmRuntimeContext runtimes, TaskContext context, CancellationToken cancellationToken)
    {
        var (driver, runtime) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        return await VmRuntimeContext.FindFrontgateAsync(driver, runtime, cancellationToken)
            ?? throw new CloudException(AgentNetworkErrors.FrontgateNotConnected, $"Runtime {runtime.Id} has no frontgate yet.", retryable: true);
    }
}

/// <summary>
/// <see cref="VmTaskKinds.EnsureFrontgate"/>: the runtime's network and frontgate instance (booting with a
/// frontgate join token), started if stopped; succeeds once the frontgate holds its stream to Pilot.
/// </summary>
public sealed class EnsureFrontgateHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.EnsureFrontgate)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var (driver, runtime) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        var network = await runtimes.EnsureNetworkAsync(driver, runtime, cancellationToken);
        var frontgateId = VmRuntimeContext.FrontgateId(runtime.Id);
        var instance = await driver.FindInstanceAsync($"frontgate/{runtime.Id}", cancellationToken);
        if (instance is null)
        {
            var ticket = await agents.IssueJoinTokenAsync(AgentKinds.Frontgate, frontgateId, cancellationToken);
            var bootstrap = new AgentBootstrap
            {
                Agent = AgentKinds.Frontgate,
                Id = frontgateId,
                JoinToken = ticket.Token,
                CaPem = ticket.CaPem,
                PilotAddress = ticket.PilotAddress,
                ListenAddress = $":{VmRuntimeContext.FrontgatePort}",
            };
            instance = await driver.CreateInstanceAsync(
                new CloudInstanceRequest($"frontgate/{runtime.Id}", network.Id, frontgateId, 1, 1024, "pitrix-frontgate")
                {
                    UserData = bootstrap.ToJson(),
                    Labels = new Dictionary<string, string> { ["pitrix.role"] = "frontgate", ["pitrix.runtime_id"] = runtime.Id },
                },
                cancellationToken);
        }
        else if (instance.State == CloudInstanceState.Stopped)
        {
            instance = await driver.StartInstanceAsync(instance.Id, cancellationToken);
        }

        if (!agents.IsConnected(frontgateId))
        {
            return TaskOutcome.Failure(AgentNetworkErrors.FrontgateNotConnected, $"Frontgate {frontgateId} ({instance.PrivateIp}) has not connected to Pilot yet.", retryable: true);
        }

        return TaskOutcome.Success(JsonSerializer.Serialize(new { frontgate_id = frontgateId, instance_id = instance.Id, ip = instance.PrivateIp, network_id = network.Id }));
    }
}

/// <summary>
/// <see cref="VmTaskKinds.ReleaseFrontgate"/>: terminates the runtime's frontgate and deletes its network once
/// no other cluster that is not ceased uses the runtime. A cluster created at the same moment counts (it is
/// pending from its first transaction), so a frontgate in use is never taken away.
/// </summary>
public sealed class ReleaseFrontgateHandler(VmRuntimeContext runtimes) : VmTaskHandler(VmTaskKinds.ReleaseFrontgate)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var others = await runtimes.WithDbAsync(db => db.Clusters.CountAsync(
            c => c.RuntimeId == context.RuntimeId && c.Id != context.ClusterId && c.Status != ClusterStatus.Ceased, cancellationToken));
        if (others > 0)
        {
            return TaskOutcome.Success($"kept: {others} other cluster(s) use the runtime");
        }

        var (driver, runtime) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        var instance = await driver.FindInstanceAsync($"frontgate/{runtime.Id}", cancellationToken);
        if (instance is null)
        {
            return TaskOutcome.Success("no frontgate");
        }

        await driver.TerminateInstanceAsync(instance.Id, cancellationToken);
        try
        {
            await driver.DeleteNetworkAsync(instance.NetworkId, cancellationToken);
        }
        catch (CloudException e) when (e.Code == CloudErrorCodes.InvalidState)
        {
            return TaskOutcome.Success($"terminated frontgate {instance.Id}; network {instance.NetworkId} kept: {e.Message}");
        }

        return TaskOutcome.Success($"terminated frontgate {instance.Id} and deleted network {instance.NetworkId}");
    }
}

/// <summary><see cref="VmTaskKinds.CreateVolume"/>: the node's data volume (key <c>volume/{node}</c>), recorded on the node.</summary>
public sealed class CreateVolumeHandler(VmRuntimeContext runtimes) : VmTaskHandler(VmTaskKinds.CreateVolume)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var (driver, _) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        var volume = await driver.CreateVolumeAsync(
            new CloudVolumeRequest(VmRuntimeContext.VolumeKey(nodeId), nodeId, input["size_gib"]!.GetValue<int>())
            {
                MountPoint = input["mount_point"]?.GetValue<string>(),
                Labels = new Dictionary<string, string> { ["pitrix.node_id"] = nodeId, ["pitrix.cluster_id"] = context.ClusterId },
            },
            cancellationToken);
        await runtimes.WithDbAsync(async db =>
        {
            var node = await db.ClusterNodes.SingleAsync(n => n.Id == nodeId, cancellationToken);
            if (!node.Volumes.Contains(volume.Id))
            {
                node.Volumes = [.. node.Volumes, volume.Id];
                await db.SaveChangesAsync(cancellationToken);
            }

            return true;
        });
        return TaskOutcome.Success(JsonSerializer.Serialize(new { volume_id = volume.Id, size_gib = volume.SizeGib }));
    }
}

/// <summary>
/// <see cref="VmTaskKinds.CreateInstance"/>: the node's instance (key <c>node/{node}</c>) in the runtime's network,
/// booting the drone with a node join token and its frontgate's address; its id and IP are recorded on the node.
/// </summary>
public sealed class CreateInstanceHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.CreateInstance)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var (driver, runtime) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        var instance = await driver.FindInstanceAsync(VmRuntimeContext.InstanceKey(nodeId), cancellationToken);
        var created = instance is null;
        if (instance is null)
        {
            var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
            var node = await runtimes.FindNodeAsync(nodeId, cancellationToken) ?? throw CloudException.NotFound("node", nodeId);
            var ticket = await agents.IssueJoinTokenAsync(AgentKinds.Node, nodeId, cancellationToken);
            var bootstrap = new AgentBootstrap
            {
                Agent = AgentKinds.Node,
                Id = nodeId,
                JoinToken = ticket.Token,
                CaPem = ticket.CaPem,
                FrontgateAddress = frontgate.Address,
                FrontgateId = frontgate.Id,
            };
            instance = await driver.CreateInstanceAsync(
                new CloudInstanceRequest(VmRuntimeContext.InstanceKey(nodeId), frontgate.NetworkId, nodeId, input["cpu"]?.GetValue<int>() ?? 1, input["memory"]?.GetValue<int>() ?? 1024, input["image"]?.GetValue<string>() is { Length: > 0 } image ? image : "debian-12")
                {
                    Gpu = input["gpu"]?.GetValue<int>() ?? 0,
                    UserData = bootstrap.ToJson(),
                    VolumeIds = node.Volumes,
                    Labels = new Dictionary<string, string> { ["pitrix.node_id"] = nodeId, ["pitrix.cluster_id"] = context.ClusterId, ["pitrix.runtime_id"] = runtime.Id },
                },
                cancellationToken);
        }

        await runtimes.WithDbAsync(db => db.ClusterNodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(
            u => u.SetProperty(n => n.InstanceId, instance.Id).SetProperty(n => n.PrivateIp, instance.PrivateIp),
            cancellationToken));
        return TaskOutcome.Success(JsonSerializer.Serialize(new { instance_id = instance.Id, private_ip = instance.PrivateIp, created }));
    }
}

/// <summary><see cref="VmTaskKinds.Instance"/>: start, stop, resize or terminate the node's instance.</summary>
public sealed class InstanceHandler(VmRuntimeContext runtimes) : VmTaskHandler(VmTaskKinds.Instance)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var op = input["op"]!.GetValue<string>();
        var (driver, _) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        var instance = await driver.FindInstanceAsync(VmRuntimeContext.InstanceKey(nodeId), cancellationToken);
        if (instance is null)
        {
            return op is "stop" or "terminate"
                ? TaskOutcome.Success($"{op} {nodeId}: no instance")
                : TaskOutcome.Failure("vm.instance_missing", $"Node {nodeId} has no instance to {op}.", retryable: false);
        }

        instance = op switch
        {
            "start" => await driver.StartInstanceAsync(instance.Id, cancellationToken),
            "stop" => await driver.StopInstanceAsync(instance.Id, cancellationToken),
            "resize" => await driver.ResizeInstanceAsync(instance.Id, input["cpu"]!.GetValue<int>(), input["memory"]!.GetValue<int>(), cancellationToken),
            _ => throw CloudException.InvalidRequest($"Unknown instance operation '{op}'."),
        };
        return TaskOutcome.Success($"{op} {nodeId}: {instance.State.ToString().ToLowerInvariant()}");
    }
}

/// <summary><see cref="VmTaskKinds.ResizeVolume"/>: grows the node's volume.</summary>
public sealed class ResizeVolumeHandler(VmRuntimeContext runtimes) : VmTaskHandler(VmTaskKinds.ResizeVolume)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var node = await runtimes.FindNodeAsync(nodeId, cancellationToken) ?? throw CloudException.NotFound("node", nodeId);
        var (driver, _) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        foreach (var volumeId in node.Volumes)
        {
            await driver.ResizeVolumeAsync(volumeId, input["size_gib"]!.GetValue<int>(), cancellationToken);
        }

        return TaskOutcome.Success($"resized {node.Volumes.Count} volume(s) of {nodeId}");
    }
}

/// <summary><see cref="VmTaskKinds.RemoveNode"/>: terminates the node's instance, then deletes its volume.</summary>
public sealed class RemoveNodeHandler(VmRuntimeContext runtimes) : VmTaskHandler(VmTaskKinds.RemoveNode)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var (driver, _) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        if (await driver.FindInstanceAsync(VmRuntimeContext.InstanceKey(nodeId), cancellationToken) is { } instance)
        {
            await driver.TerminateInstanceAsync(instance.Id, cancellationToken);
        }

        var node = await runtimes.FindNodeAsync(nodeId, cancellationToken);
        foreach (var volumeId in node?.Volumes ?? [])
        {
            await driver.DeleteVolumeAsync(volumeId, cancellationToken);
        }

        return TaskOutcome.Success($"removed {nodeId}");
    }
}

/// <summary><see cref="VmTaskKinds.WaitAgent"/>: retried until the node's drone answers a ping through its frontgate.</summary>
public sealed class WaitAgentHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.WaitAgent)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        var pong = await agents.PingAsync(frontgate.Id, nodeId, cancellationToken);
        return pong.IsSuccess
            ? TaskOutcome.Success($"drone {pong.Value!.Version} answered in {pong.Value.RoundTrip.TotalMilliseconds:0.#} ms")
            : TaskOutcome.Failure(pong.Error!.Code, $"The drone of node {nodeId} does not answer yet: {pong.Error.Message}", retryable: true);
    }
}

/// <summary><see cref="VmTaskKinds.InstallFiles"/>: the app version's package files, as one gzip tar, installed on the node.</summary>
public sealed class InstallFilesHandler(VmRuntimeContext runtimes, IAgentNetwork agents, PackageStore packages) : VmTaskHandler(VmTaskKinds.InstallFiles)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var versionId = input["app_version_id"]!.GetValue<string>();
        var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        var bundle = await runtimes.BundleAsync(versionId, () => runtimes.WithDbAsync(async db =>
        {
            var version = await db.AppVersions.AsNoTracking().SingleOrDefaultAsync(v => v.Id == versionId, CancellationToken.None)
                ?? throw new CloudException("app_version.not_found", $"App version {versionId} no longer exists.", retryable: false);
            var archive = await packages.GetPackageAsync(db, version, CancellationToken.None);
            using var stream = new MemoryStream(archive, writable: false);
            var files = (await SafeArchive.ReadAsync(stream, null, CancellationToken.None)).ContentFiles;
            return new AppFilesBundle(await BundleAsync(files, CancellationToken.None), files.Count);
        }));
        var error = await agents.InstallFilesAsync(frontgate.Id, nodeId, context.IdempotencyKey, bundle.Archive, versionId, cancellationToken);
        return error is null ? TaskOutcome.Success($"installed {bundle.FileCount} file(s) of {versionId} ({bundle.Archive.Length} bytes)") : FromAgentError(error);
    }

    /// <summary>The package's files as a gzip tar; scripts stay executable.</summary>
    public static async Task<byte[]> BundleAsync(IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        using var output = new MemoryStream();
        await using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var executable = path.EndsWith(".sh", StringComparison.Ordinal) || path.StartsWith("scripts/", StringComparison.Ordinal) || path.StartsWith("bin/", StringComparison.Ordinal);
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    DataStream = new MemoryStream(content, writable: false),
                    Mode = executable
                        ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                await tar.WriteEntryAsync(entry, cancellationToken);
            }
        }

        return output.ToArray();
    }
}

/// <summary>
/// <see cref="VmTaskKinds.RegisterMetadata"/>: writes the cluster's metadata to its frontgate — every live node
/// under <c>hosts/&lt;role&gt;/&lt;node&gt;/</c>, <c>cluster/</c>, each role's <c>env/&lt;role&gt;/</c>, and the
/// nodes being added or removed under <c>adding-hosts/</c> / <c>deleting-hosts/</c>.
/// </summary>
public sealed class RegisterMetadataHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.RegisterMetadata)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        var (_, runtime) = await runtimes.OpenAsync(context.RuntimeId, cancellationToken);
        var (cluster, nodes, roles) = await runtimes.WithDbAsync(async db => (
            await db.Clusters.AsNoTracking().SingleAsync(c => c.Id == context.ClusterId, cancellationToken),
            await db.ClusterNodes.AsNoTracking().Where(n => n.ClusterId == context.ClusterId && n.Status != NodeStatus.Deleted).ToListAsync(cancellationToken),
            await db.ClusterRoles.AsNoTracking().Where(r => r.ClusterId == context.ClusterId).ToListAsync(cancellationToken)));
        var entries = Entries(cluster, runtime, nodes, roles, input);
        var error = await agents.PutMetadataAsync(frontgate.Id, cluster.Id, entries, cancellationToken);
        return error is null ? TaskOutcome.Success($"registered {entries.Count} key(s) for {nodes.Count} node(s)") : FromAgentError(error);
    }

    /// <summary>The metadata of a cluster (keys relative to its root; layout of the digest's §5.4).</summary>
    public static Dictionary<string, string> Entries(Cluster cluster, Runtime runtime, IReadOnlyList<ClusterNode> nodes, IReadOnlyList<ClusterRole> roles, JsonObject input)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["cluster/cluster_id"] = cluster.Id,
            ["cluster/name"] = cluster.Name,
            ["cluster/app_id"] = cluster.AppId,
            ["cluster/app_version_id"] = input["app_version_id"]?.GetValue<string>() ?? cluster.AppVersionId,
            ["cluster/runtime_id"] = runtime.Id,
            ["cluster/provider"] = runtime.Provider,
            ["cluster/zone"] = runtime.Zone,
        };
        var adding = Set(input["adding"]);
        var deleting = Set(input["deleting"]);
        foreach (var node in nodes.Where(n => n.PrivateIp is not null))
        {
            var role = roles.FirstOrDefault(r => r.Name == node.Role);
            var host = new Dictionary<string, string>
            {
                ["ip"] = node.PrivateIp!,
                ["sid"] = node.ServerId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["node_id"] = node.Id,
                ["instance_id"] = node.InstanceId ?? "",
                ["role"] = node.Role,
                ["cpu"] = (role?.Cpu ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["memory"] = (role?.Memory ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["gpu"] = (role?.Gpu ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["volume_size"] = (role?.VolumeSize ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var (key, value) in host)
            {
                entries[$"hosts/{node.Role}/{node.Id}/{key}"] = value;
                if (adding.Contains(node.Id))
                {
                    entries[$"adding-hosts/{node.Role}/{node.Id}/{key}"] = value;
                }

                if (deleting.Contains(node.Id))
                {
                    entries[$"deleting-hosts/{node.Role}/{node.Id}/{key}"] = value;
                }
            }
        }

        foreach (var (roleName, values) in input["env"] as JsonObject ?? [])
        {
            foreach (var (key, value) in values as JsonObject ?? [])
            {
                entries[$"env/{roleName}/{key}"] = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "";
            }
        }

        return entries;
    }

    private static HashSet<string> Set(JsonNode? ids) => (ids as JsonArray ?? []).Select(i => i!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
}

/// <summary><see cref="VmTaskKinds.DeregisterMetadata"/>: removes keys or prefixes; <c>optional</c> tolerates an absent frontgate.</summary>
public sealed class DeregisterMetadataHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.DeregisterMetadata)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var keys = (input["keys"] as JsonArray ?? []).Select(k => k!.GetValue<string>()).ToList();
        var optional = Flag(input, "optional");
        FrontgateLocation frontgate;
        try
        {
            frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        }
        catch (CloudException) when (optional)
        {
            return TaskOutcome.Success("no frontgate: nothing to remove");
        }

        var error = await agents.DeleteMetadataAsync(frontgate.Id, context.ClusterId, keys, Flag(input, "prefix"), cancellationToken);
        return error switch
        {
            null => TaskOutcome.Success($"removed {string.Join(", ", keys.Select(k => k.Length == 0 ? "(all)" : k))}"),
            _ when optional && error.Code == AgentNetworkErrors.FrontgateNotConnected => TaskOutcome.Success($"skipped: {error.Message}"),
            _ => FromAgentError(error),
        };
    }
}

/// <summary><see cref="VmTaskKinds.ConfigWatch"/>: starts (<c>on</c>) or stops config rendering on the node.</summary>
public sealed class ConfigWatchHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.ConfigWatch)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var on = Flag(input, "on");
        var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        var error = on
            ? await agents.StartConfigWatchAsync(frontgate.Id, nodeId, cancellationToken)
            : await agents.StopConfigWatchAsync(frontgate.Id, nodeId, cancellationToken);
        return error switch
        {
            null => TaskOutcome.Success(on ? "watching" : "stopped watching"),
            _ when Flag(input, "optional") && error.Code is AgentNetworkErrors.NodeNotConnected or AgentNetworkErrors.FrontgateNotConnected => TaskOutcome.Success($"skipped: {error.Message}"),
            _ => FromAgentError(error),
        };
    }
}

/// <summary><see cref="VmTaskKinds.HealthCheck"/>: configures the node's health check from the role's <c>health_check</c>.</summary>
public sealed class HealthCheckHandler(VmRuntimeContext runtimes, IAgentNetwork agents) : VmTaskHandler(VmTaskKinds.HealthCheck)
{
    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeId = NodeId(input);
        var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        var check = new AgentHealthCheck(
            Flag(input, "enabled"),
            input["check_cmd"]!.GetValue<string>(),
            input["action_cmd"]?.GetValue<string>(),
            TimeSpan.FromSeconds(input["interval_sec"]!.GetValue<int>()),
            TimeSpan.FromSeconds(input["timeout_sec"]!.GetValue<int>()),
            TimeSpan.FromSeconds(input["action_timeout_sec"]!.GetValue<int>()),
            input["healthy_threshold"]!.GetValue<int>(),
            input["unhealthy_threshold"]!.GetValue<int>());
        var error = await agents.ConfigureHealthCheckAsync(frontgate.Id, nodeId, check, cancellationToken);
        return error is null ? TaskOutcome.Success($"health check every {check.Interval.TotalSeconds:0} s") : FromAgentError(error);
    }
}

/// <summary>
/// <see cref="VmTaskKinds.Run"/>: runs a role's service command on its nodes side by side and waits for every
/// result. Values reach the command only as environment variables: each role env value as
/// <c>PITRIX_ENV_&lt;KEY&gt;</c>, a custom action's parameters as <c>PITRIX_PARAM_&lt;NAME&gt;</c>, the nodes being
/// added or removed as <c>PITRIX_ADDING_HOSTS</c> / <c>PITRIX_DELETING_HOSTS</c> (<c>node=ip</c>, space-separated).
/// </summary>
/// <remarks>
/// The command's task id is <c>{idempotency key}@{node}</c>: a retried or resumed task sends it again and the
/// drone, which never runs a task id twice, reports the result it has. While no result has arrived the
/// request is re-sent every few seconds, which also covers a report lost with a restarting frontgate.
/// </remarks>
public sealed class RunHandler(VmRuntimeContext runtimes, IAgentNetwork agents, TimeProvider time) : VmTaskHandler(VmTaskKinds.Run)
{
    private static readonly TimeSpan ResendEvery = TimeSpan.FromSeconds(5);

    protected override async Task<TaskOutcome> RunAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var nodeIds = (input["nodes"] as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToList();
        if (nodeIds.Count == 0)
        {
            return TaskOutcome.Success("no nodes");
        }

        var command = input["command"]!.GetValue<string>();
        var timeout = TimeSpan.FromSeconds(input["timeout_seconds"]?.GetValue<int>() ?? 600);
        var frontgate = await FrontgateAsync(runtimes, context, cancellationToken);
        var environment = await EnvironmentAsync(context, input, cancellationToken);
        var results = await Task.WhenAll(nodeIds.Select(n => RunOnAsync(frontgate, context, n, command, timeout, environment, cancellationToken)));

        var output = new StringBuilder();
        foreach (var (nodeId, result, error) in results)
        {
            output.Append(nodeId).Append(": ");
            output.AppendLine(result is null ? $"no result ({error?.Message})" : Describe(result));
        }

        var failed = results.Where(r => r.Result is not { Succeeded: true }).ToList();
        if (failed.Count == 0 || Flag(input, "allow_failure"))
        {
            return TaskOutcome.Success(output.ToString());
        }

        var (firstNode, first, firstError) = failed[0];
        if (first is null)
        {
            return TaskOutcome.Failure(firstError?.Code ?? AgentNetworkErrors.Timeout, $"`{command}` on node {firstNode}: {firstError?.Message ?? "no result in time"}", firstError is not null && firstError.Code != AgentNetworkErrors.Timeout, output.ToString());
        }

        var why = first.ErrorCode is not null ? $"could not start ({first.ErrorCode}: {first.ErrorMessage})"
            : first.TimedOut ? $"timed out after {timeout.TotalSeconds:0} s"
            : $"exited {first.ExitCode}";
        var tail = first.StderrTail.Length > 0 ? first.StderrTail : first.StdoutTail;
        return TaskOutcome.Failure("vm.command_failed", $"`{command}` {why} on node {firstNode} ({failed.Count} of {results.Length} node(s) failed){(tail.Length > 0 ? ": " + tail.Trim() : "")}", retryable: false, output.ToString());
    }

    private async Task<(string NodeId, AgentCommandResult? Result, Error? Error)> RunOnAsync(
        FrontgateLocation frontgate, TaskContext context, string nodeId, string command, TimeSpan timeout, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var taskId = $"{context.IdempotencyKey}@{nodeId}";
        var deadline = time.GetUtcNow() + timeout + TimeSpan.FromSeconds(30);
        Error? last = null;
        while (time.GetUtcNow() < deadline)
        {
            var existing = await agents.WaitForCommandResultAsync(nodeId, taskId, TimeSpan.Zero, cancellationToken);
            if (existing is not null)
            {
                return (nodeId, existing, null);
            }

            last = await agents.RunCommandAsync(frontgate.Id, new AgentCommand(nodeId, taskId, command, timeout) { Environment = environment }, cancellationToken);
            if (last is not null && last.Code == AgentNetworkErrors.Rejected)
            {
                return (nodeId, null, last);
            }

            var result = await agents.WaitForCommandResultAsync(nodeId, taskId, last is null ? ResendEvery : TimeSpan.FromSeconds(1), cancellationToken);
            if (result is not null)
            {
                return (nodeId, result, null);
            }
        }

        return (nodeId, null, last ?? new Error(ErrorKind.Unavailable, AgentNetworkErrors.Timeout, $"no result within {timeout.TotalSeconds:0} s"));
    }

    private async Task<Dictionary<string, string>> EnvironmentAsync(TaskContext context, JsonObject input, CancellationToken cancellationToken)
    {
        var role = input["role"]?.GetValue<string>() ?? "";
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PITRIX_CLUSTER_ID"] = context.ClusterId,
            ["PITRIX_ROLE"] = role,
            ["PITRIX_SERVICE"] = input["service"]?.GetValue<string>() ?? "",
        };
        var (roles, nodes) = await runtimes.WithDbAsync(async db => (
            await db.ClusterRoles.AsNoTracking().Where(r => r.ClusterId == context.ClusterId).ToListAsync(cancellationToken),
            await db.ClusterNodes.AsNoTracking().Where(n => n.ClusterId == context.ClusterId).ToListAsync(cancellationToken)));
        foreach (var (key, value) in roles.FirstOrDefault(r => r.Name == role)?.Env ?? [])
        {
            environment["PITRIX_ENV_" + EnvName(key)] = value;
        }

        foreach (var (key, value) in input["parameters"] as JsonObject ?? [])
        {
            environment["PITRIX_PARAM_" + EnvName(key)] = value?.ToString() ?? "";
        }

        foreach (var (field, name) in new[] { ("adding", "PITRIX_ADDING_HOSTS"), ("deleting", "PITRIX_DELETING_HOSTS") })
        {
            if (input[field] is JsonArray ids)
            {
                var set = ids.Select(i => i!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                environment[name] = string.Join(' ', nodes.Where(n => set.Contains(n.Id)).OrderBy(n => n.ServerId).Select(n => $"{n.Id}={n.PrivateIp}"));
            }
        }

        return environment;
    }

    private static string EnvName(string key) => new([.. key.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);

    private static string Describe(AgentCommandResult result) =>
        result.ErrorCode is not null ? $"{result.ErrorCode}: {result.ErrorMessage}"
        : $"exit {result.ExitCode}{(result.TimedOut ? " (timed out)" : "")} in {result.Duration.TotalMilliseconds:0} ms{(result.StdoutTail.Length > 0 ? " — " + result.StdoutTail.Trim() : "")}";
}
