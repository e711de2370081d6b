using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;
using Pitrix.Drone.Apps;
using Pitrix.Drone.Confd;
using Pitrix.Drone.Health;
using ProtoCommandResult = Pitrix.Agent.Protocol.V1.CommandResult;
using ProtoNodeHealth = Pitrix.Agent.Protocol.V1.NodeHealth;

namespace Pitrix.Drone.Agent;

/// <summary>
/// The agent in every node (<c>pitrix-drone</c>): enrolls through its frontgate once and keeps the certificate, holds
/// the <c>Frontgate.Connect</c> stream open (heartbeats, reconnecting with backoff forever), and serves the frontgate's
/// requests: ping, lifecycle commands through the <see cref="CommandRunner"/>, app file installs, the confd-style
/// config watch fed by <c>Frontgate.WatchMetadata</c>, health checks and status. What it was asked to keep doing
/// (watching, health checks, commands accepted, results not yet delivered) is persisted in its data directory and
/// resumed after a restart.
/// </summary>
public sealed partial class DroneAgent : IAsyncDisposable
{
    private const string InternalError = "drone.internal";
    private const string InstallFailed = "drone.install_failed";
    private static readonly TimeSpan WatchRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long start_config_watch waits for the first render before answering that it has none yet.</summary>
    private static readonly TimeSpan FirstRenderWait = TimeSpan.FromSeconds(15);

    private readonly DroneOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly AgentBootstrap _bootstrap;
    private readonly Uri _frontgateAddress;
    private readonly AgentIdentity _frontgateIdentity;
    private readonly X509Certificate2 _ca;
    private readonly DroneCredentials _credentials;
    private readonly DroneStateStore _stateStore;
    private readonly ReportOutbox _outbox;
    private readonly CommandRunner _runner;
    private readonly AppFilesInstaller _installer;
    private readonly StreamedMetadataSource _metadata = new();
    private readonly Dictionary<string, string> _nodeEnvironment;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _installGate = new(1, 1);
    private readonly ConcurrentDictionary<Task, bool> _inFlight = new();
    private DroneState _state;
    private Session? _session;
    private BackgroundLoop? _confd;
    private TaskCompletionSource<IReadOnlyList<ConfdResourceResult>> _firstRender = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private BackgroundLoop? _metadataWatch;
    private BackgroundLoop? _health;
    private HealthChecker? _healthChecker;
    private CancellationToken _running;

    public DroneAgent(DroneOptions options, ILogger<DroneAgent> logger, TimeProvider? time = null)
    {
        if (DroneOptions.ValidateBootstrap(options.Bootstrap) is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _bootstrap = options.Bootstrap;
        _frontgateAddress = new Uri(_bootstrap.FrontgateAddress!);
        _frontgateIdentity = AgentIdentity.Frontgate(_bootstrap.FrontgateId!);
        _ca = X509Certificate2.CreateFromPem(_bootstrap.CaPem);
        DroneFiles.CreatePrivateDirectory(options.DataDirectory);
        _credentials = new DroneCredentials(options.DataDirectory, _ca, AgentIdentity.Node(_bootstrap.Id), _time);
        _stateStore = new DroneStateStore(options.DataDirectory);
        _state = _stateStore.Load();
        _outbox = new ReportOutbox(options.DataDirectory);
        _runner = new CommandRunner(
            new CommandRunnerOptions
            {
                DataDirectory = options.DataDirectory,
                DefaultTimeout = options.DefaultCommandTimeout,
                TailBytes = options.CommandTailBytes,
                Root = options.Root,
            },
            _time);
        _installer = new AppFilesInstaller(options.Root, options.AppFilesLimits);
        _nodeEnvironment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PITRIX_ROOT"] = options.Root.Path,
            ["PITRIX_NODE_ID"] = _bootstrap.Id,
            ["PITRIX_NODE_IP"] = _bootstrap.NodeIp ?? "",
            ["PITRIX_APP_DIR"] = options.Root.AppDirectory,
        };
    }

