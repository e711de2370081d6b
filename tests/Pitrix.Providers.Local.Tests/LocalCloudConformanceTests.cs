using Pitrix.Core.Cloud;
using Pitrix.Providers.Conformance;

namespace Pitrix.Providers.Local.Tests;

/// <summary>
/// The local cloud passes the cloud driver conformance suite, each test in its own zone directory. Its
/// networks are loopback blocks that must not overlap, so the suite's two networks get two blocks.
/// </summary>
public sealed class LocalCloudConformanceTests : CloudDriverConformanceTests
{
    private readonly string _root = Directory.CreateTempSubdirectory("pitrix-local-cloud-").FullName;

    protected override string Cidr => "127.77.0.0/24";

    protected override string CidrOf(string name) => name == "net" ? Cidr : "127.78.0.0/24";

    protected override Task<ICloudDriver> CreateDriverAsync() =>
        Task.FromResult<ICloudDriver>(new LocalCloud(_root, new LocalRuntimeOptions { StopGracePeriod = TimeSpan.FromSeconds(5) }));

    protected override Task DisposeDriverAsync(ICloudDriver driver)
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}
