using System.Text.Json.Nodes;
using Pitrix.Core;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Packages.VmCluster;

namespace Pitrix.Providers.Fake;

/// <summary>
/// FAKE app format for engine tests: designs clusters from real vmcluster packages (values checked
/// against <c>config.json</c>, <c>cluster.json.tmpl</c> rendered) and plans every action as a DAG of
/// fake-cloud tasks. Cluster labels program the fake: <c>fake.latency-ms</c> (each call's latency),
/// <c>fake.fail-kind</c> (a task kind such as <c>create_instance</c>) with <c>fake.fail</c>
/// (<c>always</c>, or how many first attempts fail).
/// </summary>
public sealed class FakeAppFormat(string name = "vmcluster") : IAppFormat
{
    private static readonly RetryPolicy Retry = new(MaxAttempts: 3, BaseMilliseconds: 200, MaxMilliseconds: 2000);

    public string Name { get; } = name;

    public Result<ClusterDesign> Design(AppPackage package, JsonObject? values, JsonObject? current = null) => VmClusterDesigner.Design(package, values, current);

    public Result<TaskPlan> Plan(PlanRequest request)
    {
        var plan = new Planner(request);
        var state = request.State;
        var live = state.Nodes.Where(n => n.Status != NodeStatus.Deleted && n.CreatedByJobId != request.JobId || request.Action == ClusterAction.Create).ToList();
        switch (request.Action)
        {
            case ClusterAction.Create:
                plan.Create(state.Nodes);
                plan.Add("register", "noop", plan.Keys("create:"));
                plan.Lifecycle(state.Roles, ["init", "start"], after: ["register"]);
                break;
            case ClusterAction.Start or ClusterAction.Recover:
                plan.PerNode(live, "start", "fake.start_instance", []);
                plan.Lifecycle(state.Roles, ["start"], after: plan.Keys("start:"));
                break;
            case ClusterAction.Stop or ClusterAction.Delete:
                plan.Lifecycle(state.Roles, ["stop"], after: []);
                plan.PerNode(live, "stop", "fake.stop_instance", plan.Keys("stop-"));
                break;
            case ClusterAction.Restart:
                plan.Lifecycle(state.Roles, ["restart"], after: []);
                break;
            case ClusterAction.Cease:
                plan.PerNode(live, "delete", "fake.delete_instance", []);
                break;
            case ClusterAction.Resize:
                foreach (var (role, size) in request.Parameters["roles"]!.AsObject())
                {
                    foreach (var node in live.Where(n => n.Role == role))
                    {
                        var input = new JsonObject { ["cpu"] = size?["cpu"]?.DeepClone(), ["memory"] = size?["memory"]?.DeepClone() };
                        plan.Add($"stop:{node.ServerId}", "fake.stop_instance", [], plan.Input(node, "stop_instance"));
                        plan.Add($"resize:{node.ServerId}", "fake.resize_instance", [$"stop:{node.ServerId}"], plan.Input(node, "resize_instance", input));
                        plan.Add($"start:{node.ServerId}", "fake.start_instance", [$"resize:{node.ServerId}"], plan.Input(node, "start_instance"));
                    }
                }

                break;
            case ClusterAction.ScaleOut:
                var added = state.Nodes.Where(n => n.CreatedByJobId == request.JobId).ToList();
                plan.Create(added);
                foreach (var role in added.Select(n => n.Role).Distinct(StringComparer.Ordinal))
                {
                    plan.Add($"init:{role}", "fake.run", plan.Keys("create:"), plan.Run(role, "init", added.Where(n => n.Role == role)));
                    plan.Add($"scale_out:{role}", "fake.run", [$"init:{role}"], plan.Run(role, "scale_out", state.Nodes.Where(n => n.Role == role)));
                }

                break;
            case ClusterAction.ScaleIn:
                var removed = request.Parameters["node_ids"]!.AsArray().Select(i => i!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                var leaving = live.Where(n => removed.Contains(n.Id)).ToList();
                foreach (var role in leaving.Select(n => n.Role).Distinct(StringComparer.Ordinal))
                {
                    plan.Add($"scale_in:{role}", "fake.run", [], plan.Run(role, "scale_in", live.Where(n => n.Role == role && !removed.Contains(n.Id))));
                }

                plan.PerNode(leaving, "delete", "fake.delete_instance", plan.Keys("scale_in:"));
                break;
            case ClusterAction.UpdateConfig:
                foreach (var role in state.Roles)
                {
                    var target = request.Target?.Roles.FirstOrDefault(r => r.Name == role.Name);
                    var changed = target is null ? [] : target.Env.Where(e => !role.Env.TryGetValue(e.Key, out var old) || old != e.Value).Select(e => e.Key).Order(StringComparer.Ordinal).ToList();
                    if (changed.Count > 0)
                    {
                        plan.Add($"reconfigure:{role.Name}", "fake.run", [], plan.Run(role.Name, "reconfigure " + string.Join(",", changed), live.Where(n => n.Role == role.Name)));
                    }
                }

                if (plan.Count == 0)
                {
                    plan.Add("unchanged", "noop", []);
                }

                break;
            case ClusterAction.Upgrade or ClusterAction.Rollback:
                plan.Lifecycle(state.Roles, ["stop", "upgrade", "start"], after: []);
                break;
            case ClusterAction.Custom:
                var action = request.Parameters["name"]!.GetValue<string>();
                if (!CustomActionsOf(state.Cluster.Spec).Contains(action))
                {
                    return Error.Validation("cluster.unknown_custom_action", $"The package declares no custom action '{action}' (it declares: {string.Join(", ", CustomActionsOf(state.Cluster.Spec).DefaultIfEmpty("none"))}).");
                }

                plan.Lifecycle(state.Roles, [action], after: []);
                break;
            default:
                return Error.Validation("cluster.unknown_action", $"The fake format cannot plan '{request.Action}'.");
        }

        return new TaskPlan(request.Action, plan.Tasks);
    }

    private static List<string> CustomActionsOf(string? spec) =>
        spec is null ? [] : (JsonNode.Parse(spec)?["nodes"]?.AsArray() ?? []).OfType<JsonObject>()
            .SelectMany(n => n["services"] is JsonObject s ? s.Select(p => p.Key) : [])
            .Where(s => !ClusterSpec.StandardServices.Contains(s)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Builds the task list; fault injection from the cluster's labels goes into every input.</summary>
    private sealed class Planner(PlanRequest request)
    {
        private readonly Dictionary<string, string> _labels = request.State.Cluster.Labels;

        public List<PlannedTask> Tasks { get; } = [];

        public int Count => Tasks.Count;

        public List<string> Keys(string prefix) => Tasks.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(t => t.Key).ToList();

        public void Add(string key, string kind, IReadOnlyList<string> dependsOn, JsonObject? input = null, bool compensation = false) =>
            Tasks.Add(new PlannedTask(key, kind, dependsOn, (input ?? []).ToJsonString(), kind == "noop" ? null : Retry, TimeoutSeconds: 120, Compensation: compensation));

        public JsonObject Input(ClusterNode node, string op, JsonObject? extra = null)
        {
            var input = extra ?? [];
            input["node_id"] = node.Id;
            return Fault(input, op);
        }

        public JsonObject Run(string role, string command, IEnumerable<ClusterNode> nodes) =>
            Fault(new JsonObject { ["role"] = role, ["command"] = command, ["nodes"] = new JsonArray([.. nodes.Select(n => (JsonNode)n.Id)]) }, "run");

        public void Create(IEnumerable<ClusterNode> nodes)
        {
            foreach (var node in nodes)
            {
                var role = request.State.Roles.FirstOrDefault(r => r.Name == node.Role);
                Add($"create:{node.ServerId}", "fake.create_instance", [], Input(node, "create_instance", new JsonObject { ["cpu"] = role?.Cpu ?? 1, ["memory"] = role?.Memory ?? 1024 }));
                if (!request.KeepOnFailure)
                {
                    Add($"undo-create:{node.ServerId}", "fake.delete_instance", [], Input(node, "delete_instance"), compensation: true);
                }
            }
        }

        public void PerNode(IEnumerable<ClusterNode> nodes, string step, string kind, IReadOnlyList<string> after)
        {
            foreach (var node in nodes)
            {
                Add($"{step}:{node.ServerId}", kind, after, Input(node, kind["fake.".Length..]));
            }
        }

        /// <summary>Each step on every role, roles side by side, steps in sequence.</summary>
        public void Lifecycle(IReadOnlyList<ClusterRole> roles, IReadOnlyList<string> steps, IReadOnlyList<string> after)
        {
            var previous = after.ToList();
            foreach (var step in steps)
            {
                var keys = new List<string>();
                foreach (var role in roles)
                {
                    var key = $"{step}-{role.Name}";
                    Add(key, "fake.run", previous, Run(role.Name, step, request.State.Nodes.Where(n => n.Role == role.Name && n.Status != NodeStatus.Deleted)));
                    keys.Add(key);
                }

                previous = keys;
            }
        }

        private JsonObject Fault(JsonObject input, string op)
        {
            if (_labels.TryGetValue("fake.latency-ms", out var latency) && int.TryParse(latency, out var ms))
            {
                input["latency_ms"] = ms;
            }

            if (_labels.TryGetValue("fake.fail-kind", out var kind) && kind == op && _labels.TryGetValue("fake.fail", out var fail))
            {
                input["fail"] = fail;
            }

            return input;
        }
    }
}
