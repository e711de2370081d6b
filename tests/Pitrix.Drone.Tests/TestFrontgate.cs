using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Drone.Tests;

/// <summary>
/// What outlives one run of the test frontgate, as a real frontgate's store and Pilot do: the CA and join tokens on
/// Pilot's side (enrollment is relayed to them), the metadata of the node's view with its revisions, and every
/// message the drones sent. A test peer, not the real frontgate.
/// </summary>
internal sealed class TestFrontgateWorld : IDisposable
{
    public TestFrontgateWorld(string directory, TimeSpan? certificateLifetime = null)
    {
        Ca = CertificateAuthority.LoadOrCreate(Path.Combine(directory, "ca"), TimeProvider.System);
        JoinTokens = new JoinTokens(new InMemoryJoinTokenStore(TimeProvider.System), TimeProvider.System);
        var pki = new AgentPkiOptions { CaDirectory = directory, ClientCertificateLifetime = certificateLifetime ?? TimeSpan.FromHours(24) };
        PilotEnrollment = new EnrollmentService(Ca, JoinTokens, Options.Create(pki));
    }

    public const string FrontgateId = "fg-test";

    public CertificateAuthority Ca { get; }

    public JoinTokens JoinTokens { get; }

    /// <summary>Pilot's enrollment service, which the test frontgate relays to.</summary>
    public EnrollmentService PilotEnrollment { get; }

    public TestMetadataStore Metadata { get; } = new();

    public MessageLog Messages { get; } = new();

    public int EnrollCalls;

    public int RenewCalls;

    /// <summary>The after_revision of every WatchMetadata call, in order.</summary>
    public ConcurrentQueue<long> WatchRequests { get; } = new();

    /// <summary>Connected drones by node id.</summary>
    public ConcurrentDictionary<string, DroneStream> Drones { get; } = new();

    public void Dispose() => Ca.Dispose();
}

/// <summary>Every message drones sent up their streams, with a way to wait for one.</summary>
internal sealed class MessageLog
{
    private readonly List<DroneMessage> _messages = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(DroneMessage message)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _messages.Add(message);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public IReadOnlyList<DroneMessage> All()
    {
        lock (_gate)
        {
            return [.. _messages];
        }
    }

    /// <summary>Waits until <paramref name="count"/> messages match; fails the test with what was seen otherwise.</summary>
    public async Task<IReadOnlyList<DroneMessage>> WaitForAsync(Func<DroneMessage, bool> match, int count = 1, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var found = _messages.Where(match).ToList();
                if (found.Count >= count)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"Waited {seconds} s for {count} matching messages; the drones sent: {string.Join(" | ", All())}");
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }
}

/// <summary>The node's metadata view with revisions, as the frontgate's store keeps it.</summary>
internal sealed class TestMetadataStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly List<MetadataEvent> _log = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Revision { get; private set; }

    public void Put(params (string Key, string Value)[] entries)
    {
        var change = new MetadataEvent { Kind = MetadataEvent.Types.Kind.Put };
        foreach (var (key, value) in entries)
        {
            change.Entries.Add(new MetadataEntry { Key = key, Value = value });
        }

        Append(change, values =>
        {
            foreach (var (key, value) in entries)
            {
                values[key] = value;
            }
        });
    }

    public void Delete(params string[] keys)
    {
        var change = new MetadataEvent { Kind = MetadataEvent.Types.Kind.Delete };
        change.DeletedKeys.Add(keys);
        Append(change, values =>
        {
            foreach (var key in keys)
            {
                values.Remove(key);
            }
        });
    }

    /// <summary>A snapshot when <paramref name="afterRevision"/> is 0, else the events after it; then every new event.</summary>
    public async Task StreamAsync(long afterRevision, IServerStreamWriter<MetadataEvent> writer, CancellationToken cancellationToken)
    {
        long sent;
        List<MetadataEvent> first;
        Task changed;
        lock (_gate)
        {
            if (afterRevision == 0)
            {
                var snapshot = new MetadataEvent { Kind = MetadataEvent.Types.Kind.Snapshot, Revision = Revision };
                snapshot.Entries.Add(_values.Select(kv => new MetadataEntry { Key = kv.Key, Value = kv.Value }));
                first = [snapshot];
            }
            else
            {
                first = [.. _log.Where(e => e.Revision > afterRevision)];
            }

            sent = Revision;
            changed = _changed.Task;
        }

        foreach (var change in first)
        {
            await writer.WriteAsync(change, cancellationToken);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            await changed.WaitAsync(cancellationToken);
            List<MetadataEvent> next;
            lock (_gate)
            {
                next = [.. _log.Where(e => e.Revision > sent)];
                sent = Revision;
                changed = _changed.Task;
            }

            foreach (var change in next)
            {
                await writer.WriteAsync(change, cancellationToken);
            }
        }
    }

    private void Append(MetadataEvent change, Action<Dictionary<string, string>> apply)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            apply(_values);
            Revision++;
            change.Revision = Revision;
            _log.Add(change);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}

