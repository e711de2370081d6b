using Pitrix.Agent.Protocol.V1;
using Pitrix.Drone.Metadata;

namespace Pitrix.Drone.Agent;

/// <summary>
/// The node's metadata view as the frontgate streams it (<c>Frontgate.WatchMetadata</c>): a snapshot, then puts and
/// deletes. View-relative keys (<c>host/ip</c>) become the absolute keys templates read (<c>/host/ip</c>). Snapshots
/// carry a local revision that only grows, even when a restarted frontgate starts its own revisions again.
/// </summary>
public sealed class StreamedMetadataSource : IMetadataSource
{
    private readonly Lock _gate = new();
    private Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private MetadataSnapshot _current = MetadataSnapshot.Empty;
    private TaskCompletionSource<MetadataSnapshot> _next = NewSignal();

    /// <summary>The frontgate's revision of the last event applied: where a new watch resumes. 0 before any.</summary>
    public long RemoteRevision { get; private set; }

    public MetadataSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public Task<MetadataSnapshot> WaitForChangeAsync(long knownRevision, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _current.Revision > knownRevision ? Task.FromResult(_current) : _next.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Applies one event from the frontgate and wakes the watchers.</summary>
    public void Apply(MetadataEvent change)
    {
        TaskCompletionSource<MetadataSnapshot> signal;
        lock (_gate)
        {
            var values = change.Kind == MetadataEvent.Types.Kind.Snapshot
                ? new Dictionary<string, string>(StringComparer.Ordinal)
                : new Dictionary<string, string>(_values, StringComparer.Ordinal);
            foreach (var entry in change.Entries)
            {
                values[ToTemplateKey(entry.Key)] = entry.Value;
            }

            foreach (var deleted in change.DeletedKeys.Select(ToTemplateKey))
            {
                foreach (var key in values.Keys.Where(k => k == deleted || k.StartsWith(deleted + "/", StringComparison.Ordinal)).ToList())
                {
                    values.Remove(key);
                }
            }

            _values = values;
            RemoteRevision = change.Revision;
            _current = new MetadataSnapshot(_current.Revision + 1, values);
            signal = _next;
            _next = NewSignal();
        }

        signal.TrySetResult(_current);
    }

    private static string ToTemplateKey(string key) => "/" + key.TrimStart('/');

    private static TaskCompletionSource<MetadataSnapshot> NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
