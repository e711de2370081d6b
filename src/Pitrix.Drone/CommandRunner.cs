using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace Pitrix.Drone;

/// <summary>A lifecycle command sent to this node by a task.</summary>
public sealed record CommandRequest
{
    /// <summary>The id of the task that sent the command: a command runs at most once per task id.</summary>
    public required string TaskId { get; init; }

    /// <summary>The command line from the package, split into argv without a shell (see <see cref="CommandLine"/>).</summary>
    public required string Command { get; init; }

    /// <summary>Cluster and config values for the command; they reach it only as environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>How long the command may run before its process tree is killed; null for the runner's default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The working directory; null for the runner's data directory.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>The status of a command as recorded by the drone.</summary>
public enum CommandStatus
{
    Succeeded,
    Failed,
    TimedOut,

    /// <summary>The command line was invalid or the executable could not be started.</summary>
    Rejected,

    /// <summary>The drone stopped while the command ran; it is not run again, since it may have had effects.</summary>
    Interrupted,

    Cancelled,
}

/// <summary>The recorded result of one task's command.</summary>
public sealed record CommandResult
{
    public required string TaskId { get; init; }

    public required string Command { get; init; }

    public required CommandStatus Status { get; init; }

    public int? ExitCode { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public TimeSpan Duration { get; init; }

    public string StdoutTail { get; init; } = "";

    public string StderrTail { get; init; } = "";

    public bool StdoutTruncated { get; init; }

    public bool StderrTruncated { get; init; }

    public string? Error { get; init; }

    /// <summary>
    /// A stable code when the command could not run at all (<see cref="DroneErrorCodes.CommandInvalid"/>,
    /// <see cref="DroneErrorCodes.CommandNotFound"/>) or did not finish (<see cref="DroneErrorCodes.CommandInterrupted"/>,
    /// <see cref="DroneErrorCodes.CommandCancelled"/>); null otherwise.
    /// </summary>
    public string? ErrorCode { get; init; }

    /// <summary>True when this result was recorded by an earlier request with the same task id, not run for this one.</summary>
    [JsonIgnore]
    public bool IsReplay { get; init; }
}

/// <summary>Options of <see cref="CommandRunner"/>.</summary>
public sealed class CommandRunnerOptions
{
    /// <summary>The drone's data directory; command records live in its <c>commands/</c> folder. Required.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Timeout of a command that names none. Default: 10 minutes (OpenPitrix's command timeout).</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How many trailing bytes of stdout and of stderr are kept. Default: 64 KiB.</summary>
    public int TailBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// The node's root: an absolute <c>argv[0]</c> existing under it runs from there (see <see cref="NodeRoot.ResolveCommand"/>).
    /// Default: <see cref="NodeRoot.System"/>.
    /// </summary>
    public NodeRoot Root { get; init; } = NodeRoot.System;
}

/// <summary>
/// Runs a node's lifecycle commands one at a time, in the order they arrive. Each command runs at most once per
/// task id: a repeated task id gets the recorded result (or waits for the running one), also across drone restarts,
/// because the record is written to the data directory before the process starts and again when it ends.
/// </summary>
public sealed class CommandRunner : IAsyncDisposable
{
    private readonly CommandRunnerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly string _recordDirectory;
    private readonly ConcurrentDictionary<string, Task<CommandResult>> _byTask = new(StringComparer.Ordinal);
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public CommandRunner(CommandRunnerOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.DataDirectory);
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _recordDirectory = Path.Combine(options.DataDirectory, "commands");
        Directory.CreateDirectory(_recordDirectory);
        _loop = Task.Run(RunLoopAsync);
    }

    /// <summary>
    /// Queues the command and completes with its result; or, when this task id already ran or is running, completes
    /// with that run's result without running anything.
    /// </summary>
    public Task<CommandResult> RunAsync(CommandRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.TaskId);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (_byTask.TryGetValue(request.TaskId, out var known))
        {
            return Replay(known, cancellationToken);
        }

        if (TryReadRecord(request.TaskId) is { } recorded)
        {
            var done = Task.FromResult(recorded);
            return Replay(_byTask.GetOrAdd(request.TaskId, done), cancellationToken);
        }

