namespace Pitrix.Drone.Health;

/// <summary>A node's health as its checks judge it.</summary>
public enum NodeHealth
{
    /// <summary>Not enough checks yet to reach either threshold.</summary>
    Unknown,
    Healthy,
    Unhealthy,
}

/// <summary>A role's <c>health_check</c> from cluster.json.</summary>
public sealed record HealthCheckSpec
{
    /// <summary>The check command; exit code 0 means the check passed.</summary>
    public required string CheckCmd { get; init; }

    /// <summary>Seconds between checks. Default: 60.</summary>
    public double IntervalSec { get; init; } = 60;

    /// <summary>Seconds a check may run before it is killed and counted as failed. Default: 10.</summary>
    public double TimeoutSec { get; init; } = 10;

    /// <summary>Consecutive passes that make the node healthy. Default: 2.</summary>
    public int HealthyThreshold { get; init; } = 2;

    /// <summary>Consecutive failures that make the node unhealthy. Default: 2.</summary>
    public int UnhealthyThreshold { get; init; } = 2;

    /// <summary>Runs each time the node turns unhealthy, e.g. to restart the service; null for none.</summary>
    public string? ActionCmd { get; init; }

    /// <summary>Environment variables for check and action commands.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Seconds the action command may run; null uses <see cref="TimeoutSec"/>.</summary>
    public double? ActionTimeoutSec { get; init; }

    /// <summary>The working directory of check and action commands; null for the drone's own.</summary>
    public string? WorkingDirectory { get; init; }
}

/// <summary>A change of a node's health.</summary>
public sealed class HealthChangedEventArgs(NodeHealth previous, NodeHealth current, ProcessRunResult lastCheck) : EventArgs
{
    public NodeHealth Previous { get; } = previous;

    public NodeHealth Current { get; } = current;

    /// <summary>The check that flipped the health.</summary>
    public ProcessRunResult LastCheck { get; } = lastCheck;
}

/// <summary>
/// Runs a role's health check on its interval and flips the node's health after the configured number of
/// consecutive passes or failures; when the node turns unhealthy the action command runs once.
/// </summary>
public sealed class HealthChecker : IDisposable
{
    private const int TailBytes = 4 * 1024;

    private readonly HealthCheckSpec _spec;
    private readonly TimeProvider _timeProvider;
    private readonly NodeRoot _root;
    private readonly IReadOnlyList<string> _checkArgv;
    private readonly IReadOnlyList<string>? _actionArgv;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private int _passes;
    private int _failures;

    /// <param name="spec">What to run and when.</param>
    /// <param name="timeProvider">The clock of the interval; the system clock when null.</param>
    /// <param name="root">The node's root: an absolute command existing under it runs from there. Default: <see cref="NodeRoot.System"/>.</param>
    public HealthChecker(HealthCheckSpec spec, TimeProvider? timeProvider = null, NodeRoot? root = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.HealthyThreshold, 1, nameof(spec.HealthyThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.UnhealthyThreshold, 1, nameof(spec.UnhealthyThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(spec.IntervalSec, 0, nameof(spec.IntervalSec));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(spec.TimeoutSec, 0, nameof(spec.TimeoutSec));
        _spec = spec;
        _timeProvider = timeProvider ?? TimeProvider.System;
        // Resolved under the root at each run: app scripts may be installed after the check is configured.
        _root = root ?? NodeRoot.System;
        _checkArgv = CommandLine.TrySplit(spec.CheckCmd, out var check, out var checkError)
            ? check
            : throw new ArgumentException($"check_cmd: {checkError}", nameof(spec));
        if (spec.ActionCmd is not null)
        {
            _actionArgv = CommandLine.TrySplit(spec.ActionCmd, out var action, out var actionError)
                ? action
                : throw new ArgumentException($"action_cmd: {actionError}", nameof(spec));
        }
    }

    /// <summary>The current health.</summary>
    public NodeHealth Current { get; private set; } = NodeHealth.Unknown;

    /// <summary>The latest action command's run, if one ran.</summary>
    public ProcessRunResult? LastAction { get; private set; }

    /// <summary>Raised when <see cref="Current"/> changes, after the action command (if any) has run.</summary>
    public event EventHandler<HealthChangedEventArgs>? HealthChanged;

    public void Dispose() => _oneAtATime.Dispose();

    /// <summary>Checks, then waits the interval, until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await CheckOnceAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(_spec.IntervalSec), _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs the check once and applies its result to the thresholds; returns the health afterwards.</summary>
    public async Task<NodeHealth> CheckOnceAsync(CancellationToken cancellationToken = default)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var check = await ProcessRunner.RunAsync(
                _root.ResolveCommand(_checkArgv), _spec.Environment, _spec.WorkingDirectory, TimeSpan.FromSeconds(_spec.TimeoutSec), TailBytes, _timeProvider, cancellationToken).ConfigureAwait(false);
            if (check.Outcome == ProcessOutcome.Cancelled)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var passed = check.Outcome == ProcessOutcome.Succeeded;
            _passes = passed ? _passes + 1 : 0;
            _failures = passed ? 0 : _failures + 1;
            var next = Current switch
            {
                not NodeHealth.Healthy when _passes >= _spec.HealthyThreshold => NodeHealth.Healthy,
                not NodeHealth.Unhealthy when _failures >= _spec.UnhealthyThreshold => NodeHealth.Unhealthy,
                var same => same,
            };
            if (next != Current)
            {
                var previous = Current;
                Current = next;
                if (next == NodeHealth.Unhealthy && _actionArgv is not null)
                {
                    LastAction = await ProcessRunner.RunAsync(
                        _root.ResolveCommand(_actionArgv), _spec.Environment, _spec.WorkingDirectory, TimeSpan.FromSeconds(_spec.ActionTimeoutSec ?? _spec.TimeoutSec), TailBytes, _timeProvider, cancellationToken).ConfigureAwait(false);
                }

                HealthChanged?.Invoke(this, new HealthChangedEventArgs(previous, next, check));
            }

            return Current;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
