using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Pitrix.Frontgate.Metadata;

/// <summary>
/// The default metadata backend: one SQLite file in the frontgate's data directory (write-ahead log,
/// synchronous commits), so a frontgate restart loses nothing. Writes are serialized; each that changes
/// something advances the persisted revision by one and is pushed to subscribers right after it commits.
/// </summary>
public sealed class EmbeddedMetadataStore : IMetadataStore
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Channel<MetadataChangeBatch>> _subscribers = [];
    private long _revision;

    private EmbeddedMetadataStore(SqliteConnection connection, long revision)
    {
        _connection = connection;
        _revision = revision;
    }

    public string Name => MetadataBackends.Embedded;

    /// <summary>Opens (or creates) the store in <paramref name="path"/>, a SQLite file.</summary>
    public static EmbeddedMetadataStore Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                CREATE TABLE IF NOT EXISTS entries (cluster TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (cluster, key)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS store (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
                INSERT OR IGNORE INTO store (id, revision) VALUES (1, 0);
                """);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT revision FROM store WHERE id = 1";
            var revision = (long)command.ExecuteScalar()!;
            return new EmbeddedMetadataStore(connection, revision);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public async Task<long> PutAsync(string clusterId, IReadOnlyList<KeyValuePair<string, string>> entries, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (entries.Count == 0)
            {
                return _revision;
            }

            var revision = _revision + 1;
            await using (var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken))
            {
                using var upsert = _connection.CreateCommand();
                upsert.Transaction = transaction;
                upsert.CommandText = "INSERT INTO entries (cluster, key, value) VALUES ($cluster, $key, $value) ON CONFLICT (cluster, key) DO UPDATE SET value = excluded.value";
                var cluster = upsert.Parameters.Add("$cluster", SqliteType.Text);
                var key = upsert.Parameters.Add("$key", SqliteType.Text);
                var value = upsert.Parameters.Add("$value", SqliteType.Text);
                cluster.Value = clusterId;
                foreach (var entry in entries)
                {
                    key.Value = entry.Key;
                    value.Value = entry.Value;
                    await upsert.ExecuteNonQueryAsync(cancellationToken);
                }

                await SetRevisionAsync(transaction, revision, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            _revision = revision;
            Publish(new MetadataChangeBatch(revision, [.. entries.Select(e => new MetadataChange(clusterId, e.Key, e.Value))]));
            return revision;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<long> DeleteAsync(string clusterId, IReadOnlyList<string> keys, bool prefix, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var revision = _revision + 1;
            var deleted = new List<MetadataChange>();
            await using (var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken))
            {
                using var select = _connection.CreateCommand();
                select.Transaction = transaction;
                select.CommandText = prefix
                    ? "SELECT key FROM entries WHERE cluster = $cluster AND substr(key, 1, length($key)) = $key ORDER BY key"
                    : "SELECT key FROM entries WHERE cluster = $cluster AND key = $key";
                select.Parameters.AddWithValue("$cluster", clusterId);
                var keyParameter = select.Parameters.Add("$key", SqliteType.Text);
                var found = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var key in keys)
                {
                    keyParameter.Value = key;
                    await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        found.Add(reader.GetString(0));
                    }
                }

                if (found.Count == 0)
                {
                    return _revision;
                }

                using var delete = _connection.CreateCommand();
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM entries WHERE cluster = $cluster AND key = $key";
                delete.Parameters.AddWithValue("$cluster", clusterId);
                var deleteKey = delete.Parameters.Add("$key", SqliteType.Text);
                foreach (var key in found)
                {
                    deleteKey.Value = key;
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                    deleted.Add(new MetadataChange(clusterId, key, null));
                }

                await SetRevisionAsync(transaction, revision, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            _revision = revision;
            Publish(new MetadataChangeBatch(revision, deleted));
            return revision;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async IAsyncEnumerable<MetadataChangeBatch> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<MetadataChangeBatch>(new UnboundedChannelOptions { SingleReader = true });
        MetadataChangeBatch full;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var all = new List<MetadataChange>();
            using var select = _connection.CreateCommand();
            select.CommandText = "SELECT cluster, key, value FROM entries ORDER BY cluster, key";
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    all.Add(new MetadataChange(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
                }
            }

            full = new MetadataChangeBatch(_revision, all, IsFullState: true);
            lock (_subscribers)
            {
                _subscribers.Add(channel);
            }
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            yield return full;
            await foreach (var batch in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
            }
        }
        finally
        {
            lock (_subscribers)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await _connection.DisposeAsync();
        }
        finally
        {
            _gate.Release();
            _gate.Dispose();
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private async Task SetRevisionAsync(SqliteTransaction transaction, long revision, CancellationToken cancellationToken)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "UPDATE store SET revision = $revision WHERE id = 1";
        command.Parameters.AddWithValue("$revision", revision);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private void Publish(MetadataChangeBatch batch)
    {
        lock (_subscribers)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(batch);
            }
        }
    }
}
