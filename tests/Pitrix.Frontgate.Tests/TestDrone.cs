using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Frontgate.Tests;

/// <summary>
/// A test drone: a gRPC client of the frontgate with a node certificate from the test CA, checking the
/// frontgate by its identity as real drones do. It answers requests with a handler the test gives.
/// </summary>
public sealed class TestDrone : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly CancellationTokenSource _stop = new();
    private AsyncDuplexStreamingCall<DroneMessage, FrontgateToDroneMessage>? _call;
    private Task? _loop;

    public TestDrone(Uri frontgateAddress, AgentIdentity frontgate, X509Certificate2 caCertificate, X509Certificate2? certificate)
    {
        Certificate = certificate;
        _channel = AgentTrust.CreateChannel(frontgateAddress, caCertificate, certificate, frontgate);
    }

    public X509Certificate2? Certificate { get; }

    public Agent.Protocol.V1.Frontgate.FrontgateClient Client => new(_channel);

    public Enrollment.EnrollmentClient Enrollment => new(_channel);

    /// <summary>Every request the drone received, in order.</summary>
    public List<FrontgateToDroneMessage> Received { get; } = [];

    /// <summary>A node certificate for <paramref name="nodeId"/>, issued by the test CA to a fresh key.</summary>
    public static X509Certificate2 IssueCertificate(CertificateAuthority ca, string nodeId)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issued = ca.IssueClientCertificate(AgentCredential.CreateSigningRequest(key), AgentIdentity.Node(nodeId), TimeSpan.FromHours(1)).Value!;
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Opens the command stream with hello, answering every request with <paramref name="answer"/> (none: never answers).</summary>
    public async Task ConnectAsync(Func<FrontgateToDroneMessage, DroneResponse?> answer)
    {
        _call = Client.Connect(cancellationToken: _stop.Token);
        await _call.RequestStream.WriteAsync(new DroneMessage { Hello = new DroneHello { Version = "test" } });
        var call = _call;
        _loop = Task.Run(async () =>
        {
            try
            {
                await foreach (var request in call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    lock (Received)
                    {
                        Received.Add(request);
                    }

                    if (answer(request) is { } response)
                    {
                        await SendAsync(new DroneMessage { CorrelationId = request.CorrelationId, Response = response });
                    }
                }
            }
            catch (Exception exception) when (exception is RpcException or OperationCanceledException)
            {
                // The stream ended.
            }
        });
    }

    private readonly SemaphoreSlim _write = new(1, 1);

    public async Task SendAsync(DroneMessage message)
    {
        await _write.WaitAsync();
        try
        {
            await _call!.RequestStream.WriteAsync(message);
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>Starts watching the node's view.</summary>
    public ViewWatch Watch(long afterRevision = 0) => new(Client.WatchMetadata(new WatchMetadataRequest { AfterRevision = afterRevision }, cancellationToken: _stop.Token));

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _call?.Dispose();
        _channel.Dispose();
        _stop.Dispose();
        _write.Dispose();
    }
}

/// <summary>A drone's view as it builds it from the events it receives.</summary>
public sealed class ViewWatch : IDisposable
{
    private readonly AsyncServerStreamingCall<MetadataEvent> _call;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _view = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;

    public ViewWatch(AsyncServerStreamingCall<MetadataEvent> call)
    {
        _call = call;
        _loop = Task.Run(ReadAsync);
    }

    public List<MetadataEvent> Events { get; } = [];

    public long Revision { get; private set; }

    public Dictionary<string, string> View
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, string>(_view, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Waits until the view satisfies <paramref name="condition"/>; fails after <paramref name="timeout"/> showing the view.</summary>
    public async Task<Dictionary<string, string>> WaitUntilAsync(Func<IReadOnlyDictionary<string, string>, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_failure is not null)
                {
                    throw new InvalidOperationException("The watch failed.", _failure);
                }

                if (Events.Count > 0 && condition(_view))
                {
                    return new Dictionary<string, string>(_view, StringComparer.Ordinal);
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("The view never got there; it holds: " + string.Join(", ", View.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}")));
            }
        }
    }

    public Task<RpcException> FailureAsync() => _loop.ContinueWith(_ => (RpcException)_failure!, TaskScheduler.Default);

    public void Dispose() => _call.Dispose();

    private async Task ReadAsync()
    {
        try
        {
            await foreach (var change in _call.ResponseStream.ReadAllAsync())
            {
                lock (_gate)
                {
                    Events.Add(change);
                    Revision = change.Revision;
                    switch (change.Kind)
                    {
                        case MetadataEvent.Types.Kind.Snapshot:
                            _view.Clear();
                            foreach (var entry in change.Entries)
                            {
                                _view[entry.Key] = entry.Value;
                            }

                            break;
                        case MetadataEvent.Types.Kind.Put:
                            foreach (var entry in change.Entries)
                            {
                                _view[entry.Key] = entry.Value;
                            }

                            break;
                        case MetadataEvent.Types.Kind.Delete:
                            foreach (var key in change.DeletedKeys)
                            {
                                _view.Remove(key);
                            }

                            break;
                    }

                    _changed.TrySetResult();
                    _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
        catch (RpcException exception)
        {
            lock (_gate)
            {
                _failure = exception;
                _changed.TrySetResult();
            }
        }
    }
}
