using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Frontgate.Metadata;
using Pitrix.Frontgate.Pilot;
using FrontgateServiceBase = Pitrix.Agent.Protocol.V1.Frontgate.FrontgateBase;

namespace Pitrix.Frontgate.Drones;

/// <summary>
/// The drone-facing <c>Frontgate</c> service. Both calls need a node certificate: the node id is taken from
/// it and from nothing else, so a drone can only hold its own command stream and read its own view.
/// </summary>
public sealed partial class FrontgateService(
    DroneRegistry drones,
    ReportOutbox outbox,
    MetadataMirror metadata,
    IHostApplicationLifetime lifetime,
    ILogger<FrontgateService> logger) : FrontgateServiceBase
{
    public override async Task Connect(IAsyncStreamReader<DroneMessage> requestStream, IServerStreamWriter<FrontgateToDroneMessage> responseStream, ServerCallContext context)
    {
        var node = AgentPeer.Require(context, AgentKind.Node);
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.BodyCase != DroneMessage.BodyOneofCase.Hello)
        {
            throw AgentRpc.Exception(StatusCode.InvalidArgument, FrontgateErrorCodes.InvalidRequest, "The first message on the stream must be hello.");
        }

        using var connection = drones.Register(node.Id);
        LogDroneConnected(logger, node.Id, requestStream.Current.Hello.Version);
        // Streams end when the drone goes, when a newer stream from the node replaces this one, or when the
        // frontgate stops (so a restart does not wait for every drone to hang up).
        using var streamCancellation = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, connection.Closed, lifetime.ApplicationStopping);
        var token = streamCancellation.Token;
        var writer = WriteAsync(connection, responseStream, token);
        try
        {
            while (await requestStream.MoveNext(token))
            {
                Receive(node.Id, connection, requestStream.Current);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Replaced by a newer stream from the same node, or the frontgate is stopping.
        }
        finally
        {
            drones.Unregister(connection);
            await streamCancellation.CancelAsync();
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            LogDroneDisconnected(logger, node.Id);
        }
    }

    public override async Task WatchMetadata(WatchMetadataRequest request, IServerStreamWriter<MetadataEvent> responseStream, ServerCallContext context)
    {
        var node = AgentPeer.Require(context, AgentKind.Node);
        using var streamCancellation = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var token = streamCancellation.Token;
        try
        {
            await foreach (var change in metadata.WatchViewAsync(node.Id, request.AfterRevision, token))
            {
                await responseStream.WriteAsync(change, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The drone went away, or the frontgate is stopping.
        }
    }

    private static async Task WriteAsync(DroneConnection connection, IServerStreamWriter<FrontgateToDroneMessage> responseStream, CancellationToken cancellationToken)
    {
        await foreach (var message in connection.Outgoing.Reader.ReadAllAsync(cancellationToken))
        {
            await responseStream.WriteAsync(message, cancellationToken);
        }
    }

    private void Receive(string nodeId, DroneConnection connection, DroneMessage message)
    {
        drones.Touch(nodeId);
        switch (message.BodyCase)
        {
            case DroneMessage.BodyOneofCase.Response:
                connection.Complete(message.CorrelationId, message.Response);
                break;
            case DroneMessage.BodyOneofCase.CommandResult:
                // The node id is the one the certificate proves, whatever the message says.
                var result = message.CommandResult.Clone();
                result.NodeId = nodeId;
                outbox.Append(new FrontgateMessage { CommandResult = result });
                break;
            case DroneMessage.BodyOneofCase.NodeHealth:
                var health = message.NodeHealth.Clone();
                health.NodeId = nodeId;
                drones.RecordHealth(health);
                outbox.Append(new FrontgateMessage { NodeHealth = health });
                break;
            case DroneMessage.BodyOneofCase.Heartbeat:
                break;
            default:
                LogUnexpectedMessage(logger, nodeId, message.BodyCase.ToString());
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Drone of node {NodeId} connected (version {Version})")]
    private static partial void LogDroneConnected(ILogger logger, string nodeId, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drone of node {NodeId} disconnected")]
    private static partial void LogDroneDisconnected(ILogger logger, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drone of node {NodeId} sent an unexpected {Kind} message; ignored")]
    private static partial void LogUnexpectedMessage(ILogger logger, string nodeId, string kind);
}
