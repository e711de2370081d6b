using System.Collections.Concurrent;
using Grpc.Core;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Pilot;

/// <summary>Thrown to callers waiting on a frontgate stream that closed (or was replaced) before it answered.</summary>
internal sealed class FrontgateGoneException() : Exception("The frontgate's stream closed before it answered.");

/// <summary>
/// One live <c>Connect</c> stream of a frontgate: sends requests with fresh correlation ids, one write
/// at a time (gRPC allows no concurrent writes), and completes them from the responses the stream's
/// reader hands in. Closing it fails every request still waiting.
/// </summary>
internal sealed class FrontgateConnection : IDisposable
{
    private readonly IServerStreamWriter<PilotMessage> _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<FrontgateResponse>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing;

    public FrontgateConnection(string frontgateId, FrontgateHello hello, IServerStreamWriter<PilotMessage> writer, CancellationToken callAborted)
    {
        FrontgateId = frontgateId;
        Version = hello.Version;
        ConnectedNodeIds = hello.ConnectedNodeIds.ToHashSet(StringComparer.Ordinal);
        _writer = writer;
        _closing = CancellationTokenSource.CreateLinkedTokenSource(callAborted);
    }

    public string FrontgateId { get; }

    public string Version { get; }

    /// <summary>The nodes the frontgate said were connected when it said hello.</summary>
    public IReadOnlySet<string> ConnectedNodeIds { get; }

    /// <summary>Cancelled when the stream ends, is replaced or Pilot stops.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Why the stream was closed from this side, when it was.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>When this stream last wrote the frontgate's last-seen time.</summary>
    public DateTimeOffset LastSeenWrittenAt { get; set; }

    /// <summary>Sends <paramref name="request"/> and waits for its response. Throws <see cref="FrontgateGoneException"/> when the stream closes first.</summary>
    public async Task<FrontgateResponse> RequestAsync(PilotMessage request, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        request.CorrelationId = id;
        var response = new TaskCompletionSource<FrontgateResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = response;
        try
        {
            // Checked after registering, so a close racing with this request either sees it pending or is seen here.
            if (CloseReason is not null)
            {
                throw new FrontgateGoneException();
            }

            await WriteAsync(request, cancellationToken);
            return await response.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Writes one message (a request, or an answer to the frontgate's own request).</summary>
    public async Task WriteAsync(PilotMessage message, CancellationToken cancellationToken)
    {
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
            await _writeLock.WaitAsync(linked.Token);
            try
            {
                await _writer.WriteAsync(message, linked.Token);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FrontgateGoneException();
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The call has ended: gRPC refuses writes to a finished response stream.
            throw new FrontgateGoneException();
        }
    }

    /// <summary>Completes the request with this correlation id; false when none is waiting (it timed out, or the id is unknown).</summary>
    public bool Complete(string correlationId, FrontgateResponse response) =>
        _pending.TryRemove(correlationId, out var waiter) && waiter.TrySetResult(response);

    /// <summary>Ends the stream from this side and fails every request still waiting.</summary>
    public void Close(string reason)
    {
        CloseReason ??= reason;
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: the stream has ended anyway.
        }

        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetException(new FrontgateGoneException());
        }
    }

    public void Dispose()
    {
        Close(CloseReason ?? "disposed");
        _closing.Dispose();
        _writeLock.Dispose();
    }
}

/// <summary>The live stream of each connected frontgate; a newer stream from the same frontgate replaces (and closes) the older one.</summary>
internal sealed class FrontgateRegistry
{
    private readonly ConcurrentDictionary<string, FrontgateConnection> _connections = new(StringComparer.Ordinal);

    public FrontgateConnection? Find(string frontgateId) => _connections.GetValueOrDefault(frontgateId);

    /// <summary>Makes <paramref name="connection"/> the frontgate's stream; returns the one it replaced, now closed.</summary>
    public FrontgateConnection? Register(FrontgateConnection connection)
    {
        FrontgateConnection? replaced = null;
        _connections.AddOrUpdate(connection.FrontgateId, connection, (_, existing) =>
        {
            replaced = existing;
            return connection;
        });
        replaced?.Close(PilotErrorCodes.ConnectionReplaced);
        return replaced;
    }

    /// <summary>Removes the stream unless a newer one has replaced it already.</summary>
    public void Unregister(FrontgateConnection connection) =>
        _connections.TryRemove(KeyValuePair.Create(connection.FrontgateId, connection));

    public void CloseAll(string reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.Close(reason);
        }
    }
}
