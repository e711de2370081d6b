using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Frontgate.Identity;
using Xunit;

namespace Pitrix.Frontgate.Tests;

/// <summary>The frontgate's identity, its stream to Pilot, and what it relays between Pilot and drones.</summary>
public sealed class FrontgateLinkTests : IAsyncLifetime
{
    private FrontgateTestEnvironment _environment = null!;

    public async Task InitializeAsync() => _environment = await FrontgateTestEnvironment.StartAsync();

    public async Task DisposeAsync() => await _environment.DisposeAsync();

    private static DroneResponse Accept(FrontgateToDroneMessage request) => request.RequestCase switch
    {
        FrontgateToDroneMessage.RequestOneofCase.RunCommand => new DroneResponse { RunCommandAccepted = new RunCommandAccepted { TaskId = request.RunCommand.TaskId } },
        FrontgateToDroneMessage.RequestOneofCase.Ping => new DroneResponse { Pong = new PingResponse { Version = "drone-test" } },
        FrontgateToDroneMessage.RequestOneofCase.GetStatus => new DroneResponse { Status = new NodeStatus { WatchingConfig = true, AppVersion = "v1" } },
        _ => new DroneResponse { Ack = new Ack() },
    };

    [Fact]
    public async Task Start_FirstBoot_EnrollsKeepsThePrivateKeyPrivateAndSaysHello()
    {
        var (frontgate, hello) = Assert.Single(_environment.Pilot.State.Hellos);

        Assert.Equal(AgentIdentity.Frontgate(FrontgateTestEnvironment.FrontgateId), frontgate);
        Assert.Empty(hello.ConnectedNodeIds);
        Assert.False(_environment.Host.Credentials.WasReused);
        var identity = Path.Combine(_environment.DataDirectory, "identity");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(identity, FrontgateCredentials.KeyFileName)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(identity, FrontgateCredentials.CertificateFileName)));
    }

    [Fact]
    public async Task Restart_CertificateInDataDirectory_ReusedWithoutSpendingTheTokenAgain()
    {
        var serial = _environment.Host.Credentials.Current.SerialNumber;

        // The bootstrap's token was spent on the first boot: enrolling again would be refused.
        await _environment.RestartFrontgateAsync();

        Assert.True(_environment.Host.Credentials.WasReused);
        Assert.Equal(serial, _environment.Host.Credentials.Current.SerialNumber);
        await FrontgateTestEnvironment.WaitUntilAsync(() => _environment.Pilot.State.Hellos.Count == 2);
    }

    [Fact]
    public async Task Renew_WithCurrentCertificate_NewCertificateForTheSameIdentityIsKept()
    {
        var credentials = _environment.Host.Credentials;
        var before = credentials.Current;

        await credentials.RenewAsync(_environment.Pilot.Address, CancellationToken.None);

        Assert.NotEqual(before.SerialNumber, credentials.Current.SerialNumber);
        Assert.Equal(credentials.Identity, AgentIdentity.FromCertificate(credentials.Current));
        var directory = Path.Combine(_environment.DataDirectory, "identity");
        // The stored pair is the renewed certificate with its own new key (loading checks they match).
        using var stored = X509Certificate2.CreateFromPemFile(Path.Combine(directory, FrontgateCredentials.CertificateFileName), Path.Combine(directory, FrontgateCredentials.KeyFileName));
        Assert.Equal(credentials.Current.SerialNumber, stored.SerialNumber);
    }

    [Fact]
    public async Task RunCommand_DroneConnected_RelayedWithItsOwnCorrelationIdAndAnswerMappedBack()
    {
        var drone = await _environment.ConnectedDroneAsync("nd-1", Accept);
        var request = new PilotMessage { RunCommand = new RunCommandRequest { NodeId = "nd-1", TaskId = "t-1", Command = "init", Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) } };

        var response = await _environment.Pilot.State.SendAsync(request);

        Assert.Equal("t-1", response.RunCommandAccepted.TaskId);
        var relayed = Assert.Single(drone.Received);
        Assert.Equal("init", relayed.RunCommand.Command);
        Assert.NotEmpty(relayed.CorrelationId);
    }

    [Fact]
    public async Task Requests_ForANode_EachKindRelayedAndMapped()
    {
        var drone = await _environment.ConnectedDroneAsync("nd-1", Accept);

        var pong = await _environment.Pilot.State.SendAsync(new PilotMessage { Ping = new PingRequest { NodeId = "nd-1" } });
        var install = await _environment.Pilot.State.SendAsync(new PilotMessage { InstallFiles = new InstallFilesRequest { NodeId = "nd-1", TaskId = "t", Version = "v1" } });
        var start = await _environment.Pilot.State.SendAsync(new PilotMessage { StartConfigWatch = new StartConfigWatchRequest { NodeId = "nd-1" } });
        var stop = await _environment.Pilot.State.SendAsync(new PilotMessage { StopConfigWatch = new StopConfigWatchRequest { NodeId = "nd-1" } });
        var health = await _environment.Pilot.State.SendAsync(new PilotMessage { ConfigureHealthCheck = new ConfigureHealthCheckRequest { NodeId = "nd-1", Enabled = true, CheckCmd = "true" } });
        var status = await _environment.Pilot.State.SendAsync(new PilotMessage { GetStatus = new GetStatusRequest { NodeId = "nd-1" } });

        Assert.Equal("drone-test", pong.Pong.Version);
        Assert.Equal(FrontgateResponse.ResultOneofCase.Ack, install.ResultCase);
        Assert.Equal(FrontgateResponse.ResultOneofCase.Ack, start.ResultCase);
        Assert.Equal(FrontgateResponse.ResultOneofCase.Ack, stop.ResultCase);
        Assert.Equal(FrontgateResponse.ResultOneofCase.Ack, health.ResultCase);
        var node = Assert.Single(status.Status.Nodes);
        Assert.Equal("nd-1", node.NodeId);
        Assert.True(node.Connected);
        Assert.True(node.WatchingConfig);
        Assert.Equal("v1", node.AppVersion);
        Assert.NotNull(node.LastSeen);
        Assert.Equal(
            [FrontgateToDroneMessage.RequestOneofCase.Ping, FrontgateToDroneMessage.RequestOneofCase.InstallFiles, FrontgateToDroneMessage.RequestOneofCase.StartConfigWatch,
             FrontgateToDroneMessage.RequestOneofCase.StopConfigWatch, FrontgateToDroneMessage.RequestOneofCase.ConfigureHealthCheck, FrontgateToDroneMessage.RequestOneofCase.GetStatus],
            drone.Received.Select(r => r.RequestCase));
    }

    [Fact]
    public async Task PingAndStatus_WithoutNode_AnsweredByTheFrontgateFromWhatItKnows()
    {
        var drone = await _environment.ConnectedDroneAsync("nd-1", Accept);
        await drone.SendAsync(new DroneMessage { NodeHealth = new NodeHealth { NodeId = "nd-1", State = HealthState.Unhealthy } });
        await _environment.Pilot.State.Reports.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        var pong = await _environment.Pilot.State.SendAsync(new PilotMessage { Ping = new PingRequest() });
        var status = await _environment.Pilot.State.SendAsync(new PilotMessage { GetStatus = new GetStatusRequest() });

        Assert.Equal(FrontgateRequestHandler.Version, pong.Pong.Version);
        Assert.Empty(drone.Received);
        var node = Assert.Single(status.Status.Nodes);
        Assert.True(node.Connected);
        Assert.Equal(HealthState.Unhealthy, node.Health);
        Assert.NotNull(node.LastSeen);
    }

    [Fact]
    public async Task RunCommand_NodeNotConnected_RetryableNodeNotConnectedError()
    {
        var response = await _environment.Pilot.State.SendAsync(new PilotMessage { RunCommand = new RunCommandRequest { NodeId = "nd-absent", TaskId = "t-1", Command = "init" } });

        Assert.Equal(FrontgateErrorCodes.NodeNotConnected, response.Error.Code);
        Assert.Equal("agent.node_not_connected", response.Error.Code);
        Assert.True(response.Error.Retryable);
    }

    [Fact]
    public async Task RunCommand_DroneNeverAnswers_TimeoutError()
    {
        await _environment.StopFrontgateAsync();
        _environment.Configure = options => options.DroneRequestTimeout = TimeSpan.FromMilliseconds(300);
        _environment.Pilot.State.Disconnect();
        await _environment.StartFrontgateAsync();
        await _environment.ConnectedDroneAsync("nd-1", _ => null);

        var response = await _environment.Pilot.State.SendAsync(new PilotMessage { RunCommand = new RunCommandRequest { NodeId = "nd-1", TaskId = "t-1", Command = "init" } });

        Assert.Equal("agent.timeout", response.Error.Code);
        Assert.True(response.Error.Retryable);
    }

    [Fact]
    public async Task Connect_NewerStreamFromTheSameNode_ReplacesTheOlder()
    {
        var older = await _environment.ConnectedDroneAsync("nd-1", Accept);
        var newer = _environment.Drone("nd-1");
        await newer.ConnectAsync(Accept);
        await Task.Delay(200);

        await _environment.Pilot.State.SendAsync(new PilotMessage { Ping = new PingRequest { NodeId = "nd-1" } });

        Assert.Empty(older.Received);
        Assert.Single(newer.Received);
    }

    [Fact]
    public async Task Connect_WithoutCertificate_Unauthenticated()
    {
        await using var anonymous = _environment.Drone(null);
        using var call = anonymous.Client.Connect();
        try
        {
            await call.RequestStream.WriteAsync(new DroneMessage { Hello = new DroneHello() });
        }
        catch (RpcException)
        {
            // The frontgate may refuse the call before the hello is written (the write is then cancelled); the
            // response stream says why.
        }

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task Report_ClaimingAnotherNode_ForwardedUnderTheCertificatesNode()
    {
        var drone = await _environment.ConnectedDroneAsync("nd-1", Accept);

        await drone.SendAsync(new DroneMessage { CommandResult = new CommandResult { NodeId = "nd-2", TaskId = "t-1", ExitCode = 0 } });

        var report = await _environment.Pilot.State.Reports.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("nd-1", report.CommandResult.NodeId);
        Assert.Equal("t-1", report.CommandResult.TaskId);
    }

    [Fact]
    public async Task PilotRestarted_FrontgateReconnectsWithBackoffAndNamesItsConnectedNodes()
    {
        await _environment.ConnectedDroneAsync("nd-1", Accept);
        var sessions = _environment.Host.Pilot.SessionCount;

        await _environment.Pilot.StopAsync();
        await FrontgateTestEnvironment.WaitUntilAsync(() => !_environment.Host.Pilot.IsConnected);
        // A few failed attempts while Pilot is down.
        await Task.Delay(800);
        await _environment.Pilot.StartAsync();
        await _environment.Pilot.State.WaitForConnectionAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(sessions + 1, _environment.Host.Pilot.SessionCount);
        var (_, hello) = _environment.Pilot.State.Hellos.Last();
        Assert.Equal(["nd-1"], hello.ConnectedNodeIds);
        var pong = await _environment.Pilot.State.SendAsync(new PilotMessage { Ping = new PingRequest { NodeId = "nd-1" } });
        Assert.Equal("drone-test", pong.Pong.Version);
    }

    [Fact]
    public void Backoff_GrowsFromTheMinimumToTheMaximumWithJitter()
    {
        var link = _environment.Host.Pilot;

        var first = link.Backoff(0);
        var later = Enumerable.Range(0, 20).Select(_ => link.Backoff(3)).ToList();
        var capped = link.Backoff(30);

        Assert.InRange(first, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(120));
        Assert.All(later, d => Assert.InRange(d, TimeSpan.FromMilliseconds(640), TimeSpan.FromMilliseconds(960)));
        Assert.True(later.Distinct().Count() > 1, "no jitter");
        Assert.InRange(capped, TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Reports_WhilePilotIsDown_KeptAcrossAFrontgateRestartAndFlushedInOrder()
    {
        var drone = await _environment.ConnectedDroneAsync("nd-1", Accept);
        await _environment.Pilot.StopAsync();
        await FrontgateTestEnvironment.WaitUntilAsync(() => !_environment.Host.Pilot.IsConnected);

        for (var i = 1; i <= 3; i++)
        {
            await drone.SendAsync(new DroneMessage { CommandResult = new CommandResult { TaskId = $"t-{i}", ExitCode = i } });
        }

        await FrontgateTestEnvironment.WaitUntilAsync(() => _environment.Host.Outbox.Count == 3);
        await _environment.RestartFrontgateAsync();
        Assert.Equal(3, _environment.Host.Outbox.Count);
        await _environment.Pilot.StartAsync();

        var received = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var report = await _environment.Pilot.State.Reports.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            received.Add(report.CommandResult.TaskId);
        }

        Assert.Equal(["t-1", "t-2", "t-3"], received);
        await FrontgateTestEnvironment.WaitUntilAsync(() => _environment.Host.Outbox.Count == 0);
    }

    [Fact]
    public async Task Heartbeat_EveryInterval_ReachesPilot()
    {
        await _environment.StopFrontgateAsync();
        _environment.Configure = options => options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        _environment.Pilot.State.Disconnect();
        await _environment.StartFrontgateAsync();
        await _environment.Pilot.State.WaitForConnectionAsync(TimeSpan.FromSeconds(10));

        await FrontgateTestEnvironment.WaitUntilAsync(() => _environment.Pilot.State.HeartbeatCount >= 3);
    }

    [Fact]
    public async Task DroneEnroll_ThroughTheFrontgate_CertificateForTheTokensNodeThenRenewed()
    {
        var token = await _environment.Pilot.IssueTokenAsync(AgentIdentity.Node("nd-7"));
        await using var newcomer = _environment.Drone(null);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var enrolled = await newcomer.Enrollment.EnrollAsync(new EnrollRequest { JoinToken = token.Token, CsrPem = AgentCredential.CreateSigningRequest(key) });

        Assert.Equal("pitrix://node/nd-7", enrolled.Identity);
        using var issued = X509Certificate2.CreateFromPem(enrolled.CertificatePem);
        using var certificate = issued.CopyWithPrivateKey(key);
        Assert.True(AgentTrust.IsIssuedByCa(certificate, _environment.Ca.Certificate, AgentTrust.ClientAuthentication, TimeProvider.System));

        await using var enrolledDrone = new TestDrone(_environment.Host.DroneAddress, AgentIdentity.Frontgate(FrontgateTestEnvironment.FrontgateId), _environment.Ca.Certificate, certificate);
        using var renewKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var renewed = await enrolledDrone.Enrollment.RenewAsync(new RenewRequest { CsrPem = AgentCredential.CreateSigningRequest(renewKey) });
        Assert.Equal("pitrix://node/nd-7", renewed.Identity);
    }

    [Fact]
    public async Task DroneEnroll_SpentToken_RefusedWithPilotsCode()
    {
        var token = await _environment.Pilot.IssueTokenAsync(AgentIdentity.Node("nd-7"));
        await using var newcomer = _environment.Drone(null);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new EnrollRequest { JoinToken = token.Token, CsrPem = AgentCredential.CreateSigningRequest(key) };
        await newcomer.Enrollment.EnrollAsync(request);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await newcomer.Enrollment.EnrollAsync(request));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.JoinTokenUsed, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task DroneEnroll_PilotUnreachable_UnavailableAndRetryable()
    {
        await _environment.Pilot.StopAsync();
        await FrontgateTestEnvironment.WaitUntilAsync(() => !_environment.Host.Pilot.IsConnected);
        await using var newcomer = _environment.Drone(null);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await newcomer.Enrollment.EnrollAsync(new EnrollRequest { JoinToken = "pjt_x", CsrPem = AgentCredential.CreateSigningRequest(key) }));

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal(FrontgateErrorCodes.PilotNotConnected, AgentRpc.ErrorCode(refused));
    }
}

