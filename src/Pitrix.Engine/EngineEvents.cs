using System.Runtime.CompilerServices;
using System.Text.Json;
using Pitrix.Core.Engine;
using Pitrix.Persistence;

namespace Pitrix.Engine;

/// <summary>Appends to the engine's event log (<see cref="EngineEvent"/>); the caller saves, so the event commits with its change.</summary>
public static class EngineEvents
{
    private static readonly JsonSerializerOptions DataJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static readonly ConditionalWeakTable<PitrixDbContext, object> Hooked = [];

    /// <summary>
    /// Adds an event to <paramref name="db"/> (not saved). <paramref name="data"/> is serialized as a JSON
    /// object with snake_case names (an anonymous object is fine). When the context came from DI, saving it
    /// outside an explicit transaction wakes this process's <see cref="IEngineSignal"/> waiters; on
    /// PostgreSQL every process's waiters wake on commit.
    /// </summary>
    public static EngineEvent Append(PitrixDbContext db, string clusterId, string? jobId, string? taskId, string type, object data, DateTimeOffset at)
    {
        var appended = new EngineEvent
        {
            ClusterId = clusterId,
            JobId = jobId,
            TaskId = taskId,
            Type = type,
            Data = JsonSerializer.Serialize(data, data.GetType(), DataJson),
            At = at,
        };
        db.Events.Add(appended);
        HookSaves(db);
        return appended;
    }

    /// <summary>The last <paramref name="length"/> characters of a task's output, for events.</summary>
    public static string? Tail(string? output, int length = 500) =>
        output is null || output.Length <= length ? output : output[^length..];

    private static void HookSaves(PitrixDbContext db)
    {
        if (Hooked.TryGetValue(db, out _))
        {
            return;
        }

        Hooked.Add(db, db);
        db.SavedChanges += (_, _) =>
        {
            // Inside a transaction the change is not visible yet; the ledger announces after its commit.
            if (db.Database.CurrentTransaction is null)
            {
                var saved = db.ChangeTracker.Entries<EngineEvent>().Select(e => e.Entity).ToList();
                EngineSignal.Committed(db, saved);
            }
        };
    }
}
