using Microsoft.Extensions.Hosting;

namespace Pitrix.Frontgate.Metadata;

/// <summary>Feeds the <see cref="MetadataMirror"/> from the store's subscription for as long as the frontgate runs.</summary>
public sealed class MetadataMirrorPump(IMetadataStore store, MetadataMirror mirror) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var batch in store.SubscribeAsync(stoppingToken))
            {
                mirror.Apply(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
