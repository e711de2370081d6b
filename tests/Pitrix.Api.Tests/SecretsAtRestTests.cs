using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>Reads the database directly, as someone holding a copy of it would, and looks for secrets.</summary>
public abstract class SecretsAtRestTests(ServerFixture fixture)
{
    protected TestServer Server => fixture.Server;

    /// <summary>Every text value the database holds, as an attacker with the database alone would see it.</summary>
    protected abstract Task<string> DumpDatabaseAsync();

    [Fact]
    public async Task CredentialSecret_PasswordsAndTokens_AreNotStoredInPlaintext()
    {
        var secret = "kubeconfig-secret-" + Guid.NewGuid().ToString("N");
        var password = "user-password-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = await Server.LoginAdminAsync();
        var userName = ServerFixture.Unique("plain");
        await admin.PostAsync("/api/v1/users", new { name = userName, password });
        using var user = await Server.LoginAsync(userName, password);
        var credential = await user.PostAsync("/api/v1/credentials", new { name = "k8s", provider = "local", secret });
        Assert.Equal(HttpStatusCode.Created, credential.Status);
        var apiToken = (string)(await user.PostAsync("/api/v1/me/tokens", new { name = "t" })).Body!["token"]!;

        var dump = await DumpDatabaseAsync();

        Assert.Contains(credential.Id, dump, StringComparison.Ordinal);
        foreach (var plaintext in new[] { secret, password, apiToken, user.Token!, user.RefreshToken! })
        {
            Assert.DoesNotContain(plaintext, dump, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(plaintext)), dump, StringComparison.Ordinal);
        }

        // The key ring lives in the data directory, not in the database.
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(Server.DataDirectory, "keys"), "key-*.xml"));
        Assert.DoesNotContain("<masterKey", dump, StringComparison.Ordinal);
    }
}

public sealed class SqliteSecretsAtRestTests(SqliteServerFixture fixture) : SecretsAtRestTests(fixture), IClassFixture<SqliteServerFixture>
{
    protected override async Task<string> DumpDatabaseAsync()
    {
        // Checkpoint so the main file holds everything, then read the raw bytes of the file and its WAL.
        await using (var connection = new SqliteConnection(Server.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new SqliteCommand("PRAGMA wal_checkpoint(TRUNCATE);", connection);
            await command.ExecuteNonQueryAsync();
        }

        var path = new SqliteConnectionStringBuilder(Server.Database.ConnectionString).DataSource;
        var text = new StringBuilder();
        foreach (var file in new[] { path, path + "-wal" }.Where(File.Exists))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            text.Append(Encoding.Latin1.GetString(copy.ToArray()));
        }

        return text.ToString();
    }
}

public sealed class PostgresSecretsAtRestTests(PostgresServerFixture fixture) : SecretsAtRestTests(fixture), IClassFixture<PostgresServerFixture>
{
    protected override async Task<string> DumpDatabaseAsync()
    {
        await using var connection = new NpgsqlConnection(Server.Database.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var text = new StringBuilder();
        foreach (var table in tables)
        {
            await using var dump = new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t", connection);
            await using var reader = await dump.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.GetString(0));
            }
        }

        return text.ToString();
    }
}
