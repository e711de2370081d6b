using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Drone.Apps;
using Pitrix.Drone.Confd;
using Pitrix.Drone.Health;
using ProtoCommandResult = Pitrix.Agent.Protocol.V1.CommandResult;
using ProtoNodeHealth = Pitrix.Agent.Protocol.V1.NodeHealth;

namespace Pitrix.Drone.Agent;

public sealed partial class DroneAgent
{
    /// <summary>
    /// Handles one request from the frontgate. Commands are queued here, on the reading thread, so they run in the
    /// order they arrived; everything else is answered on its own task so a long install does not hold up a ping.
    /// </summary>
    private void Dispatch(FrontgateToDroneMessage message, Session session)
    {
        if (message.RequestCase == FrontgateToDroneMessage.RequestOneofCase.RunCommand)
        {
            var request = message.RunCommand;
            if (CheckAddressedToMe(request.NodeId) is { } misrouted)
            {
                Track(RespondAsync(session, message.CorrelationId, misrouted));
                return;
            }

            if (string.IsNullOrEmpty(request.TaskId) || string.IsNullOrWhiteSpace(request.Command))
            {
                Track(RespondAsync(session, message.CorrelationId, Rejected("run_command needs a task_id and a command")));
                return;
            }

            _outbox.Accept(request);
            LogCommandAccepted(request.TaskId);
            var responded = RespondAsync(session, message.CorrelationId, new DroneResponse { RunCommandAccepted = new RunCommandAccepted { TaskId = request.TaskId } });
            Track(responded);
            Track(ReportWhenDoneAsync(_runner.RunAsync(ToCommandRequest(request)), responded));
            return;
        }

        Track(HandleAsync(message, session));
    }

    private async Task HandleAsync(FrontgateToDroneMessage message, Session session)
    {
        DroneResponse response;
        try
        {
            response = message.RequestCase switch
            {
                FrontgateToDroneMessage.RequestOneofCase.Ping => new DroneResponse
                {
                    Pong = new PingResponse { Version = _options.Version, AnsweredAt = Timestamp.FromDateTimeOffset(_time.GetUtcNow()) },
                },
                FrontgateToDroneMessage.RequestOneofCase.InstallFiles =>
                    CheckAddressedToMe(message.InstallFiles.NodeId) ?? await InstallFilesAsync(message.InstallFiles, session.Token).ConfigureAwait(false),
                FrontgateToDroneMessage.RequestOneofCase.StartConfigWatch =>
                    CheckAddressedToMe(message.StartConfigWatch.NodeId) ?? await StartConfigWatchAsync(session).ConfigureAwait(false),
                FrontgateToDroneMessage.RequestOneofCase.StopConfigWatch =>
                    CheckAddressedToMe(message.StopConfigWatch.NodeId) ?? await StopConfigWatchAsync().ConfigureAwait(false),
                FrontgateToDroneMessage.RequestOneofCase.ConfigureHealthCheck =>
                    CheckAddressedToMe(message.ConfigureHealthCheck.NodeId) ?? await ConfigureHealthCheckAsync(message.ConfigureHealthCheck).ConfigureAwait(false),
                FrontgateToDroneMessage.RequestOneofCase.GetStatus => new DroneResponse { Status = CurrentStatus() },
                _ => Error(DroneErrorCodes.Unsupported, $"this drone ({_options.Version}) does not handle {message.RequestCase} requests", retryable: false),
            };
        }
        catch (OperationCanceledException) when (session.Token.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // A request that fails unexpectedly is answered with an error, not left hanging.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRequestFailed(ex, message.RequestCase.ToString());
            response = Error(InternalError, $"{message.RequestCase} failed on the node: {ex.Message}", retryable: true);
        }

        await RespondAsync(session, message.CorrelationId, response).ConfigureAwait(false);
    }

    private static async Task RespondAsync(Session session, string correlationId, DroneResponse response) =>
        await session.TrySendAsync(new DroneMessage { CorrelationId = correlationId, Response = response }).ConfigureAwait(false);

    private static DroneResponse Ack() => new() { Ack = new Pitrix.Agent.Protocol.V1.Ack() };

    private static DroneResponse Error(string code, string message, bool retryable) =>
        new() { Error = new AgentError { Code = code, Message = message, Retryable = retryable } };

    private static DroneResponse Rejected(string message) => Error(DroneErrorCodes.Rejected, message, retryable: false);

    private DroneResponse? CheckAddressedToMe(string nodeId) =>
        nodeId.Length == 0 || nodeId == _bootstrap.Id ? null : Rejected($"the request is for node '{nodeId}', but this is node '{_bootstrap.Id}'");

    private string CommandWorkingDirectory() => Directory.Exists(_options.Root.AppDirectory) ? _options.Root.AppDirectory : _options.Root.Path;

