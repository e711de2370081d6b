using Pitrix.Core.Cloud;
using Pitrix.Providers.Conformance;

namespace Pitrix.Providers.Fake.Tests;

/// <summary>
/// The FAKE cloud passes the cloud driver conformance suite, each test in its own directory, with a create
/// latency so that racing creates really overlap.
/// </summary>
public sealed class FakeCloudConformanceTests : CloudDriverConformanceTests
{
    private readonly string _root = Directory.CreateTempSubdirectory("pitrix-fake-cloud-").FullName;

    protected override Task<ICloudDriver> CreateDriverAsync() => Task.FromResult<ICloudDriver>(new FakeCloud(_root) { CreateLatency = TimeSpan.FromMilliseconds(5) });

    protected override Task DisposeDriverAsync(ICloudDriver driver)
    {
        ((FakeCloud)driver).Dispose();
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}
