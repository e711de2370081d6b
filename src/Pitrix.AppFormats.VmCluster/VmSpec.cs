using System.Text.Json.Nodes;
using Pitrix.Packages.VmCluster;

namespace Pitrix.AppFormats.VmCluster;

/// <summary>One service of a role (<c>init</c>, <c>start</c>, a custom action…) as the rendered cluster spec declares it.</summary>
/// <param name="Name">The service name.</param>
/// <param name="Command">The command line; empty for a service declared without one.</param>
/// <param name="Order">Roles run a step in ascending order, one layer per value; roles without one run first (0).</param>
/// <param name="TimeoutSeconds">How long the command may run.</param>
/// <param name="NodesToExecuteOn">Run on this many of the role's nodes (lowest server ids first); null = all.</param>
/// <param name="PostStartService">For <c>init</c>: run after <c>start</c> instead of before.</param>
/// <param name="PreCheck">For scale_out/scale_in: a command run first on the existing nodes; a failure stops the job before anything changes.</param>
/// <param name="AllowForce">Whether the command may fail without failing the job (destroy during a forced removal).</param>
public sealed record VmService(string Name, string Command, int Order, int TimeoutSeconds, int? NodesToExecuteOn, bool PostStartService, string? PreCheck, bool AllowForce);

/// <summary>A role's health check, from <c>health_check</c>.</summary>
public sealed record VmHealthCheck(bool Enabled, string CheckCommand, string? ActionCommand, int IntervalSeconds, int TimeoutSeconds, int ActionTimeoutSeconds, int HealthyThreshold, int UnhealthyThreshold);

/// <summary>What the planner needs of one role of a rendered cluster spec.</summary>
public sealed record VmRole(string Name, string Image, string? MountPoint, IReadOnlyDictionary<string, VmService> Services, VmHealthCheck? HealthCheck, string ResizePolicy)
{
    public VmService? Service(string name) => Services.TryGetValue(name, out var service) && service.Command.Length > 0 ? service : null;
}

/// <summary>Reads the rendered cluster spec (<c>cluster.json</c>) of a vmcluster package.</summary>
public static class VmSpec
{
    public const string DefaultMountPoint = "/data";

    /// <summary>The roles of a spec by name; an absent or unreadable spec has none.</summary>
    public static IReadOnlyDictionary<string, VmRole> Roles(string? spec)
    {
        var roles = new Dictionary<string, VmRole>(StringComparer.Ordinal);
        if (spec is null || JsonNode.Parse(spec) is not JsonObject cluster || cluster["nodes"] is not JsonArray nodes)
        {
            return roles;
        }

        foreach (var node in nodes.OfType<JsonObject>())
        {
            var name = Str(node["role"]) ?? VmClusterDesigner.DefaultRole;
            var services = new Dictionary<string, VmService>(StringComparer.Ordinal);
            if (node["services"] is JsonObject declared)
            {
                foreach (var (serviceName, value) in declared)
                {
                    if (value is JsonObject service)
                    {
                        services[serviceName] = new VmService(
                            serviceName,
                            Str(service["cmd"]) ?? "",
                            Int(service["order"]) ?? 0,
                            ClusterSpec.TimeoutOf(service),
                            Int(service["nodes_to_execute_on"]),
                            Bool(service["post_start_service"]),
                            Str(service["pre_check"]),
                            Bool(service["allow_force"]));
                    }
                }
            }

            VmHealthCheck? health = null;
            if (node["health_check"] is JsonObject check && Str(check["check_cmd"]) is { Length: > 0 } checkCommand)
            {
                health = new VmHealthCheck(
                    check["enable"] is null || Bool(check["enable"]),
                    checkCommand,
                    Str(check["action_cmd"]),
                    Int(check["interval_sec"]) ?? 60,
                    Int(check["timeout_sec"]) ?? 10,
                    Int(check["action_timeout_sec"]) ?? 60,
                    Int(check["healthy_threshold"]) ?? 2,
                    Int(check["unhealthy_threshold"]) ?? 3);
            }

            var mountPoint = node["volume"] is JsonObject volume ? Str(volume["mount_point"]) ?? DefaultMountPoint : null;
            roles[name] = new VmRole(
                name,
                Str(node["container"]?["image"]) ?? "",
                mountPoint,
                services,
                health,
                Str(node["resize_policy"]) ?? Str(cluster["resize_policy"]) ?? "parallel");
        }

        return roles;
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;
}
