using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Frontgate.Drones;

/// <summary>
/// The drones connected to this frontgate, by node id (a newer stream from a node replaces its older one),
/// and what the frontgate knows of every node it has seen: when, and its last reported health. Requests to
/// a drone go down its stream with a fresh correlation id and complete when the drone answers it.
/// </summary>
public sealed class DroneRegistry(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DroneConnection> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeStatus> _known = new(StringComparer.Ordinal);

    /// <summary>The nodes whose drones hold a stream now.</summary>
    public IReadOnlyList<string> ConnectedNodeIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _connections.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Registers a node's new stream, closing the one it replaces.</summary>
    public DroneConnection Register(string nodeId)
    {
        var connection = new DroneConnection(nodeId);
        DroneConnection? replaced;
        lock (_gate)
        {
            _connections.TryGetValue(nodeId, out replaced);
            _connections[nodeId] = connection;
            var status = Known(nodeId);
            status.Connected = true;
            status.LastSeen = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        }

        replaced?.Close();
        return connection;
    }

    /// <summary>Forgets a stream that ended, unless a newer one already replaced it.</summary>
    public void Unregister(DroneConnection connection)
    {
        lock (_gate)
        {
            if (_connections.TryGetValue(connection.NodeId, out var current) && current == connection)
            {
                _connections.Remove(connection.NodeId);
                Known(connection.NodeId).Connected = false;
            }
        }

        connection.Close();
    }

    /// <summary>Notes that the node's drone was heard from now.</summary>
    public void Touch(string nodeId)
    {
        lock (_gate)
        {
            Known(nodeId).LastSeen = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        }
    }

    /// <summary>Keeps the health a node reported.</summary>
    public void RecordHealth(NodeHealth health)
    {
        lock (_gate)
        {
            Known(health.NodeId).Health = health.State;
        }
    }

    /// <summary>Keeps what a drone said of itself in answer to get_status.</summary>
    public void RecordStatus(string nodeId, NodeStatus reported)
    {
        lock (_gate)
        {
            var status = Known(nodeId);
            status.WatchingConfig = reported.WatchingConfig;
            status.AppVersion = reported.AppVersion;
            if (reported.Health != HealthState.Unspecified)
            {
                status.Health = reported.Health;
            }
        }
    }

    /// <summary>What the frontgate knows of one node, or of every node it has seen.</summary>
    public IReadOnlyList<NodeStatus> Status(string? nodeId = null)
    {
        lock (_gate)
        {
            return [.. _known.Values
                .Where(s => nodeId is null || s.NodeId == nodeId)
                .OrderBy(s => s.NodeId, StringComparer.Ordinal)
                .Select(s => s.Clone())];
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> to the node's drone and waits for its answer: an
    /// <c>agent.node_not_connected</c> error (retryable) when it has no stream or the stream ends first,
    /// <c>agent.timeout</c> (retryable) when no answer comes within <paramref name="timeout"/>.
    /// </summary>
    public async Task<DroneResponse> SendAsync(string nodeId, FrontgateToDroneMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DroneConnection? connection;
        lock (_gate)
        {
            _connections.TryGetValue(nodeId, out connection);
        }

        if (connection is null)
        {
            return NotConnected(nodeId);
        }

        return await connection.SendAsync(request, timeout, time, cancellationToken);
    }

    internal static DroneResponse NotConnected(string nodeId) => new()
    {
        Error = new AgentError { Code = FrontgateErrorCodes.NodeNotConnected, Message = $"The drone of node {nodeId} is not connected to this frontgate.", Retryable = true },
    };

    private NodeStatus Known(string nodeId)
    {
        if (!_known.TryGetValue(nodeId, out var status))
        {
            status = new NodeStatus { NodeId = nodeId };
            _known[nodeId] = status;
        }

        return status;
    }
}

/// <summary>One drone's stream: what is waiting to be written to it, and the requests waiting for its answers.</summary>
public sealed class DroneConnection : IDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DroneResponse>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();

    internal DroneConnection(string nodeId) => NodeId = nodeId;

    public string NodeId { get; }

    /// <summary>Messages for the drone, written by its stream's handler in order.</summary>
    public Channel<FrontgateToDroneMessage> Outgoing { get; } = Channel.CreateUnbounded<FrontgateToDroneMessage>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Cancelled when the stream is replaced or ends.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Completes the request the drone answered; an answer nobody waits for (late, or unknown) is dropped.</summary>
    public bool Complete(string correlationId, DroneResponse response) =>
        _pending.TryRemove(correlationId, out var waiter) && waiter.TrySetResult(response);

    internal async Task<DroneResponse> SendAsync(FrontgateToDroneMessage request, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var correlationId = "fg-" + Guid.NewGuid().ToString("N");
        var message = request.Clone();
        message.CorrelationId = correlationId;
        var waiter = new TaskCompletionSource<DroneResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[correlationId] = waiter;
        try
        {
            if (_closed.IsCancellationRequested || !Outgoing.Writer.TryWrite(message))
            {
                return DroneRegistry.NotConnected(NodeId);
            }

            return await waiter.Task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return new DroneResponse
            {
                Error = new AgentError { Code = FrontgateErrorCodes.Timeout, Message = $"The drone of node {NodeId} did not answer within {timeout.TotalSeconds:0.#} s.", Retryable = true },
            };
        }
        finally
        {
            _pending.TryRemove(correlationId, out _);
        }
    }

    /// <summary>Releases the stream's resources; call after <see cref="DroneRegistry.Unregister"/>.</summary>
    public void Dispose() => _closed.Dispose();

    internal void Close()
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        _closed.Cancel();
        Outgoing.Writer.TryComplete();
        foreach (var (correlationId, waiter) in _pending)
        {
            if (_pending.TryRemove(correlationId, out _))
            {
                waiter.TrySetResult(DroneRegistry.NotConnected(NodeId));
            }
        }
    }
}
