using Pitrix.Core.Engine;

namespace Pitrix.Engine.Clusters;

/// <summary>Applies a job's result to its cluster as soon as the job finishes in this process (the reconciler catches any it misses).</summary>
public sealed class ClusterJobObserver(ClusterOperations operations) : IJobFinishedObserver
{
    public Task OnJobFinishedAsync(string jobId, string clusterId, CancellationToken cancellationToken) => operations.ApplyAsync(jobId, cancellationToken);
}
