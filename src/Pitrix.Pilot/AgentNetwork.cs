using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core;
using Pitrix.Core.Agents;

namespace Pitrix.Pilot;

/// <summary>
/// <see cref="IAgentNetwork"/> served by the Pilot in this process: each call is a request down the
/// frontgate's stream, answered within <see cref="PilotOptions.CallTimeout"/>; results and health come
/// from the database, where the frontgates' reports are stored. Errors carry a <c>retryable</c>
/// extension (<see cref="Error.Extensions"/>) and are <see cref="ErrorKind.Unavailable"/> when retrying may help.
/// </summary>
public sealed class AgentNetwork : IAgentNetwork
{
    private readonly FrontgateRegistry _registry;
    private readonly PilotStore _store;
    private readonly CommandResultSignals _signals;
    private readonly JoinTokens _joinTokens;
    private readonly CertificateAuthority _ca;
    private readonly PilotEndpoint _endpoint;
    private readonly PilotOptions _options;
    private readonly AgentPkiOptions _pki;
    private readonly TimeProvider _time;

    internal AgentNetwork(
        FrontgateRegistry registry,
        PilotStore store,
        CommandResultSignals signals,
        JoinTokens joinTokens,
        CertificateAuthority ca,
        PilotEndpoint endpoint,
        IOptions<PilotOptions> options,
        IOptions<AgentPkiOptions> pki,
        TimeProvider time)
    {
        _registry = registry;
        _store = store;
        _signals = signals;
        _joinTokens = joinTokens;
        _ca = ca;
        _endpoint = endpoint;
        _options = options.Value;
        _pki = pki.Value;
        _time = time;
    }

    public bool IsConnected(string frontgateId) => _registry.Find(frontgateId) is not null;

    public async Task<JoinTicket> IssueJoinTokenAsync(string agentKind, string agentId, CancellationToken cancellationToken)
    {
        var identity = AgentIdentity.Create(DbJoinTokenStore.ParseKind(agentKind), agentId);
        var issued = await _joinTokens.IssueAsync(identity, _pki.JoinTokenLifetime, cancellationToken);
        var pilotAddress = await _endpoint.GetPublicAddressAsync(cancellationToken);
        return new JoinTicket(issued.Token, _ca.CertificatePem, pilotAddress, issued.ExpiresAt);
    }

    public async Task<Result<AgentPong>> PingAsync(string frontgateId, string? nodeId, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var response = await CallAsync(frontgateId, new PilotMessage { Ping = new PingRequest { NodeId = nodeId ?? "" } }, FrontgateResponse.ResultOneofCase.Pong, cancellationToken);
        if (!response.IsSuccess)
        {
            return response.Error!;
        }

        return new AgentPong(response.Value!.Pong.Version, _time.GetElapsedTime(started));
    }

    public async Task<Error?> PutMetadataAsync(string frontgateId, string clusterId, IReadOnlyDictionary<string, string> entries, CancellationToken cancellationToken)
    {
        var request = new PutMetadataRequest { ClusterId = clusterId };
        request.Entries.AddRange(entries.Select(e => new MetadataEntry { Key = e.Key, Value = e.Value }));
        return await AckAsync(frontgateId, new PilotMessage { PutMetadata = request }, cancellationToken);
    }

    public async Task<Error?> DeleteMetadataAsync(string frontgateId, string clusterId, IReadOnlyList<string> keys, bool prefix, CancellationToken cancellationToken)
    {
        var request = new DeleteMetadataRequest { ClusterId = clusterId, Prefix = prefix };
        request.Keys.AddRange(keys);
        return await AckAsync(frontgateId, new PilotMessage { DeleteMetadata = request }, cancellationToken);
    }

    public async Task<Error?> RunCommandAsync(string frontgateId, AgentCommand command, CancellationToken cancellationToken)
    {
        var request = new RunCommandRequest
        {
            NodeId = command.NodeId,
            TaskId = command.TaskId,
            Command = command.Command,
            Timeout = Duration.FromTimeSpan(command.Timeout),
        };
        foreach (var (name, value) in command.Environment)
        {
            request.Env[name] = value;
        }

        var response = await CallAsync(frontgateId, new PilotMessage { RunCommand = request }, FrontgateResponse.ResultOneofCase.RunCommandAccepted, cancellationToken);
        return response.Error;
    }

    public async Task<AgentCommandResult?> WaitForCommandResultAsync(string nodeId, string taskId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var signal = _signals.WhenStored(nodeId, taskId);
        try
        {
            while (true)
            {
                // The signal is taken before reading, so a result stored in between still wakes the wait.
                if (await _store.FindCommandResultAsync(nodeId, taskId, cancellationToken) is { } stored)
                {
                    return stored.ToResult();
                }

                var remaining = wait - _time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    return null;
                }

                using (var pause = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    var poll = Task.Delay(remaining < _options.ResultPollInterval ? remaining : _options.ResultPollInterval, _time, pause.Token);
                    await Task.WhenAny(signal, poll);
                    await pause.CancelAsync();
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (signal.IsCompleted)
                {
                    _signals.Forget(nodeId, taskId, signal);
                    signal = _signals.WhenStored(nodeId, taskId);
                }
            }
        }
        finally
        {
            _signals.Forget(nodeId, taskId, signal);
        }
    }

