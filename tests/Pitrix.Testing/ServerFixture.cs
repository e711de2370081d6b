using Microsoft.AspNetCore.Builder;
using Xunit;

namespace Pitrix.Testing;

/// <summary>One test server shared by the tests of a class; each backend has its own subclass.</summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private TestServer? _server;

    public abstract string DatabaseKind { get; }

    public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>Extra registrations for the server, such as a fake cloud.</summary>
    protected virtual Action<WebApplicationBuilder>? Configure => null;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(DatabaseKind, Configure);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A name no other test uses, for resources in the shared server.</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}

public sealed class SqliteServerFixture : ServerFixture
{
    public override string DatabaseKind => "sqlite";
}

public sealed class PostgresServerFixture : ServerFixture
{
    public override string DatabaseKind => "postgres";
}
