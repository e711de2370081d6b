using Grpc.Core;
using Pitrix.Agent.Protocol.V1;
using Xunit;

namespace Pitrix.Agent.Tests;

public sealed class MutualTlsTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pitrix-agent-").FullName;
    private readonly ManualTimeProvider _time = new();
    private AgentTestServer _server = null!;

    public async Task InitializeAsync() => _server = await AgentTestServer.StartAsync(Path.Combine(_directory, "pki"), _time);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task PilotConnect_EnrolledFrontgate_BidiStreamWorksAndPilotSeesItsIdentity()
    {
        using var credential = await _server.EnrollAsync(AgentIdentity.Frontgate("fg-1"));
        using var channel = _server.AgentChannel(credential.Certificate);
        using var call = new Pilot.PilotClient(channel).Connect();

        await call.RequestStream.WriteAsync(new FrontgateMessage { Hello = new FrontgateHello { Version = "test" } });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var ping = call.ResponseStream.Current;
        await call.RequestStream.WriteAsync(new FrontgateMessage { CorrelationId = ping.CorrelationId, Response = new FrontgateResponse { Pong = new PingResponse() } });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var command = call.ResponseStream.Current;
        await call.RequestStream.WriteAsync(new FrontgateMessage { CommandResult = new CommandResult { NodeId = command.RunCommand.NodeId, TaskId = command.RunCommand.TaskId, ExitCode = 0 } });
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(PilotMessage.RequestOneofCase.Ping, ping.RequestCase);
        Assert.Equal("c-2", command.CorrelationId);
        Assert.Equal("pitrix://frontgate/fg-1", command.RunCommand.TaskId);
        Assert.Equal([AgentIdentity.Frontgate("fg-1")], _server.Calls.Callers);
        Assert.Equal("pitrix://frontgate/fg-1", Assert.Single(_server.Calls.Results).TaskId);
    }

    [Fact]
    public async Task FrontgateConnect_EnrolledNode_FrontgateSeesTheNodeId()
    {
        using var credential = await _server.EnrollAsync(AgentIdentity.Node("nd-7"));
        using var channel = _server.AgentChannel(credential.Certificate);
        using var call = new Frontgate.FrontgateClient(channel).Connect();

        await call.RequestStream.WriteAsync(new DroneMessage { CorrelationId = "d-1", Hello = new DroneHello() });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        await call.RequestStream.CompleteAsync();

        Assert.Equal("d-1", call.ResponseStream.Current.CorrelationId);
        Assert.Equal("nd-7", call.ResponseStream.Current.Ping.NodeId);
    }

    [Fact]
    public async Task PilotConnect_NodeCertificate_PermissionDeniedAsWrongKind()
    {
        using var credential = await _server.EnrollAsync(AgentIdentity.Node("nd-1"));
        using var channel = _server.AgentChannel(credential.Certificate);
        using var call = new Pilot.PilotClient(channel).Connect();

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.WrongKind, AgentRpc.ErrorCode(refused));
    }

    private static readonly StatusCode[] HandshakeRefused = [StatusCode.Unavailable, StatusCode.Internal];

    [Fact]
    public async Task AgentListener_NoClientCertificate_CannotConnect()
    {
        using var channel = _server.AgentChannel(clientCertificate: null);
        using var call = new Pilot.PilotClient(channel).Connect();

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        // A refused handshake surfaces as Unavailable, or as Internal when the server resets the HTTP/2 stream first.
        Assert.Contains(refused.StatusCode, HandshakeRefused);
        Assert.Empty(_server.Calls.Callers);
    }

    [Fact]
    public async Task AgentListener_CertificateFromAnotherCa_CannotConnect()
    {
        using var foreign = ForeignCertificates.SelfSigned(AgentIdentity.Frontgate("fg-1"));
        using var channel = _server.AgentChannel(foreign);
        using var call = new Pilot.PilotClient(channel).Connect();

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        // A refused handshake surfaces as Unavailable, or as Internal when the server resets the HTTP/2 stream first.
        Assert.Contains(refused.StatusCode, HandshakeRefused);
        Assert.Empty(_server.Calls.Callers);
    }

    [Fact]
    public async Task EnrollmentListener_CertificateFromAnotherCa_CannotConnect()
    {
        using var foreign = ForeignCertificates.SelfSigned(AgentIdentity.Frontgate("fg-1"));
        using var channel = _server.EnrollmentChannel(foreign);
        using var call = new Pilot.PilotClient(channel).Connect();

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        // A refused handshake surfaces as Unavailable, or as Internal when the server resets the HTTP/2 stream first.
        Assert.Contains(refused.StatusCode, HandshakeRefused);
        Assert.Empty(_server.Calls.Callers);
    }

    [Fact]
    public async Task EnrollmentListener_PilotConnectWithoutCertificate_Unauthenticated()
    {
        using var channel = _server.EnrollmentChannel();
        using var call = new Pilot.PilotClient(channel).Connect();

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(AgentErrorCodes.Unauthenticated, AgentRpc.ErrorCode(refused));
    }

    [Fact]
    public async Task Client_ServerCertificateFromAnotherCa_RefusesTheServer()
    {
        using var otherDirectory = new TempDirectory();
        using var otherCa = CertificateAuthority.LoadOrCreate(otherDirectory.Combine("pki"), _time);
        using var channel = AgentTrust.CreateChannel(_server.EnrollmentAddress, otherCa.Certificate);

        var refused = await Assert.ThrowsAsync<RpcException>(() => AgentCredential.EnrollAsync(channel, otherCa.Certificate, "pjt_x", CancellationToken.None));

        // The client's own check rejected the server, before any request was sent.
        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.Status.DebugException?.InnerException);
        Assert.Contains("RemoteCertificateValidationCallback", refused.Status.Detail);
    }
}