        var completion = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var winner = _byTask.GetOrAdd(request.TaskId, completion.Task);
        if (winner != completion.Task)
        {
            return Replay(winner, cancellationToken);
        }

        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(new WorkItem(request, completion)), this);

        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The recorded result of a task's command, if it has finished (in this process or an earlier one).</summary>
    public CommandResult? GetResult(string taskId)
    {
        if (_byTask.TryGetValue(taskId, out var task) && task.IsCompletedSuccessfully)
        {
#pragma warning disable VSTHRD002 // The task has completed, so reading its result does not block.
            return task.Result;
#pragma warning restore VSTHRD002
        }

        return TryReadRecord(taskId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static async Task<CommandResult> Replay(Task<CommandResult> task, CancellationToken cancellationToken) =>
        (await task.WaitAsync(cancellationToken).ConfigureAwait(false)) with { IsReplay = true };

    private async Task RunLoopAsync()
    {
        await foreach (var item in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            CommandResult result;
            if (_stopping.IsCancellationRequested)
            {
                // Never started: forget it so that the task may send it again to the next drone process.
                _byTask.TryRemove(item.Request.TaskId, out _);
                item.Completion.TrySetException(new ObjectDisposedException(nameof(CommandRunner)));
                continue;
            }

            try
            {
                result = await ExecuteAsync(item.Request, _stopping.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // One broken command must not stop the queue; the failure goes to its caller.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                item.Completion.TrySetException(ex);
                continue;
            }

            item.Completion.TrySetResult(result);
        }
    }

    private async Task<CommandResult> ExecuteAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        var startedAt = _timeProvider.GetUtcNow();
        var baseResult = new CommandResult { TaskId = request.TaskId, Command = request.Command, Status = CommandStatus.Interrupted, StartedAt = startedAt };
        if (!CommandLine.TrySplit(request.Command, out var argv, out var syntaxError))
        {
            return WriteRecord(baseResult with { Status = CommandStatus.Rejected, Error = $"invalid command: {syntaxError}", ErrorCode = DroneErrorCodes.CommandInvalid });
        }

        // Written before the process starts: if the drone dies mid-run, the restarted drone reports the task as
        // interrupted instead of running a possibly non-idempotent command a second time.
        WriteRecord(baseResult with { Error = "the drone stopped while the command was running", ErrorCode = DroneErrorCodes.CommandInterrupted });
        var run = await ProcessRunner.RunAsync(
            _options.Root.ResolveCommand(argv),
            request.Environment,
            request.WorkingDirectory ?? _options.DataDirectory,
            request.Timeout ?? _options.DefaultTimeout,
            _options.TailBytes,
            _timeProvider,
            cancellationToken).ConfigureAwait(false);
        return WriteRecord(baseResult with
        {
            Status = run.Outcome switch
            {
                ProcessOutcome.Succeeded => CommandStatus.Succeeded,
                ProcessOutcome.Failed => CommandStatus.Failed,
                ProcessOutcome.TimedOut => CommandStatus.TimedOut,
                ProcessOutcome.NotStarted => CommandStatus.Rejected,
                ProcessOutcome.Cancelled => CommandStatus.Cancelled,
                _ => throw new InvalidOperationException($"Unknown outcome {run.Outcome}."),
            },
            ExitCode = run.ExitCode,
            Duration = run.Duration,
            StdoutTail = run.StdoutTail,
            StderrTail = run.StderrTail,
            StdoutTruncated = run.StdoutTruncated,
            StderrTruncated = run.StderrTruncated,
            Error = run.Error,
            ErrorCode = run.Outcome switch
            {
                ProcessOutcome.NotStarted => DroneErrorCodes.CommandNotFound,
                ProcessOutcome.Cancelled => DroneErrorCodes.CommandCancelled,
                _ => null,
            },
        });
    }

    private string RecordPath(string taskId) =>
        Path.Combine(_recordDirectory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(taskId))) + ".json");

    private CommandResult WriteRecord(CommandResult result)
    {
        var path = RecordPath(result.TaskId);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, result, DroneJsonContext.Default.CommandResult);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        return result;
    }

    private CommandResult? TryReadRecord(string taskId)
    {
        var path = RecordPath(taskId);
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = File.OpenRead(path);
        var record = JsonSerializer.Deserialize(stream, DroneJsonContext.Default.CommandResult);
        return record is not null && record.TaskId == taskId ? record : null;
    }

    private sealed record WorkItem(CommandRequest Request, TaskCompletionSource<CommandResult> Completion);
}

[JsonSourceGenerationOptions(WriteIndented = true, UseStringEnumConverter = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CommandResult))]
internal sealed partial class DroneJsonContext : JsonSerializerContext;
