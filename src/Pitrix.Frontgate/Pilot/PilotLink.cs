using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Frontgate.Drones;
using Pitrix.Frontgate.Identity;
using PilotService = Pitrix.Agent.Protocol.V1.Pilot;

namespace Pitrix.Frontgate.Pilot;

/// <summary>
/// The frontgate's one stream to Pilot (<c>Pilot.Connect</c> over mutual TLS), dialed out and kept open
/// for ever: <c>hello</c> with the connected nodes first, then an answer to each request under its
/// correlation id, a heartbeat every <see cref="FrontgateOptions.HeartbeatInterval"/>, and the reports of
/// the <see cref="ReportOutbox"/> in order. Any failure ends the stream; the next attempt comes after an
/// exponential backoff with jitter (<see cref="FrontgateOptions.ReconnectMinDelay"/> doubling up to
/// <see cref="FrontgateOptions.ReconnectMaxDelay"/>).
/// </summary>
public sealed partial class PilotLink(
    Uri pilotAddress,
    FrontgateCredentials credentials,
    FrontgateRequestHandler handler,
    DroneRegistry drones,
    ReportOutbox outbox,
    IOptions<FrontgateOptions> options,
    TimeProvider time,
    ILogger<PilotLink> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<PilotResponse>> _upstream = new(StringComparer.Ordinal);
    private volatile Session? _session;

    /// <summary>Whether a stream to Pilot is open now (its hello was sent).</summary>
    public bool IsConnected => _session is not null;

    /// <summary>How many streams this frontgate has opened since it started.</summary>
    public int SessionCount { get; private set; }

    /// <summary>
    /// Sends a request of the frontgate's own up the stream (a drone's enrollment or renewal) and waits for
    /// Pilot's answer with the same correlation id. Fails with an error response, never an exception:
    /// <c>frontgate.pilot_not_connected</c> without a stream (or when it breaks first), <c>agent.timeout</c>.
    /// </summary>
    public async Task<PilotResponse> RequestAsync(FrontgateMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var session = _session;
        if (session is null)
        {
            return PilotNotConnected();
        }

        var correlationId = "fg-" + Guid.NewGuid().ToString("N");
        var message = request.Clone();
        message.CorrelationId = correlationId;
        var waiter = new TaskCompletionSource<PilotResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream[correlationId] = waiter;
        try
        {
            await session.WriteAsync(message, cancellationToken);
            return await waiter.Task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return new PilotResponse { Error = new AgentError { Code = FrontgateErrorCodes.Timeout, Message = "Pilot did not answer in time.", Retryable = true } };
        }
        catch (Exception exception) when (exception is RpcException or IOException or InvalidOperationException)
        {
            return PilotNotConnected();
        }
        finally
        {
            _upstream.TryRemove(correlationId, out _);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            var heard = false;
            try
            {
                heard = await RunSessionAsync(stoppingToken);
                LogStreamEnded(logger, pilotAddress);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is RpcException or IOException or HttpRequestException or InvalidOperationException or OperationCanceledException)
            {
                LogStreamFailed(logger, pilotAddress, exception is RpcException rpc ? rpc.StatusCode.ToString() : exception.GetType().Name, exception.Message);
            }

            // A stream that worked for a while (or carried a request) was a success: start the backoff over.
            failures = heard || time.GetUtcNow() - started >= options.Value.HeartbeatInterval ? 0 : failures + 1;
            var delay = Backoff(failures);
            LogReconnecting(logger, delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The delay before attempt <paramref name="failures"/>+1: doubling from the minimum, capped, ±20 % jitter.</summary>
    public TimeSpan Backoff(int failures)
    {
        var settings = options.Value;
        var baseDelay = settings.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 20));
        var jittered = Math.Min(baseDelay, settings.ReconnectMaxDelay.TotalMilliseconds) * (0.8 + (0.4 * Random.Shared.NextDouble()));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, settings.ReconnectMinDelay.TotalMilliseconds, settings.ReconnectMaxDelay.TotalMilliseconds));
    }

    /// <summary>Runs one stream until it fails or ends; returns whether Pilot sent anything on it.</summary>
    private async Task<bool> RunSessionAsync(CancellationToken stoppingToken)
    {
        using var channel = AgentTrust.CreateChannel(pilotAddress, credentials.CaCertificate, credentials.Current, time);
        using var sessionCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var token = sessionCancellation.Token;
        using var call = new PilotService.PilotClient(channel).Connect(cancellationToken: token);
        using var session = new Session(call.RequestStream);
        var hello = new FrontgateHello { Version = FrontgateRequestHandler.Version };
        hello.ConnectedNodeIds.AddRange(drones.ConnectedNodeIds);
        await session.WriteAsync(new FrontgateMessage { Hello = hello }, token);
        _session = session;
        SessionCount++;
        LogConnected(logger, pilotAddress, hello.ConnectedNodeIds.Count, outbox.Count);
        var heard = false;
        var tasks = new List<Task>
        {
            ReadAsync(call.ResponseStream, session, () => heard = true, token),
            HeartbeatAsync(session, token),
            FlushOutboxAsync(session, token),
        };
        try
        {
            var first = await Task.WhenAny(tasks);
            await sessionCancellation.CancelAsync();
            await Task.WhenAll(tasks).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!stoppingToken.IsCancellationRequested)
            {
                // Surface why the stream ended (a read that simply finished means Pilot closed it).
                await first;
            }
        }
        finally
        {
            _session = null;
            foreach (var (correlationId, waiter) in _upstream)
            {
                if (_upstream.TryRemove(correlationId, out _))
                {
                    waiter.TrySetResult(PilotNotConnected());
                }
            }
        }

        return heard;
    }

    private async Task ReadAsync(IAsyncStreamReader<PilotMessage> responses, Session session, Action heard, CancellationToken cancellationToken)
    {
        while (await responses.MoveNext(cancellationToken))
        {
            heard();
            var message = responses.Current;
            if (message.RequestCase == PilotMessage.RequestOneofCase.Response)
            {
                if (_upstream.TryRemove(message.CorrelationId, out var waiter))
                {
                    waiter.TrySetResult(message.Response);
                }

                continue;
            }

            // Each request runs on its own: a command waiting for a slow drone holds up nothing else.
            _ = AnswerAsync(message, session, cancellationToken);
        }
    }

    private async Task AnswerAsync(PilotMessage message, Session session, CancellationToken cancellationToken)
    {
        try
        {
            var response = await handler.HandleAsync(message, cancellationToken);
            await session.WriteAsync(new FrontgateMessage { CorrelationId = message.CorrelationId, Response = response }, cancellationToken);
        }
        catch (Exception exception) when (exception is RpcException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // The stream broke; Pilot fails the request on its side and may send it again on the next stream.
            LogAnswerLost(logger, message.RequestCase.ToString(), exception.GetType().Name);
        }
    }

    private async Task HeartbeatAsync(Session session, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await session.WriteAsync(new FrontgateMessage { Heartbeat = new Heartbeat { SentAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()) } }, cancellationToken);
        }
    }

    private async Task FlushOutboxAsync(Session session, CancellationToken cancellationToken)
    {
        var confirmDelay = options.Value.ReportConfirmDelay;
        var inFlight = new Queue<(long Sequence, DateTimeOffset WrittenAt)>();
        long cursor = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var (sequence, report) in outbox.ReadAfter(cursor, 256))
            {
                await session.WriteAsync(report, cancellationToken);
                inFlight.Enqueue((sequence, time.GetUtcNow()));
                cursor = sequence;
            }

            // A report leaves the outbox once the stream has stayed up a while after carrying it; one that
            // breaks sooner may have lost it in flight, and the next stream sends it again.
            var now = time.GetUtcNow();
            while (inFlight.TryPeek(out var sent) && sent.WrittenAt + confirmDelay <= now)
            {
                outbox.Remove(inFlight.Dequeue().Sequence);
            }

            var wait = inFlight.TryPeek(out var oldest)
                ? oldest.WrittenAt + confirmDelay - now
                : TimeSpan.FromSeconds(30);
            await outbox.WaitForAppendAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, time, cancellationToken);
        }
    }

    private static PilotResponse PilotNotConnected() => new()
    {
        Error = new AgentError { Code = FrontgateErrorCodes.PilotNotConnected, Message = "The frontgate is not connected to Pilot now; try again shortly.", Retryable = true },
    };

    /// <summary>One open stream; writes from several tasks go through one at a time.</summary>
    private sealed class Session(IClientStreamWriter<FrontgateMessage> writer) : IDisposable
    {
        private readonly SemaphoreSlim _write = new(1, 1);

        public void Dispose() => _write.Dispose();

        public async Task WriteAsync(FrontgateMessage message, CancellationToken cancellationToken)
        {
            await _write.WaitAsync(cancellationToken);
            try
            {
                await writer.WriteAsync(message, cancellationToken);
            }
            finally
            {
                _write.Release();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Pilot at {PilotAddress} with {NodeCount} drones connected and {OutboxCount} reports waiting")]
    private static partial void LogConnected(ILogger logger, Uri pilotAddress, int nodeCount, int outboxCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pilot at {PilotAddress} closed the stream")]
    private static partial void LogStreamEnded(ILogger logger, Uri pilotAddress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream to Pilot at {PilotAddress} failed: {Status} {Reason}")]
    private static partial void LogStreamFailed(ILogger logger, Uri pilotAddress, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dialing Pilot again in {DelayMs:0} ms")]
    private static partial void LogReconnecting(ILogger logger, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The answer to a {RequestKind} request was lost with the stream ({ExceptionType})")]
    private static partial void LogAnswerLost(ILogger logger, string requestKind, string exceptionType);
}
