using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pitrix.Core.Cloud;

namespace Pitrix.Providers.Fake;

/// <summary>A fake instance as the fake cloud stores it.</summary>
public sealed record FakeInstance(
    [property: JsonPropertyName("instance_id")] string InstanceId,
    [property: JsonPropertyName("node_id")] string NodeId,
    [property: JsonPropertyName("idempotency_key")] string IdempotencyKey,
    [property: JsonPropertyName("private_ip")] string PrivateIp,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("cpu")] int Cpu,
    [property: JsonPropertyName("memory")] int Memory)
{
    [JsonPropertyName("network_id")]
    public string NetworkId { get; init; } = "";

    [JsonPropertyName("name")]
    public string Name { get; init; } = "";

    [JsonPropertyName("gpu")]
    public int Gpu { get; init; }

    [JsonPropertyName("image")]
    public string Image { get; init; } = "";

    [JsonPropertyName("user_data")]
    public string? UserData { get; init; }

    [JsonPropertyName("labels")]
    public Dictionary<string, string> Labels { get; init; } = [];
}

/// <summary>A fake volume as the fake cloud stores it.</summary>
public sealed record FakeVolume(
    [property: JsonPropertyName("volume_id")] string VolumeId,
    [property: JsonPropertyName("idempotency_key")] string IdempotencyKey,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size_gib")] int SizeGib,
    [property: JsonPropertyName("instance_id")] string? InstanceId,
    [property: JsonPropertyName("labels")] Dictionary<string, string> Labels);

/// <summary>A fake network as the fake cloud stores it.</summary>
public sealed record FakeNetwork(
    [property: JsonPropertyName("network_id")] string NetworkId,
    [property: JsonPropertyName("idempotency_key")] string IdempotencyKey,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("cidr")] string Cidr,
    [property: JsonPropertyName("labels")] Dictionary<string, string> Labels);

/// <summary>One operation in the fake cloud's log.</summary>
public sealed record FakeLogEntry(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("instance_id")] string? InstanceId,
    [property: JsonPropertyName("result")] string Result);

/// <summary>
/// FAKE cloud for engine tests, and the reference <see cref="ICloudDriver"/>: networks, instances and
/// volumes are JSON files in a directory, so they outlive the process like a real cloud's do; every
/// operation is appended to <c>log.jsonl</c> (<c>key</c> is the idempotency key of a create, otherwise the
/// instance's node, volume or network). Creation looks before it creates (by idempotency key), as every real
/// driver must, so a retried or resumed task finds its instance instead of making a second one. Live
/// resources are stored under their key's hash, which makes that look-up one file; a terminated instance
/// moves to <c>terminated/</c>, where <see cref="ICloudDriver.DescribeInstanceAsync"/> still reports it.
/// </summary>
public sealed class FakeCloud(string root) : ICloudDriver, IDisposable
{
    /// <summary>The label that ties an instance to its cluster node (the <see cref="FakeInstance.NodeId"/>).</summary>
    public const string NodeIdLabel = "pitrix.node_id";

    private readonly SemaphoreSlim _lock = new(1, 1);

    public string Name => "fake";

    public string Root { get; } = root;

    /// <summary>
    /// How long a create takes between looking for its key and making the resource, as a real cloud's API
    /// call would; it opens the window in which racing creates with one key would both create, were the key
    /// not held. Default: none.
    /// </summary>
    public TimeSpan CreateLatency { get; init; }

    public string LogPath => Path.Combine(Root, "log.jsonl");

    private string InstancesPath => Path.Combine(Root, "instances");

    private string TerminatedPath => Path.Combine(Root, "terminated");

    private string VolumesPath => Path.Combine(Root, "volumes");

    private string NetworksPath => Path.Combine(Root, "networks");

    /// <summary>The live (not terminated) instances.</summary>
    public IReadOnlyList<FakeInstance> Instances() => ReadAll<FakeInstance>(InstancesPath).Select(i => i.Item).ToList();