    public async Task<Error?> InstallFilesAsync(string frontgateId, string nodeId, string taskId, ReadOnlyMemory<byte> archive, string version, CancellationToken cancellationToken)
    {
        var request = new InstallFilesRequest
        {
            NodeId = nodeId,
            TaskId = taskId,
            Archive = Google.Protobuf.ByteString.CopyFrom(archive.Span),
            Version = version,
        };
        return await AckAsync(frontgateId, new PilotMessage { InstallFiles = request }, cancellationToken);
    }

    public Task<Error?> StartConfigWatchAsync(string frontgateId, string nodeId, CancellationToken cancellationToken) =>
        AckAsync(frontgateId, new PilotMessage { StartConfigWatch = new StartConfigWatchRequest { NodeId = nodeId } }, cancellationToken);

    public Task<Error?> StopConfigWatchAsync(string frontgateId, string nodeId, CancellationToken cancellationToken) =>
        AckAsync(frontgateId, new PilotMessage { StopConfigWatch = new StopConfigWatchRequest { NodeId = nodeId } }, cancellationToken);

    public Task<Error?> ConfigureHealthCheckAsync(string frontgateId, string nodeId, AgentHealthCheck check, CancellationToken cancellationToken)
    {
        var request = new ConfigureHealthCheckRequest
        {
            NodeId = nodeId,
            Enabled = check.Enabled,
            CheckCmd = check.CheckCommand,
            ActionCmd = check.ActionCommand ?? "",
            Interval = Duration.FromTimeSpan(check.Interval),
            Timeout = Duration.FromTimeSpan(check.Timeout),
            ActionTimeout = Duration.FromTimeSpan(check.ActionTimeout),
            HealthyThreshold = check.HealthyThreshold,
            UnhealthyThreshold = check.UnhealthyThreshold,
        };
        return AckAsync(frontgateId, new PilotMessage { ConfigureHealthCheck = request }, cancellationToken);
    }

    public async Task<Result<IReadOnlyList<AgentNodeStatus>>> GetStatusAsync(string frontgateId, string? nodeId, CancellationToken cancellationToken)
    {
        var response = await CallAsync(frontgateId, new PilotMessage { GetStatus = new GetStatusRequest { NodeId = nodeId ?? "" } }, FrontgateResponse.ResultOneofCase.Status, cancellationToken);
        if (!response.IsSuccess)
        {
            return response.Error!;
        }

        IReadOnlyList<AgentNodeStatus> nodes = response.Value!.Status.Nodes
            .Select(n => new AgentNodeStatus(
                n.NodeId,
                n.Connected,
                n.WatchingConfig,
                ToHealthState(n.Health),
                n.LastSeen?.ToDateTimeOffset(),
                string.IsNullOrEmpty(n.AppVersion) ? null : n.AppVersion))
            .ToList();
        return Result.Success(nodes);
    }

    public async Task<IReadOnlyDictionary<string, AgentNodeHealth>> GetNodeHealthAsync(IReadOnlyCollection<string> nodeIds, CancellationToken cancellationToken) =>
        await _store.GetNodeHealthAsync(nodeIds, cancellationToken);

    private static AgentHealthState ToHealthState(HealthState state) => state switch
    {
        HealthState.Healthy => AgentHealthState.Healthy,
        HealthState.Degraded => AgentHealthState.Degraded,
        HealthState.Unhealthy => AgentHealthState.Unhealthy,
        _ => AgentHealthState.Unknown,
    };

    private async Task<Error?> AckAsync(string frontgateId, PilotMessage request, CancellationToken cancellationToken) =>
        (await CallAsync(frontgateId, request, FrontgateResponse.ResultOneofCase.Ack, cancellationToken)).Error;

    private async Task<Result<FrontgateResponse>> CallAsync(string frontgateId, PilotMessage request, FrontgateResponse.ResultOneofCase expected, CancellationToken cancellationToken)
    {
        if (_registry.Find(frontgateId) is not { } connection)
        {
            return NotConnected(frontgateId);
        }

        using var deadline = new CancellationTokenSource(_options.CallTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        FrontgateResponse response;
        try
        {
            response = await connection.RequestAsync(request, linked.Token);
        }
        catch (FrontgateGoneException)
        {
            return NotConnected(frontgateId);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Failure(ErrorKind.Unavailable, AgentNetworkErrors.Timeout, $"Frontgate '{frontgateId}' did not answer {request.RequestCase} within {_options.CallTimeout.TotalSeconds:0} seconds.", retryable: true);
        }

        if (response.ResultCase == FrontgateResponse.ResultOneofCase.Error)
        {
            var error = response.Error;
            return Failure(
                error.Retryable ? ErrorKind.Unavailable : ErrorKind.Validation,
                string.IsNullOrEmpty(error.Code) ? AgentNetworkErrors.Rejected : error.Code,
                string.IsNullOrEmpty(error.Message) ? $"Frontgate '{frontgateId}' refused {request.RequestCase}." : error.Message,
                error.Retryable);
        }

        if (response.ResultCase != expected)
        {
            return Failure(ErrorKind.Internal, PilotErrorCodes.UnexpectedResponse, $"Frontgate '{frontgateId}' answered {request.RequestCase} with {response.ResultCase}, not {expected}.", retryable: false);
        }

        return response;
    }

    private static Error NotConnected(string frontgateId) =>
        Failure(ErrorKind.Unavailable, AgentNetworkErrors.FrontgateNotConnected, $"Frontgate '{frontgateId}' is not connected to Pilot; it reconnects by itself, so retry later.", retryable: true);

    private static Error Failure(ErrorKind kind, string code, string message, bool retryable) =>
        new(kind, code, message) { Extensions = new Dictionary<string, object?> { ["retryable"] = retryable } };
}