    private CommandRequest ToCommandRequest(RunCommandRequest request)
    {
        // The node's own variables win: a request cannot point PITRIX_ROOT elsewhere.
        var environment = new Dictionary<string, string>(request.Env, StringComparer.Ordinal);
        foreach (var (key, value) in _nodeEnvironment)
        {
            environment[key] = value;
        }

        var timeout = request.Timeout?.ToTimeSpan();
        return new CommandRequest
        {
            TaskId = request.TaskId,
            Command = request.Command,
            Environment = environment,
            Timeout = timeout > TimeSpan.Zero ? timeout : null,
            WorkingDirectory = CommandWorkingDirectory(),
        };
    }

    /// <summary>Reports a command's result once it ends (after the accepted answer went out), keeping it until delivered.</summary>
    private async Task ReportWhenDoneAsync(Task<CommandResult> run, Task accepted)
    {
        CommandResult result;
        try
        {
            result = await run.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The drone is stopping before the command started: it stays accepted and runs after the restart.
            return;
        }

        var report = ToProto(result);
        _outbox.AddResult(report);
        LogCommandFinished(result.TaskId, result.Status.ToString(), report.ExitCode, result.IsReplay);
        await accepted.ConfigureAwait(false);
        Session? session;
        lock (_gate)
        {
            session = _session;
        }

        if (session is not null && await session.TrySendAsync(new DroneMessage { CommandResult = report }).ConfigureAwait(false))
        {
            _outbox.Delivered(report);
            LogResultDelivered(report.TaskId);
        }
    }

    private ProtoCommandResult ToProto(CommandResult result) => new()
    {
        NodeId = _bootstrap.Id,
        TaskId = result.TaskId,
        ExitCode = result.ExitCode ?? -1,
        Duration = Duration.FromTimeSpan(result.Duration),
        StdoutTail = result.StdoutTail,
        StderrTail = result.StderrTail,
        TimedOut = result.Status == CommandStatus.TimedOut,
        FinishedAt = Timestamp.FromDateTimeOffset(result.StartedAt + result.Duration),
        ErrorCode = result.ErrorCode ?? "",
        ErrorMessage = result.ErrorCode is null ? "" : result.Error ?? "",
    };

    private async Task<DroneResponse> InstallFilesAsync(InstallFilesRequest request, CancellationToken cancellationToken)
    {
        await _installGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (request.TaskId.Length > 0 && _state.AppInstallTaskId == request.TaskId && _state.AppVersion == request.Version)
                {
                    return Ack();
                }
            }

