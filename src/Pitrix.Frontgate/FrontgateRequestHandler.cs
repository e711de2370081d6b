using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Frontgate.Drones;
using Pitrix.Frontgate.Metadata;

namespace Pitrix.Frontgate;

/// <summary>
/// Answers Pilot's requests: metadata writes go to the store; requests for a node are relayed to its
/// drone and its answer mapped back; a ping or get_status without a node id is answered by the frontgate
/// itself. Expected failures become an <see cref="AgentError"/> with a stable code, never an exception.
/// </summary>
public sealed partial class FrontgateRequestHandler(
    IMetadataStore store,
    DroneRegistry drones,
    IOptions<FrontgateOptions> options,
    TimeProvider time,
    ILogger<FrontgateRequestHandler> logger)
{
    /// <summary>The version this frontgate reports in pongs, hellos and status.</summary>
    public static string Version { get; } =
        typeof(FrontgateRequestHandler).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public async Task<FrontgateResponse> HandleAsync(PilotMessage message, CancellationToken cancellationToken)
    {
        switch (message.RequestCase)
        {
            case PilotMessage.RequestOneofCase.Ping when message.Ping.NodeId.Length == 0:
                return new FrontgateResponse { Pong = new PingResponse { Version = Version, AnsweredAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()) } };
            case PilotMessage.RequestOneofCase.Ping:
                return await RelayAsync(message.Ping.NodeId, new FrontgateToDroneMessage { Ping = message.Ping }, cancellationToken);
            case PilotMessage.RequestOneofCase.PutMetadata:
                return await PutMetadataAsync(message.PutMetadata, cancellationToken);
            case PilotMessage.RequestOneofCase.DeleteMetadata:
                return await DeleteMetadataAsync(message.DeleteMetadata, cancellationToken);
            case PilotMessage.RequestOneofCase.RunCommand:
                return await RelayAsync(message.RunCommand.NodeId, new FrontgateToDroneMessage { RunCommand = message.RunCommand }, cancellationToken);
            case PilotMessage.RequestOneofCase.StartConfigWatch:
                return await RelayAsync(message.StartConfigWatch.NodeId, new FrontgateToDroneMessage { StartConfigWatch = message.StartConfigWatch }, cancellationToken);
            case PilotMessage.RequestOneofCase.StopConfigWatch:
                return await RelayAsync(message.StopConfigWatch.NodeId, new FrontgateToDroneMessage { StopConfigWatch = message.StopConfigWatch }, cancellationToken);
            case PilotMessage.RequestOneofCase.InstallFiles:
                return await RelayAsync(message.InstallFiles.NodeId, new FrontgateToDroneMessage { InstallFiles = message.InstallFiles }, cancellationToken);
            case PilotMessage.RequestOneofCase.ConfigureHealthCheck:
                return await RelayAsync(message.ConfigureHealthCheck.NodeId, new FrontgateToDroneMessage { ConfigureHealthCheck = message.ConfigureHealthCheck }, cancellationToken);
            case PilotMessage.RequestOneofCase.GetStatus when message.GetStatus.NodeId.Length == 0:
                var all = new StatusResponse { Version = Version };
                all.Nodes.AddRange(drones.Status());
                return new FrontgateResponse { Status = all };
            case PilotMessage.RequestOneofCase.GetStatus:
                return await RelayAsync(message.GetStatus.NodeId, new FrontgateToDroneMessage { GetStatus = message.GetStatus }, cancellationToken);
            default:
                return Error(FrontgateErrorCodes.InvalidRequest, $"The frontgate does not handle a '{message.RequestCase}' request.", retryable: false);
        }
    }

    private async Task<FrontgateResponse> PutMetadataAsync(PutMetadataRequest request, CancellationToken cancellationToken)
    {
        if (!MetadataKeys.IsValidClusterId(request.ClusterId))
        {
            return Error(FrontgateErrorCodes.MetadataInvalidKey, $"'{request.ClusterId}' is not a valid cluster id.", retryable: false);
        }

        if (request.Entries.FirstOrDefault(e => !MetadataKeys.IsValidKey(e.Key)) is { } bad)
        {
            return Error(FrontgateErrorCodes.MetadataInvalidKey, $"'{bad.Key}' is not a valid metadata key: segments separated by '/', none empty, '.' or '..'.", retryable: false);
        }

        return await StoreAsync(ct => store.PutAsync(request.ClusterId, [.. request.Entries.Select(e => KeyValuePair.Create(e.Key, e.Value))], ct), cancellationToken);
    }

    private async Task<FrontgateResponse> DeleteMetadataAsync(DeleteMetadataRequest request, CancellationToken cancellationToken)
    {
        if (!MetadataKeys.IsValidClusterId(request.ClusterId))
        {
            return Error(FrontgateErrorCodes.MetadataInvalidKey, $"'{request.ClusterId}' is not a valid cluster id.", retryable: false);
        }

        if (request.Keys.FirstOrDefault(k => request.Prefix ? !MetadataKeys.IsValidPrefix(k) : !MetadataKeys.IsValidKey(k)) is { } bad)
        {
            return Error(FrontgateErrorCodes.MetadataInvalidKey, $"'{bad}' is not a valid metadata {(request.Prefix ? "prefix" : "key")}.", retryable: false);
        }

        return await StoreAsync(ct => store.DeleteAsync(request.ClusterId, [.. request.Keys], request.Prefix, ct), cancellationToken);
    }

    private async Task<FrontgateResponse> StoreAsync(Func<CancellationToken, Task<long>> write, CancellationToken cancellationToken)
    {
        try
        {
            await write(cancellationToken);
            return new FrontgateResponse { Ack = new Ack() };
        }
        catch (MetadataStoreException exception)
        {
            LogStoreFailed(logger, exception.Code, exception.Message);
            return Error(exception.Code, exception.Message, exception.IsRetryable);
        }
    }

    private async Task<FrontgateResponse> RelayAsync(string nodeId, FrontgateToDroneMessage request, CancellationToken cancellationToken)
    {
        if (nodeId.Length == 0)
        {
            return Error(FrontgateErrorCodes.InvalidRequest, $"A {request.RequestCase} request needs a node id.", retryable: false);
        }

        var response = await drones.SendAsync(nodeId, request, options.Value.DroneRequestTimeout, cancellationToken);
        switch (response.ResultCase)
        {
            case DroneResponse.ResultOneofCase.Error:
                return new FrontgateResponse { Error = response.Error };
            case DroneResponse.ResultOneofCase.Ack:
                return new FrontgateResponse { Ack = response.Ack };
            case DroneResponse.ResultOneofCase.Pong:
                return new FrontgateResponse { Pong = response.Pong };
            case DroneResponse.ResultOneofCase.RunCommandAccepted:
                return new FrontgateResponse { RunCommandAccepted = response.RunCommandAccepted };
            case DroneResponse.ResultOneofCase.Status:
                // The drone speaks for itself; the frontgate adds what only it knows: the stream and when it was last heard.
                drones.RecordStatus(nodeId, response.Status);
                var status = response.Status.Clone();
                status.NodeId = nodeId;
                status.Connected = true;
                var known = drones.Status(nodeId);
                status.LastSeen = known.Count > 0 ? known[0].LastSeen : Timestamp.FromDateTimeOffset(time.GetUtcNow());
                var answer = new StatusResponse { Version = Version };
                answer.Nodes.Add(status);
                return new FrontgateResponse { Status = answer };
            default:
                return Error(FrontgateErrorCodes.InvalidRequest, $"The drone of node {nodeId} gave an empty answer.", retryable: false);
        }
    }

    private static FrontgateResponse Error(string code, string message, bool retryable) =>
        new() { Error = new AgentError { Code = code, Message = message, Retryable = retryable } };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metadata write failed: {Code} {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string code, string reason);
}
