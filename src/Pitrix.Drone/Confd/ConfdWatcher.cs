using Pitrix.Drone.Metadata;

namespace Pitrix.Drone.Confd;

/// <summary>One pass of the watcher over every resource.</summary>
public sealed class ConfdRenderedEventArgs(long revision, IReadOnlyList<ConfdResourceResult> results) : EventArgs
{
    /// <summary>The metadata revision that was rendered.</summary>
    public long Revision { get; } = revision;

    public IReadOnlyList<ConfdResourceResult> Results { get; } = results;
}

/// <summary>
/// Re-renders the confd resources whenever the metadata changes: woken by the source's change signal (no polling,
/// unlike OpenPitrix's 10 s confd interval), it waits a short debounce so that a burst of writes renders once.
/// </summary>
public sealed class ConfdWatcher(IMetadataSource source, ConfdRenderer renderer, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _timeProvider = timeProvider ?? TimeProvider.System;

    /// <summary>How long to wait after a change for more changes before rendering. Default: 100 ms.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Raised after every pass, on the watcher's own thread.</summary>
    public event EventHandler<ConfdRenderedEventArgs>? Rendered;

    /// <summary>The results of the latest pass, or empty before the first one.</summary>
    public IReadOnlyList<ConfdResourceResult> LastResults { get; private set; } = [];

    /// <summary>Renders the current snapshot, then again after every change, until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var snapshot = source.Current;
        try
        {
            while (true)
            {
                await RenderAsync(snapshot, cancellationToken).ConfigureAwait(false);
                await source.WaitForChangeAsync(snapshot.Revision, cancellationToken).ConfigureAwait(false);
                if (Debounce > TimeSpan.Zero)
                {
                    await Task.Delay(Debounce, _timeProvider, cancellationToken).ConfigureAwait(false);
                }

                snapshot = source.Current;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RenderAsync(MetadataSnapshot snapshot, CancellationToken cancellationToken)
    {
        var results = await renderer.RenderAllAsync(snapshot, cancellationToken).ConfigureAwait(false);
        LastResults = results;
        Rendered?.Invoke(this, new ConfdRenderedEventArgs(snapshot.Revision, results));
    }
}
