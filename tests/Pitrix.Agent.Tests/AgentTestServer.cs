using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Agent.Tests;

/// <summary>
/// A real gRPC server on 127.0.0.1 with two TLS listeners, as Pilot will have: enrollment (client
/// certificate optional) and the agent channel (client certificate required). It serves the
/// enrollment service and small Pilot and Frontgate services that record who called.
/// </summary>
public sealed class AgentTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions _enrollmentListener;
    private readonly ListenOptions _agentListener;

    private AgentTestServer(WebApplication app, ListenOptions enrollment, ListenOptions agent, CertificateAuthority ca, CallLog calls)
    {
        _app = app;
        _enrollmentListener = enrollment;
        _agentListener = agent;
        Ca = ca;
        Calls = calls;
    }

    public CertificateAuthority Ca { get; }

    public CallLog Calls { get; }

    public JoinTokens JoinTokens => _app.Services.GetRequiredService<JoinTokens>();

    public Uri EnrollmentAddress => new($"https://127.0.0.1:{_enrollmentListener.IPEndPoint!.Port}");

    public Uri AgentAddress => new($"https://127.0.0.1:{_agentListener.IPEndPoint!.Port}");

    public static async Task<AgentTestServer> StartAsync(string caDirectory, TimeProvider time)
    {
        var ca = CertificateAuthority.LoadOrCreate(caDirectory, time);
        var serverCertificate = ca.IssueServerCertificate(AgentIdentity.Pilot("test"), ["localhost"], [IPAddress.Loopback], TimeSpan.FromHours(1));
        var calls = new CallLog();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(ca);
        builder.Services.AddSingleton(calls);
        builder.Services.AddAgentSecurity(o => o.CaDirectory = caDirectory);
        ListenOptions? enrollment = null;
        ListenOptions? agent = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                enrollment = listen;
                listen.UseAgentTls(serverCertificate, ca.Certificate, AgentClientCertificates.Allow, time);
            });
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                agent = listen;
                listen.UseAgentTls(serverCertificate, ca.Certificate, AgentClientCertificates.Require, time);
            });
        });
        var app = builder.Build();
        app.MapGrpcService<EnrollmentService>();
        app.MapGrpcService<TestPilotService>();
        app.MapGrpcService<TestFrontgateService>();
        await app.StartAsync();
        return new AgentTestServer(app, enrollment!, agent!, ca, calls);
    }

    public GrpcChannel EnrollmentChannel(X509Certificate2? clientCertificate = null) =>
        AgentTrust.CreateChannel(EnrollmentAddress, Ca.Certificate, clientCertificate);

    public GrpcChannel AgentChannel(X509Certificate2? clientCertificate) =>
        AgentTrust.CreateChannel(AgentAddress, Ca.Certificate, clientCertificate);

    /// <summary>Issues a token for <paramref name="identity"/> and enrolls with it, as a booting agent does.</summary>
    public async Task<AgentCredential> EnrollAsync(AgentIdentity identity)
    {
        var token = await JoinTokens.IssueAsync(identity, TimeSpan.FromMinutes(10), CancellationToken.None);
        using var channel = EnrollmentChannel();
        return await AgentCredential.EnrollAsync(channel, Ca.Certificate, token.Token, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Ca.Dispose();
    }
}

/// <summary>Who reached the test services' handlers.</summary>
public sealed class CallLog
{
    public ConcurrentQueue<AgentIdentity?> Callers { get; } = new();

    public ConcurrentQueue<CommandResult> Results { get; } = new();
}

/// <summary>Pilot's side of the frontgate stream, reduced to one request/response and one report.</summary>
public sealed class TestPilotService(CallLog calls) : Pilot.PilotBase
{
    public override async Task Connect(IAsyncStreamReader<FrontgateMessage> requestStream, IServerStreamWriter<PilotMessage> responseStream, ServerCallContext context)
    {
        calls.Callers.Enqueue(AgentPeer.GetIdentity(context));
        var frontgate = AgentPeer.Require(context, AgentKind.Frontgate);
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.BodyCase != FrontgateMessage.BodyOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "hello first"));
        }

        await responseStream.WriteAsync(new PilotMessage { CorrelationId = "c-1", Ping = new PingRequest() }, context.CancellationToken);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var message = requestStream.Current;
            if (message.CorrelationId == "c-1" && message.Response?.ResultCase == FrontgateResponse.ResultOneofCase.Pong)
            {
                // The task id tells the frontgate who Pilot believes it is talking to.
                await responseStream.WriteAsync(
                    new PilotMessage { CorrelationId = "c-2", RunCommand = new RunCommandRequest { NodeId = "nd-1", TaskId = frontgate.Uri, Command = "true" } },
                    context.CancellationToken);
            }
            else if (message.BodyCase == FrontgateMessage.BodyOneofCase.CommandResult)
            {
                calls.Results.Enqueue(message.CommandResult);
                return;
            }
        }
    }
}

/// <summary>The frontgate's side of a drone stream: greets the node by the identity in its certificate.</summary>
public sealed class TestFrontgateService(CallLog calls) : Frontgate.FrontgateBase
{
    public override async Task Connect(IAsyncStreamReader<DroneMessage> requestStream, IServerStreamWriter<FrontgateToDroneMessage> responseStream, ServerCallContext context)
    {
        calls.Callers.Enqueue(AgentPeer.GetIdentity(context));
        var node = AgentPeer.Require(context, AgentKind.Node);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(
                new FrontgateToDroneMessage { CorrelationId = requestStream.Current.CorrelationId, Ping = new PingRequest { NodeId = node.Id } },
                context.CancellationToken);
        }
    }
}

/// <summary>Certificates our CA never issued, for the refusal tests.</summary>
public static class ForeignCertificates
{
    /// <summary>A self-signed client certificate that claims <paramref name="identity"/>.</summary>
    public static X509Certificate2 SelfSigned(AgentIdentity identity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={identity.Id}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([AgentTrust.ClientAuthentication], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(identity.Uri));
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }
}