    /// <summary>Whether the <c>Connect</c> stream to the frontgate is open now.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_gate)
            {
                return _session is not null;
            }
        }
    }

    /// <summary>The <c>PITRIX_*</c> variables every command gets and templates read with <c>getenv</c>.</summary>
    public IReadOnlyDictionary<string, string> NodeEnvironment => _nodeEnvironment;

    /// <summary>Runs the drone until <paramref name="cancellationToken"/> is cancelled; then stops everything it started.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _running = cancellationToken;
        _installer.RecoverInterruptedInstall();
        LogStarting(_bootstrap.Id, _options.Root.Path, _frontgateAddress, _frontgateIdentity.Uri);
        ResumePersistedWork();
        var attempt = 0;
        try
        {
            while (true)
            {
                var established = false;
                try
                {
                    established = await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsConnectionFailure(ex))
                {
                    // A stream cancelled because the drone is stopping surfaces as an RpcException too.
                    if (!cancellationToken.IsCancellationRequested)
                    {
                        LogConnectionFailed(Describe(ex));
                    }
                }

                cancellationToken.ThrowIfCancellationRequested();
                attempt = established ? 0 : attempt + 1;
                var delay = Backoff(attempt);
                LogReconnecting(delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await StopAllAsync().ConfigureAwait(false);
            LogStopped();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync().ConfigureAwait(false);
        await _runner.DisposeAsync().ConfigureAwait(false);
        _installGate.Dispose();
        _ca.Dispose();
    }

    private static bool IsConnectionFailure(Exception ex) =>
        ex is RpcException or IOException or HttpRequestException or InvalidOperationException
            or System.Security.Authentication.AuthenticationException or OperationCanceledException;

    private static string Describe(Exception ex) => ex switch
    {
        RpcException rpc when AgentRpc.ErrorCode(rpc) is { } code => $"{rpc.StatusCode} {code}: {rpc.Status.Detail}",
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => ex.Message,
    };

    /// <summary>Exponential from the initial delay, capped, with jitter in [half, full] so restarted nodes do not dial in step.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 16);
        var ceiling = Math.Min(_options.ReconnectInitialDelay.TotalMilliseconds * Math.Pow(2, exponent), _options.ReconnectMaxDelay.TotalMilliseconds);
#pragma warning disable CA5394 // Jitter needs no cryptographic randomness.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
#pragma warning restore CA5394
    }

    private GrpcChannel CreateChannel(X509Certificate2? clientCertificate) =>
        GrpcChannel.ForAddress(_frontgateAddress, new GrpcChannelOptions
        {
            HttpHandler = AgentTrust.CreateHandler(_ca, clientCertificate, _frontgateIdentity, _time),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = _options.MaxReceiveMessageBytes,
        });

    private async Task<(X509Certificate2 Certificate, CredentialInfo Info)> GetCredentialAsync(CancellationToken cancellationToken)
    {
        if (_credentials.Load() is { } stored)
        {
            var expired = stored.Certificate.NotAfter.ToUniversalTime() <= _time.GetUtcNow().UtcDateTime;
            if (!expired || stored.Info.JoinTokenHash == JoinTokens.Hash(_bootstrap.JoinToken))
            {
                if (expired)
                {
                    LogCertificateExpired(stored.Certificate.NotAfter);
                }

                return stored;
            }

            // Expired, and the bootstrap holds a token it never used: the operator issued a new one to re-enroll.
            stored.Certificate.Dispose();
        }

        LogEnrolling(_bootstrap.Id);
        using var channel = CreateChannel(clientCertificate: null);
        var enrolled = await _credentials.EnrollAsync(channel, _bootstrap.JoinToken, cancellationToken).ConfigureAwait(false);
        LogEnrolled(enrolled.Certificate.NotAfter);
        return enrolled;
    }

    /// <summary>One connection: returns whether it was established (not refused at once), so backoff starts over.</summary>
    private async Task<bool> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var (certificate, info) = await GetCredentialAsync(cancellationToken).ConfigureAwait(false);
        using var ownedCertificate = certificate;
        using var channel = CreateChannel(certificate);
        using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var call = new Frontgate.FrontgateClient(channel).Connect(cancellationToken: sessionStop.Token);
        using var session = new Session(channel, call.RequestStream, sessionStop.Token);
        await call.RequestStream.WriteAsync(new DroneMessage { Hello = new DroneHello { Version = _options.Version } }, cancellationToken).ConfigureAwait(false);
        var connectedAt = _time.GetTimestamp();
        var received = false;
        lock (_gate)
        {
            _session = session;
        }

        LogConnected(_frontgateAddress);
        await using var heartbeat = new BackgroundLoop(t => HeartbeatAsync(session, t), session.Token);
        await using var renewal = new BackgroundLoop(t => RenewAsync(session, certificate, info, t), session.Token);
        EnsureMetadataWatch(session);
        Track(FlushAsync(session));
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(sessionStop.Token).ConfigureAwait(false))
            {
                received = true;
                Dispatch(message, session);
            }

            LogDisconnected("the frontgate closed the stream");
        }
        finally
        {
            BackgroundLoop? watch;
            lock (_gate)
            {
                if (_session == session)
                {
                    _session = null;
                }

                watch = _metadataWatch;
                _metadataWatch = null;
            }

            await sessionStop.CancelAsync().ConfigureAwait(false);
            if (watch is not null)
            {
                await watch.DisposeAsync().ConfigureAwait(false);
            }
        }

        return received || _time.GetElapsedTime(connectedAt) >= _options.HeartbeatInterval;
    }

    private async Task HeartbeatAsync(Session session, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(_options.HeartbeatInterval, _time, cancellationToken).ConfigureAwait(false);
            if (!await session.TrySendAsync(new DroneMessage { Heartbeat = new Heartbeat { SentAt = Timestamp.FromDateTimeOffset(_time.GetUtcNow()) } }).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task RenewAsync(Session session, X509Certificate2 certificate, CredentialInfo info, CancellationToken cancellationToken)
    {
        var renewAt = DroneCredentials.RenewAt(certificate, info);
        while (true)
        {
            var wait = renewAt - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : wait, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                var (renewed, _) = await _credentials.RenewAsync(session.Channel, info, cancellationToken).ConfigureAwait(false);
                LogRenewed(renewed.NotAfter);
                renewed.Dispose();
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is RpcException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
            {
                LogRenewFailed(Describe(ex));
                renewAt = _time.GetUtcNow() + TimeSpan.FromSeconds(30);
            }
        }
    }

    /// <summary>Re-sends every result not yet delivered and the current health, after each (re)connect.</summary>
    private async Task FlushAsync(Session session)
    {
        foreach (var result in _outbox.UndeliveredResults())
        {
            if (!await session.TrySendAsync(new DroneMessage { CommandResult = result }).ConfigureAwait(false))
            {
                return;
            }

            _outbox.Delivered(result);
            LogResultDelivered(result.TaskId);
        }

        if (CurrentHealthReport() is { } health)
        {
            await session.TrySendAsync(new DroneMessage { NodeHealth = health }).ConfigureAwait(false);
        }
    }

    private void ResumePersistedWork()
    {
        DroneState state;
        lock (_gate)
        {
            state = _state;
        }

        if (state.WatchingConfig)
        {
            RestartConfd();
        }

        if (state.HealthCheck is { } check)
        {
            StartHealth(check);
        }

        foreach (var pending in _outbox.PendingCommands())
        {
            LogResumingCommand(pending.TaskId);
            Track(ReportWhenDoneAsync(_runner.RunAsync(ToCommandRequest(pending)), Task.CompletedTask));
        }
    }

    private async Task StopAllAsync()
    {
        BackgroundLoop? confd, watch, health;
        lock (_gate)
        {
            (confd, watch, health) = (_confd, _metadataWatch, _health);
            (_confd, _metadataWatch, _health) = (null, null, null);
            _healthChecker = null;
        }

        foreach (var loop in new[] { confd, watch, health })
        {
            if (loop is not null)
            {
                await loop.DisposeAsync().ConfigureAwait(false);
            }
        }

        await _runner.DisposeAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_inFlight.Keys).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Each in-flight task logged its own failure; stopping must go on.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private void Track(Task task)
    {
        _inFlight.TryAdd(task, true);
        _ = task.ContinueWith(t => _inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void UpdateState(Func<DroneState, DroneState> change)
    {
        lock (_gate)
        {
            _state = change(_state);
            _stateStore.Save(_state);
        }
    }

    /// <summary>One frame of the drone's connection: the channel, and the request stream whose writes must not overlap.</summary>
    private sealed class Session(GrpcChannel channel, IClientStreamWriter<DroneMessage> writer, CancellationToken token) : IDisposable
    {
        private readonly SemaphoreSlim _writeGate = new(1, 1);

        public GrpcChannel Channel { get; } = channel;

        public CancellationToken Token { get; } = token;

        /// <summary>Sends one message; false when the stream is gone.</summary>
        public async Task<bool> TrySendAsync(DroneMessage message)
        {
            try
            {
                await _writeGate.WaitAsync(Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return false;
            }

            try
            {
                await writer.WriteAsync(message, Token).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException or OperationCanceledException)
            {
                return false;
            }
            finally
            {
                _writeGate.Release();
            }
        }

        public void Dispose() => _writeGate.Dispose();
    }

    /// <summary>A loop run on the thread pool until disposed (or its parent token is cancelled); disposal waits for it.</summary>
    private sealed class BackgroundLoop : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop;
        private readonly Task _completion;

        public BackgroundLoop(Func<CancellationToken, Task> body, CancellationToken parent)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(parent);
            var token = _stop.Token;
            _completion = Task.Run(() => body(token), CancellationToken.None);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _completion.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Cancelled)
            {
                // A gRPC call in the loop reports its cancellation this way.
            }

            _stop.Dispose();
        }
    }
}
