using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;
using Pitrix.Persistence;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Pilot.Tests;

/// <summary>Pilot in a real server, reached by a test frontgate over real mutual TLS.</summary>
public abstract class PilotTests(ServerFixture fixture)
{
    protected TestServer Server => fixture.Server;

    private IAgentNetwork Network => Server.Services.GetRequiredService<IAgentNetwork>();

    [Fact]
    public async Task Ping_ConnectedFrontgate_RoundTripsToFrontgateAndThroughItToANode()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"), version: "fg-1.2.3");

        var pong = await Network.PingAsync(frontgate.Id, null, CancellationToken.None);
        var nodePong = await Network.PingAsync(frontgate.Id, "nd-7", CancellationToken.None);

        Assert.True(pong.IsSuccess, pong.Error?.ToString());
        Assert.Equal("fg-1.2.3", pong.Value!.Version);
        Assert.True(pong.Value.RoundTrip > TimeSpan.Zero);
        Assert.Equal("drone-of-nd-7", nodePong.Value!.Version);
        Assert.True(Network.IsConnected(frontgate.Id));
        await using var scope = Server.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().AgentFrontgates.SingleAsync(f => f.Id == frontgate.Id);
        Assert.Equal("fg-1.2.3", stored.Version);
    }

    [Fact]
    public async Task Call_FrontgateGoesAwayBeforeAnswering_FailsAsNotConnected()
    {
        var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        frontgate.Answer = _ => null;
        var before = frontgate.Requests.Count;

        var ping = Network.PingAsync(frontgate.Id, null, CancellationToken.None);
        while (frontgate.Requests.Count == before)
        {
            await Task.Delay(10);
        }

        await frontgate.DisposeAsync();
        var result = await ping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(AgentNetworkErrors.FrontgateNotConnected, result.Error!.Code);
        Assert.False(Network.IsConnected(frontgate.Id));
    }

    [Fact]
    public async Task Requests_PutMetadataAndRunCommand_ReachTheFrontgateWithTheirFields()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var command = new AgentCommand("nd-1", "tk-42", "/opt/pitrix/app/scripts/start.sh --fast", TimeSpan.FromMinutes(2))
        {
            Environment = new Dictionary<string, string> { ["ZK_PORT"] = "2181", ["VALUE"] = "$(reboot)" },
        };

        var put = await Network.PutMetadataAsync(frontgate.Id, "cl-1", new Dictionary<string, string> { ["hosts/zk/nd-1/ip"] = "10.0.0.5", ["cluster/app_id"] = "app-1" }, CancellationToken.None);
        var run = await Network.RunCommandAsync(frontgate.Id, command, CancellationToken.None);

        Assert.Null(put);
        Assert.Null(run);
        var received = frontgate.Requests.Where(r => r.RequestCase != PilotMessage.RequestOneofCase.Ping).ToList();
        Assert.Equal(2, received.Count);
        Assert.Equal("cl-1", received[0].PutMetadata.ClusterId);
        Assert.Equal(
            ["cluster/app_id=app-1", "hosts/zk/nd-1/ip=10.0.0.5"],
            received[0].PutMetadata.Entries.Select(e => $"{e.Key}={e.Value}").Order(StringComparer.Ordinal));
        var runCommand = received[1].RunCommand;
        Assert.Equal(("nd-1", "tk-42", "/opt/pitrix/app/scripts/start.sh --fast"), (runCommand.NodeId, runCommand.TaskId, runCommand.Command));
        Assert.Equal(TimeSpan.FromMinutes(2), runCommand.Timeout.ToTimeSpan());
        Assert.Equal("$(reboot)", runCommand.Env["VALUE"]);
        Assert.Equal("2181", runCommand.Env["ZK_PORT"]);
        Assert.NotEqual(received[0].CorrelationId, received[1].CorrelationId);
    }

    [Fact]
    public async Task RunCommand_FrontgateAnswersAgentError_ErrorKeepsItsCodeAndMessage()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        frontgate.Answer = _ => new FrontgateResponse { Error = new AgentError { Code = AgentNetworkErrors.NodeNotConnected, Message = "nd-9 is not connected", Retryable = true } };

        var error = await Network.RunCommandAsync(frontgate.Id, new AgentCommand("nd-9", "tk-1", "true", TimeSpan.FromSeconds(5)), CancellationToken.None);

        Assert.NotNull(error);
        Assert.Equal(AgentNetworkErrors.NodeNotConnected, error.Code);
        Assert.Equal("nd-9 is not connected", error.Message);
        Assert.Equal(Core.ErrorKind.Unavailable, error.Kind);
        Assert.Equal(true, error.Extensions!["retryable"]);
    }

    [Fact]
    public async Task Calls_FrontgateNeverConnected_FailAtOnceAsNotConnected()
    {
        var stopwatch = Stopwatch.StartNew();

        var ping = await Network.PingAsync("fg-nowhere", null, CancellationToken.None);
        var run = await Network.RunCommandAsync("fg-nowhere", new AgentCommand("nd-1", "tk-1", "true", TimeSpan.FromSeconds(5)), CancellationToken.None);

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        Assert.Equal(AgentNetworkErrors.FrontgateNotConnected, ping.Error!.Code);
        Assert.Equal(AgentNetworkErrors.FrontgateNotConnected, run!.Code);
        Assert.False(Network.IsConnected("fg-nowhere"));
    }

    [Fact]
    public async Task CommandResult_Reported_WakesTheWaitAndIsStored()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        using var node = await frontgate.EnrollNodeAsync(Server, nodeId);
        var waiting = Network.WaitForCommandResultAsync(nodeId, "tk-1", TimeSpan.FromSeconds(20), CancellationToken.None);

        await frontgate.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, "tk-1", exitCode: 3, stdout: "out", stderr: "boom") });
        var result = await waiting;

        Assert.NotNull(result);
        Assert.Equal((nodeId, "tk-1", 3, "out", "boom", false), (result.NodeId, result.TaskId, result.ExitCode, result.StdoutTail, result.StderrTail, result.TimedOut));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), result.Duration);
        Assert.False(result.Succeeded);
        await using var scope = Server.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().AgentCommandResults.SingleAsync(r => r.NodeId == nodeId);
        Assert.Equal(frontgate.Id, stored.FrontgateId);
    }

    [Fact]
    public async Task CommandResult_ReportedTwice_FirstOneWins()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        using var node = await frontgate.EnrollNodeAsync(Server, nodeId);

        await frontgate.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, "tk-1", exitCode: 0, stdout: "first", stderr: "") });
        await frontgate.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, "tk-1", exitCode: 1, stdout: "second", stderr: "") });
        await frontgate.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, "tk-2", exitCode: 0, stdout: "later", stderr: "") });

        // Results are stored in the order they arrived: once the later task's is stored, both reports were handled.
        Assert.NotNull(await Network.WaitForCommandResultAsync(nodeId, "tk-2", TimeSpan.FromSeconds(10), CancellationToken.None));
        var result = await Network.WaitForCommandResultAsync(nodeId, "tk-1", TimeSpan.Zero, CancellationToken.None);
        Assert.Equal((0, "first"), (result!.ExitCode, result.StdoutTail));
        await using var scope = Server.Services.CreateAsyncScope();
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().AgentCommandResults.CountAsync(r => r.NodeId == nodeId && r.TaskId == "tk-1"));
    }

    [Fact]
    public async Task CommandResults_ArrivingTogether_AreAllStored_FirstReportOfEachWins()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        using var node = await frontgate.EnrollNodeAsync(Server, nodeId);

        // Sixty results back to back, each task reported twice (stored together in few transactions).
        for (var i = 0; i < 60; i++)
        {
            await frontgate.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, $"tk-{i}", exitCode: 0, stdout: $"first-{i}", stderr: "") });
            await frontgate.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, $"tk-{i}", exitCode: 1, stdout: "again", stderr: "") });
        }

        for (var i = 0; i < 60; i++)
        {
            var result = await Network.WaitForCommandResultAsync(nodeId, $"tk-{i}", TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal((0, $"first-{i}"), (result!.ExitCode, result.StdoutTail));
        }

        await using var scope = Server.Services.CreateAsyncScope();
        Assert.Equal(60, await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().AgentCommandResults.CountAsync(r => r.NodeId == nodeId));
    }

    [Fact]
    public async Task Reports_AboutANodeOfAnotherFrontgate_AreIgnored()
    {
        await using var owner = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        await using var other = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        using var node = await owner.EnrollNodeAsync(Server, nodeId);

        await other.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, "tk-1", exitCode: 0, stdout: "forged", stderr: "") });
        await other.SendAsync(new FrontgateMessage { NodeHealth = new NodeHealth { NodeId = nodeId, State = HealthState.Healthy, CheckedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) } });
        Assert.True((await Network.PingAsync(other.Id, null, CancellationToken.None)).IsSuccess);

        // Results are stored in the order they were queued: once the owner's later one is stored, the forged one was handled.
        await owner.SendAsync(new FrontgateMessage { CommandResult = Result(nodeId, "tk-2", exitCode: 0, stdout: "real", stderr: "") });
        Assert.NotNull(await Network.WaitForCommandResultAsync(nodeId, "tk-2", TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Null(await Network.WaitForCommandResultAsync(nodeId, "tk-1", TimeSpan.Zero, CancellationToken.None));
        Assert.Empty(await Network.GetNodeHealthAsync([nodeId], CancellationToken.None));
    }

    [Fact]
    public async Task NodeHealth_Reported_ReadBackAndOlderReportIgnored()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        using var node = await frontgate.EnrollNodeAsync(Server, nodeId);
        var checkedAt = DateTimeOffset.UtcNow.AddSeconds(-5);

        await frontgate.SendAsync(new FrontgateMessage { NodeHealth = Health(nodeId, HealthState.Unhealthy, "port 2181 closed", checkedAt) });
        await frontgate.SendAsync(new FrontgateMessage { NodeHealth = Health(nodeId, HealthState.Healthy, "older", checkedAt.AddSeconds(-30)) });
        Assert.True((await Network.PingAsync(frontgate.Id, null, CancellationToken.None)).IsSuccess);
        var health = await Network.GetNodeHealthAsync([nodeId, "nd-never-reported"], CancellationToken.None);

        var only = Assert.Single(health);
        Assert.Equal(AgentHealthState.Unhealthy, only.Value.State);
        Assert.Equal("port 2181 closed", only.Value.Detail);
        Assert.Equal(checkedAt.ToUnixTimeMilliseconds(), only.Value.CheckedAt.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task RelayEnroll_NodeToken_IssuesTheNodesCertificateAndBindsItToTheFrontgate()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        var ticket = await Network.IssueJoinTokenAsync(AgentKinds.Node, nodeId, CancellationToken.None);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var response = await frontgate.RelayEnrollAsync(ticket.Token, new CertificateRequest("CN=someone-else", key, HashAlgorithmName.SHA256).CreateSigningRequestPem());

        Assert.Equal(PilotResponse.ResultOneofCase.Enrolled, response.ResultCase);
        Assert.Equal($"pitrix://node/{nodeId}", response.Enrolled.Identity);
        using var certificate = X509Certificate2.CreateFromPem(response.Enrolled.CertificatePem);
        using var ca = X509Certificate2.CreateFromPem(ticket.CaPem);
        Assert.True(AgentTrust.IsIssuedByCa(certificate, ca, AgentTrust.ClientAuthentication, TimeProvider.System));
        Assert.Equal(AgentIdentity.Node(nodeId), AgentIdentity.FromCertificate(certificate));
        using var publicKey = certificate.GetECDsaPublicKey()!;
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), publicKey.ExportSubjectPublicKeyInfo());
        await using var scope = Server.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<PitrixDbContext>().AgentNodes.SingleAsync(n => n.NodeId == nodeId);
        Assert.Equal(frontgate.Id, stored.FrontgateId);
    }

    [Fact]
    public async Task RelayEnroll_UsedTokenOrFrontgateToken_RefusedWithStableCodes()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeTicket = await Network.IssueJoinTokenAsync(AgentKinds.Node, ServerFixture.Unique("nd"), CancellationToken.None);
        var frontgateTicket = await Network.IssueJoinTokenAsync(AgentKinds.Frontgate, ServerFixture.Unique("fg"), CancellationToken.None);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = AgentCredential.CreateSigningRequest(key);

        var first = await frontgate.RelayEnrollAsync(nodeTicket.Token, csr);
        var reused = await frontgate.RelayEnrollAsync(nodeTicket.Token, csr);
        var frontgateToken = await frontgate.RelayEnrollAsync(frontgateTicket.Token, csr);
        var unknown = await frontgate.RelayEnrollAsync("pjt_never-issued", csr);

        Assert.Equal(PilotResponse.ResultOneofCase.Enrolled, first.ResultCase);
        Assert.Equal(AgentErrorCodes.JoinTokenUsed, reused.Error.Code);
        Assert.Equal(PilotErrorCodes.NodeTokenRequired, frontgateToken.Error.Code);
        Assert.Equal(AgentErrorCodes.JoinTokenInvalid, unknown.Error.Code);
        Assert.False(reused.Error.Retryable);
    }

    [Fact]
    public async Task RenewNode_OwnNode_RenewedButNodeOfAnotherFrontgateRefused()
    {
        await using var owner = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        await using var other = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        var nodeId = ServerFixture.Unique("nd");
        using var node = await owner.EnrollNodeAsync(Server, nodeId);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = AgentCredential.CreateSigningRequest(key);

        var renewed = await owner.RelayRenewAsync(nodeId, csr);
        var refused = await other.RelayRenewAsync(nodeId, csr);
        var unknownNode = await other.RelayRenewAsync("nd-never-enrolled", csr);

        Assert.Equal($"pitrix://node/{nodeId}", renewed.Enrolled.Identity);
        Assert.Equal(PilotErrorCodes.NotYourNode, refused.Error.Code);
        Assert.Equal(PilotErrorCodes.NotYourNode, unknownNode.Error.Code);
    }

    [Fact]
    public async Task Connect_NodeCertificate_RefusedAsWrongKind()
    {
        await using var frontgate = await TestFrontgate.StartAsync(Server, ServerFixture.Unique("fg"));
        using var nodeCertificate = await frontgate.EnrollNodeAsync(Server, ServerFixture.Unique("nd"));
        using var ca = X509Certificate2.CreateFromPem((await Network.IssueJoinTokenAsync(AgentKinds.Node, "nd-unused", CancellationToken.None)).CaPem);
        await using var impostor = TestFrontgate.Open(Server, nodeCertificate, ca, "impostor");

        try
        {
            await impostor.SendAsync(new FrontgateMessage { Hello = new FrontgateHello { Version = "x" } });
        }
        catch (RpcException)
        {
            // Pilot refuses the call from its certificate alone, possibly before the hello is written (the write then
            // fails with the call's status); the response stream says why either way.
        }

        var refused = await Assert.ThrowsAsync<RpcException>(() => impostor.Reading);

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.WrongKind, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task Connect_FirstMessageNotHello_Refused()
    {
        using var credential = await TestFrontgate.EnrollAsync(Server, ServerFixture.Unique("fg"));
        await using var frontgate = TestFrontgate.Open(Server, credential.Certificate, credential.CaCertificate, credential.Identity.Id);

        await frontgate.SendAsync(new FrontgateMessage { Heartbeat = new Heartbeat() });
        var refused = await Assert.ThrowsAsync<RpcException>(() => frontgate.Reading);

        Assert.Equal(PilotErrorCodes.HelloExpected, AgentRpc.ErrorCode(refused));
        Assert.False(Network.IsConnected(credential.Identity.Id));
    }

    [Fact]
    public async Task Connect_SameFrontgateAgain_NewStreamReplacesTheOld()
    {
        using var credential = await TestFrontgate.EnrollAsync(Server, ServerFixture.Unique("fg"));
        await using var first = await TestFrontgate.ConnectAsync(Server, credential, version: "first");

        await using var second = await TestFrontgate.ConnectAsync(Server, credential, version: "second");
        var ended = await Assert.ThrowsAsync<RpcException>(() => first.Reading.WaitAsync(TimeSpan.FromSeconds(10)));
        var pong = await Network.PingAsync(credential.Identity.Id, null, CancellationToken.None);

        Assert.True(PilotErrorCodes.ConnectionReplaced == AgentRpc.ErrorCode(ended), ended.ToString());
        Assert.Equal("second", pong.Value!.Version);
        Assert.True(Network.IsConnected(credential.Identity.Id));
    }

    [Fact]
    public async Task Listeners_ApiPortServesNoGrpcAndPilotPortNoApi()
    {
        using var credential = await TestFrontgate.EnrollAsync(Server, ServerFixture.Unique("fg"));
        var pilot = Server.Services.GetRequiredService<PilotEndpoint>().ListenAddress!;
        using var http = new HttpClient(Agent.AgentTrust.CreateHandler(credential.CaCertificate, credential.Certificate)) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        var apiOnPilot = await http.GetAsync(new Uri(pilot, "/healthz"));
        using var plain = new HttpClient { BaseAddress = Server.Address };
        var grpcOnApi = await plain.PostAsync("/pitrix.agent.v1.Pilot/Connect", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.NotFound, apiOnPilot.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, grpcOnApi.StatusCode);
        Assert.NotEqual("application/grpc", grpcOnApi.Content.Headers.ContentType?.MediaType);
        Assert.Equal("127.0.0.1", pilot.Host);
        Assert.NotEqual(Server.Address.Port, pilot.Port);
    }

    [Fact]
    public async Task JoinTokens_RedeemedConcurrently_ExactlyOneWins()
    {
        var tokens = Server.Services.GetRequiredService<JoinTokens>();
        var issued = await tokens.IssueAsync(AgentIdentity.Node(ServerFixture.Unique("nd")), TimeSpan.FromMinutes(5), CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => tokens.RedeemAsync(issued.Token, CancellationToken.None))));

        Assert.Single(results, r => r.IsSuccess);
        Assert.All(results.Where(r => !r.IsSuccess), r => Assert.Equal(AgentErrorCodes.JoinTokenUsed, r.Error!.Code));
    }

    internal static CommandResult Result(string nodeId, string taskId, int exitCode, string stdout, string stderr) => new()
    {
        NodeId = nodeId,
        TaskId = taskId,
        ExitCode = exitCode,
        StdoutTail = stdout,
        StderrTail = stderr,
        Duration = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMilliseconds(1500)),
        FinishedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    internal static NodeHealth Health(string nodeId, HealthState state, string detail, DateTimeOffset checkedAt) => new()
    {
        NodeId = nodeId,
        State = state,
        Detail = detail,
        CheckedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(checkedAt),
    };
}

public sealed class SqlitePilotTests(SqliteServerFixture fixture) : PilotTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresPilotTests(PostgresServerFixture fixture) : PilotTests(fixture), IClassFixture<PostgresServerFixture>;
