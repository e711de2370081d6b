namespace Pitrix.Catalog.Indexing;

/// <summary>
/// Wakes the indexer of this process when a sync is requested here, so it starts at once instead of at
/// its next poll. Instances sharing a database still find each other's requests by polling.
/// </summary>
public sealed class IndexerSignal(TimeProvider timeProvider) : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Notify()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one pending wake-up is enough.
        }
    }

    /// <summary>Waits for <see cref="Notify"/> or <paramref name="timeout"/>; returns whether it was signalled.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await _wake.WaitAsync(linked.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public void Dispose() => _wake.Dispose();
}