    public static IReadOnlyList<FakeLogEntry> ReadLog(string root)
    {
        var path = Path.Combine(root, "log.jsonl");
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<FakeLogEntry>(l)!).ToList()
            : [];
    }

    /// <summary>
    /// The id of the live instance of a cluster node (labelled <see cref="NodeIdLabel"/>), or null; an absent
    /// node is logged under <paramref name="op"/>. It stands in for the node row's instance id, which a
    /// compensation may run without.
    /// </summary>
    public Task<string?> FindInstanceIdOfNodeAsync(string op, string nodeId, CancellationToken cancellationToken) =>
        LockedAsync<string?>(async () =>
        {
            var found = ReadAll<FakeInstance>(InstancesPath).FirstOrDefault(i => i.Item.NodeId == nodeId).Item;
            if (found is null)
            {
                await LogAsync(op, nodeId, null, "absent");
            }

            return found?.InstanceId;
        }, cancellationToken);

    public Task<CloudNetwork> EnsureNetworkAsync(CloudNetworkRequest request, CancellationToken cancellationToken)
    {
        RequireText(request.IdempotencyKey, "idempotency key");
        RequireText(request.Name, "network name");
        if (!IPNetwork.TryParse(request.Cidr, out var range) || range.BaseAddress.AddressFamily != AddressFamily.InterNetwork || range.PrefixLength > 29)
        {
            throw CloudException.InvalidRequest($"'{request.Cidr}' is not an IPv4 CIDR block of at least 8 addresses (such as 10.0.0.0/24).");
        }

        return LockedAsync(async () =>
        {
            var path = KeyPath(NetworksPath, request.IdempotencyKey);
            if (File.Exists(path))
            {
                var found = Read<FakeNetwork>(path);
                await LogAsync("ensure_network", request.IdempotencyKey, null, "found");
                return ToCloud(found);
            }

            var network = new FakeNetwork(NewId("net-"), request.IdempotencyKey, request.Name, range.ToString(), new(request.Labels));
            await WriteAsync(path, network);
            await LogAsync("ensure_network", request.IdempotencyKey, null, "created");
            return ToCloud(network);
        }, cancellationToken);
    }

    public Task<CloudNetwork> DescribeNetworkAsync(string networkId, CancellationToken cancellationToken) =>
        LockedAsync(() => Task.FromResult(ToCloud(NetworkById(networkId)?.Item ?? throw CloudException.NotFound("network", networkId))), cancellationToken);

    public Task DeleteNetworkAsync(string networkId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (NetworkById(networkId) is not { Path: var path })
            {
                await LogAsync("delete_network", networkId, null, "absent");
                return 0;
            }

            if (ReadAll<FakeInstance>(InstancesPath).Any(i => i.Item.NetworkId == networkId))
            {
                throw CloudException.InvalidState($"Network '{networkId}' still has instances; terminate them first.");
            }

            File.Delete(path);
            await LogAsync("delete_network", networkId, null, "deleted");
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

        return LockedAsync(async () =>
        {
            Directory.CreateDirectory(InstancesPath);
            var path = KeyPath(InstancesPath, request.IdempotencyKey);
            if (File.Exists(path))
            {
                var found = Read<FakeInstance>(path);

                // A create killed between writing the instance and attaching its volumes is finished by its retry.
                foreach (var (volumePath, volume) in request.VolumeIds.Select(VolumeById).OfType<(string, FakeVolume)>().Where(v => v.Item2.InstanceId is null))
                {
                    await WriteAsync(volumePath, volume with { InstanceId = found.InstanceId });
                }

                await LogAsync("create_instance", request.IdempotencyKey, found.InstanceId, "found");
                return ToCloud(found);
            }

            var network = NetworkById(request.NetworkId)?.Item ?? throw CloudException.NotFound("network", request.NetworkId);
            var volumes = new List<(string Path, FakeVolume Item)>();
            foreach (var volumeId in request.VolumeIds.Distinct(StringComparer.Ordinal))
            {
                var volume = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
                if (volume.Item.InstanceId is { } holder)
                {
                    throw CloudException.InvalidState($"Volume '{volumeId}' is attached to instance '{holder}'.");
                }

                volumes.Add(volume);
            }

            if (CreateLatency > TimeSpan.Zero)
            {
                await Task.Delay(CreateLatency, cancellationToken);
            }

            var instanceId = NewId("i-");
            var labels = new Dictionary<string, string>(request.Labels);
            var instance = new FakeInstance(
                instanceId,
                labels.GetValueOrDefault(NodeIdLabel, ""),
                request.IdempotencyKey,
                AllocateAddress(network, instanceId),
                "running",
                request.Cpu,
                request.MemoryMib)
            {
                NetworkId = network.NetworkId,
                Name = request.Name,
                Gpu = request.Gpu,
                Image = request.Image,
                UserData = request.UserData,
                Labels = labels,
            };
            await WriteAsync(path, instance);
            foreach (var (volumePath, volume) in volumes)
            {
                await WriteAsync(volumePath, volume with { InstanceId = instanceId });
            }

            await LogAsync("create_instance", request.IdempotencyKey, instanceId, "created");
            return ToCloud(instance);
        }, cancellationToken);
    }

    public Task<CloudInstance?> FindInstanceAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        RequireText(idempotencyKey, "idempotency key");
        return LockedAsync(() =>
        {
            var path = KeyPath(InstancesPath, idempotencyKey);
            return Task.FromResult(File.Exists(path) ? ToCloud(Read<FakeInstance>(path)) : null);
        }, cancellationToken);
    }

    public Task<CloudInstance> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(() =>
        {
            if (InstanceById(instanceId) is { Item: var live })
            {
                return Task.FromResult(ToCloud(live));
            }

            var terminated = TerminatedPathOf(instanceId);
            return File.Exists(terminated)
                ? Task.FromResult(ToCloud(Read<FakeInstance>(terminated)))
                : throw CloudException.NotFound("instance", instanceId);
        }, cancellationToken);

    public Task<CloudInstance> StartInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        ChangeAsync("start_instance", instanceId, i => i with { State = "running" }, cancellationToken);

    public Task<CloudInstance> StopInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        ChangeAsync("stop_instance", instanceId, i => i with { State = "stopped" }, cancellationToken);

    public Task<CloudInstance> ResizeInstanceAsync(string instanceId, int cpu, int memoryMib, CancellationToken cancellationToken)
    {
        CheckSize(cpu, memoryMib);
        return ChangeAsync("resize_instance", instanceId, i => i with { Cpu = cpu, Memory = memoryMib }, cancellationToken);
    }

    public Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (InstanceById(instanceId) is not { Path: var path, Item: var instance })
            {
                await LogAsync("terminate_instance", instanceId, instanceId, "absent");
                return 0;
            }

            foreach (var (volumePath, volume) in ReadAll<FakeVolume>(VolumesPath).Where(v => v.Item.InstanceId == instanceId))
            {
                await WriteAsync(volumePath, volume with { InstanceId = null });
            }

            // Kept under its id, out of the key's way: the key is free for a new instance.
            Directory.CreateDirectory(TerminatedPath);
            await WriteAsync(TerminatedPathOf(instanceId), instance with { State = "terminated" });
            File.Delete(path);
            await LogAsync("terminate_instance", LogKey(instance), instanceId, "terminated");
            return 0;
        }, cancellationToken);

    public Task<CloudVolume> CreateVolumeAsync(CloudVolumeRequest request, CancellationToken cancellationToken)
    {
        RequireText(request.IdempotencyKey, "idempotency key");
        RequireText(request.Name, "volume name");
        CheckVolumeSize(request.SizeGib);
        return LockedAsync(async () =>
        {
            var path = KeyPath(VolumesPath, request.IdempotencyKey);
            if (File.Exists(path))
            {
                var found = Read<FakeVolume>(path);
                await LogAsync("create_volume", request.IdempotencyKey, null, "found");
                return ToCloud(found);
            }

            var volume = new FakeVolume(NewId("vol-"), request.IdempotencyKey, request.Name, request.SizeGib, null, new(request.Labels));
            await WriteAsync(path, volume);
            await LogAsync("create_volume", request.IdempotencyKey, null, "created");
            return ToCloud(volume);
        }, cancellationToken);
    }

    public Task<CloudVolume> DescribeVolumeAsync(string volumeId, CancellationToken cancellationToken) =>
        LockedAsync(() => Task.FromResult(ToCloud(VolumeById(volumeId)?.Item ?? throw CloudException.NotFound("volume", volumeId))), cancellationToken);

    public Task<CloudVolume> AttachVolumeAsync(string volumeId, string instanceId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            var (path, volume) = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
            if (InstanceById(instanceId) is null)
            {
                throw File.Exists(TerminatedPathOf(instanceId))
                    ? CloudException.InvalidState($"Instance '{instanceId}' is terminated.")
                    : CloudException.NotFound("instance", instanceId);
            }

            if (volume.InstanceId is { } holder && holder != instanceId)
            {
                throw CloudException.InvalidState($"Volume '{volumeId}' is attached to instance '{holder}'; detach it first.");
            }

            var attached = volume with { InstanceId = instanceId };
            await WriteAsync(path, attached);
            await LogAsync("attach_volume", volumeId, instanceId, "attached");
            return ToCloud(attached);
        }, cancellationToken);

    public Task<CloudVolume> DetachVolumeAsync(string volumeId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            var (path, volume) = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
            var detached = volume with { InstanceId = null };
            await WriteAsync(path, detached);
            await LogAsync("detach_volume", volumeId, volume.InstanceId, "detached");
            return ToCloud(detached);
        }, cancellationToken);

    public Task<CloudVolume> ResizeVolumeAsync(string volumeId, int sizeGib, CancellationToken cancellationToken)
    {
        CheckVolumeSize(sizeGib);
        return LockedAsync(async () =>
        {
            var (path, volume) = VolumeById(volumeId) ?? throw CloudException.NotFound("volume", volumeId);
            if (sizeGib < volume.SizeGib)
            {
                throw CloudException.InvalidRequest($"Volume '{volumeId}' has {volume.SizeGib} GiB; volumes only grow, not to {sizeGib} GiB.");
            }

            var resized = volume with { SizeGib = sizeGib };
            await WriteAsync(path, resized);
            await LogAsync("resize_volume", volumeId, volume.InstanceId, $"{sizeGib} GiB");
            return ToCloud(resized);
        }, cancellationToken);
    }

    public Task DeleteVolumeAsync(string volumeId, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (VolumeById(volumeId) is not { Path: var path, Item: var volume })
            {
                await LogAsync("delete_volume", volumeId, null, "absent");
                return 0;
            }

            if (volume.InstanceId is { } holder)
            {
                throw CloudException.InvalidState($"Volume '{volumeId}' is attached to instance '{holder}'; detach it first.");
            }

            File.Delete(path);
            await LogAsync("delete_volume", volumeId, null, "deleted");
            return 0;
        }, cancellationToken);

    public void Dispose() => _lock.Dispose();

    private Task<CloudInstance> ChangeAsync(string op, string instanceId, Func<FakeInstance, FakeInstance> change, CancellationToken cancellationToken) =>
        LockedAsync(async () =>
        {
            if (InstanceById(instanceId) is not { Path: var path, Item: var instance })
            {
                throw File.Exists(TerminatedPathOf(instanceId))
                    ? CloudException.InvalidState($"Instance '{instanceId}' is terminated.")
                    : CloudException.NotFound("instance", instanceId);
            }

            var changed = change(instance);
            await WriteAsync(path, changed);
            await LogAsync(op, LogKey(instance), instanceId, changed.State);
            return ToCloud(changed);
        }, cancellationToken);

    private async Task<T> LockedAsync<T>(Func<Task<T>> action, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(Root);
            return await action();
        }
        finally
        {
            _lock.Release();
        }
    }

    private CloudInstance ToCloud(FakeInstance instance) => new(
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
        instance.Memory,
        instance.Gpu,
        instance.Image,
        instance.State == "terminated" ? [] : ReadAll<FakeVolume>(VolumesPath).Where(v => v.Item.InstanceId == instance.InstanceId).Select(v => v.Item.VolumeId).Order(StringComparer.Ordinal).ToList(),
        instance.Labels);

    private static CloudVolume ToCloud(FakeVolume volume) => new(volume.VolumeId, volume.IdempotencyKey, volume.Name, volume.SizeGib, volume.InstanceId, volume.Labels);

    private static CloudNetwork ToCloud(FakeNetwork network) => new(network.NetworkId, network.IdempotencyKey, network.Name, network.Cidr, network.Labels);

    private (string Path, FakeInstance Item)? InstanceById(string id) => Find<FakeInstance>(InstancesPath, i => i.InstanceId == id);

    private (string Path, FakeVolume Item)? VolumeById(string id) => Find<FakeVolume>(VolumesPath, v => v.VolumeId == id);

    private (string Path, FakeNetwork Item)? NetworkById(string id) => Find<FakeNetwork>(NetworksPath, n => n.NetworkId == id);

    /// <summary>Where a terminated instance is kept; ids that could not be the fake's own lead nowhere.</summary>
    private string TerminatedPathOf(string instanceId) =>
        Path.Combine(TerminatedPath, instanceId.Length is > 0 and < 100 && instanceId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') ? instanceId + ".json" : "-.json");

    /// <summary>A free address in the network's range, derived from the instance id (never the network or broadcast address).</summary>
    private string AllocateAddress(FakeNetwork network, string instanceId)
    {
        var range = IPNetwork.Parse(network.Cidr);
        var baseAddress = BinaryPrimitives.ReadUInt32BigEndian(range.BaseAddress.GetAddressBytes());
        var hosts = (1UL << (32 - range.PrefixLength)) - 3;
        var used = ReadAll<FakeInstance>(InstancesPath).Where(i => i.Item.NetworkId == network.NetworkId).Select(i => i.Item.PrivateIp).ToHashSet(StringComparer.Ordinal);
        var start = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(instanceId))) % hosts;
        for (var probe = 0UL; probe < hosts; probe++)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, baseAddress + (uint)((start + probe) % hosts) + 2);
            var address = new IPAddress(bytes).ToString();
            if (!used.Contains(address))
            {
                return address;
            }
        }

        throw CloudException.QuotaExceeded($"Network '{network.NetworkId}' ({network.Cidr}) has no free address.");
    }

    private static string LogKey(FakeInstance instance) => instance.NodeId.Length > 0 ? instance.NodeId : instance.InstanceId;

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

    private static T Read<T>(string path) => JsonSerializer.Deserialize<T>(File.ReadAllBytes(path))!;

    private static async Task WriteAsync<T>(string path, T item)
    {
        // Written whole and renamed into place: a process killed mid-write leaves no half resource.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(item));
        File.Move(temporary, path, overwrite: true);
    }

    private async Task LogAsync(string op, string key, string? instanceId, string result)
    {
        var line = JsonSerializer.Serialize(new FakeLogEntry(DateTimeOffset.UtcNow, op, key, instanceId, result)) + "\n";
        await using var stream = new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line));
        await stream.FlushAsync();
    }
}
