namespace Pitrix.Core.Cloud;

/// <summary>
/// The contract every VM cloud driver implements: networks, instances and volumes of one runtime (one
/// account and zone). Every creating call takes an idempotency key (a task's <c>{job}/{task}</c> key): the
/// driver looks before it creates, so a retried or resumed task finds what an earlier attempt made instead
/// of making a second one, even when two calls with the same key race.
/// </summary>
/// <remarks>
/// <para>
/// Expected absences are values, not errors: <see cref="FindInstanceAsync"/> returns <c>null</c>, and
/// terminating or deleting something already gone succeeds. Every other failure is a
/// <see cref="CloudException"/> with a stable <see cref="CloudException.Code"/> from
/// <see cref="CloudErrorCodes"/> and an <see cref="CloudException.IsRetryable"/> flag that the engine maps to
/// task retries. An exception because drivers sit on vendor SDKs that throw, and one type at this boundary
/// spares every caller from knowing them.
/// </para>
/// <para>
/// An idempotency key identifies one live resource. Terminating an instance (deleting a volume or network)
/// releases its key: it is no longer found by key, and a later create with the same key makes a new
/// resource with a new id. That lets a job retried after its compensation undid a creation create again.
/// The key wins over the request: a create whose key is in use returns the existing resource as it is,
/// whatever the rest of the request says.
/// </para>
/// <para>Every member of the suite <c>Pitrix.Providers.Conformance</c> holds for every driver.</para>
/// </remarks>
public interface ICloudDriver
{
    /// <summary>Stable lower-case provider key of this driver, the runtime provider's name (for example <c>fake</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Finds the network made with <see cref="CloudNetworkRequest.IdempotencyKey"/>, or creates it with the
    /// requested address range. Throws <see cref="CloudErrorCodes.InvalidRequest"/> for an empty key or name or
    /// a range that is not an IPv4 CIDR block.
    /// </summary>
    Task<CloudNetwork> EnsureNetworkAsync(CloudNetworkRequest request, CancellationToken cancellationToken);

    /// <summary>The network with this id; <see cref="CloudErrorCodes.NotFound"/> when there is none.</summary>
    Task<CloudNetwork> DescribeNetworkAsync(string networkId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a network; a network already gone is success. Throws <see cref="CloudErrorCodes.InvalidState"/>
    /// while instances that are not terminated are in it.
    /// </summary>
    Task DeleteNetworkAsync(string networkId, CancellationToken cancellationToken);

    /// <summary>
    /// Creates an instance, or returns the live instance already made with the request's idempotency key.
    /// A new instance starts <see cref="CloudInstanceState.Pending"/> or <see cref="CloudInstanceState.Running"/>
    /// with the requested volumes attached. Throws <see cref="CloudErrorCodes.InvalidRequest"/> for an empty key,
    /// name or image or a size out of range, <see cref="CloudErrorCodes.NotFound"/> for an unknown network or
    /// volume, <see cref="CloudErrorCodes.InvalidState"/> for a volume attached elsewhere, and
    /// <see cref="CloudErrorCodes.QuotaExceeded"/> when the account has no room.
    /// </summary>
    Task<CloudInstance> CreateInstanceAsync(CloudInstanceRequest request, CancellationToken cancellationToken);

    /// <summary>The live (not terminated) instance made with this idempotency key, or <c>null</c>.</summary>
    Task<CloudInstance?> FindInstanceAsync(string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// The instance with this id. A terminated instance is returned in state
    /// <see cref="CloudInstanceState.Terminated"/> for as long as the cloud remembers it, then
    /// <see cref="CloudErrorCodes.NotFound"/>, as for an id that never existed.
    /// </summary>
    Task<CloudInstance> DescribeInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Starts an instance; a running one is left as it is. Throws <see cref="CloudErrorCodes.NotFound"/> for an
    /// unknown id and <see cref="CloudErrorCodes.InvalidState"/> (or not found) for a terminated one.
    /// </summary>
    Task<CloudInstance> StartInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Stops an instance; a stopped one is left as it is. Errors as for <see cref="StartInstanceAsync"/>.</summary>
    Task<CloudInstance> StopInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Changes an instance's cpu and memory (its gpu count stays). Callers stop the instance first: a driver
    /// whose cloud cannot resize a running instance throws <see cref="CloudErrorCodes.InvalidState"/> for one.
    /// Throws <see cref="CloudErrorCodes.InvalidRequest"/> for a size out of range, and errors as for
    /// <see cref="StartInstanceAsync"/>.
    /// </summary>
    Task<CloudInstance> ResizeInstanceAsync(string instanceId, int cpu, int memoryMib, CancellationToken cancellationToken);

    /// <summary>
    /// Terminates an instance, detaching its volumes (they are not deleted) and releasing its idempotency key.
    /// An instance already terminated or unknown is success: a retried terminate, or a compensation after a
    /// create that never happened.
    /// </summary>
    Task TerminateInstanceAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a detached volume, or returns the volume already made with the request's idempotency key.
    /// Throws <see cref="CloudErrorCodes.InvalidRequest"/> for an empty key or name or a size below 1 GiB.
    /// </summary>
    Task<CloudVolume> CreateVolumeAsync(CloudVolumeRequest request, CancellationToken cancellationToken);

    /// <summary>The volume with this id; <see cref="CloudErrorCodes.NotFound"/> when there is none.</summary>
    Task<CloudVolume> DescribeVolumeAsync(string volumeId, CancellationToken cancellationToken);

    /// <summary>
    /// Attaches a volume to an instance; attaching it again to the same instance is success. Throws
    /// <see cref="CloudErrorCodes.NotFound"/> for an unknown volume or instance and
    /// <see cref="CloudErrorCodes.InvalidState"/> when the volume is attached to another instance or the
    /// instance is terminated.
    /// </summary>
    Task<CloudVolume> AttachVolumeAsync(string volumeId, string instanceId, CancellationToken cancellationToken);

    /// <summary>Detaches a volume from whatever instance holds it; a detached volume is left as it is.</summary>
    Task<CloudVolume> DetachVolumeAsync(string volumeId, CancellationToken cancellationToken);

    /// <summary>
    /// Grows a volume to <paramref name="sizeGib"/>; the same size is success. Volumes never shrink: a smaller
    /// size throws <see cref="CloudErrorCodes.InvalidRequest"/>, an unknown volume <see cref="CloudErrorCodes.NotFound"/>.
    /// </summary>
    Task<CloudVolume> ResizeVolumeAsync(string volumeId, int sizeGib, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a volume and releases its idempotency key; a volume already gone is success. Throws
    /// <see cref="CloudErrorCodes.InvalidState"/> while it is attached.
    /// </summary>
    Task DeleteVolumeAsync(string volumeId, CancellationToken cancellationToken);
}