public sealed class FrontgateStartupTests
{
    [Fact]
    public async Task Start_RefusedToken_FailsWithEnrollmentRefused()
    {
        await using var environment = await FrontgateTestEnvironment.StartAsync(startFrontgate: false);
        var token = await environment.Pilot.IssueTokenAsync(AgentIdentity.Frontgate("fg-other"));
        await environment.Pilot.State.JoinTokens.RedeemAsync(token.Token, CancellationToken.None);

        var failure = await Assert.ThrowsAsync<FrontgateStartupException>(() => FrontgateHost.StartAsync(
            new FrontgateHostSettings
            {
                Bootstrap = new Core.Agents.AgentBootstrap
                {
                    Agent = "frontgate",
                    Id = "fg-other",
                    JoinToken = token.Token,
                    CaPem = environment.Ca.CertificatePem,
                    PilotAddress = environment.Pilot.Address.ToString(),
                    ListenAddress = "127.0.0.1:0",
                },
                DataDirectory = Path.Combine(environment.DataDirectory, "other"),
                ConfigureLogging = _ => { },
            },
            CancellationToken.None));

        Assert.Equal(FrontgateStartupException.EnrollmentRefused, failure.Code);
    }

    [Fact]
    public async Task Start_EtcdBackendWithoutEndpoints_OptionsNameTheKey()
    {
        await using var environment = await FrontgateTestEnvironment.StartAsync(new() { ["Frontgate:Metadata:Backend"] = "etcd" }, startFrontgate: false);

        var failure = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(environment.StartFrontgateAsync);

        Assert.Contains("Frontgate:Metadata:Etcd:Endpoints", failure.Message, StringComparison.Ordinal);
    }
}
