namespace Pitrix.Core.Engine;

/// <summary>
/// Told when a job is over (its <see cref="Job.FinishedAt"/> was set: its last task, or its last
/// compensation, finished). Called by the engine worker that made the change, from a fresh DI scope; an
/// observer that throws is logged and skipped, so owners of state derived from jobs should also reconcile.
/// </summary>
public interface IJobFinishedObserver
{
    Task OnJobFinishedAsync(string jobId, string clusterId, CancellationToken cancellationToken);
}
