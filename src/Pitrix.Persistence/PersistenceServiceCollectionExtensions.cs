using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Pitrix.Persistence;

public static class PersistenceServiceCollectionExtensions
{
    /// <summary>Registers <see cref="PitrixDbContext"/> for the configured provider.</summary>
    public static IServiceCollection AddPitrixPersistence(this IServiceCollection services, DatabaseOptions options)
    {
        var connectionString = options.ConnectionString ?? throw new InvalidOperationException("Database:ConnectionString is not set.");
        if (options.Provider == DatabaseProviders.Postgres)
        {
            services.AddDbContext<PitrixDbContext, PostgresPitrixDbContext>(o => o.UseNpgsql(connectionString));
        }
        else
        {
            services.AddDbContext<PitrixDbContext, SqlitePitrixDbContext>(o => o.UseSqlite(connectionString));
        }

        return services;
    }
}
