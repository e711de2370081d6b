using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Pitrix.Engine;

/// <summary>
/// Wakes whoever waits on the engine's event log or task queue, instead of polling: events appended in
/// this process signal it after their transaction commits, and on PostgreSQL the trigger on
/// <c>events</c> sends <c>NOTIFY pitrix_engine</c>, which <see cref="PostgresEngineListener"/> relays,
/// so waiters in every process wake.
/// </summary>
public interface IEngineSignal
{
    /// <summary>
    /// Completes when an event with a sequence number above <paramref name="afterSeq"/> is known to have been
    /// appended (at once if one already is), or after <paramref name="max"/>. Readers then read the log
    /// again; a wake is a hint, never a promise that a new event is visible.
    /// </summary>
    Task WaitAsync(long afterSeq, TimeSpan max, CancellationToken cancellationToken);
}

/// <summary>The in-process <see cref="IEngineSignal"/>, also carrying the worker's wake-ups (tasks ready, tasks cancelled).</summary>
public sealed class EngineSignal(TimeProvider time) : IEngineSignal
{
    private readonly Pulse _events = new();
    private readonly Pulse _work = new();
    private readonly Pulse _cancellations = new();
    private long _latestSeq;

    /// <summary>The highest event sequence number this process has been told of.</summary>
    public long LatestSeq => Interlocked.Read(ref _latestSeq);

    public async Task WaitAsync(long afterSeq, TimeSpan max, CancellationToken cancellationToken)
    {
        var pulse = _events.Current;
        if (LatestSeq > afterSeq)
        {
            return;
        }

        await WaitOrTimeoutAsync(pulse, max, cancellationToken);
    }

    /// <summary>Events up to <paramref name="seq"/> were appended (0 when not known: waiters wake anyway).</summary>
    public void EventsAppended(long seq)
    {
        var current = Interlocked.Read(ref _latestSeq);
        while (seq > current)
        {
            var seen = Interlocked.CompareExchange(ref _latestSeq, seq, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }

        _events.Fire();
    }

    /// <summary>Tasks may have become ready (or a worker slot freed): the worker looks for work at once.</summary>
    public void TasksReady() => _work.Fire();

    /// <summary>Running tasks may have been cancelled: workers check the tasks they run.</summary>
    public void TasksCancelled() => _cancellations.Fire();

    /// <summary>Waits for <see cref="TasksReady"/> (fired since the last wait returned) or <paramref name="max"/>.</summary>
    public Task WaitForWorkAsync(TimeSpan max, CancellationToken cancellationToken) => _work.WaitAsync(max, time, cancellationToken);

    /// <summary>Waits for <see cref="TasksCancelled"/> (fired since the last wait returned) or <paramref name="max"/>.</summary>
    public Task WaitForCancellationsAsync(TimeSpan max, CancellationToken cancellationToken) => _cancellations.WaitAsync(max, time, cancellationToken);

    /// <summary>Tells the signal of the context's application services (if it came from DI) what a committed change appended.</summary>
    internal static void Committed(DbContext db, IReadOnlyCollection<Core.Engine.EngineEvent> appended)
    {
        if (appended.Count > 0 && Of(db) is { } signal)
        {
            signal.Announce(appended);
        }
    }

    internal void Announce(IReadOnlyCollection<Core.Engine.EngineEvent> appended)
    {
        if (appended.Any(e => Core.Engine.EngineEventTypes.MayReadyTasks(e.Type)))
        {
            TasksReady();
        }

        if (appended.Any(e => e.Type == Core.Engine.EngineEventTypes.TaskCancelled))
        {
            TasksCancelled();
        }

        EventsAppended(appended.Max(e => e.Seq));
    }

    /// <summary>The signal registered in the services a DI-created context was built from; null for contexts built by hand.</summary>
    internal static EngineSignal? Of(DbContext db) =>
        db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider?.GetService(typeof(EngineSignal)) as EngineSignal;

    private static async Task WaitOrTimeoutAsync(Task pulse, TimeSpan max, CancellationToken cancellationToken)
    {
        try
        {
            await pulse.WaitAsync(max, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Waking after max is the polling fallback, not an error.
        }
    }

    /// <summary>A wake-up that is not lost between a waiter's check and its wait: firing sets a flag the next wait consumes.</summary>
    private sealed class Pulse
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _fired;

        public Task Current => Volatile.Read(ref _next).Task;

        public void Fire()
        {
            Volatile.Write(ref _fired, 1);
            var fired = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            fired.TrySetResult();
        }

        public async Task WaitAsync(TimeSpan max, TimeProvider time, CancellationToken cancellationToken)
        {
            var pulse = Current;
            if (Interlocked.Exchange(ref _fired, 0) == 1)
            {
                return;
            }

            try
            {
                await pulse.WaitAsync(max, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The poll interval passed: look anyway.
            }

            Volatile.Write(ref _fired, 0);
        }
    }
}
