using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pitrix.Core;
using Pitrix.Core.Clusters;

namespace Pitrix.Packages.VmCluster;

/// <summary>
/// Designs a vmcluster from its package and the user's values: checks the values against
/// <c>config.json</c> (defaults filled), renders <c>cluster.json.tmpl</c> with them, checks the result,
/// and reads the roles (count, sizes, env) and the custom actions the package declares.
/// </summary>
public static class VmClusterDesigner
{
    /// <summary>The role name of a single-role cluster whose template names none.</summary>
    public const string DefaultRole = "node";

    /// <summary>Designs a cluster; with <paramref name="current"/> (a change to an existing cluster) values marked <c>"changeable": false</c> must keep their current value.</summary>
    public static Result<ClusterDesign> Design(AppPackage package, JsonObject? values, JsonObject? current = null)
    {
        if (!package.Files.TryGetValue(ConfigSchema.FileName, out var configBytes) || !package.Files.TryGetValue(ClusterTemplate.FileName, out var templateBytes))
        {
            return Error.Validation("package.invalid", $"Package {package.Name} {package.Version} lacks {ConfigSchema.FileName} or {ClusterTemplate.FileName}.");
        }

        JsonObject cluster;
        JsonObject filled;
        try
        {
            var schema = ConfigSchema.Parse(Encoding.UTF8.GetString(configBytes));
            var (checkedValues, errors) = schema.Validate(values);
            if (errors.Count > 0)
            {
                return Error.Validation("cluster.invalid_values", $"The configuration values do not satisfy {package.Name} {package.Version}'s {ConfigSchema.FileName}.", errors);
            }

            if (current is not null && Unchangeable(schema.Root, "", checkedValues, current) is { Count: > 0 } frozen)
            {
                return Error.Validation("cluster.unchangeable_values", $"{package.Name} {package.Version} does not allow these values to change once the cluster exists.", frozen);
            }

            filled = checkedValues;
            cluster = ClusterTemplate.Render(Encoding.UTF8.GetString(templateBytes), filled);
        }
        catch (PackageException ex)
        {
            return Error.Validation(ex.Code, ex.Message);
        }

        var specErrors = ClusterSpec.Validate(cluster);
        if (specErrors.Count > 0)
        {
            return Error.Validation("cluster.invalid_spec", $"With these values {package.Name} {package.Version} renders an invalid cluster.", specErrors);
        }

        var roles = new List<RoleDesign>();
        var custom = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var node in cluster["nodes"]!.AsArray().OfType<JsonObject>())
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node["env"] is JsonObject envObject)
            {
                foreach (var (key, value) in envObject)
                {
                    env[key] = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : value?.ToJsonString() ?? "";
                }
            }

            roles.Add(new RoleDesign(
                Name: node["role"]?.GetValue<string>() ?? DefaultRole,
                Count: Int(node, "count", 0),
                Cpu: Int(node, "cpu", 1),
                Memory: Int(node, "memory", 1024),
                Gpu: Int(node, "gpu", 0),
                VolumeSize: node["volume"] is JsonObject volume ? Int(volume, "size", 0) : 0,
                Env: env));
            if (node["services"] is JsonObject services)
            {
                custom.UnionWith(services.Select(s => s.Key).Where(name => !ClusterSpec.StandardServices.Contains(name)));
            }
        }

        return new ClusterDesign(filled, cluster.ToJsonString(), roles, custom.ToList());
    }

    /// <summary>The paths of values marked not changeable whose new value differs from the current one.</summary>
    private static Dictionary<string, string[]> Unchangeable(ConfigNode group, string prefix, JsonObject proposed, JsonObject current)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var node in group.Properties)
        {
            var path = prefix.Length == 0 ? node.Key : $"{prefix}.{node.Key}";
            if (node.Type == ConfigType.Array && node.Properties.Count > 0)
            {
                if (proposed[node.Key] is JsonObject p && current[node.Key] is JsonObject c)
                {
                    foreach (var (key, value) in Unchangeable(node, path, p, c))
                    {
                        errors[key] = value;
                    }
                }
            }
            else if (!node.Changeable && current.ContainsKey(node.Key) && !JsonNode.DeepEquals(proposed[node.Key], current[node.Key]))
            {
                errors[path] = [$"Cannot change once the cluster exists (it is {current[node.Key]?.ToJsonString() ?? "null"})."];
            }
        }

        return errors;
    }

    private static int Int(JsonObject owner, string field, int fallback) =>
        owner[field] is JsonValue v && v.TryGetValue<int>(out var number) ? number
        : owner[field] is JsonValue s && s.TryGetValue<string>(out var text) && int.TryParse(text, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : fallback;
}
