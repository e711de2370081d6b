using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;
using Pitrix.Testing;

namespace Pitrix.Pilot.Tests;

/// <summary>
/// A frontgate written for the tests: it enrolls with a frontgate join token over real mutual TLS, opens
/// the Pilot stream, answers Pilot's requests through <see cref="Answer"/>, records every request it got,
/// and sends reports and relayed enrollments up the stream.
/// </summary>
public sealed class TestFrontgate : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<FrontgateMessage, PilotMessage> _call;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<PilotResponse>> _relayed = new();
    private readonly CancellationTokenSource _stop = new();

    private TestFrontgate(string id, GrpcChannel channel, AsyncDuplexStreamingCall<FrontgateMessage, PilotMessage> call, Func<PilotMessage, FrontgateResponse?> answer)
    {
        Id = id;
        _channel = channel;
        _call = call;
        Answer = answer;
        Reading = Task.Run(ReadAsync);
    }

    public string Id { get; }

    /// <summary>How this frontgate answers Pilot's requests; by default like a frontgate whose drones all do as told.</summary>
    public Func<PilotMessage, FrontgateResponse?> Answer { get; set; }

    /// <summary>Every request Pilot sent, in order.</summary>
    public ConcurrentQueue<PilotMessage> Requests { get; } = new();

    /// <summary>Ends when Pilot ends the stream; faults with the <see cref="RpcException"/> it ended with.</summary>
    public Task Reading { get; }

    /// <summary>Enrolls <paramref name="frontgateId"/> with Pilot's Enrollment service, as a booting frontgate does.</summary>
    public static async Task<AgentCredential> EnrollAsync(TestServer server, string frontgateId)
    {
        var ticket = await server.Services.GetRequiredService<IAgentNetwork>().IssueJoinTokenAsync(AgentKinds.Frontgate, frontgateId, CancellationToken.None);
        using var ca = X509Certificate2.CreateFromPem(ticket.CaPem);
        using var channel = AgentTrust.CreateChannel(new Uri(ticket.PilotAddress), ca);
        return await AgentCredential.EnrollAsync(channel, ca, ticket.Token, CancellationToken.None);
    }

    /// <summary>Enrolls a new frontgate and connects it.</summary>
    public static async Task<TestFrontgate> StartAsync(TestServer server, string frontgateId, string version = "fg-test")
    {
        using var credential = await EnrollAsync(server, frontgateId);
        return await ConnectAsync(server, credential, version);
    }

    /// <summary>Opens the Pilot stream with <paramref name="credential"/>, says hello and waits until Pilot has registered the stream.</summary>
    public static async Task<TestFrontgate> ConnectAsync(TestServer server, AgentCredential credential, string version = "fg-test", params string[] connectedNodes)
    {
        var frontgate = Open(server, credential.Certificate, credential.CaCertificate, credential.Identity.Id, version);
        var hello = new FrontgateHello { Version = version };
        hello.ConnectedNodeIds.AddRange(connectedNodes);
        await frontgate.SendAsync(new FrontgateMessage { Hello = hello });

        // Pilot registers the stream right after hello; a ping answered by this stream proves it.
        var network = server.Services.GetRequiredService<IAgentNetwork>();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if (network.IsConnected(frontgate.Id))
            {
                var pong = await network.PingAsync(frontgate.Id, null, CancellationToken.None);
                if (pong.IsSuccess && pong.Value!.Version == version)
                {
                    return frontgate;
                }
            }

            await Task.Delay(25);
        }

        throw new InvalidOperationException($"Frontgate {frontgate.Id} did not become connected.");
    }

    /// <summary>Opens the Pilot stream with any client certificate, without saying hello.</summary>
    public static TestFrontgate Open(TestServer server, X509Certificate2 clientCertificate, X509Certificate2 ca, string id, string version = "fg-test")
    {
        var address = server.Services.GetRequiredService<PilotEndpoint>().ListenAddress!;
        var channel = AgentTrust.CreateChannel(address, ca, clientCertificate);
        var call = new Pitrix.Agent.Protocol.V1.Pilot.PilotClient(channel).Connect();
        return new TestFrontgate(id, channel, call, request => DefaultAnswer(request, version));
    }

    public static FrontgateResponse DefaultAnswer(PilotMessage request, string version) => request.RequestCase switch
    {
        PilotMessage.RequestOneofCase.Ping => new FrontgateResponse
        {
            Pong = new PingResponse { Version = request.Ping.NodeId.Length > 0 ? $"drone-of-{request.Ping.NodeId}" : version },
        },
        PilotMessage.RequestOneofCase.RunCommand => new FrontgateResponse { RunCommandAccepted = new RunCommandAccepted { TaskId = request.RunCommand.TaskId } },
        PilotMessage.RequestOneofCase.GetStatus => new FrontgateResponse { Status = new StatusResponse { Version = version } },
        _ => new FrontgateResponse { Ack = new Ack() },
    };

    public async Task SendAsync(FrontgateMessage message)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _call.RequestStream.WriteAsync(message);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Relays a drone's enrollment, as the frontgate does for its drones, and returns Pilot's answer.</summary>
    public Task<PilotResponse> RelayEnrollAsync(string joinToken, string csrPem) =>
        RelayAsync(new FrontgateMessage { Enroll = new EnrollRequest { JoinToken = joinToken, CsrPem = csrPem } });

    public Task<PilotResponse> RelayRenewAsync(string nodeId, string csrPem) =>
        RelayAsync(new FrontgateMessage { RenewNode = new NodeRenewRequest { NodeId = nodeId, CsrPem = csrPem } });

    /// <summary>Issues a node join token and enrolls the node through this frontgate; returns the node's certificate with its key.</summary>
    public async Task<X509Certificate2> EnrollNodeAsync(TestServer server, string nodeId)
    {
        var ticket = await server.Services.GetRequiredService<IAgentNetwork>().IssueJoinTokenAsync(AgentKinds.Node, nodeId, CancellationToken.None);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await RelayEnrollAsync(ticket.Token, AgentCredential.CreateSigningRequest(key));
        if (response.ResultCase != PilotResponse.ResultOneofCase.Enrolled)
        {
            throw new InvalidOperationException($"Enrolling {nodeId} failed: {response.Error}");
        }

        using var certificate = X509Certificate2.CreateFromPem(response.Enrolled.CertificatePem);
        return certificate.CopyWithPrivateKey(key);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _call.RequestStream.CompleteAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or RpcException or IOException)
        {
            // The call has ended already.
        }

        _call.Dispose();
        try
        {
            await Reading;
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Ended by disposal.
        }

        _channel.Dispose();
        _writeLock.Dispose();
        _stop.Dispose();
    }

    private async Task<PilotResponse> RelayAsync(FrontgateMessage message)
    {
        message.CorrelationId = Guid.NewGuid().ToString("N");
        var answer = new TaskCompletionSource<PilotResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _relayed[message.CorrelationId] = answer;
        await SendAsync(message);
        return await answer.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task ReadAsync()
    {
        await foreach (var message in _call.ResponseStream.ReadAllAsync(_stop.Token))
        {
            if (message.RequestCase == PilotMessage.RequestOneofCase.Response)
            {
                if (_relayed.TryRemove(message.CorrelationId, out var waiter))
                {
                    waiter.TrySetResult(message.Response);
                }

                continue;
            }

            Requests.Enqueue(message);
            var response = Answer(message);
            if (response is not null)
            {
                try
                {
                    await SendAsync(new FrontgateMessage { CorrelationId = message.CorrelationId, Response = response });
                }
                catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
                {
                    // Pilot ended the call meanwhile; the next read reports how it ended.
                }
            }
        }
    }
}
