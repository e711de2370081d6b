using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pitrix.Core.Agents;
using Pitrix.Core.Cloud;
using Pitrix.Core.Hosting;
using Pitrix.Core.Runtimes;

namespace Pitrix.Providers.Local.Tests;

/// <summary>The <c>local</c> provider as the server composes it: registration, options, the driver of a zone, the agent commands, the state lock.</summary>
public sealed class LocalRuntimeProviderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-local-provider-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AddLocalProvider_RegistersOneProvider_AsRuntimeAndVmRuntimeProvider_WhoseDriverIsRootedAtTheZone()
    {
        using var host = Host(new Dictionary<string, string?> { ["Providers:Local:WorkRoot"] = Path.Combine(_directory, "work") });

        var provider = Assert.Single(host.Services.GetServices<IVmRuntimeProvider>());
        Assert.Same(provider, Assert.Single(host.Services.GetServices<IRuntimeProvider>()));
        var cloud = Assert.IsType<LocalCloud>(provider.OpenDriver(new CloudTarget("rt-1", "zone-a", null, null)));
        Assert.Equal(Path.Combine(_directory, "work", "zone-a"), cloud.Root);
        Assert.Equal("local", cloud.Name);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("Zone")]
    [InlineData("")]
    public void OpenDriver_ZoneThatIsNoDirectoryName_IsInvalidRequest(string zone)
    {
        using var host = Host([]);

        var error = Assert.Throws<CloudException>(() => host.Services.GetRequiredService<IVmRuntimeProvider>().OpenDriver(new CloudTarget("rt-1", zone, null, null)));

        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
    }

    [Theory]
    [InlineData("Providers:Local:StopGracePeriod", "00:00:00")]
    [InlineData("Providers:Local:MaxAgentLogBytes", "100")]
    [InlineData("Providers:Local:DroneCommand", "/no/such/pitrix-drone")]
    [InlineData("Providers:Local:FrontgateCommand", " ")]
    public async Task Options_Invalid_FailTheStart_NamingTheKey(string key, string value)
    {
        using var host = Host(new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenDriver_IsolationLabel_ChoosesTheIsolation_AnUnknownOneIsInvalidRequest()
    {
        using var host = Host([]);
        var provider = host.Services.GetRequiredService<IVmRuntimeProvider>();

        Assert.Equal(LocalIsolation.Loopback, Assert.IsType<LocalCloud>(provider.OpenDriver(new CloudTarget("rt-1", "zone-a", null, null))).Isolation);
        Assert.Equal(LocalIsolation.Netns, Assert.IsType<LocalCloud>(provider.OpenDriver(Target("netns"))).Isolation);
        var error = Assert.Throws<CloudException>(() => provider.OpenDriver(Target("vlan")));
        Assert.Equal(CloudErrorCodes.InvalidRequest, error.Code);
        Assert.Contains("isolation=vlan", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultNetworkCidr_IsALoopbackBlock_OrABenchmarkingBlockForNetns_StablePerRuntime()
    {
        using var host = Host([]);
        var provider = host.Services.GetRequiredService<IVmRuntimeProvider>();

        var loopback = IPNetwork.Parse(provider.DefaultNetworkCidr(new CloudTarget("rt-1", "zone-a", null, null)));
        var netns = IPNetwork.Parse(provider.DefaultNetworkCidr(Target("netns")));

        Assert.True(IPNetwork.Parse("127.64.0.0/10").Contains(loopback.BaseAddress) && loopback.PrefixLength == 24, loopback.ToString());
        Assert.True(IPNetwork.Parse("198.18.0.0/15").Contains(netns.BaseAddress) && netns.PrefixLength == 24, netns.ToString());
        Assert.Equal(netns.ToString(), provider.DefaultNetworkCidr(Target("netns")));
    }

    [Fact]
    public async Task Validate_Netns_MakesAndRemovesANamespace_AnUnknownIsolationFails()
    {
        using var host = Host([]);
        var provider = host.Services.GetRequiredService<IRuntimeProvider>();

        var netns = await provider.ValidateAsync(new RuntimeValidationContext("rt-1", "zone-a", new Dictionary<string, string> { ["isolation"] = "netns" }, null, null), CancellationToken.None);
        var unknown = await provider.ValidateAsync(new RuntimeValidationContext("rt-1", "zone-a", new Dictionary<string, string> { ["isolation"] = "vlan" }, null, null), CancellationToken.None);

        var check = Assert.Single(netns.Checks, c => c.Name == "isolation");
        Assert.True(check.Ok, check.Message);
        Assert.Contains("pitrix-probe-", check.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.Exists("/run/netns") ? Directory.EnumerateFiles("/run/netns") : [], p => Path.GetFileName(p).StartsWith("pitrix-probe-", StringComparison.Ordinal));
        Assert.False(Assert.Single(unknown.Checks, c => c.Name == "isolation").Ok);
    }

    [Fact]
    public void AgentCommand_Dll_RunsWithTheDotnetHost_AnExecutableRunsItself()
    {
        var dll = Path.Combine(_directory, "pitrix-drone.dll");
        File.WriteAllText(dll, "");

        var viaHost = AgentCommands.Resolve(AgentKinds.Node, new LocalRuntimeOptions { DroneCommand = dll });
        var direct = AgentCommands.Resolve(AgentKinds.Frontgate, new LocalRuntimeOptions { FrontgateCommand = "/bin/true" });

        Assert.Equal("dotnet", Path.GetFileName(viaHost.FileName));
        Assert.Equal([dll], viaHost.Prefix);
        Assert.Equal(("/bin/true", 0), (direct.FileName, direct.Prefix.Count));
    }

    [Fact]
    public void AgentCommand_NotConfiguredAndNotBesideTheServer_IsInvalidState_NamingTheKey()
    {
        var error = Assert.Throws<CloudException>(() => AgentCommands.Resolve(AgentKinds.Frontgate, new LocalRuntimeOptions()));

        Assert.Equal(CloudErrorCodes.InvalidState, error.Code);
        Assert.Contains("Providers:Local:FrontgateCommand", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(AppContext.BaseDirectory, "pitrix-frontgate"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateLock_HeldByAnotherProcess_MakesCallersWait()
    {
        var cloud = new LocalCloud(Path.Combine(_directory, "zone"), new LocalRuntimeOptions());
        var network = await cloud.EnsureNetworkAsync(new CloudNetworkRequest("net", "net", "127.81.0.0/24"), CancellationToken.None);
        var lockPath = Path.Combine(cloud.Root, ".lock");

        // Another process holds the state lock for 1.5 s, as a second engine in the middle of an operation would;
        // it cannot let go before 1.5 s after this clock starts.
        var clock = Stopwatch.StartNew();
        using var holder = Process.Start(new ProcessStartInfo("/usr/bin/flock", [lockPath, "/bin/sleep", "1.5"]) { UseShellExecute = false })!;
        try
        {
            while (Process.Start(new ProcessStartInfo("/usr/bin/flock", ["-n", lockPath, "/bin/true"]) { UseShellExecute = false }) is { } probe)
            {
                using (probe)
                {
                    await probe.WaitForExitAsync();
                    if (probe.ExitCode != 0)
                    {
                        break;
                    }
                }

                await Task.Delay(10);
            }

            Assert.Equal(network.Id, (await cloud.DescribeNetworkAsync(network.Id, CancellationToken.None)).Id);

            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"The describe returned {clock.Elapsed} after the holder started, while it held the lock.");
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }

            await holder.WaitForExitAsync();
        }
    }

    private static CloudTarget Target(string isolation) =>
        new("rt-1", "zone-a", null, null) { Labels = new Dictionary<string, string> { ["isolation"] = isolation } };

    private IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(new DataDirectory(_directory));
        builder.Services.AddLocalProvider();
        return builder.Build();
    }
}
