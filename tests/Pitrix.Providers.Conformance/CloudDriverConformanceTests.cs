using System.Net;
using Pitrix.Core.Cloud;
using Xunit;

namespace Pitrix.Providers.Conformance;

/// <summary>
/// What every <see cref="ICloudDriver"/> must do, whatever its cloud. A driver's test project subclasses this
/// class and says how to make the driver under test; every test uses fresh idempotency keys, and what a test
/// creates is terminated and deleted afterwards, so the suite may run against a shared real account.
/// </summary>
public abstract class CloudDriverConformanceTests : IAsyncLifetime, IDisposable
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _instances = [];
    private readonly List<string> _volumes = [];
    private readonly List<string> _networks = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(5));
    private ICloudDriver? _driver;

    /// <summary>The driver under test, made by <see cref="CreateDriverAsync"/> before each test.</summary>
    protected ICloudDriver Driver => _driver ?? throw new InvalidOperationException("The driver is made in InitializeAsync.");

    /// <summary>An image every instance of the suite boots; a real cloud's subclass names a small one.</summary>
    protected virtual string Image => "conformance-image";

    /// <summary>The address range of the suite's networks.</summary>
    protected virtual string Cidr => "10.77.0.0/24";

    /// <summary>
    /// The address range of the suite's network named <paramref name="name"/> (<c>net</c>, <c>other-net</c>).
    /// Default: <see cref="Cidr"/> for every one; a cloud whose networks must not overlap gives each its own.
    /// </summary>
    protected virtual string CidrOf(string name) => Cidr;

    /// <summary>How many instances run at once in the parallel tests; lower it for a cloud with a small quota.</summary>
    protected virtual int Parallelism => 8;

    /// <summary>Every call of a test gives up after five minutes, so a hung driver fails the test instead of the run.</summary>
    private CancellationToken Ct => _timeout.Token;

    /// <summary>Makes the driver under test (one per test).</summary>
    protected abstract Task<ICloudDriver> CreateDriverAsync();

    /// <summary>Releases what <see cref="CreateDriverAsync"/> made, after the test's resources are cleaned up.</summary>
    protected virtual Task DisposeDriverAsync(ICloudDriver driver) => Task.CompletedTask;

    public async Task InitializeAsync() => _driver = await CreateDriverAsync();

    public async Task DisposeAsync()
    {
        if (_driver is null)
        {
            return;
        }

        // Best effort: a test that failed half-way must not leave a real account littered.
        await IgnoringCloudErrorsAsync(_instances.Select(id => (Func<Task>)(() => _driver.TerminateInstanceAsync(id, CancellationToken.None))));
        await IgnoringCloudErrorsAsync(_volumes.Select(id => (Func<Task>)(() => _driver.DeleteVolumeAsync(id, CancellationToken.None))));
        await IgnoringCloudErrorsAsync(_networks.Select(id => (Func<Task>)(() => _driver.DeleteNetworkAsync(id, CancellationToken.None))));
        await DisposeDriverAsync(_driver);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timeout.Dispose();
        }
    }

    [Fact]
    public async Task EnsureNetwork_SameKeyTwice_ReturnsTheSameNetwork()
    {
        var first = await NetworkAsync("net");
        var second = await Driver.EnsureNetworkAsync(new CloudNetworkRequest(Key("net"), "conformance", CidrOf("net")), Ct);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(CidrOf("net"), first.Cidr);
        Assert.Equal(first.Id, (await Driver.DescribeNetworkAsync(first.Id, Ct)).Id);
        Assert.NotEqual(first.Id, (await NetworkAsync("other-net")).Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.0")]
    [InlineData("not-a-range")]
    [InlineData("10.0.0.0/33")]
    public async Task EnsureNetwork_BadRange_IsInvalidRequest(string cidr)
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.EnsureNetworkAsync(new CloudNetworkRequest(Key("bad"), "bad", cidr), Ct));

        AssertCode(CloudErrorCodes.InvalidRequest, error, retryable: false);
    }

    [Fact]
    public async Task DeleteNetwork_Twice_Succeeds_AndDescribeThenIsNotFound()
    {
        var network = await NetworkAsync("net");

        await Driver.DeleteNetworkAsync(network.Id, Ct);
        await Driver.DeleteNetworkAsync(network.Id, Ct);

        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.DescribeNetworkAsync(network.Id, Ct)), retryable: false);
    }

    [Fact]
    public async Task DeleteNetwork_WithALiveInstance_IsInvalidState()
    {
        var network = await NetworkAsync("net");
        await CreateAsync(Request("vm", network.Id));

        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.DeleteNetworkAsync(network.Id, Ct));

        AssertCode(CloudErrorCodes.InvalidState, error, retryable: false);
        Assert.Equal(network.Id, (await Driver.DescribeNetworkAsync(network.Id, Ct)).Id);
    }

    [Fact]
    public async Task CreateInstance_RecordsTheRequest()
    {
        var network = await NetworkAsync("net");
        var request = Request("vm", network.Id) with
        {
            Gpu = 0,
            UserData = "#cloud-config\nhostname: conformance\n",
            Labels = new Dictionary<string, string> { ["pitrix.cluster_id"] = "cl-conformance" },
        };

        var instance = await CreateAsync(request);
        var described = await Driver.DescribeInstanceAsync(instance.Id, Ct);

        Assert.False(string.IsNullOrEmpty(instance.Id));
        Assert.Equal(request.IdempotencyKey, described.IdempotencyKey);
        Assert.Equal(network.Id, described.NetworkId);
        Assert.Equal("vm", described.Name);
        Assert.Equal((1, 512, 0, Image), (described.Cpu, described.MemoryMib, described.Gpu, described.Image));
        Assert.Contains(described.State, new[] { CloudInstanceState.Pending, CloudInstanceState.Running });
        Assert.Equal("cl-conformance", described.Labels["pitrix.cluster_id"]);
    }

    [Fact]
    public async Task CreateInstance_GetsAPrivateAddressInItsNetwork_DistinctFromItsNeighbours()
    {
        var network = await NetworkAsync("net");
        var range = IPNetwork.Parse(network.Cidr);

        var first = await RunningAsync(await CreateAsync(Request("a", network.Id)));
        var second = await RunningAsync(await CreateAsync(Request("b", network.Id)));

        Assert.True(IPAddress.TryParse(first.PrivateIp, out var a) && range.Contains(a), $"{first.PrivateIp} is not in {network.Cidr}.");
        Assert.True(IPAddress.TryParse(second.PrivateIp, out var b) && range.Contains(b), $"{second.PrivateIp} is not in {network.Cidr}.");
        Assert.NotEqual(first.PrivateIp, second.PrivateIp);
    }

    [Fact]
    public async Task CreateInstance_SameKeyTwice_ReturnsTheSameInstance()
    {
        var network = await NetworkAsync("net");

        var first = await CreateAsync(Request("vm", network.Id));
        var second = await CreateAsync(Request("vm", network.Id) with { Cpu = 2 });

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(1, second.Cpu);
        Assert.Equal(first.Id, (await Driver.FindInstanceAsync(first.IdempotencyKey, Ct))?.Id);
    }

    [Fact]
    public async Task CreateInstance_SameKeyRacing_MakesOneInstance()
    {
        var network = await NetworkAsync("net");

        // Several rounds, each racer released at the same moment, so a driver that checks and then creates
        // without holding the key is caught even on a fast, local cloud.
        for (var round = 0; round < 5; round++)
        {
            var request = Request($"vm-{round}", network.Id);
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var racers = Enumerable.Range(0, Parallelism).Select(_ => Task.Run(async () =>
            {
                await go.Task;
                return await CreateAsync(request);
            }, Ct)).ToList();
            go.SetResult();
            var racing = await Task.WhenAll(racers);

            Assert.Single(racing.Select(i => i.Id).Distinct(StringComparer.Ordinal));
            Assert.Equal(racing[0].Id, (await Driver.FindInstanceAsync(request.IdempotencyKey, Ct))?.Id);
        }
    }

    [Fact]
    public async Task CreateInstance_DistinctKeysInParallel_MakeDistinctInstances()
    {
        var network = await NetworkAsync("net");

        var created = await Task.WhenAll(Enumerable.Range(0, Parallelism).Select(i => Task.Run(() => CreateAsync(Request($"vm-{i}", network.Id)), Ct)));

        Assert.Equal(Parallelism, created.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count());
        for (var i = 0; i < Parallelism; i++)
        {
            Assert.Equal(created[i].Id, (await Driver.FindInstanceAsync(Key($"vm-{i}"), Ct))?.Id);
        }
    }

    [Fact]
    public async Task FindInstance_UnknownKey_IsNull()
    {
        Assert.Null(await Driver.FindInstanceAsync(Key("never-used"), Ct));
    }

    [Fact]
    public async Task DescribeInstance_UnknownId_IsNotFound()
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.DescribeInstanceAsync("i-doesnotexist0", Ct));

        AssertCode(CloudErrorCodes.NotFound, error, retryable: false);
    }

    [Fact]
    public async Task StopAndStart_ChangeTheState_AndRepeatingThemIsHarmless()
    {
        var network = await NetworkAsync("net");
        var instance = await RunningAsync(await CreateAsync(Request("vm", network.Id)));

        await Driver.StopInstanceAsync(instance.Id, Ct);
        Assert.Equal(CloudInstanceState.Stopped, (await SettledAsync(instance.Id)).State);
        await Driver.StopInstanceAsync(instance.Id, Ct);
        Assert.Equal(CloudInstanceState.Stopped, (await SettledAsync(instance.Id)).State);

        await Driver.StartInstanceAsync(instance.Id, Ct);
        Assert.Equal(CloudInstanceState.Running, (await SettledAsync(instance.Id)).State);
        await Driver.StartInstanceAsync(instance.Id, Ct);
        Assert.Equal(CloudInstanceState.Running, (await SettledAsync(instance.Id)).State);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("resize")]
    public async Task InstanceOperation_UnknownId_IsNotFound(string operation)
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => OperateAsync(operation, "i-doesnotexist0"));

        AssertCode(CloudErrorCodes.NotFound, error, retryable: false);
    }

    [Fact]
    public async Task ResizeInstance_WhileStopped_IsRecorded()
    {
        var network = await NetworkAsync("net");
        var instance = await RunningAsync(await CreateAsync(Request("vm", network.Id)));
        await Driver.StopInstanceAsync(instance.Id, Ct);
        await SettledAsync(instance.Id);

        var resized = await Driver.ResizeInstanceAsync(instance.Id, 2, 1024, Ct);

        Assert.Equal((2, 1024), (resized.Cpu, resized.MemoryMib));
        var described = await Driver.DescribeInstanceAsync(instance.Id, Ct);
        Assert.Equal((2, 1024), (described.Cpu, described.MemoryMib));
        Assert.Equal(instance.Id, (await Driver.FindInstanceAsync(instance.IdempotencyKey, Ct))?.Id);
    }

    [Theory]
    [InlineData(0, 512)]
    [InlineData(-1, 512)]
    [InlineData(1, 0)]
    [InlineData(1, -512)]
    public async Task ResizeInstance_SizeOutOfRange_IsInvalidRequest(int cpu, int memoryMib)
    {
        var network = await NetworkAsync("net");
        var instance = await CreateAsync(Request("vm", network.Id));

        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.ResizeInstanceAsync(instance.Id, cpu, memoryMib, Ct));

        AssertCode(CloudErrorCodes.InvalidRequest, error, retryable: false);
    }

    [Theory]
    [InlineData("", 1, 512, 0, "vm")]
    [InlineData("key", 0, 512, 0, "vm")]
    [InlineData("key", -2, 512, 0, "vm")]
    [InlineData("key", 1, 0, 0, "vm")]
    [InlineData("key", 1, -1, 0, "vm")]
    [InlineData("key", 1, 512, -1, "vm")]
    [InlineData("key", 1, 512, 0, "")]
    public async Task CreateInstance_BadRequest_IsInvalidRequest_AndCreatesNothing(string key, int cpu, int memoryMib, int gpu, string name)
    {
        var network = await NetworkAsync("net");
        var request = new CloudInstanceRequest(key.Length == 0 ? "" : Key(key), network.Id, name, cpu, memoryMib, Image) { Gpu = gpu };

        var error = await Assert.ThrowsAsync<CloudException>(() => CreateAsync(request));

        AssertCode(CloudErrorCodes.InvalidRequest, error, retryable: false);
        if (key.Length > 0)
        {
            Assert.Null(await Driver.FindInstanceAsync(request.IdempotencyKey, Ct));
        }
    }

    [Fact]
    public async Task CreateInstance_UnknownNetworkOrVolume_IsNotFound_AndCreatesNothing()
    {
        var network = await NetworkAsync("net");

        var noNetwork = await Assert.ThrowsAsync<CloudException>(() => CreateAsync(Request("a", "net-doesnotexist0")));
        var noVolume = await Assert.ThrowsAsync<CloudException>(() => CreateAsync(Request("b", network.Id) with { VolumeIds = ["vol-doesnotexist0"] }));

        AssertCode(CloudErrorCodes.NotFound, noNetwork, retryable: false);
        AssertCode(CloudErrorCodes.NotFound, noVolume, retryable: false);
        Assert.Null(await Driver.FindInstanceAsync(Key("a"), Ct));
        Assert.Null(await Driver.FindInstanceAsync(Key("b"), Ct));
    }

    [Fact]
    public async Task TerminateInstance_Twice_Succeeds_AndAnUnknownIdToo()
    {
        var network = await NetworkAsync("net");
        var instance = await CreateAsync(Request("vm", network.Id));

        await Driver.TerminateInstanceAsync(instance.Id, Ct);
        await Driver.TerminateInstanceAsync(instance.Id, Ct);
        await Driver.TerminateInstanceAsync("i-doesnotexist0", Ct);

        await AssertTerminatedAsync(instance.Id);
    }

    [Fact]
    public async Task TerminatedInstance_IsNotFoundByKey_AndTheKeyMakesANewInstance()
    {
        var network = await NetworkAsync("net");
        var request = Request("vm", network.Id);
        var first = await CreateAsync(request);

        await Driver.TerminateInstanceAsync(first.Id, Ct);

        Assert.Null(await Driver.FindInstanceAsync(request.IdempotencyKey, Ct));
        var second = await CreateAsync(request);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(second.Id, (await Driver.FindInstanceAsync(request.IdempotencyKey, Ct))?.Id);
        await AssertTerminatedAsync(first.Id);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("resize")]
    public async Task InstanceOperation_OnATerminatedInstance_IsRefused(string operation)
    {
        var network = await NetworkAsync("net");
        var instance = await CreateAsync(Request("vm", network.Id));
        await Driver.TerminateInstanceAsync(instance.Id, Ct);

        var error = await Assert.ThrowsAsync<CloudException>(() => OperateAsync(operation, instance.Id));

        Assert.Contains(error.Code, new[] { CloudErrorCodes.InvalidState, CloudErrorCodes.NotFound });
        Assert.False(error.IsRetryable);
    }

    [Fact]
    public async Task CreateVolume_SameKeyTwice_ReturnsTheSameVolume_DistinctKeysDistinctVolumes()
    {
        var first = await VolumeAsync("disk", 1);
        var again = await VolumeAsync("disk", 5);
        var other = await VolumeAsync("other-disk", 1);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(1, again.SizeGib);
        Assert.NotEqual(first.Id, other.Id);
        var described = await Driver.DescribeVolumeAsync(first.Id, Ct);
        Assert.Equal((first.Id, 1, (string?)null), (described.Id, described.SizeGib, described.InstanceId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task CreateVolume_SizeBelowOneGib_IsInvalidRequest(int sizeGib)
    {
        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.CreateVolumeAsync(new CloudVolumeRequest(Key("disk"), "disk", sizeGib), Ct));

        AssertCode(CloudErrorCodes.InvalidRequest, error, retryable: false);
    }

    [Fact]
    public async Task Volume_AttachedAtCreation_IsListedOnTheInstance()
    {
        var network = await NetworkAsync("net");
        var volume = await VolumeAsync("disk", 1);

        var instance = await CreateAsync(Request("vm", network.Id) with { VolumeIds = [volume.Id] });

        Assert.Equal(new[] { volume.Id }, (await Driver.DescribeInstanceAsync(instance.Id, Ct)).VolumeIds);
        Assert.Equal(instance.Id, (await Driver.DescribeVolumeAsync(volume.Id, Ct)).InstanceId);
    }

    [Fact]
    public async Task Volume_AttachDetach_AreRecorded_AndRepeatingThemIsHarmless()
    {
        var network = await NetworkAsync("net");
        var instance = await RunningAsync(await CreateAsync(Request("vm", network.Id)));
        var volume = await VolumeAsync("disk", 1);

        await Driver.AttachVolumeAsync(volume.Id, instance.Id, Ct);
        await Driver.AttachVolumeAsync(volume.Id, instance.Id, Ct);
        Assert.Equal(instance.Id, (await Driver.DescribeVolumeAsync(volume.Id, Ct)).InstanceId);
        Assert.Contains(volume.Id, (await Driver.DescribeInstanceAsync(instance.Id, Ct)).VolumeIds);

        await Driver.DetachVolumeAsync(volume.Id, Ct);
        await Driver.DetachVolumeAsync(volume.Id, Ct);
        Assert.Null((await Driver.DescribeVolumeAsync(volume.Id, Ct)).InstanceId);
        Assert.DoesNotContain(volume.Id, (await Driver.DescribeInstanceAsync(instance.Id, Ct)).VolumeIds);
    }

    [Fact]
    public async Task Volume_AttachedToAnother_IsInvalidState()
    {
        var network = await NetworkAsync("net");
        var holder = await CreateAsync(Request("a", network.Id));
        var other = await CreateAsync(Request("b", network.Id));
        var volume = await VolumeAsync("disk", 1);
        await Driver.AttachVolumeAsync(volume.Id, holder.Id, Ct);

        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.AttachVolumeAsync(volume.Id, other.Id, Ct));

        AssertCode(CloudErrorCodes.InvalidState, error, retryable: false);
        Assert.Equal(holder.Id, (await Driver.DescribeVolumeAsync(volume.Id, Ct)).InstanceId);
    }

    [Fact]
    public async Task Volume_UnknownVolumeOrInstance_IsNotFound()
    {
        var network = await NetworkAsync("net");
        var instance = await CreateAsync(Request("vm", network.Id));
        var volume = await VolumeAsync("disk", 1);

        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.AttachVolumeAsync("vol-doesnotexist0", instance.Id, Ct)), retryable: false);
        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.AttachVolumeAsync(volume.Id, "i-doesnotexist0", Ct)), retryable: false);
        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.DetachVolumeAsync("vol-doesnotexist0", Ct)), retryable: false);
        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.ResizeVolumeAsync("vol-doesnotexist0", 2, Ct)), retryable: false);
        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.DescribeVolumeAsync("vol-doesnotexist0", Ct)), retryable: false);
    }

    [Fact]
    public async Task ResizeVolume_Grows_SameSizeIsHarmless_ShrinkingIsInvalidRequest()
    {
        var volume = await VolumeAsync("disk", 1);

        Assert.Equal(3, (await Driver.ResizeVolumeAsync(volume.Id, 3, Ct)).SizeGib);
        Assert.Equal(3, (await Driver.ResizeVolumeAsync(volume.Id, 3, Ct)).SizeGib);
        var error = await Assert.ThrowsAsync<CloudException>(() => Driver.ResizeVolumeAsync(volume.Id, 2, Ct));

        AssertCode(CloudErrorCodes.InvalidRequest, error, retryable: false);
        Assert.Equal(3, (await Driver.DescribeVolumeAsync(volume.Id, Ct)).SizeGib);
    }

    [Fact]
    public async Task DeleteVolume_WhileAttached_IsInvalidState_DetachedDeletesTwice()
    {
        var network = await NetworkAsync("net");
        var instance = await CreateAsync(Request("vm", network.Id));
        var volume = await VolumeAsync("disk", 1);
        await Driver.AttachVolumeAsync(volume.Id, instance.Id, Ct);

        AssertCode(CloudErrorCodes.InvalidState, await Assert.ThrowsAsync<CloudException>(() => Driver.DeleteVolumeAsync(volume.Id, Ct)), retryable: false);

        await Driver.DetachVolumeAsync(volume.Id, Ct);
        await Driver.DeleteVolumeAsync(volume.Id, Ct);
        await Driver.DeleteVolumeAsync(volume.Id, Ct);
        AssertCode(CloudErrorCodes.NotFound, await Assert.ThrowsAsync<CloudException>(() => Driver.DescribeVolumeAsync(volume.Id, Ct)), retryable: false);
    }

    [Fact]
    public async Task DeletedVolume_TheKeyMakesANewVolume()
    {
        var first = await VolumeAsync("disk", 1);
        await Driver.DeleteVolumeAsync(first.Id, Ct);

        var second = await VolumeAsync("disk", 1);

        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public async Task TerminateInstance_DetachesItsVolumes_WithoutDeletingThem()
    {
        var network = await NetworkAsync("net");
        var volume = await VolumeAsync("disk", 2);
        var instance = await CreateAsync(Request("vm", network.Id) with { VolumeIds = [volume.Id] });

        await Driver.TerminateInstanceAsync(instance.Id, Ct);

        var described = await Driver.DescribeVolumeAsync(volume.Id, Ct);
        Assert.Equal((2, (string?)null), (described.SizeGib, described.InstanceId));
    }

    /// <summary>A key unique to this test run, so runs against a shared account never meet.</summary>
    protected string Key(string name) => $"conformance/{_run}/{name}";

    /// <summary>
    /// Waits until the instance leaves <see cref="CloudInstanceState.Pending"/>; a driver whose cloud takes
    /// time overrides this to poll with its own patience. Default: at most 100 describes.
    /// </summary>
    protected virtual async Task<CloudInstance> SettledAsync(string instanceId)
    {
        for (var i = 0; ; i++)
        {
            var instance = await Driver.DescribeInstanceAsync(instanceId, Ct);
            if (instance.State != CloudInstanceState.Pending || i >= 100)
            {
                return instance;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), Ct);
        }
    }

    private async Task<CloudInstance> RunningAsync(CloudInstance instance)
    {
        var settled = await SettledAsync(instance.Id);
        Assert.Equal(CloudInstanceState.Running, settled.State);
        return settled;
    }

    private CloudInstanceRequest Request(string name, string networkId) => new(Key(name), networkId, name, 1, 512, Image);

    private async Task<CloudInstance> CreateAsync(CloudInstanceRequest request)
    {
        var instance = await Driver.CreateInstanceAsync(request, Ct);
        lock (_instances)
        {
            _instances.Add(instance.Id);
        }

        return instance;
    }

    private async Task<CloudNetwork> NetworkAsync(string name)
    {
        var network = await Driver.EnsureNetworkAsync(new CloudNetworkRequest(Key(name), "conformance", CidrOf(name)), Ct);
        _networks.Add(network.Id);
        return network;
    }

    private async Task<CloudVolume> VolumeAsync(string name, int sizeGib)
    {
        var volume = await Driver.CreateVolumeAsync(new CloudVolumeRequest(Key(name), name, sizeGib), Ct);
        _volumes.Add(volume.Id);
        return volume;
    }

    private Task<CloudInstance> OperateAsync(string operation, string instanceId) => operation switch
    {
        "start" => Driver.StartInstanceAsync(instanceId, Ct),
        "stop" => Driver.StopInstanceAsync(instanceId, Ct),
        _ => Driver.ResizeInstanceAsync(instanceId, 2, 1024, Ct),
    };

    private async Task AssertTerminatedAsync(string instanceId)
    {
        // A cloud reports a terminated instance for a while, then forgets it: both are right.
        try
        {
            Assert.Equal(CloudInstanceState.Terminated, (await Driver.DescribeInstanceAsync(instanceId, Ct)).State);
        }
        catch (CloudException e) when (e.Code == CloudErrorCodes.NotFound)
        {
        }
    }

    private static void AssertCode(string code, CloudException error, bool retryable)
    {
        Assert.True(error.Code == code, $"Expected {code}, got {error.Code}: {error.Message}");
        Assert.Equal(retryable, error.IsRetryable);
    }

    private static async Task IgnoringCloudErrorsAsync(IEnumerable<Func<Task>> cleanups)
    {
        foreach (var cleanup in cleanups)
        {
            try
            {
                await cleanup();
            }
            catch (CloudException)
            {
            }
        }
    }
}
