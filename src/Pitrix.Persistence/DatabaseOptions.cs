using Microsoft.Extensions.Options;

namespace Pitrix.Persistence;

/// <summary>Which database Pitrix keeps its state in.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary><c>sqlite</c> or <c>postgres</c>. Default: <c>sqlite</c>.</summary>
    public string Provider { get; set; } = DatabaseProviders.Sqlite;

    /// <summary>
    /// ADO.NET connection string. Default for SQLite: <c>Data Source={DataDirectory}/pitrix.db</c>;
    /// required for PostgreSQL.
    /// </summary>
    public string? ConnectionString { get; set; }
}

public static class DatabaseProviders
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
}

public sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (options.Provider is not (DatabaseProviders.Sqlite or DatabaseProviders.Postgres))
        {
            return ValidateOptionsResult.Fail($"Database:Provider must be 'sqlite' or 'postgres', not '{options.Provider}'.");
        }

        if (options.Provider == DatabaseProviders.Postgres && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail("Database:ConnectionString is required when Database:Provider is 'postgres'.");
        }

        return ValidateOptionsResult.Success;
    }
}
