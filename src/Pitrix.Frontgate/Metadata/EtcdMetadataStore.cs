using System.Runtime.CompilerServices;
using System.Threading.Channels;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Pitrix.Frontgate.Metadata;

/// <summary>
/// The metadata backend on etcd (v3 API, through the <c>dotnet-etcd</c> client): each cluster's keys live
/// under <c>&lt;prefix&gt;&lt;cluster_id&gt;/</c> (by default <c>/pitrix/clusters/&lt;cluster_id&gt;/…</c>), each
/// request is one transaction (one etcd revision), and subscribers follow an etcd watch on the prefix that
/// starts right after the revision of the state they were given, so no change falls between the two.
/// </summary>
public sealed partial class EtcdMetadataStore : IMetadataStore
{
    private static readonly TimeSpan MaxResubscribeDelay = TimeSpan.FromSeconds(10);
    private readonly EtcdClient _client;
    private readonly string _prefix;
    private readonly TimeSpan _callTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EtcdMetadataStore(FrontgateEtcdOptions options, TimeProvider time, ILogger<EtcdMetadataStore> logger)
    {
        var endpoints = options.Endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _client = new EtcdClient(string.Join(',', endpoints));
        _prefix = options.Prefix;
        _callTimeout = options.CallTimeout;
        _time = time;
        _logger = logger;
    }

    public string Name => MetadataBackends.Etcd;

    public async Task<long> PutAsync(string clusterId, IReadOnlyList<KeyValuePair<string, string>> entries, CancellationToken cancellationToken)
    {
        var transaction = new TxnRequest();
        // etcd refuses a transaction that puts one key twice; the last value wins, as it would in sequence.
        var latest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            latest[entry.Key] = entry.Value;
        }

        foreach (var (key, value) in latest)
        {
            transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(FullKey(clusterId, key)), Value = ByteString.CopyFromUtf8(value) } });
        }

        var response = await CallAsync(ct => _client.TransactionAsync(transaction, deadline: Deadline(), cancellationToken: ct), cancellationToken);
        return response.Header.Revision;
    }

    public async Task<long> DeleteAsync(string clusterId, IReadOnlyList<string> keys, bool prefix, CancellationToken cancellationToken)
    {
        var distinct = keys.Distinct(StringComparer.Ordinal).ToList();
        if (prefix)
        {
            // A prefix inside another one adds nothing, and etcd may refuse overlapping ranges in one transaction.
            distinct = [.. distinct.Where(k => !distinct.Any(other => other != k && k.StartsWith(other, StringComparison.Ordinal)))];
        }

        var transaction = new TxnRequest();
        foreach (var key in distinct)
        {
            var fullKey = FullKey(clusterId, key);
            var delete = new DeleteRangeRequest { Key = Bytes(fullKey) };
            if (prefix)
            {
                delete.RangeEnd = Bytes(EtcdClient.GetRangeEnd(fullKey));
            }

            transaction.Success.Add(new RequestOp { RequestDeleteRange = delete });
        }

        var response = await CallAsync(ct => _client.TransactionAsync(transaction, deadline: Deadline(), cancellationToken: ct), cancellationToken);
        return response.Header.Revision;
    }

    public async IAsyncEnumerable<MetadataChangeBatch> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<MetadataChangeBatch>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = Task.Run(() => FollowAsync(channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task FollowAsync(ChannelWriter<MetadataChangeBatch> writer, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var range = await _client.GetRangeAsync(_prefix, deadline: Deadline(), cancellationToken: cancellationToken);
                var revision = range.Header.Revision;
                var all = range.Kvs.Select(kv => Decode(kv.Key, kv.Value.ToStringUtf8())).OfType<MetadataChange>().ToList();
                await writer.WriteAsync(new MetadataChangeBatch(revision, all, IsFullState: true), cancellationToken);
                failures = 0;
                await WatchAsync(writer, revision, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is RpcException or IOException or HttpRequestException or InvalidOperationException)
            {
                failures++;
                LogWatchFailed(_logger, exception.GetType().Name, exception.Message);
            }

            var delay = TimeSpan.FromMilliseconds(Math.Min(MaxResubscribeDelay.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures, 10))));
            try
            {
                await Task.Delay(failures == 0 ? TimeSpan.Zero : delay, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Follows changes after <paramref name="revision"/> until the watch ends or is compacted away.</summary>
    private async Task WatchAsync(ChannelWriter<MetadataChangeBatch> writer, long revision, CancellationToken cancellationToken)
    {
        using var call = _client.GetConnection().WatchClient.Watch(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = Bytes(_prefix),
                RangeEnd = Bytes(EtcdClient.GetRangeEnd(_prefix)),
                StartRevision = revision + 1,
            },
        }, cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var response = call.ResponseStream.Current;
            if (response.Canceled || response.CompactRevision != 0)
            {
                LogWatchRestarted(_logger, response.CompactRevision, response.CancelReason);
                return;
            }

            foreach (var group in response.Events.GroupBy(e => e.Kv.ModRevision).OrderBy(g => g.Key))
            {
                var changes = group
                    .Select(e => Decode(e.Kv.Key, e.Type == Mvccpb.Event.Types.EventType.Delete ? null : e.Kv.Value.ToStringUtf8()))
                    .OfType<MetadataChange>()
                    .ToList();
                if (changes.Count > 0)
                {
                    await writer.WriteAsync(new MetadataChangeBatch(group.Key, changes), cancellationToken);
                }
            }
        }
    }

    private MetadataChange? Decode(ByteString key, string? value)
    {
        var text = key.ToStringUtf8();
        if (!text.StartsWith(_prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = text[_prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            return null;
        }

        var clusterId = rest[..slash];
        var relative = rest[(slash + 1)..];
        // Keys written by hand into etcd that no frontgate would write are not served.
        return MetadataKeys.IsValidClusterId(clusterId) && MetadataKeys.IsValidKey(relative)
            ? new MetadataChange(clusterId, relative, value)
            : null;
    }

    private static async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (RpcException exception) when (exception.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            throw new MetadataStoreException(FrontgateErrorCodes.MetadataUnavailable, $"etcd failed: {exception.Status.StatusCode} {exception.Status.Detail}", exception);
        }
    }

    private string FullKey(string clusterId, string key) => $"{_prefix}{clusterId}/{key}";

    private DateTime Deadline() => DateTime.UtcNow + _callTimeout;

    private static ByteString Bytes(string value) => ByteString.CopyFromUtf8(value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd watch failed ({ExceptionType}: {Reason}); resubscribing")]
    private static partial void LogWatchFailed(ILogger logger, string exceptionType, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "etcd watch restarted (compacted at {CompactRevision}, {Reason}); reloading the state")]
    private static partial void LogWatchRestarted(ILogger logger, long compactRevision, string reason);
}