            AppInstallResult result;
            try
            {
                using var archive = new MemoryStream(request.Archive.ToByteArray(), writable: false);
                result = await _installer.InstallAsync(archive, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogInstallFailed(request.Version, ex.Message);
                return Error(InstallFailed, $"install_files: the node could not write its app directory: {ex.Message}", retryable: true);
            }

            if (!result.Succeeded)
            {
                LogInstallRejected(request.Version, result.Error!);
                return Rejected($"install_files refused the archive: {result.Error}");
            }

            UpdateState(s => s with { AppVersion = request.Version, AppInstallTaskId = request.TaskId });
            LogInstalled(request.Version, result.Files, _installer.AppDirectory);
            bool watching;
            lock (_gate)
            {
                watching = _state.WatchingConfig;
            }

            if (watching)
            {
                // The templates may have changed with the files: render again from the current metadata.
                RestartConfd();
            }

            return Ack();
        }
        finally
        {
            _installGate.Release();
        }
    }

    /// <summary>
    /// Starts watching, and answers once the node's templates have been rendered from its metadata (so a
    /// command the engine runs next finds its config files), or with <see cref="DroneErrorCodes.ConfigNotRendered"/>
    /// naming what failed; asked while already watching, it answers with the last render's outcome.
    /// </summary>
    private async Task<DroneResponse> StartConfigWatchAsync(Session session)
    {
        UpdateState(s => s with { WatchingConfig = true });
        Task<IReadOnlyList<ConfdResourceResult>> rendered;
        lock (_gate)
        {
            if (_confd is null)
            {
                _firstRender = new TaskCompletionSource<IReadOnlyList<ConfdResourceResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
                _confd = new BackgroundLoop(RunConfdAsync, _running);
            }

            rendered = _firstRender.Task;
        }

        EnsureMetadataWatch(session);
        LogConfigWatch(true);
        var first = await Task.WhenAny(rendered, Task.Delay(FirstRenderWait, _time)).ConfigureAwait(false);
        if (first != rendered)
        {
            return Error(DroneErrorCodes.ConfigNotRendered, $"No metadata reached the node within {FirstRenderWait.TotalSeconds:0} s, so its config files are not rendered yet.", retryable: true);
        }

        var failed = (await rendered.ConfigureAwait(false)).Where(r => !r.Succeeded).ToList();
        return failed.Count == 0
            ? Ack()
            : Error(DroneErrorCodes.ConfigNotRendered, string.Join("; ", failed.Select(r => $"{r.Resource}: {r.Outcome}: {r.Error}")), retryable: true);
    }

    private async Task<DroneResponse> StopConfigWatchAsync()
    {
        UpdateState(s => s with { WatchingConfig = false });
        BackgroundLoop? confd, watch;
        lock (_gate)
        {
            (confd, watch) = (_confd, _metadataWatch);
            (_confd, _metadataWatch) = (null, null);
        }

        foreach (var loop in new[] { confd, watch })
        {
            if (loop is not null)
            {
                await loop.DisposeAsync().ConfigureAwait(false);
            }
        }

        LogConfigWatch(false);
        return Ack();
    }

    private void RestartConfd()
    {
        BackgroundLoop? previous;
        lock (_gate)
        {
            previous = _confd;
            _confd = new BackgroundLoop(RunConfdAsync, _running);
        }

        if (previous is not null)
        {
            Track(previous.DisposeAsync().AsTask());
        }
    }

    private void EnsureMetadataWatch(Session session)
    {
        lock (_gate)
        {
            if (_state.WatchingConfig && _metadataWatch is null && _session == session)
            {
                _metadataWatch = new BackgroundLoop(t => WatchMetadataAsync(session, t), session.Token);
            }
        }
    }

    /// <summary>Feeds the metadata source from <c>Frontgate.WatchMetadata</c>, resuming after the last revision seen.</summary>
    private async Task WatchMetadataAsync(Session session, CancellationToken cancellationToken)
    {
        var client = new Frontgate.FrontgateClient(session.Channel);
        var resumeFrom = _metadata.RemoteRevision;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var call = client.WatchMetadata(new WatchMetadataRequest { AfterRevision = resumeFrom }, cancellationToken: cancellationToken);
                await foreach (var change in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    _metadata.Apply(change);
                }

                resumeFrom = _metadata.RemoteRevision;
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogMetadataWatchFailed(Describe(ex));

                // A revision the frontgate no longer has (compacted, or a new store) is answered with a fresh snapshot.
                resumeFrom = ex.StatusCode is StatusCode.OutOfRange or StatusCode.FailedPrecondition or StatusCode.InvalidArgument
                    ? 0
                    : _metadata.RemoteRevision;
            }

            await Task.Delay(WatchRetryDelay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunConfdAsync(CancellationToken cancellationToken)
    {
        var renderer = new ConfdRenderer(
            new ConfdRendererOptions
            {
                ConfDirectory = Path.Combine(_options.Root.AppDirectory, "confd"),
                Root = _options.Root,
                Environment = _nodeEnvironment,
            },
            _time);
        var watcher = new ConfdWatcher(_metadata, renderer, _time) { Debounce = _options.ConfigDebounce };
        watcher.Rendered += (_, e) =>
        {
            lock (_gate)
            {
                if (!_firstRender.TrySetResult(e.Results))
                {
                    // Keep the latest outcome for a start_config_watch asked again while watching.
                    _firstRender = new TaskCompletionSource<IReadOnlyList<ConfdResourceResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _firstRender.SetResult(e.Results);
                }
            }
            foreach (var result in e.Results)
            {
                if (result.Outcome == ConfdOutcome.Updated)
                {
                    LogConfigUpdated(result.Resource, result.Dest ?? "", e.Revision);
                }
                else if (!result.Succeeded)
                {
                    LogConfigFailed(result.Resource, result.Outcome.ToString(), result.Error ?? "");
                }
            }
        };

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Nothing is rendered before the first snapshot: an empty view would only fail every template.
                await _metadata.WaitForChangeAsync(0, cancellationToken).ConfigureAwait(false);
                await watcher.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogConfdLoopFailed(ex);
                await Task.Delay(WatchRetryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<DroneResponse> ConfigureHealthCheckAsync(ConfigureHealthCheckRequest request)
    {
        if (!request.Enabled)
        {
            UpdateState(s => s with { HealthCheck = null });
            await StopHealthAsync().ConfigureAwait(false);
            LogHealthConfigured(false);
            return Ack();
        }

        static double Seconds(Duration? duration, double fallback) =>
            duration is null || duration.ToTimeSpan() <= TimeSpan.Zero ? fallback : duration.ToTimeSpan().TotalSeconds;

        var check = new PersistedHealthCheck
        {
            CheckCmd = request.CheckCmd,
            ActionCmd = string.IsNullOrWhiteSpace(request.ActionCmd) ? null : request.ActionCmd,
            IntervalSec = Seconds(request.Interval, 60),
            TimeoutSec = Seconds(request.Timeout, 10),
            ActionTimeoutSec = request.ActionTimeout is null ? null : Seconds(request.ActionTimeout, 60),
            HealthyThreshold = request.HealthyThreshold > 0 ? request.HealthyThreshold : 2,
            UnhealthyThreshold = request.UnhealthyThreshold > 0 ? request.UnhealthyThreshold : 2,
        };
        if (!CommandLine.TrySplit(check.CheckCmd, out _, out var checkError))
        {
            return Rejected($"configure_health_check: check_cmd: {checkError}");
        }

        if (check.ActionCmd is not null && !CommandLine.TrySplit(check.ActionCmd, out _, out var actionError))
        {
            return Rejected($"configure_health_check: action_cmd: {actionError}");
        }

        await StopHealthAsync().ConfigureAwait(false);
        UpdateState(s => s with { HealthCheck = check });
        StartHealth(check);
        LogHealthConfigured(true);
        return Ack();
    }

    private void StartHealth(PersistedHealthCheck check)
    {
        var checker = new HealthChecker(
            new HealthCheckSpec
            {
                CheckCmd = check.CheckCmd,
                ActionCmd = check.ActionCmd,
                IntervalSec = check.IntervalSec,
                TimeoutSec = check.TimeoutSec,
                ActionTimeoutSec = check.ActionTimeoutSec,
                HealthyThreshold = check.HealthyThreshold,
                UnhealthyThreshold = check.UnhealthyThreshold,
                Environment = _nodeEnvironment,
                WorkingDirectory = CommandWorkingDirectory(),
            },
            _time,
            _options.Root);
        checker.HealthChanged += (_, e) =>
        {
            LogHealthChanged(e.Previous.ToString(), e.Current.ToString());
            Track(SendAsync(new DroneMessage { NodeHealth = HealthReport(e.Current, Detail(e.LastCheck)) }));
        };
        lock (_gate)
        {
            _healthChecker = checker;
            _health = new BackgroundLoop(
                t => Task.WhenAll(checker.RunAsync(t), ReportHealthPeriodicallyAsync(checker, t)),
                _running);
        }
    }

    private async Task StopHealthAsync()
    {
        BackgroundLoop? health;
        HealthChecker? checker;
        lock (_gate)
        {
            (health, checker) = (_health, _healthChecker);
            (_health, _healthChecker) = (null, null);
        }

        if (health is not null)
        {
            await health.DisposeAsync().ConfigureAwait(false);
        }

        checker?.Dispose();
    }

    private async Task ReportHealthPeriodicallyAsync(HealthChecker checker, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(_options.HealthReportInterval, _time, cancellationToken).ConfigureAwait(false);
            await SendAsync(new DroneMessage { NodeHealth = HealthReport(checker.Current, "periodic report") }).ConfigureAwait(false);
        }
    }

    private ProtoNodeHealth? CurrentHealthReport()
    {
        HealthChecker? checker;
        lock (_gate)
        {
            checker = _healthChecker;
        }

        return checker is null ? null : HealthReport(checker.Current, "current health");
    }

    private ProtoNodeHealth HealthReport(Health.NodeHealth health, string detail) => new()
    {
        NodeId = _bootstrap.Id,
        State = ToProto(health),
        Detail = detail,
        CheckedAt = Timestamp.FromDateTimeOffset(_time.GetUtcNow()),
    };

    private static HealthState ToProto(Health.NodeHealth health) => health switch
    {
        Health.NodeHealth.Healthy => HealthState.Healthy,
        Health.NodeHealth.Unhealthy => HealthState.Unhealthy,
        _ => HealthState.Unspecified,
    };

    private static string Detail(ProcessRunResult check)
    {
        if (check.Outcome == ProcessOutcome.Succeeded)
        {
            return "check passed";
        }

        var stderr = check.StderrTail.Length > 512 ? check.StderrTail[^512..] : check.StderrTail;
        return $"check failed: {check.Error}{(stderr.Length > 0 ? "; stderr: " + stderr.Trim() : "")}";
    }

    private async Task SendAsync(DroneMessage message)
    {
        Session? session;
        lock (_gate)
        {
            session = _session;
        }

        if (session is not null)
        {
            await session.TrySendAsync(message).ConfigureAwait(false);
        }
    }

    private NodeStatus CurrentStatus()
    {
        lock (_gate)
        {
            return new NodeStatus
            {
                NodeId = _bootstrap.Id,
                Connected = _session is not null,
                WatchingConfig = _state.WatchingConfig,
                Health = ToProto(_healthChecker?.Current ?? Health.NodeHealth.Unknown),
                LastSeen = Timestamp.FromDateTimeOffset(_time.GetUtcNow()),
                AppVersion = _state.AppVersion ?? "",
            };
        }
    }
}
