using Microsoft.Data.Sqlite;
using Npgsql;

namespace Pitrix.Testing;

/// <summary>A database a test server runs on: a fresh SQLite file, or a fresh database on the PostgreSQL that test.sh started.</summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public abstract string Provider { get; }

    public abstract string ConnectionString { get; }

    public abstract ValueTask DisposeAsync();

    public static TestDatabase Sqlite(string directory) => new SqliteTestDatabase(directory);

    public static Task<TestDatabase> PostgresAsync() => PostgresTestDatabase.CreateAsync();
}

internal sealed class SqliteTestDatabase(string directory) : TestDatabase
{
    public override string Provider => "sqlite";

    public override string ConnectionString { get; } = $"Data Source={Path.Combine(directory, "pitrix.db")};Pooling=False";

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}

internal sealed class PostgresTestDatabase : TestDatabase
{
    public const string Variable = "PITRIX_TEST_POSTGRES";

    private readonly string _admin;
    private readonly string _name;

    private PostgresTestDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        _name = name;
        ConnectionString = connectionString;
    }

    public override string Provider => "postgres";

    public override string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var admin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set. Run the tests with ./test.sh, which starts PostgreSQL on a loopback port, " +
                $"or set {Variable} to an admin connection string such as 'Host=127.0.0.1;Port=5432;Username=postgres'.");
        }

        var name = "pitrix_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new PostgresTestDatabase(admin, name, builder.ConnectionString);
    }

    public override async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
