using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Pilot;

/// <summary>
/// The server side of <c>Pilot.Connect</c>: each frontgate's one long-lived stream. The caller must
/// present a frontgate certificate; its id comes from the certificate only. The first message must be
/// <c>hello</c>; after it the stream carries Pilot's requests down, and the frontgate's responses,
/// reports (command results, node health, heartbeats) and relayed drone enrollments up. Served only on
/// Pilot's own mutual-TLS listener.
/// </summary>
public sealed partial class PilotService : Pitrix.Agent.Protocol.V1.Pilot.PilotBase
{
    private readonly FrontgateRegistry _registry;
    private readonly PilotStore _store;
    private readonly EnrollmentRelay _relay;
    private readonly CommandResultWriter _results;
    private readonly PilotOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PilotService> _logger;

    internal PilotService(FrontgateRegistry registry, PilotStore store, EnrollmentRelay relay, CommandResultWriter results, IOptions<PilotOptions> options, TimeProvider time, ILogger<PilotService> logger)
    {
        _registry = registry;
        _store = store;
        _relay = relay;
        _results = results;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public override async Task Connect(IAsyncStreamReader<FrontgateMessage> requestStream, IServerStreamWriter<PilotMessage> responseStream, ServerCallContext context)
    {
        var frontgate = AgentPeer.Require(context, AgentKind.Frontgate);
        var hello = await ReadHelloAsync(requestStream, context);
        await _store.FrontgateConnectedAsync(frontgate.Id, hello.Version, context.CancellationToken);
        using var connection = new FrontgateConnection(frontgate.Id, hello, responseStream, context.CancellationToken)
        {
            LastSeenWrittenAt = _time.GetUtcNow(),
        };
        if (_registry.Register(connection) is not null)
        {
            Log.Replaced(_logger, frontgate.Id);
        }

        Log.Connected(_logger, frontgate.Id, hello.Version, hello.ConnectedNodeIds.Count);
        try
        {
            while (await requestStream.MoveNext(connection.Closing))
            {
                await HandleAsync(connection, requestStream.Current, connection.Closing);
            }
        }
        catch (OperationCanceledException) when (connection.CloseReason is { } reason && !context.CancellationToken.IsCancellationRequested)
        {
            throw reason == PilotErrorCodes.ConnectionReplaced
                ? AgentRpc.Exception(StatusCode.Aborted, reason, "A newer stream from the same frontgate replaced this one.")
                : AgentRpc.Exception(StatusCode.Unavailable, reason, "Pilot is stopping; reconnect.");
        }
        finally
        {
            _registry.Unregister(connection);
            Log.Disconnected(_logger, frontgate.Id);
        }
    }

    private async Task<FrontgateHello> ReadHelloAsync(IAsyncStreamReader<FrontgateMessage> requestStream, ServerCallContext context)
    {
        using var deadline = new CancellationTokenSource(_options.HelloTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, deadline.Token);
        try
        {
            if (await requestStream.MoveNext(linked.Token) && requestStream.Current.BodyCase == FrontgateMessage.BodyOneofCase.Hello)
            {
                return requestStream.Current.Hello;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw AgentRpc.Exception(StatusCode.DeadlineExceeded, PilotErrorCodes.HelloExpected, $"No hello within {_options.HelloTimeout.TotalSeconds:0} seconds of opening the stream.");
        }

        throw AgentRpc.Exception(StatusCode.InvalidArgument, PilotErrorCodes.HelloExpected, "The first message of a frontgate's stream must be hello.");
    }

    private async Task HandleAsync(FrontgateConnection connection, FrontgateMessage message, CancellationToken cancellationToken)
    {
        var frontgateId = connection.FrontgateId;
        await SeenAsync(connection, cancellationToken);
        switch (message.BodyCase)
        {
            case FrontgateMessage.BodyOneofCase.Response:
                if (!connection.Complete(message.CorrelationId, message.Response))
                {
                    Log.UnmatchedResponse(_logger, frontgateId, message.CorrelationId);
                }

                break;
            case FrontgateMessage.BodyOneofCase.CommandResult:
                await _results.EnqueueAsync(connection, message.CommandResult, cancellationToken);
                break;
            case FrontgateMessage.BodyOneofCase.NodeHealth:
                await _store.SaveNodeHealthAsync(frontgateId, message.NodeHealth, cancellationToken);
                break;
            case FrontgateMessage.BodyOneofCase.Heartbeat:
                break;
            case FrontgateMessage.BodyOneofCase.Enroll:
                await AnswerAsync(connection, message.CorrelationId, "enroll", await _relay.EnrollAsync(frontgateId, message.Enroll, cancellationToken), cancellationToken);
                break;
            case FrontgateMessage.BodyOneofCase.RenewNode:
                await AnswerAsync(connection, message.CorrelationId, "renew_node", await _relay.RenewAsync(frontgateId, message.RenewNode, cancellationToken), cancellationToken);
                break;
            default:
                // A second hello, or a message a newer frontgate knows and this Pilot does not.
                Log.Ignored(_logger, frontgateId, message.BodyCase);
                break;
        }
    }

    private async Task AnswerAsync(FrontgateConnection connection, string correlationId, string request, PilotResponse response, CancellationToken cancellationToken)
    {
        if (EnrollmentRelay.ErrorOf(response) is { } error)
        {
            Log.RelayRefused(_logger, connection.FrontgateId, request, error.Code, error.Message);
        }

        await connection.WriteAsync(new PilotMessage { CorrelationId = correlationId, Response = response }, cancellationToken);
    }

    /// <summary>Any message proves the frontgate alive; its last-seen time is written at most once per interval.</summary>
    private async Task SeenAsync(FrontgateConnection connection, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now - connection.LastSeenWrittenAt < _options.LastSeenWriteInterval)
        {
            return;
        }

        connection.LastSeenWrittenAt = now;
        await _store.FrontgateSeenAsync(connection.FrontgateId, now, cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Frontgate {FrontgateId} connected (version {Version}, {NodeCount} nodes connected to it)")]
        public static partial void Connected(ILogger logger, string frontgateId, string version, int nodeCount);

        [LoggerMessage(Level = LogLevel.Information, Message = "Frontgate {FrontgateId} opened a new stream; the old one is closed")]
        public static partial void Replaced(ILogger logger, string frontgateId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Frontgate {FrontgateId} stream ended")]
        public static partial void Disconnected(ILogger logger, string frontgateId);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Frontgate {FrontgateId} answered {CorrelationId}, which nobody waits for (timed out)")]
        public static partial void UnmatchedResponse(ILogger logger, string frontgateId, string correlationId);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored a {Body} message from frontgate {FrontgateId}")]
        public static partial void Ignored(ILogger logger, string frontgateId, FrontgateMessage.BodyOneofCase body);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a relayed {Request} from frontgate {FrontgateId}: {Code} {Detail}")]
        public static partial void RelayRefused(ILogger logger, string frontgateId, string request, string code, string detail);
    }
}
