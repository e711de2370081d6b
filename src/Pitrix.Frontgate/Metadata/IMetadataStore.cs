namespace Pitrix.Frontgate.Metadata;

/// <summary>One key written (<see cref="Value"/> set) or removed (<see cref="Value"/> null) under a cluster's root.</summary>
public sealed record MetadataChange(string ClusterId, string Key, string? Value);

/// <summary>
/// The changes of one store revision, in the order they were made; or, when <see cref="IsFullState"/> is
/// set, every key the store holds at <see cref="Revision"/> (after a subscription starts or resumes).
/// </summary>
public sealed record MetadataChangeBatch(long Revision, IReadOnlyList<MetadataChange> Changes, bool IsFullState = false);

/// <summary>
/// Where a frontgate keeps the metadata of its network's clusters: keys relative to a cluster root, like
/// <c>hosts/zk/nd-1/ip</c> under cluster <c>cl-1</c>. Every write that changes something advances one
/// store-wide revision, which only grows. Implementations: <see cref="EmbeddedMetadataStore"/> (SQLite in the
/// data directory) and <see cref="EtcdMetadataStore"/>. Callers validate ids and keys first
/// (<see cref="MetadataKeys"/>); a backend that cannot be reached throws <see cref="MetadataStoreException"/>.
/// </summary>
public interface IMetadataStore : IAsyncDisposable
{
    /// <summary>The backend's name, as configured: <c>embedded</c> or <c>etcd</c>.</summary>
    string Name { get; }

    /// <summary>Writes <paramref name="entries"/> under the cluster's root in one revision; returns that revision.</summary>
    Task<long> PutAsync(string clusterId, IReadOnlyList<KeyValuePair<string, string>> entries, CancellationToken cancellationToken);

    /// <summary>
    /// Removes <paramref name="keys"/> (with <paramref name="prefix"/>: every key starting with one of them; an
    /// empty one is the whole cluster) in one revision; returns the store's revision afterwards.
    /// </summary>
    Task<long> DeleteAsync(string clusterId, IReadOnlyList<string> keys, bool prefix, CancellationToken cancellationToken);

    /// <summary>
    /// The whole state (a batch with <see cref="MetadataChangeBatch.IsFullState"/>), then every later change in
    /// revision order, pushed as it happens. When the backend's connection breaks the subscription resumes by
    /// itself, starting again with a full state. Ends only when cancelled.
    /// </summary>
    IAsyncEnumerable<MetadataChangeBatch> SubscribeAsync(CancellationToken cancellationToken);
}

/// <summary>The metadata backend failed; <see cref="Code"/> is a stable dotted code.</summary>
public sealed class MetadataStoreException : Exception
{
    public MetadataStoreException()
        : this(FrontgateErrorCodes.MetadataUnavailable, "The metadata backend failed.")
    {
    }

    public MetadataStoreException(string message)
        : this(FrontgateErrorCodes.MetadataUnavailable, message)
    {
    }

    public MetadataStoreException(string message, Exception innerException)
        : base(message, innerException) => Code = FrontgateErrorCodes.MetadataUnavailable;

    public MetadataStoreException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    public string Code { get; }

    /// <summary>Whether the same write may succeed later.</summary>
    public bool IsRetryable => Code == FrontgateErrorCodes.MetadataUnavailable;
}
