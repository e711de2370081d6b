using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pitrix.Providers.Fake;

/// <summary>A fake instance as the fake cloud stores it.</summary>
public sealed record FakeInstance(
    [property: JsonPropertyName("instance_id")] string InstanceId,
    [property: JsonPropertyName("node_id")] string NodeId,
    [property: JsonPropertyName("idempotency_key")] string IdempotencyKey,
    [property: JsonPropertyName("private_ip")] string PrivateIp,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("cpu")] int Cpu,
    [property: JsonPropertyName("memory")] int Memory);

/// <summary>One operation in the fake cloud's log.</summary>
public sealed record FakeLogEntry(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("instance_id")] string? InstanceId,
    [property: JsonPropertyName("result")] string Result);

/// <summary>
/// FAKE cloud for engine tests: instances are JSON files in a directory, so they outlive the process like
/// a real cloud's do; every operation is appended to <c>log.jsonl</c>. Creation looks before it creates
/// (by idempotency key), as every real driver must, so a retried or resumed task finds its instance
/// instead of making a second one.
/// </summary>
public sealed class FakeCloud(string root) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public string Root { get; } = root;

    public string LogPath => Path.Combine(Root, "log.jsonl");

    private string InstancesPath => Path.Combine(Root, "instances");

    public async Task<(FakeInstance Instance, bool Created)> CreateInstanceAsync(string idempotencyKey, string nodeId, int cpu, int memory, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(InstancesPath);
            var path = PathOf(idempotencyKey);
            if (File.Exists(path))
            {
                var found = Read(path);
                await LogAsync("create_instance", idempotencyKey, found.InstanceId, "found");
                return (found, false);
            }

            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey));
            var instance = new FakeInstance($"i-{Convert.ToHexStringLower(hash)[..12]}", nodeId, idempotencyKey, $"10.{hash[0]}.{hash[1]}.{(hash[2] % 250) + 2}", "running", cpu, memory);
            await WriteAsync(path, instance);
            await LogAsync("create_instance", idempotencyKey, instance.InstanceId, "created");
            return (instance, true);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Changes an instance found by node id; false when the node has no instance (deleted, or never created).</summary>
    public async Task<bool> UpdateAsync(string op, string nodeId, Func<FakeInstance, FakeInstance?> change, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var existing = Directory.Exists(InstancesPath)
                ? Directory.EnumerateFiles(InstancesPath, "*.json").Select(p => (Path: p, Instance: Read(p))).FirstOrDefault(i => i.Instance.NodeId == nodeId)
                : default;
            if (existing.Instance is null)
            {
                await LogAsync(op, nodeId, null, "absent");
                return false;
            }

            var changed = change(existing.Instance);
            if (changed is null)
            {
                File.Delete(existing.Path);
            }
            else
            {
                await WriteAsync(existing.Path, changed);
            }

            await LogAsync(op, nodeId, existing.Instance.InstanceId, changed is null ? "deleted" : changed.State);
            return true;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    public IReadOnlyList<FakeInstance> Instances() =>
        Directory.Exists(InstancesPath) ? Directory.EnumerateFiles(InstancesPath, "*.json").Select(Read).ToList() : [];

    public static IReadOnlyList<FakeLogEntry> ReadLog(string root)
    {
        var path = Path.Combine(root, "log.jsonl");
        return File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<FakeLogEntry>(l)!).ToList()
            : [];
    }

    private string PathOf(string idempotencyKey) =>
        Path.Combine(InstancesPath, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..32] + ".json");

    private static FakeInstance Read(string path) => JsonSerializer.Deserialize<FakeInstance>(File.ReadAllBytes(path))!;

    private static async Task WriteAsync(string path, FakeInstance instance)
    {
        // Written whole and renamed into place: a process killed mid-write leaves no half instance.
        var temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(instance));
        File.Move(temporary, path, overwrite: true);
    }

    private async Task LogAsync(string op, string key, string? instanceId, string result)
    {
        var line = JsonSerializer.Serialize(new FakeLogEntry(DateTimeOffset.UtcNow, op, key, instanceId, result)) + "\n";
        await using var stream = new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line));
        await stream.FlushAsync();
    }
}
