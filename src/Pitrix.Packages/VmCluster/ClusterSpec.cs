using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pitrix.Packages.VmCluster;

/// <summary>
/// Checks a rendered cluster definition. Every field the AppCenter/OpenPitrix documentation names is
/// accepted and kept (links, endpoints, health_check, monitor, upgrade_policy, custom services…) so the
/// engine can act on it later; the fields that drive deployment are checked for type and range here.
/// Errors are keyed by JSON path, for example <c>nodes[0].services.start.timeout</c>.
/// </summary>
public static class ClusterSpec
{
    public const int MaxCommandTimeoutSeconds = 86400;
    public const int DefaultCommandTimeoutSeconds = 600;

    public static IReadOnlySet<string> StandardServices { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "init", "start", "stop", "restart", "scale_out", "scale_in", "destroy", "upgrade", "backup", "restore", "delete_snapshot",
    };

    private static readonly HashSet<string> CommandOptional = new(StringComparer.Ordinal) { "backup", "restore", "delete_snapshot" };
    private static readonly string[] ContainerTypes = ["kvm", "docker", "lxc", "bm"];
    private static readonly string[] FileSystems = ["ext4", "xfs", "ntfs"];
    private static readonly string[] AdvancedActions = ["change_subnet", "scale_horizontal", "add_nodes", "associate_eip"];

    public static IReadOnlyDictionary<string, string[]> Validate(JsonObject cluster)
    {
        var errors = new PathErrors();
        OptionalString(cluster, "name", "name", errors);
        OptionalString(cluster, "description", "description", errors);
        if (cluster["advanced_actions"] is JsonArray actions)
        {
            foreach (var action in actions)
            {
                if (action is not JsonValue v || !v.TryGetValue<string>(out var s) || !AdvancedActions.Contains(s))
                {
                    errors.Add("advanced_actions", $"{action?.ToJsonString()} is not one of {string.Join(", ", AdvancedActions)}.");
                }
            }
        }

        if (cluster["nodes"] is not JsonArray nodes || nodes.Count == 0)
        {
            errors.Add("nodes", "Required: a list of at least one node role.");
            return errors.ToDictionary();
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            var path = $"nodes[{i}]";
            if (nodes[i] is not JsonObject node)
            {
                errors.Add(path, "Must be an object.");
                continue;
            }

            var role = Text(node, "role");
            if (role is null && nodes.Count > 1)
            {
                errors.Add($"{path}.role", "Required when there is more than one node role.");
            }
            else if (role is not null && !roles.Add(role))
            {
                errors.Add($"{path}.role", $"Role '{role}' is defined twice.");
            }

            ValidateNode(node, path, errors);
        }

        return errors.ToDictionary();
    }

    private static void ValidateNode(JsonObject node, string path, PathErrors errors)
    {
        if (node["container"] is not JsonObject container)
        {
            errors.Add($"{path}.container", "Required: {type, image}.");
        }
        else
        {
            var type = Text(container, "type");
            if (type is null || !ContainerTypes.Contains(type))
            {
                errors.Add($"{path}.container.type", $"Must be one of {string.Join(", ", ContainerTypes)}.");
            }

            if (string.IsNullOrWhiteSpace(Text(container, "image")))
            {
                errors.Add($"{path}.container.image", "Required.");
            }
        }

        Integer(node, "count", $"{path}.count", 0, 200, required: true, errors);
        Integer(node, "cpu", $"{path}.cpu", 1, 1024, required: false, errors);
        Integer(node, "memory", $"{path}.memory", 1, 16 * 1024 * 1024, required: false, errors);
        Integer(node, "gpu", $"{path}.gpu", 0, 64, required: false, errors);
        Integer(node, "replica", $"{path}.replica", 0, 20, required: false, errors);
        Integer(node, "server_id_upper_bound", $"{path}.server_id_upper_bound", 1, 100000, required: false, errors);
        if (node["volume"] is JsonObject volume)
        {
            Integer(volume, "size", $"{path}.volume.size", 0, 1024 * 1024, required: false, errors);
            var fs = Text(volume, "filesystem");
            if (fs is not null && !FileSystems.Contains(fs))
            {
                errors.Add($"{path}.volume.filesystem", $"Must be one of {string.Join(", ", FileSystems)}.");
            }

            var mounts = volume["mount_point"] switch
            {
                JsonArray list => list.Select(m => m?.ToString() ?? "").ToList(),
                JsonValue single => [single.ToString()],
                _ => [],
            };
            foreach (var mount in mounts.Where(m => !(m.StartsWith('/') || (m.Length >= 2 && m[1] == ':'))))
            {
                errors.Add($"{path}.volume.mount_point", $"'{mount}' is not an absolute path.");
            }
        }

        if (node["env"] is not (null or JsonObject))
        {
            errors.Add($"{path}.env", "Must be an object.");
        }

        if (node["services"] is JsonObject services)
        {
            foreach (var (name, value) in services)
            {
                ValidateService(name, value, $"{path}.services.{name}", errors);
            }
        }
        else if (node["services"] is not null)
        {
            errors.Add($"{path}.services", "Must be an object of services.");
        }

        if (node["health_check"] is JsonObject health)
        {
            foreach (var field in new[] { "interval_sec", "timeout_sec", "action_timeout_sec", "healthy_threshold", "unhealthy_threshold" })
            {
                Integer(health, field, $"{path}.health_check.{field}", 1, MaxCommandTimeoutSeconds, required: false, errors);
            }
        }
    }

    private static void ValidateService(string name, JsonNode? value, string path, PathErrors errors)
    {
        if (value is not JsonObject service)
        {
            errors.Add(path, "Must be an object with 'cmd'.");
            return;
        }

        var cmd = service["cmd"];
        if (cmd is null && !CommandOptional.Contains(name))
        {
            errors.Add($"{path}.cmd", "Required.");
        }
        else if (cmd is not null && (cmd is not JsonValue c || !c.TryGetValue<string>(out var text) || string.IsNullOrWhiteSpace(text)))
        {
            errors.Add($"{path}.cmd", "Must be a non-blank command string.");
        }

        Integer(service, "timeout", $"{path}.timeout", 1, MaxCommandTimeoutSeconds, required: false, errors);
        Integer(service, "order", $"{path}.order", -1000, 1000, required: false, errors);
        Integer(service, "nodes_to_execute_on", $"{path}.nodes_to_execute_on", 1, 200, required: false, errors);
        if (service["post_start_service"] is { } post && post.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add($"{path}.post_start_service", "Must be true or false.");
        }
    }

    /// <summary>The command timeout of a service in seconds, with the default applied.</summary>
    public static int TimeoutOf(JsonObject service) =>
        service["timeout"] is JsonValue v && v.TryGetValue<int>(out var seconds) ? seconds : DefaultCommandTimeoutSeconds;

    private static void Integer(JsonObject owner, string field, string path, long min, long max, bool required, PathErrors errors)
    {
        var node = owner[field];
        if (node is null)
        {
            if (required)
            {
                errors.Add(path, "Required.");
            }

            return;
        }

        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<long>(out var number))
        {
            errors.Add(path, "Must be an integer.");
            return;
        }

        if (number < min || number > max)
        {
            errors.Add(path, $"Must be from {min} to {max}.");
        }
    }

    private static void OptionalString(JsonObject owner, string field, string path, PathErrors errors)
    {
        if (owner[field] is { } node && node.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Null))
        {
            errors.Add(path, "Must be a string.");
        }
    }

    private static string? Text(JsonObject owner, string field) => owner[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
