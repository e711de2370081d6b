using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Pilot;

/// <summary>
/// Stores the command results frontgates report, many per transaction: a stream's reader hands each result in
/// and reads on, and one writer saves whatever has queued meanwhile in a single database round. Twenty results
/// arriving together cost one commit, not twenty one after another.
/// </summary>
/// <remarks>
/// A frontgate drops a report from its outbox only once its stream has stayed up a while after carrying it.
/// When a batch cannot be stored after a few attempts, the streams that carried it are closed, so their
/// frontgates reconnect and send those reports again; a full queue makes readers wait, so a slow database
/// slows the streams instead of filling memory.
/// </remarks>
internal sealed partial class CommandResultWriter(PilotStore store, ILogger<CommandResultWriter> logger) : BackgroundService
{
    private const int MaxBatch = 256;

    private const int Attempts = 3;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<(FrontgateConnection Connection, CommandResult Result)> _queue =
        Channel.CreateBounded<(FrontgateConnection, CommandResult)>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Queues a result carried by <paramref name="connection"/>; waits while the queue is full.</summary>
    public ValueTask EnqueueAsync(FrontgateConnection connection, CommandResult result, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync((connection, result), cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Only the wait for work stops with the host: a batch taken from the queue is stored whole, never
        // abandoned half-way, and what is queued at stop is stored below, within a bound.
        var batch = new List<(FrontgateConnection Connection, CommandResult Result)>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteQueuedAsync(batch, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }

        using var drain = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (_queue.Reader.TryPeek(out _))
            {
                await WriteQueuedAsync(batch, drain.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // What is left goes again with the frontgates' next streams.
        }
    }

    private async Task WriteQueuedAsync(List<(FrontgateConnection Connection, CommandResult Result)> batch, CancellationToken cancellationToken)
    {
        batch.Clear();
        while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
        {
            batch.Add(item);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.SaveCommandResultsAsync(batch.Select(b => (b.Connection.FrontgateId, b.Result)).ToList(), cancellationToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && attempt < Attempts)
            {
                LogRetrying(logger, batch.Count, attempt, e.Message);
                await Task.Delay(RetryDelay * attempt, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e, batch.Count);
                foreach (var connection in batch.Select(b => b.Connection).Distinct())
                {
                    connection.Close("its command results could not be stored");
                }

                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing {Count} command result(s) failed (attempt {Attempt}); retrying: {Reason}")]
    private static partial void LogRetrying(ILogger logger, int count, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not store {Count} command result(s); closing the streams that carried them so their frontgates send them again")]
    private static partial void LogFailed(ILogger logger, Exception exception, int count);
}
