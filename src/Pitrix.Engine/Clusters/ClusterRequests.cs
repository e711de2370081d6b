using System.Text.Json;
using System.Text.Json.Nodes;
using Pitrix.Core.Access;
using Pitrix.Core.Clusters;

namespace Pitrix.Engine.Clusters;

/// <summary>A new cluster, checked by the caller (permissions, runtime matching) and designed by its app format.</summary>
public sealed record ClusterCreate(
    string Name,
    string? Description,
    string AppId,
    string AppVersionId,
    string Format,
    string RuntimeId,
    string OwnerId,
    string? GroupId,
    Visibility Visibility,
    IReadOnlyDictionary<string, string> Labels,
    ClusterDesign Design,
    bool KeepOnFailure,
    string RequestedBy);

/// <summary>
/// An action on an existing cluster. <see cref="Target"/> is the design it moves to (update_config,
/// upgrade, rollback); <see cref="Queue"/> waits behind a running job instead of failing with
/// <c>cluster.busy</c>; <see cref="Force"/> (cease only) cancels whatever runs.
/// </summary>
public sealed record ClusterActionRequest(
    string Action,
    JsonObject Parameters,
    ClusterDesign? Target,
    bool Queue,
    bool KeepOnFailure,
    string RequestedBy,
    bool Force = false);

/// <summary>How a job's parameters are stored: the caller's parameters plus the target design, if any.</summary>
internal static class JobParameters
{
    private const string TargetKey = "_target";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Write(JsonObject parameters, ClusterDesign? target)
    {
        var stored = (JsonObject)parameters.DeepClone();
        if (target is not null)
        {
            stored[TargetKey] = JsonSerializer.SerializeToNode(target, Json);
        }

        return stored.ToJsonString();
    }

    public static (JsonObject Parameters, ClusterDesign? Target) Read(string stored)
    {
        var parameters = JsonNode.Parse(stored) as JsonObject ?? [];
        var target = parameters[TargetKey] is { } node ? node.Deserialize<ClusterDesign>(Json) : null;
        parameters.Remove(TargetKey);
        return (parameters, target);
    }
}
