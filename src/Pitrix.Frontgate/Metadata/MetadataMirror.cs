using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Pitrix.Agent.Protocol.V1;

namespace Pitrix.Frontgate.Metadata;

/// <summary>
/// The frontgate's in-memory copy of its store, fed by the store's subscription, from which every drone's
/// view is drawn. It keeps a bounded history of changes so a drone that reconnects with the revision it
/// last saw gets only what changed in its view since then. A change wakes exactly the watchers whose view
/// it may touch; each recomputes its view and sends the difference, so changes reach drones as pushes.
/// </summary>
public sealed class MetadataMirror
{
    private readonly Lock _gate = new();
    private readonly MetadataState _state = new();
    private readonly List<ChangeRecord> _history = [];
    private readonly List<ViewWatcher> _watchers = [];
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _historyLimit;
    private long _revision;
    private long _historyStart;
    private bool _isLoaded;

    /// <param name="historyLimit">How many key changes to remember for resuming watchers. Default: 50,000.</param>
    public MetadataMirror(int historyLimit = 50_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(historyLimit);
        _historyLimit = historyLimit;
    }

    /// <summary>The store revision the mirror reflects.</summary>
    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    /// <summary>Completes once the mirror holds the store's first full state.</summary>
    public Task Loaded => _loaded.Task;

    /// <summary>Applies one batch from <see cref="IMetadataStore.SubscribeAsync"/>.</summary>
    public void Apply(MetadataChangeBatch batch)
    {
        var changed = new List<ChangeRecord>();
        lock (_gate)
        {
            if (batch.IsFullState)
            {
                var incoming = new Dictionary<(string, string), string>();
                foreach (var change in batch.Changes)
                {
                    if (change.Value is not null)
                    {
                        incoming[(change.ClusterId, change.Key)] = change.Value;
                    }
                }

                foreach (var (clusterId, key, _) in _state.All().ToList())
                {
                    if (!incoming.ContainsKey((clusterId, key)))
                    {
                        Record(clusterId, key, null);
                    }
                }

                foreach (var ((clusterId, key), value) in incoming)
                {
                    Record(clusterId, key, value);
                }

                if (!_isLoaded || batch.Revision < _revision)
                {
                    // Nothing before this state can be rebuilt: the first load, or a backend that went back in time.
                    _history.Clear();
                    _historyStart = batch.Revision;
                }
            }
            else
            {
                foreach (var change in batch.Changes)
                {
                    Record(change.ClusterId, change.Key, change.Value);
                }
            }

            _revision = Math.Max(_revision, batch.Revision);
            if (_isLoaded || !batch.IsFullState)
            {
                _history.AddRange(changed);
            }

            if (_history.Count > _historyLimit)
            {
                var drop = _history.Count - _historyLimit;
                _historyStart = Math.Max(_historyStart, _history[drop - 1].Revision);
                _history.RemoveRange(0, drop);
            }

            _isLoaded = true;
            foreach (var watcher in _watchers)
            {
                if (changed.Any(watcher.IsConcernedBy))
                {
                    watcher.Signal.Writer.TryWrite(true);
                }
            }
        }

        _loaded.TrySetResult();

        void Record(string clusterId, string key, string? value)
        {
            var old = _state.Set(clusterId, key, value);
            if (old != value)
            {
                changed.Add(new ChangeRecord(batch.Revision, clusterId, key, old));
            }
        }
    }

    /// <summary>The current view of <paramref name="nodeId"/> (see <see cref="MetadataViews"/>).</summary>
    public IReadOnlyDictionary<string, string> GetView(string nodeId)
    {
        lock (_gate)
        {
            return MetadataViews.Compute(_state, nodeId).View;
        }
    }

    /// <summary>
    /// The view of <paramref name="nodeId"/> as a stream: a snapshot when <paramref name="afterRevision"/> is 0
    /// (or unknown to the mirror: older than its history, or newer than the store), otherwise only what changed
    /// in the view after that revision; then every change. A change that both sets and removes keys is sent as a
    /// snapshot, so every event leaves the drone's view exactly as it was at the event's revision.
    /// </summary>
    public async IAsyncEnumerable<MetadataEvent> WatchViewAsync(string nodeId, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _loaded.Task.WaitAsync(cancellationToken);
        var watcher = new ViewWatcher(nodeId);
        List<MetadataEvent> events;
        SortedDictionary<string, string> sent;
        lock (_gate)
        {
            _watchers.Add(watcher);
            (sent, watcher.Sources) = MetadataViews.Compute(_state, nodeId);
            if (afterRevision <= 0 || afterRevision > _revision || afterRevision < _historyStart)
            {
                events = [Snapshot(sent, _revision)];
            }
            else
            {
                var (past, _) = MetadataViews.Compute(StateAt(afterRevision), nodeId);
                events = Difference(past, sent, _revision);
            }
        }

        try
        {
            while (true)
            {
                foreach (var metadataEvent in events)
                {
                    yield return metadataEvent;
                }

                await watcher.Signal.Reader.ReadAsync(cancellationToken);
                lock (_gate)
                {
                    var (view, sources) = MetadataViews.Compute(_state, nodeId);
                    watcher.Sources = sources;
                    events = Difference(sent, view, _revision);
                    sent = view;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(watcher);
            }
        }
    }

    private MetadataState StateAt(long revision)
    {
        var past = _state.Clone();
        for (var i = _history.Count - 1; i >= 0 && _history[i].Revision > revision; i--)
        {
            var record = _history[i];
            past.Set(record.ClusterId, record.Key, record.OldValue);
        }

        return past;
    }

    private static List<MetadataEvent> Difference(SortedDictionary<string, string> before, SortedDictionary<string, string> after, long revision)
    {
        var put = new MetadataEvent { Kind = MetadataEvent.Types.Kind.Put, Revision = revision };
        foreach (var (key, value) in after)
        {
            if (!before.TryGetValue(key, out var old) || old != value)
            {
                put.Entries.Add(new MetadataEntry { Key = key, Value = value });
            }
        }

        var delete = new MetadataEvent { Kind = MetadataEvent.Types.Kind.Delete, Revision = revision };
        delete.DeletedKeys.AddRange(before.Keys.Where(key => !after.ContainsKey(key)));
        return (put.Entries.Count, delete.DeletedKeys.Count) switch
        {
            (0, 0) => [],
            (_, 0) => [put],
            (0, _) => [delete],
            _ => [Snapshot(after, revision)],
        };
    }

    private static MetadataEvent Snapshot(SortedDictionary<string, string> view, long revision)
    {
        var snapshot = new MetadataEvent { Kind = MetadataEvent.Types.Kind.Snapshot, Revision = revision };
        snapshot.Entries.AddRange(view.Select(kv => new MetadataEntry { Key = kv.Key, Value = kv.Value }));
        return snapshot;
    }

    private sealed record ChangeRecord(long Revision, string ClusterId, string Key, string? OldValue);

    private sealed class ViewWatcher(string nodeId)
    {
        public Channel<bool> Signal { get; } = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public HashSet<string> Sources { get; set; } = [];

        // A change concerns the watcher when it touches a cluster its view draws from, or names its node as a
        // host anywhere (the node joining or leaving a cluster).
        public bool IsConcernedBy(ChangeRecord change) =>
            Sources.Contains(change.ClusterId)
            || (MetadataState.TryParseHostKey(change.Key, out _, out var node) && node == nodeId);
    }
}
