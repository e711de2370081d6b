namespace Pitrix.Core.Cloud;

/// <summary>What <see cref="ICloudDriver.EnsureNetworkAsync"/> is asked for.</summary>
/// <param name="IdempotencyKey">Identifies the network across retries.</param>
/// <param name="Name">Human name, shown in the cloud's console.</param>
/// <param name="Cidr">The IPv4 address range, for example <c>10.20.0.0/24</c>; instances get addresses in it.</param>
public sealed record CloudNetworkRequest(string IdempotencyKey, string Name, string Cidr)
{
    /// <summary>Labels (tags) put on the network. Default: none.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>A network as the cloud reports it.</summary>
public sealed record CloudNetwork(string Id, string IdempotencyKey, string Name, string Cidr, IReadOnlyDictionary<string, string> Labels);

/// <summary>What <see cref="ICloudDriver.CreateInstanceAsync"/> is asked for.</summary>
/// <param name="IdempotencyKey">Identifies the instance across retries.</param>
/// <param name="NetworkId">The network the instance joins; its private address is in the network's range.</param>
/// <param name="Name">Human name (host name where the cloud allows it).</param>
/// <param name="Cpu">Virtual CPUs, at least 1.</param>
/// <param name="MemoryMib">Memory in MiB, at least 1.</param>
/// <param name="Image">The image (machine image id or name) the instance boots.</param>
public sealed record CloudInstanceRequest(string IdempotencyKey, string NetworkId, string Name, int Cpu, int MemoryMib, string Image)
{
    /// <summary>GPUs, 0 or more. Default: 0.</summary>
    public int Gpu { get; init; }

    /// <summary>User data (cloud-init) handed to the instance at boot. Default: none.</summary>
    public string? UserData { get; init; }

    /// <summary>Existing detached volumes to attach at creation. Default: none.</summary>
    public IReadOnlyList<string> VolumeIds { get; init; } = [];

    /// <summary>Labels (tags) put on the instance. Default: none.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>The life of an instance as every driver reports it.</summary>
public enum CloudInstanceState
{
    /// <summary>Being created or started; not yet running.</summary>
    Pending,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Stopped; it keeps its disks, address and size and can be started again.</summary>
    Stopped,

    /// <summary>Gone for good; reported only for as long as the cloud remembers it.</summary>
    Terminated,
}

/// <summary>An instance as the cloud reports it.</summary>
/// <param name="Id">The cloud's instance id.</param>
/// <param name="IdempotencyKey">The key it was created with.</param>
/// <param name="NetworkId">The network it is in.</param>
/// <param name="Name">Its name.</param>
/// <param name="State">Its state now.</param>
/// <param name="PrivateIp">Its private address in the network, once the cloud has assigned one.</param>
/// <param name="Cpu">Virtual CPUs (after any resize).</param>
/// <param name="MemoryMib">Memory in MiB (after any resize).</param>
/// <param name="Gpu">GPUs.</param>
/// <param name="Image">The image it booted.</param>
/// <param name="VolumeIds">The volumes attached to it.</param>
/// <param name="Labels">Its labels.</param>
public sealed record CloudInstance(
    string Id,
    string IdempotencyKey,
    string NetworkId,
    string Name,
    CloudInstanceState State,
    string? PrivateIp,
    int Cpu,
    int MemoryMib,
    int Gpu,
    string Image,
    IReadOnlyList<string> VolumeIds,
    IReadOnlyDictionary<string, string> Labels);

/// <summary>What <see cref="ICloudDriver.CreateVolumeAsync"/> is asked for.</summary>
/// <param name="IdempotencyKey">Identifies the volume across retries.</param>
/// <param name="Name">Human name.</param>
/// <param name="SizeGib">Size in GiB, at least 1.</param>
public sealed record CloudVolumeRequest(string IdempotencyKey, string Name, int SizeGib)
{
    /// <summary>Labels (tags) put on the volume. Default: none.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Where the node wants the volume, like <c>/var/lib/zookeeper</c>. A driver that can place an attached
    /// volume itself (the local driver links it there) does; VM drivers ignore it and the node's agent
    /// formats and mounts the device.
    /// </summary>
    public string? MountPoint { get; init; }
}

/// <summary>A volume as the cloud reports it.</summary>
/// <param name="Id">The cloud's volume id.</param>
/// <param name="IdempotencyKey">The key it was created with.</param>
/// <param name="Name">Its name.</param>
/// <param name="SizeGib">Its size in GiB (after any resize).</param>
/// <param name="InstanceId">The instance it is attached to, or <c>null</c> when detached.</param>
/// <param name="Labels">Its labels.</param>
public sealed record CloudVolume(string Id, string IdempotencyKey, string Name, int SizeGib, string? InstanceId, IReadOnlyDictionary<string, string> Labels);