/// <summary>One drone's Connect stream as the test frontgate holds it: send a request, await its response.</summary>
internal sealed class DroneStream(string nodeId, IServerStreamWriter<FrontgateToDroneMessage> writer) : IDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DroneResponse>> _pending = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private int _next;

    public string NodeId { get; } = nodeId;

    public async Task<DroneResponse> SendAsync(FrontgateToDroneMessage message, double seconds = 15)
    {
        message.CorrelationId = $"c-{Interlocked.Increment(ref _next)}";
        var answer = new TaskCompletionSource<DroneResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[message.CorrelationId] = answer;
        await _writeGate.WaitAsync();
        try
        {
            await writer.WriteAsync(message);
        }
        finally
        {
            _writeGate.Release();
        }

        return await answer.Task.WaitAsync(TimeSpan.FromSeconds(seconds));
    }

    public void Dispose() => _writeGate.Dispose();

    public void Complete(DroneMessage message)
    {
        if (_pending.TryRemove(message.CorrelationId, out var answer))
        {
            answer.TrySetResult(message.Response);
        }
    }
}

/// <summary>The test frontgate's Frontgate service: the drone's Connect stream and its metadata watch.</summary>
internal sealed class TestFrontgateService(TestFrontgateWorld world) : Frontgate.FrontgateBase
{
    public override async Task Connect(IAsyncStreamReader<DroneMessage> requestStream, IServerStreamWriter<FrontgateToDroneMessage> responseStream, ServerCallContext context)
    {
        var node = AgentPeer.Require(context, AgentKind.Node);
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.BodyCase != DroneMessage.BodyOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "hello first"));
        }

        world.Messages.Add(requestStream.Current);
        using var drone = new DroneStream(node.Id, responseStream);
        world.Drones[node.Id] = drone;
        try
        {
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                var message = requestStream.Current;
                if (message.BodyCase == DroneMessage.BodyOneofCase.Response)
                {
                    drone.Complete(message);
                }

                world.Messages.Add(message);
            }
        }
        finally
        {
            world.Drones.TryRemove(KeyValuePair.Create(node.Id, drone));
        }
    }

    public override async Task WatchMetadata(WatchMetadataRequest request, IServerStreamWriter<MetadataEvent> responseStream, ServerCallContext context)
    {
        AgentPeer.Require(context, AgentKind.Node);
        world.WatchRequests.Enqueue(request.AfterRevision);
        try
        {
            await world.Metadata.StreamAsync(request.AfterRevision, responseStream, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>The test frontgate's Enrollment service: relays each call to Pilot's enrollment, as the frontgate does over its stream.</summary>
internal sealed class TestEnrollmentRelay(TestFrontgateWorld world) : Enrollment.EnrollmentBase
{
    public override Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref world.EnrollCalls);
        return world.PilotEnrollment.Enroll(request, context);
    }

    public override Task<EnrollResponse> Renew(RenewRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref world.RenewCalls);
        return world.PilotEnrollment.Renew(request, context);
    }
}

/// <summary>
/// A stand-in frontgate for the drone's tests (a test peer, not Pitrix.Frontgate): a real gRPC server on 127.0.0.1
/// over mutual TLS with a certificate from the world's CA, serving Frontgate.Connect, WatchMetadata and the
/// Enrollment relay. Stopping and starting it again on the same port is a frontgate restart.
/// </summary>
internal sealed class TestFrontgate : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestFrontgate(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public Uri Address => new($"https://127.0.0.1:{Port}");

    /// <summary>Starts on <paramref name="port"/> (0 for any) with a certificate naming <c>pitrix://frontgate/&lt;identityId&gt;</c>.</summary>
    public static async Task<TestFrontgate> StartAsync(TestFrontgateWorld world, int port = 0, string identityId = TestFrontgateWorld.FrontgateId)
    {
        var certificate = world.Ca.IssueServerCertificate(AgentIdentity.Frontgate(identityId), [], [IPAddress.Loopback], TimeSpan.FromHours(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 64 * 1024 * 1024);
        builder.Services.AddSingleton(world);
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? listener = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listener = listen;
            listen.UseAgentTls(certificate, world.Ca.Certificate, AgentClientCertificates.Allow);
        }));
        var app = builder.Build();
        app.MapGrpcService<TestFrontgateService>();
        app.MapGrpcService<TestEnrollmentRelay>();
        await app.StartAsync();
        return new TestFrontgate(app, listener!.IPEndPoint!.Port);
    }

    public async ValueTask DisposeAsync()
    {
        // An already-cancelled token aborts open streams at once, as a crashed or killed frontgate would.
        await _app.StopAsync(new CancellationToken(canceled: true));
        await _app.DisposeAsync();
    }
}
