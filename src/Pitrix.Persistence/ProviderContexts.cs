using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Pitrix.Persistence;

/// <summary>The SQLite flavour, with its own migrations under <c>Migrations/Sqlite</c>.</summary>
public sealed class SqlitePitrixDbContext(DbContextOptions<SqlitePitrixDbContext> options) : PitrixDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot compare or order DateTimeOffset values; store them as sortable integers.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>The PostgreSQL flavour, with its own migrations under <c>Migrations/Postgres</c>.</summary>
public sealed class PostgresPitrixDbContext(DbContextOptions<PostgresPitrixDbContext> options) : PitrixDbContext(options);

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite context without a host.</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePitrixDbContext>
{
    public SqlitePitrixDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlitePitrixDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the PostgreSQL context without a host or a server.</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPitrixDbContext>
{
    public PostgresPitrixDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresPitrixDbContext>().UseNpgsql("Host=127.0.0.1;Database=design").Options);
}
