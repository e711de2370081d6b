namespace Pitrix.Core.Cloud;

/// <summary>
/// A runtime provider whose runtimes run VMs (or what stands for them): it opens the
/// <see cref="ICloudDriver"/> of one runtime.
/// </summary>
public interface IVmRuntimeProvider
{
    /// <summary>The provider's name, as <see cref="Runtimes.IRuntimeProvider.Name"/>.</summary>
    string Name { get; }

    /// <summary>The driver of one runtime; <paramref name="target"/> carries its zone and decrypted credential.</summary>
    ICloudDriver OpenDriver(CloudTarget target);

    /// <summary>
    /// The address range of the runtime's network when its <c>network.cidr</c> label sets none: a range this
    /// provider accepts, derived from the runtime id so that runtimes of one zone rarely collide.
    /// </summary>
    string DefaultNetworkCidr(CloudTarget target);
}

/// <summary>One runtime as a driver sees it. <see cref="Secret"/> is the decrypted credential, never logged.</summary>
public sealed record CloudTarget(string RuntimeId, string Zone, string? EndpointUrl, string? Secret)
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public override string ToString() => $"CloudTarget {{ RuntimeId = {RuntimeId}, Zone = {Zone} }}";
}
