namespace Pitrix.Providers.Local;

/// <summary>An instance as the local cloud stores it (<c>state/instances/&lt;key hash&gt;.json</c>, or <c>state/terminated/&lt;id&gt;.json</c>).</summary>
internal sealed record LocalInstanceRecord
{
    public required string InstanceId { get; init; }

    public required string IdempotencyKey { get; init; }

    public required string NetworkId { get; init; }

    public required string Name { get; init; }

    /// <summary><c>running</c>, <c>stopped</c> or <c>terminated</c>: what the instance should be, whatever its processes do.</summary>
    public required string State { get; init; }

    public required string PrivateIp { get; init; }

    public required int Cpu { get; init; }

    public required int MemoryMib { get; init; }

    public int Gpu { get; init; }

    public required string Image { get; init; }

    public Dictionary<string, string> Labels { get; init; } = [];

    /// <summary>The agent kind its bootstrap names, or <c>null</c> for an instance without an agent.</summary>
    public string? Agent { get; init; }

    /// <summary>The agent process last started, while the instance runs.</summary>
    public int? AgentPid { get; init; }

    /// <summary>The start time of <see cref="AgentPid"/>, which tells it from a later process with the same pid.</summary>
    public long? AgentStartTime { get; init; }

    /// <summary>How many times the agent was started: once per start, and once per restart after it died.</summary>
    public int AgentStarts { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public LocalProcessHandle? AgentProcess => AgentPid is { } pid && AgentStartTime is { } startTime ? new LocalProcessHandle(pid, startTime) : null;
}

/// <summary>A volume as the local cloud stores it (<c>state/volumes/&lt;key hash&gt;.json</c>); its data is <c>volumes/&lt;id&gt;</c>.</summary>
internal sealed record LocalVolumeRecord
{
    public required string VolumeId { get; init; }

    public required string IdempotencyKey { get; init; }

    public required string Name { get; init; }

    public required int SizeGib { get; init; }

    public string? InstanceId { get; init; }

    /// <summary>The absolute path inside an instance's root where the attached volume is linked.</summary>
    public required string MountPoint { get; init; }

    public Dictionary<string, string> Labels { get; init; } = [];
}

/// <summary>A network as the local cloud stores it (<c>state/networks/&lt;key hash&gt;.json</c>).</summary>
internal sealed record LocalNetworkRecord
{
    public required string NetworkId { get; init; }

    public required string IdempotencyKey { get; init; }

    public required string Name { get; init; }

    public required string Cidr { get; init; }

    /// <summary><c>netns</c> for a network of namespaces (<see cref="LocalIsolation.Netns"/>); null for loopback addresses.</summary>
    public string? Isolation { get; init; }

    public Dictionary<string, string> Labels { get; init; } = [];

    public bool IsNetns => Isolation == "netns";
}
