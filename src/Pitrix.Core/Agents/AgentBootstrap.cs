using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pitrix.Core.Agents;

/// <summary>
/// The user data an agent boots with (JSON, snake_case): which agent to run, who it is, the one-time join
/// token and CA to enroll with, and where to dial. A cloud's instance user data (or, on the local runtime,
/// <c>/etc/pitrix/agent.json</c> under the node's root) carries one.
/// </summary>
public sealed record AgentBootstrap
{
    /// <summary><see cref="AgentKinds.Node"/> (runs <c>pitrix-drone</c>) or <see cref="AgentKinds.Frontgate"/> (runs <c>pitrix-frontgate</c>).</summary>
    public required string Agent { get; init; }

    /// <summary>The agent's id: the cluster node id for a drone, the frontgate id for a frontgate.</summary>
    public required string Id { get; init; }

    public required string JoinToken { get; init; }

    /// <summary>The agent network's CA certificate (PEM): the only certificate the agent trusts.</summary>
    public required string CaPem { get; init; }

    /// <summary>Frontgate only: Pilot's address, like <c>https://127.0.0.1:9114</c>.</summary>
    public string? PilotAddress { get; init; }

    /// <summary>Frontgate only: where it listens for its drones, like <c>127.64.0.1:9111</c>, or <c>:9111</c> for the machine's private address (<c>PITRIX_NODE_IP</c>).</summary>
    public string? ListenAddress { get; init; }

    /// <summary>Drone only: the frontgate's address, like <c>https://127.64.0.1:9111</c>.</summary>
    public string? FrontgateAddress { get; init; }

    /// <summary>Drone only: the frontgate's id, checked against the identity in its certificate.</summary>
    public string? FrontgateId { get; init; }

    /// <summary>Drone only: the node's private IP, which it binds nothing to but reports and exposes as <c>PITRIX_NODE_IP</c>.</summary>
    public string? NodeIp { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses user data; <c>null</c> when it is not an agent bootstrap.</summary>
    public static AgentBootstrap? TryParse(string? userData)
    {
        if (string.IsNullOrWhiteSpace(userData))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<AgentBootstrap>(userData, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
