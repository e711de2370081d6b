using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;

namespace Pitrix.Frontgate.Tests;

/// <summary>
/// A CA, a test Pilot and one frontgate started in-process against it, all on 127.0.0.1 in a temporary
/// directory; plus helpers to make test drones and to write metadata the way Pilot does.
/// </summary>
public sealed class FrontgateTestEnvironment : IAsyncDisposable
{
    public const string FrontgateId = "fg-test";

    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-frontgate-").FullName;
    private readonly Dictionary<string, string?> _configuration;
    private readonly List<TestDrone> _drones = [];
    private AgentBootstrap? _bootstrap;

    private FrontgateTestEnvironment(Dictionary<string, string?> configuration)
    {
        _configuration = configuration;
        Ca = CertificateAuthority.LoadOrCreate(Path.Combine(_directory, "pki"), TimeProvider.System);
        Pilot = new TestPilot(Ca);
    }

    public CertificateAuthority Ca { get; }

    public TestPilot Pilot { get; }

    public FrontgateHost? Frontgate { get; private set; }

    public FrontgateHost Host => Frontgate ?? throw new InvalidOperationException("The frontgate is not running.");

    public string DataDirectory => Path.Combine(_directory, "frontgate");

    /// <summary>The network namespace the frontgate listens for drones in (null: where the test runs).</summary>
    public string? ListenNetworkNamespace { get; init; }

    /// <summary>Options tests share: short delays so reconnects and relays finish in a test's time.</summary>
    public Action<FrontgateOptions>? Configure { get; set; }

    public static async Task<FrontgateTestEnvironment> StartAsync(
        Dictionary<string, string?>? configuration = null, Action<FrontgateOptions>? configure = null, bool startFrontgate = true, string? listenNetworkNamespace = null)
    {
        var environment = new FrontgateTestEnvironment(configuration ?? []) { Configure = configure, ListenNetworkNamespace = listenNetworkNamespace };
        await environment.Pilot.StartAsync();
        if (startFrontgate)
        {
            await environment.StartFrontgateAsync();
            await environment.Pilot.State.WaitForConnectionAsync(TimeSpan.FromSeconds(10));
        }

        return environment;
    }

    public async Task StartFrontgateAsync()
    {
        if (_bootstrap is null)
        {
            var token = await Pilot.IssueTokenAsync(AgentIdentity.Frontgate(FrontgateId));
            _bootstrap = new AgentBootstrap
            {
                Agent = AgentKinds.Frontgate,
                Id = FrontgateId,
                JoinToken = token.Token,
                CaPem = Ca.CertificatePem,
                PilotAddress = Pilot.Address.ToString(),
                ListenAddress = "127.0.0.1:0",
            };
        }

        Frontgate = await FrontgateHost.StartAsync(
            new FrontgateHostSettings
            {
                Bootstrap = _bootstrap,
                DataDirectory = DataDirectory,
                ListenNetworkNamespace = ListenNetworkNamespace,
                Configuration = new ConfigurationBuilder().AddInMemoryCollection(_configuration).Build(),
                Configure = options =>
                {
                    options.ReconnectMinDelay = TimeSpan.FromMilliseconds(100);
                    options.ReconnectMaxDelay = TimeSpan.FromSeconds(1);
                    options.ReportConfirmDelay = TimeSpan.Zero;
                    options.DroneRequestTimeout = TimeSpan.FromSeconds(5);
                    Configure?.Invoke(options);
                },
                ConfigureLogging = logging => logging.SetMinimumLevel(LogLevel.Warning),
            },
            CancellationToken.None);
    }

    public async Task StopFrontgateAsync()
    {
        if (Frontgate is not null)
        {
            await Frontgate.DisposeAsync();
            Frontgate = null;
        }
    }

    public async Task RestartFrontgateAsync()
    {
        await StopFrontgateAsync();
        await StartFrontgateAsync();
    }

    /// <summary>A drone of <paramref name="nodeId"/> with a certificate from the CA (null: a drone without one).</summary>
    public TestDrone Drone(string? nodeId)
    {
        var drone = new TestDrone(Host.DroneAddress, AgentIdentity.Frontgate(FrontgateId), Ca.Certificate, nodeId is null ? null : TestDrone.IssueCertificate(Ca, nodeId));
        _drones.Add(drone);
        return drone;
    }

    /// <summary>A drone connected and answering every request with <paramref name="answer"/>.</summary>
    public async Task<TestDrone> ConnectedDroneAsync(string nodeId, Func<FrontgateToDroneMessage, DroneResponse?> answer)
    {
        var drone = Drone(nodeId);
        await drone.ConnectAsync(answer);
        await WaitUntilAsync(() => Host.Drones.ConnectedNodeIds.Contains(nodeId));
        return drone;
    }

    public async Task PutAsync(string clusterId, params (string Key, string Value)[] entries)
    {
        var request = new PutMetadataRequest { ClusterId = clusterId };
        request.Entries.AddRange(entries.Select(e => new MetadataEntry { Key = e.Key, Value = e.Value }));
        var response = await Pilot.State.SendAsync(new PilotMessage { PutMetadata = request });
        if (response.ResultCase != FrontgateResponse.ResultOneofCase.Ack)
        {
            throw new InvalidOperationException($"put failed: {response}");
        }
    }

    public async Task DeleteAsync(string clusterId, bool prefix, params string[] keys)
    {
        var request = new DeleteMetadataRequest { ClusterId = clusterId, Prefix = prefix };
        request.Keys.AddRange(keys);
        var response = await Pilot.State.SendAsync(new PilotMessage { DeleteMetadata = request });
        if (response.ResultCase != FrontgateResponse.ResultOneofCase.Ack)
        {
            throw new InvalidOperationException($"delete failed: {response}");
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition never held.");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var drone in _drones)
        {
            await drone.DisposeAsync();
        }

        await StopFrontgateAsync();
        await Pilot.DisposeAsync();
        Ca.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
