using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core;

namespace Pitrix.Frontgate.Tests;

/// <summary>
/// A test peer standing in for Pilot: a real gRPC server on 127.0.0.1 over mutual TLS with the real
/// <see cref="EnrollmentService"/> and a small <c>Pilot.Connect</c> that records hellos and reports, lets the
/// test send requests to the connected frontgate, and answers the frontgate's relayed drone enrollments with
/// the real CA and join tokens. It can be stopped and started again on the same port with the same state.
/// </summary>
public sealed class TestPilot : IAsyncDisposable
{
    private WebApplication? _app;

    public TestPilot(CertificateAuthority ca)
    {
        Ca = ca;
        State = new TestPilotState(ca, new JoinTokens(TokenStore, TimeProvider.System));
    }

    public CertificateAuthority Ca { get; }

    public InMemoryJoinTokenStore TokenStore { get; } = new(TimeProvider.System);

    public TestPilotState State { get; }

    public int Port { get; private set; }

    public Uri Address => new($"https://127.0.0.1:{Port}");

    public async Task StartAsync()
    {
        var serverCertificate = Ca.IssueServerCertificate(AgentIdentity.Pilot("test-pilot"), ["localhost"], [IPAddress.Loopback], TimeSpan.FromHours(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Ca);
        builder.Services.AddSingleton<IJoinTokenStore>(TokenStore);
        builder.Services.AddSingleton(State);
        builder.Services.AddAgentSecurity(o => o.CaDirectory = "/nonexistent-ca-directory-unused");
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? listener = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port, listen =>
        {
            listener = listen;
            listen.UseAgentTls(serverCertificate, Ca.Certificate, AgentClientCertificates.Allow);
        }));
        var app = builder.Build();
        app.MapGrpcService<EnrollmentService>();
        app.MapGrpcService<TestPilotService>();
        await app.StartAsync();
        Port = listener!.IPEndPoint!.Port;
        _app = app;
    }

    /// <summary>Stops the server, ending the frontgate's stream.</summary>
    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }

        State.Disconnect();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public Task<IssuedJoinToken> IssueTokenAsync(AgentIdentity identity) => State.JoinTokens.IssueAsync(identity, TimeSpan.FromMinutes(10), CancellationToken.None);

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>What the test Pilot saw and the frontgate stream it holds; survives a restart of the server.</summary>
public sealed class TestPilotState(CertificateAuthority ca, JoinTokens joinTokens)
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<FrontgateResponse>> _pending = new();
    private Session? _session;
    private TaskCompletionSource<Session> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JoinTokens JoinTokens => joinTokens;

    public ConcurrentQueue<(AgentIdentity Frontgate, FrontgateHello Hello)> Hellos { get; } = new();

    /// <summary>Command results and health reports, in the order they arrived.</summary>
    public Channel<FrontgateMessage> Reports { get; } = Channel.CreateUnbounded<FrontgateMessage>();

    private int _heartbeats;

    public int HeartbeatCount => Volatile.Read(ref _heartbeats);

    /// <summary>Waits until a frontgate holds a stream (a new one after <see cref="Disconnect"/>).</summary>
    public async Task WaitForConnectionAsync(TimeSpan timeout)
    {
        Task<Session> connected;
        lock (_gate)
        {
            connected = _connected.Task;
        }

        await connected.WaitAsync(timeout);
    }

    /// <summary>Sends a request to the connected frontgate and waits for its answer.</summary>
    public async Task<FrontgateResponse> SendAsync(PilotMessage request, TimeSpan? timeout = null)
    {
        var wait = timeout ?? TimeSpan.FromSeconds(10);
        Session session;
        Task<Session> connected;
        lock (_gate)
        {
            connected = _connected.Task;
        }

        session = await connected.WaitAsync(wait);
        var message = request.Clone();
        message.CorrelationId = "p-" + Guid.NewGuid().ToString("N");
        var waiter = new TaskCompletionSource<FrontgateResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[message.CorrelationId] = waiter;
        await session.WriteAsync(message);
        return await waiter.Task.WaitAsync(wait);
    }

    public void Disconnect()
    {
        lock (_gate)
        {
            if (_connected.Task.IsCompleted)
            {
                _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _session = null;
        }
    }

    internal void Connected(Session session)
    {
        lock (_gate)
        {
            _session = session;
            if (!_connected.TrySetResult(session))
            {
                _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
                _connected.SetResult(session);
            }
        }
    }

    internal void Ended(Session session)
    {
        lock (_gate)
        {
            if (_session == session)
            {
                _session = null;
                _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    internal async Task ReceiveAsync(FrontgateMessage message, Session session)
    {
        switch (message.BodyCase)
        {
            case FrontgateMessage.BodyOneofCase.Response:
                if (_pending.TryRemove(message.CorrelationId, out var waiter))
                {
                    waiter.TrySetResult(message.Response);
                }

                break;
            case FrontgateMessage.BodyOneofCase.CommandResult or FrontgateMessage.BodyOneofCase.NodeHealth:
                await Reports.Writer.WriteAsync(message);
                break;
            case FrontgateMessage.BodyOneofCase.Heartbeat:
                Interlocked.Increment(ref _heartbeats);
                break;
            case FrontgateMessage.BodyOneofCase.Enroll:
                var redeemed = await joinTokens.RedeemAsync(message.Enroll.JoinToken, CancellationToken.None);
                await session.WriteAsync(new PilotMessage
                {
                    CorrelationId = message.CorrelationId,
                    Response = redeemed.IsSuccess
                        ? Issue(message.Enroll.CsrPem, redeemed.Value!)
                        : new PilotResponse { Error = new AgentError { Code = redeemed.Error!.Code, Message = redeemed.Error.Message } },
                });
                break;
            case FrontgateMessage.BodyOneofCase.RenewNode:
                await session.WriteAsync(new PilotMessage
                {
                    CorrelationId = message.CorrelationId,
                    Response = Issue(message.RenewNode.CsrPem, AgentIdentity.Node(message.RenewNode.NodeId)),
                });
                break;
        }
    }

    private PilotResponse Issue(string csrPem, AgentIdentity identity)
    {
        Result<System.Security.Cryptography.X509Certificates.X509Certificate2> issued = ca.IssueClientCertificate(csrPem, identity, TimeSpan.FromHours(1));
        if (!issued.IsSuccess)
        {
            return new PilotResponse { Error = new AgentError { Code = issued.Error!.Code, Message = issued.Error.Message } };
        }

        using var certificate = issued.Value!;
        return new PilotResponse
        {
            Enrolled = new EnrollResponse { CertificatePem = certificate.ExportCertificatePem(), CaPem = ca.CertificatePem, Identity = identity.Uri },
        };
    }

    // The semaphore is left to the garbage collector: a session ends with its stream, and nothing waits on it then.
#pragma warning disable CA1001
    internal sealed class Session(IServerStreamWriter<PilotMessage> writer)
#pragma warning restore CA1001
    {
        private readonly SemaphoreSlim _write = new(1, 1);

        public async Task WriteAsync(PilotMessage message)
        {
            await _write.WaitAsync();
            try
            {
                await writer.WriteAsync(message);
            }
            finally
            {
                _write.Release();
            }
        }
    }
}

/// <summary>The test Pilot's side of <c>Pilot.Connect</c>.</summary>
public sealed class TestPilotService(TestPilotState state, IHostApplicationLifetime lifetime) : Agent.Protocol.V1.Pilot.PilotBase
{
    public override async Task Connect(IAsyncStreamReader<FrontgateMessage> requestStream, IServerStreamWriter<PilotMessage> responseStream, ServerCallContext context)
    {
        var frontgate = AgentPeer.Require(context, AgentKind.Frontgate);
        // Stopping the test Pilot ends the stream at once instead of waiting for the frontgate to hang up.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        if (!await requestStream.MoveNext(stopping.Token) || requestStream.Current.BodyCase != FrontgateMessage.BodyOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "hello first"));
        }

        state.Hellos.Enqueue((frontgate, requestStream.Current.Hello));
        var session = new TestPilotState.Session(responseStream);
        state.Connected(session);
        try
        {
            while (await requestStream.MoveNext(stopping.Token))
            {
                await state.ReceiveAsync(requestStream.Current, session);
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            // The frontgate went away, or this test Pilot is stopping.
        }
        finally
        {
            state.Ended(session);
        }
    }
}
