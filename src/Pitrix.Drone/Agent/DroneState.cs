using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pitrix.Drone.Agent;

/// <summary>A node's health check as configured by its frontgate, kept so a restarted drone resumes it.</summary>
public sealed record PersistedHealthCheck
{
    public required string CheckCmd { get; init; }

    public string? ActionCmd { get; init; }

    public double IntervalSec { get; init; }

    public double TimeoutSec { get; init; }

    public double? ActionTimeoutSec { get; init; }

    public int HealthyThreshold { get; init; }

    public int UnhealthyThreshold { get; init; }
}

/// <summary>What a drone remembers across restarts besides its credential and command records.</summary>
public sealed record DroneState
{
    /// <summary>Whether the config watch is on (start_config_watch without a later stop).</summary>
    public bool WatchingConfig { get; init; }

    /// <summary>The version of the installed app files, null when none.</summary>
    public string? AppVersion { get; init; }

    /// <summary>The task that installed them: a repeated install of the same task and version is not redone.</summary>
    public string? AppInstallTaskId { get; init; }

    /// <summary>The health check, null when none is configured.</summary>
    public PersistedHealthCheck? HealthCheck { get; init; }
}

/// <summary>Reads and atomically replaces <c>state.json</c> in the drone's data directory.</summary>
internal sealed class DroneStateStore(string dataDirectory)
{
    private readonly string _path = Path.Combine(dataDirectory, "state.json");

    public DroneState Load()
    {
        if (!File.Exists(_path))
        {
            return new DroneState();
        }

        using var stream = File.OpenRead(_path);
        return JsonSerializer.Deserialize(stream, DroneStateJsonContext.Default.DroneState) ?? new DroneState();
    }

    public void Save(DroneState state) =>
        DroneFiles.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(state, DroneStateJsonContext.Default.DroneState));
}

/// <summary>Small helpers for the drone's own files, all private to its user.</summary>
internal static class DroneFiles
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Writes a file (mode 0600) through a temporary sibling and a rename, so readers see the old or the new content.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly }))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void CreatePrivateDirectory(string path) => Directory.CreateDirectory(path, OwnerOnlyDirectory);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DroneState))]
[JsonSerializable(typeof(CredentialInfo))]
internal sealed partial class DroneStateJsonContext : JsonSerializerContext;
