using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Pitrix.Persistence;

/// <summary>Recognizes database failures that mean "someone else got there first".</summary>
public static class DbErrors
{
    /// <summary>
    /// True when a save failed on a unique index: two requests raced past the same duplicate check,
    /// and the loser should hear "conflict", not "internal error".
    /// </summary>
    public static bool IsUniqueViolation(Exception exception) => exception is DbUpdateException
    {
        InnerException: SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 }
            or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation },
    };
}
