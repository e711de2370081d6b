using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pitrix.Persistence;

namespace Pitrix.Engine;

/// <summary>
/// On PostgreSQL, relays <c>NOTIFY pitrix_engine</c> (sent by the trigger on <c>events</c> when any
/// process commits events) to this process's <see cref="EngineSignal"/>: payload <c>events:{seq}</c>,
/// <c>ready</c> (tasks may have become ready) or <c>cancel</c> (tasks were cancelled). On SQLite it does
/// nothing (one process; the in-process signal suffices). After a lost connection it reconnects and wakes
/// every waiter, since notifications sent meanwhile are gone.
/// </summary>
public sealed partial class PostgresEngineListener(IServiceScopeFactory scopes, EngineSignal signal, TimeProvider time, ILogger<PostgresEngineListener> logger) : BackgroundService
{
    public const string Channel = "pitrix_engine";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string? connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PitrixDbContext>();
            if (!db.Database.IsNpgsql())
            {
                return;
            }

            connectionString = db.Database.GetConnectionString();
        }

        // A listening connection stays open and idle; keep it out of the pool and away from keepalive-less timeouts.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 30, ApplicationName = "pitrix-engine-listener" };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => Relay(e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                WakeAll();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.IO.IOException)
            {
                Log.ListenFailed(logger, ex);
                WakeAll();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Relay(string payload)
    {
        if (payload == "ready")
        {
            signal.TasksReady();
        }
        else if (payload == "cancel")
        {
            signal.TasksCancelled();
        }
        else if (payload.StartsWith("events:", StringComparison.Ordinal) && long.TryParse(payload.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            signal.EventsAppended(seq);
        }
    }

    private void WakeAll()
    {
        signal.TasksReady();
        signal.TasksCancelled();
        signal.EventsAppended(0);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for engine notifications failed; reconnecting (workers poll meanwhile)")]
        public static partial void ListenFailed(ILogger logger, Exception exception);
    }
}
