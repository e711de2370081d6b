using System.Text.Json.Nodes;
using Pitrix.Core;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Packages.VmCluster;

namespace Pitrix.AppFormats.VmCluster;

/// <summary>
/// The <c>vmcluster</c> app format: designs clusters from vmcluster packages (<see cref="VmClusterDesigner"/>)
/// and plans every action as a DAG of cloud-driver and agent-network tasks (<see cref="VmTaskKinds"/>).
/// </summary>
/// <remarks>
/// A role's step (<c>init</c>, <c>start</c>…) runs on the role's nodes side by side; roles run a step in
/// ascending <c>order</c> of that service, one layer per value. What OpenPitrix left unbuilt is planned here:
/// <c>pre_check</c> before scaling, upgrade and rollback with the new version's files and commands, health
/// checks, and custom actions with parameters.
/// </remarks>
public sealed class VmClusterFormat : IAppFormat
{
    public const string FormatName = "vmcluster";

    private static readonly RetryPolicy CloudRetry = new(MaxAttempts: 5, BaseMilliseconds: 500, MaxMilliseconds: 10_000);
    private static readonly RetryPolicy AgentWait = new(MaxAttempts: 120, BaseMilliseconds: 500, MaxMilliseconds: 2_000);
    private static readonly RetryPolicy AgentRetry = new(MaxAttempts: 10, BaseMilliseconds: 500, MaxMilliseconds: 5_000);

    public string Name => FormatName;

    public Result<ClusterDesign> Design(AppPackage package, JsonObject? values, JsonObject? current = null) => VmClusterDesigner.Design(package, values, current);

    public Result<TaskPlan> Plan(PlanRequest request)
    {
        var state = request.State;
        var roles = VmSpec.Roles(state.Cluster.Spec);
        var plan = new Planner(request, roles);
        var live = state.Nodes.Where(n => n.Status != NodeStatus.Deleted).OrderBy(n => n.ServerId).ToList();
        var running = state.Cluster.Status is ClusterStatus.Active or ClusterStatus.Failed or ClusterStatus.Pending;
        switch (request.Action)
        {
            case ClusterAction.Create:
            {
                var ready = plan.Provision(live, state.Cluster.AppVersionId, after: []);
                var metadata = plan.Add("metadata", VmTaskKinds.RegisterMetadata, ready, plan.Metadata(), AgentRetry);
                var watching = plan.PerNode(live, "watch", VmTaskKinds.ConfigWatch, [metadata], n => new JsonObject { ["on"] = true }, AgentRetry);
                var done = plan.Bring(live, roles, watching);
                plan.HealthChecks(live, roles, done);
                plan.UndoNodes(live, removeMetadata: true);
                break;
            }

            case ClusterAction.Start or ClusterAction.Recover:
            {
                var started = plan.PerNode(live, "start-instance", VmTaskKinds.Instance, [], _ => new JsonObject { ["op"] = "start" }, CloudRetry);
                var agents = plan.PerNode(live, "agent", VmTaskKinds.WaitAgent, started, null, AgentWait, timeoutSeconds: 30);
                var metadata = plan.Add("metadata", VmTaskKinds.RegisterMetadata, agents, plan.Metadata(), AgentRetry);
                var watching = plan.PerNode(live, "watch", VmTaskKinds.ConfigWatch, [metadata], _ => new JsonObject { ["on"] = true }, AgentRetry);
                var done = plan.Step("start", live, watching);
                plan.HealthChecks(live, roles, done);
                break;
            }

            case ClusterAction.Stop or ClusterAction.Delete:
            {
                var stopped = running ? plan.Step("stop", live, [], allowFailure: true) : [];
                var unwatched = plan.PerNode(live, "unwatch", VmTaskKinds.ConfigWatch, stopped, _ => new JsonObject { ["on"] = false, ["optional"] = true }, AgentRetry);
                plan.PerNode(live, "stop-instance", VmTaskKinds.Instance, unwatched, _ => new JsonObject { ["op"] = "stop" }, CloudRetry);
                break;
            }

            case ClusterAction.Restart:
            {
                if (roles.Values.Any(r => r.Service("restart") is not null))
                {
                    plan.Step("restart", live, []);
                }
                else
                {
                    plan.Step("start", live, plan.Step("stop", live, []));
                }

                break;
            }

            case ClusterAction.Cease:
            {
                var after = running ? plan.Step("stop", live, plan.Step("destroy", live, [], allowFailure: true), allowFailure: true) : [];
                var removed = plan.PerNode(live, "remove", VmTaskKinds.RemoveNode, after, null, CloudRetry);
                var deregistered = plan.Add("deregister", VmTaskKinds.DeregisterMetadata, removed, new JsonObject { ["keys"] = new JsonArray(""), ["prefix"] = true, ["optional"] = true }, AgentRetry);
                plan.Add("release-frontgate", VmTaskKinds.ReleaseFrontgate, [deregistered], [], CloudRetry);
                break;
            }

            case ClusterAction.ScaleOut:
            {
                var added = live.Where(n => n.CreatedByJobId == request.JobId).ToList();
                var existing = live.Where(n => n.CreatedByJobId != request.JobId).ToList();
                var addedIds = Ids(added);
                var checkedFirst = plan.PreCheck("scale_out", existing, added.Select(n => n.Role), new JsonObject { ["adding"] = addedIds.DeepClone() });
                var ready = plan.Provision(added, state.Cluster.AppVersionId, checkedFirst);
                var metadata = plan.Add("metadata", VmTaskKinds.RegisterMetadata, ready, plan.Metadata(adding: addedIds), AgentRetry);
                var watching = plan.PerNode(added, "watch", VmTaskKinds.ConfigWatch, [metadata], _ => new JsonObject { ["on"] = true }, AgentRetry);
                var brought = plan.Bring(added, roles, watching);
                var told = plan.Step("scale_out", existing.Where(n => added.Any(a => a.Role == n.Role)).ToList(), brought, env: new JsonObject { ["adding"] = addedIds.DeepClone() });
                var cleared = plan.Add("clear-adding", VmTaskKinds.DeregisterMetadata, told, new JsonObject { ["keys"] = new JsonArray("adding-hosts/"), ["prefix"] = true }, AgentRetry);
                plan.HealthChecks(added, roles, [cleared]);
                plan.UndoNodes(added, removeMetadata: false);
                plan.Add("undo-metadata", VmTaskKinds.DeregisterMetadata, [], new JsonObject
                {
                    ["keys"] = new JsonArray([.. added.Select(n => (JsonNode)$"hosts/{n.Role}/{n.Id}/"), "adding-hosts/"]),
                    ["prefix"] = true,
                    ["optional"] = true,
                }, AgentRetry, compensation: true);
                break;
            }

            case ClusterAction.ScaleIn:
            {
                var removedIds = request.Parameters["node_ids"]!.AsArray().Select(i => i!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                var leaving = live.Where(n => removedIds.Contains(n.Id)).ToList();
                var staying = live.Where(n => !removedIds.Contains(n.Id)).ToList();
                var leavingIds = Ids(leaving);
                var checkedFirst = plan.PreCheck("scale_in", staying, leaving.Select(n => n.Role), new JsonObject { ["deleting"] = leavingIds.DeepClone() });
                var marked = plan.Add("mark-deleting", VmTaskKinds.RegisterMetadata, checkedFirst, plan.Metadata(deleting: leavingIds), AgentRetry);
                // The leaving nodes' own commands are told they are leaving (PITRIX_DELETING_HOSTS): the deleting-hosts/
                // metadata may not be rendered on the node yet, and destroy also runs on cease, where nobody leaves a
                // cluster that stays (an etcd member removes itself from the membership here, while a quorum runs).
                var destroyed = plan.Step("destroy", leaving, [marked], allowFailure: true, keyPrefix: "leaving-", env: new JsonObject { ["deleting"] = leavingIds.DeepClone() });
                var stopped = plan.Step("stop", leaving, destroyed, allowFailure: true, keyPrefix: "leaving-", env: new JsonObject { ["deleting"] = leavingIds.DeepClone() });
                var removed = plan.PerNode(leaving, "remove", VmTaskKinds.RemoveNode, stopped, null, CloudRetry);
                var forgotten = plan.Add("forget", VmTaskKinds.DeregisterMetadata, removed, new JsonObject
                {
                    ["keys"] = new JsonArray([.. leaving.Select(n => (JsonNode)$"hosts/{n.Role}/{n.Id}/"), "deleting-hosts/"]),
                    ["prefix"] = true,
                }, AgentRetry);
                plan.Step("scale_in", staying.Where(n => leaving.Any(l => l.Role == n.Role)).ToList(), [forgotten], env: new JsonObject { ["deleting"] = leavingIds.DeepClone() });
                break;
            }

            case ClusterAction.Resize:
                plan.Resize(live, request.Parameters["roles"] as JsonObject ?? []);
                break;

            case ClusterAction.UpdateConfig:
                plan.Add("metadata", VmTaskKinds.RegisterMetadata, [], plan.Metadata(), AgentRetry);
                break;

            case ClusterAction.Upgrade or ClusterAction.Rollback:
            {
                if (request.Target is null || request.Parameters["app_version_id"]?.GetValue<string>() is not { } versionId)
                {
                    return Error.Validation("cluster.invalid_parameters", $"An {request.Action} needs the target version and its design.");
                }

                var targetRoles = VmSpec.Roles(request.Target.Spec);
                var stopped = running ? plan.Step("stop", live, [], allowFailure: true) : [];
                var installed = plan.PerNode(live, "files", VmTaskKinds.InstallFiles, stopped, _ => new JsonObject { ["app_version_id"] = versionId }, AgentRetry);
                var metadata = plan.Add("metadata", VmTaskKinds.RegisterMetadata, installed, plan.Metadata(versionId: versionId), AgentRetry);
                var upgraded = plan.Step("upgrade", live, [metadata], roles: targetRoles);
                var done = plan.Step("start", live, upgraded, roles: targetRoles);
                plan.HealthChecks(live, targetRoles, done);
                break;
            }

            case ClusterAction.Custom:
            {
                var action = request.Parameters["name"]?.GetValue<string>() ?? "";
                if (ClusterSpec.StandardServices.Contains(action) || !roles.Values.Any(r => r.Service(action) is not null))
                {
                    var declared = roles.Values.SelectMany(r => r.Services.Keys).Where(s => !ClusterSpec.StandardServices.Contains(s)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                    return Error.Validation("cluster.unknown_custom_action", $"The package declares no custom action '{action}' (it declares: {(declared.Count == 0 ? "none" : string.Join(", ", declared))}).");
                }

                var parameters = new JsonObject();
                if (request.Parameters["parameters"] is JsonObject given)
                {
                    foreach (var (key, value) in given)
                    {
                        parameters[key] = value?.ToString();
                    }
                }

                plan.Step(action, live, [], env: new JsonObject { ["parameters"] = parameters });
                break;
            }

            default:
                return Error.Validation("cluster.unknown_action", $"The vmcluster format cannot plan '{request.Action}'.");
        }

        if (plan.Count == 0)
        {
            plan.Add("nothing", "noop", []);
        }

        return new TaskPlan(request.Action, plan.Tasks);
    }

    private static JsonArray Ids(IEnumerable<ClusterNode> nodes) => new([.. nodes.Select(n => (JsonNode)n.Id)]);

    /// <summary>Builds one plan's task list.</summary>
    private sealed class Planner(PlanRequest request, IReadOnlyDictionary<string, VmRole> spec)
    {
        public List<PlannedTask> Tasks { get; } = [];

        public int Count => Tasks.Count;

        public string Add(string key, string kind, IReadOnlyList<string> dependsOn, JsonObject? input = null, RetryPolicy? retry = null, int timeoutSeconds = 120, bool compensation = false)
        {
            Tasks.Add(new PlannedTask(key, kind, dependsOn, (input ?? []).ToJsonString(), retry, timeoutSeconds, compensation));
            return key;
        }

        /// <summary>One task per node; returns their keys.</summary>
        public List<string> PerNode(IEnumerable<ClusterNode> nodes, string step, string kind, IReadOnlyList<string> after, Func<ClusterNode, JsonObject>? input, RetryPolicy retry, int timeoutSeconds = 120)
        {
            var keys = new List<string>();
            foreach (var node in nodes)
            {
                var body = input?.Invoke(node) ?? [];
                body["node_id"] = node.Id;
                keys.Add(Add($"{step}:{node.ServerId}", kind, after, body, retry, timeoutSeconds));
            }

            return keys;
        }

        /// <summary>
        /// The frontgate, then per node its volume, instance, agent and the app's files; returns the keys
        /// after which every node is ready for metadata.
        /// </summary>
        public List<string> Provision(IReadOnlyList<ClusterNode> nodes, string appVersionId, IReadOnlyList<string> after)
        {
            var frontgate = Add("frontgate", VmTaskKinds.EnsureFrontgate, after, [], AgentWait, timeoutSeconds: 60);
            var ready = new List<string>();
            foreach (var node in nodes)
            {
                var role = request.State.Roles.FirstOrDefault(r => r.Name == node.Role);
                var design = spec.GetValueOrDefault(node.Role);
                var instanceAfter = new List<string> { frontgate };
                if (role is { VolumeSize: > 0 })
                {
                    instanceAfter.Add(Add($"volume:{node.ServerId}", VmTaskKinds.CreateVolume, [frontgate], new JsonObject
                    {
                        ["node_id"] = node.Id,
                        ["size_gib"] = role.VolumeSize,
                        ["mount_point"] = design?.MountPoint ?? VmSpec.DefaultMountPoint,
                    }, CloudRetry));
                }

                var instance = Add($"instance:{node.ServerId}", VmTaskKinds.CreateInstance, instanceAfter, new JsonObject
                {
                    ["node_id"] = node.Id,
                    ["cpu"] = role?.Cpu ?? 1,
                    ["memory"] = role?.Memory ?? 1024,
                    ["gpu"] = role?.Gpu ?? 0,
                    ["image"] = design?.Image ?? "",
                }, CloudRetry);
                var agent = Add($"agent:{node.ServerId}", VmTaskKinds.WaitAgent, [instance], new JsonObject { ["node_id"] = node.Id }, AgentWait, timeoutSeconds: 30);
                ready.Add(Add($"files:{node.ServerId}", VmTaskKinds.InstallFiles, [agent], new JsonObject { ["node_id"] = node.Id, ["app_version_id"] = appVersionId }, AgentRetry));
            }

            return ready.Count == 0 ? [frontgate] : ready;
        }

        /// <summary>Input of a metadata registration: role env from the target design when the job changes values.</summary>
        public JsonObject Metadata(JsonArray? adding = null, JsonArray? deleting = null, string? versionId = null)
        {
            var env = new JsonObject();
            foreach (var role in request.State.Roles)
            {
                var values = request.Target?.Roles.FirstOrDefault(r => r.Name == role.Name)?.Env ?? role.Env;
                env[role.Name] = new JsonObject([.. values.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
            }

            var input = new JsonObject { ["env"] = env, ["app_version_id"] = versionId ?? request.State.Cluster.AppVersionId };
            if (adding is not null)
            {
                input["adding"] = adding.DeepClone();
            }

            if (deleting is not null)
            {
                input["deleting"] = deleting.DeepClone();
            }

            return input;
        }

        /// <summary>init (before start), start, then init for roles whose init is a post-start service.</summary>
        public List<string> Bring(IReadOnlyList<ClusterNode> nodes, IReadOnlyDictionary<string, VmRole> roles, IReadOnlyList<string> after)
        {
            var initialized = Step("init", nodes, after, filter: s => !s.PostStartService);
            var started = Step("start", nodes, initialized);
            return Step("init", nodes, started, filter: s => s.PostStartService, keyPrefix: "post-", roles: roles);
        }

        /// <summary>
        /// Runs a service on its roles' nodes: one task per role, roles grouped in layers by the service's
        /// <c>order</c>, each layer after the previous. Returns the last layer's keys (or <paramref name="after"/>
        /// when no role declares the service).
        /// </summary>
        public List<string> Step(
            string service,
            IReadOnlyList<ClusterNode> nodes,
            IReadOnlyList<string> after,
            bool allowFailure = false,
            Func<VmService, bool>? filter = null,
            string keyPrefix = "",
            JsonObject? env = null,
            IReadOnlyDictionary<string, VmRole>? roles = null)
        {
            var specs = roles ?? spec;
            var layers = specs.Values
                .Select(r => (Role: r, Service: r.Service(service)))
                .Where(p => p.Service is not null && (filter?.Invoke(p.Service) ?? true) && nodes.Any(n => n.Role == p.Role.Name))
                .GroupBy(p => p.Service!.Order)
                .OrderBy(g => g.Key);
            var previous = after.ToList();
            foreach (var layer in layers)
            {
                var keys = new List<string>();
                foreach (var (role, declared) in layer.OrderBy(p => p.Role.Name, StringComparer.Ordinal))
                {
                    var targets = nodes.Where(n => n.Role == role.Name).OrderBy(n => n.ServerId).ToList();
                    if (declared!.NodesToExecuteOn is { } limit)
                    {
                        targets = targets.Take(limit).ToList();
                    }

                    var input = new JsonObject
                    {
                        ["role"] = role.Name,
                        ["service"] = service,
                        ["command"] = declared.Command,
                        ["timeout_seconds"] = declared.TimeoutSeconds,
                        ["nodes"] = Ids(targets),
                        ["allow_failure"] = allowFailure || declared.AllowForce,
                    };
                    Merge(input, env);
                    keys.Add(Add($"{keyPrefix}{service}:{role.Name}", VmTaskKinds.Run, previous, input, AgentRetry, declared.TimeoutSeconds + 60));
                }

                previous = keys;
            }

            return previous;
        }

        /// <summary>The <c>pre_check</c> of scale_out/scale_in on the nodes that stay, for the roles that change.</summary>
        public List<string> PreCheck(string service, IReadOnlyList<ClusterNode> existing, IEnumerable<string> changedRoles, JsonObject env)
        {
            var keys = new List<string>();
            foreach (var roleName in changedRoles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (spec.GetValueOrDefault(roleName)?.Services.GetValueOrDefault(service)?.PreCheck is not { Length: > 0 } check)
                {
                    continue;
                }

                var input = new JsonObject
                {
                    ["role"] = roleName,
                    ["service"] = service + ".pre_check",
                    ["command"] = check,
                    ["timeout_seconds"] = spec[roleName].Services[service].TimeoutSeconds,
                    ["nodes"] = Ids(existing.Where(n => n.Role == roleName)),
                    ["allow_failure"] = false,
                };
                Merge(input, env);
                keys.Add(Add($"pre_check:{roleName}", VmTaskKinds.Run, [], input, AgentRetry));
            }

            return keys;
        }

        public void HealthChecks(IReadOnlyList<ClusterNode> nodes, IReadOnlyDictionary<string, VmRole> specs, IReadOnlyList<string> after)
        {
            foreach (var node in nodes)
            {
                if (specs.GetValueOrDefault(node.Role)?.HealthCheck is { } check)
                {
                    Add($"health:{node.ServerId}", VmTaskKinds.HealthCheck, after, new JsonObject
                    {
                        ["node_id"] = node.Id,
                        ["enabled"] = check.Enabled,
                        ["check_cmd"] = check.CheckCommand,
                        ["action_cmd"] = check.ActionCommand,
                        ["interval_sec"] = check.IntervalSeconds,
                        ["timeout_sec"] = check.TimeoutSeconds,
                        ["action_timeout_sec"] = check.ActionTimeoutSeconds,
                        ["healthy_threshold"] = check.HealthyThreshold,
                        ["unhealthy_threshold"] = check.UnhealthyThreshold,
                    }, AgentRetry);
                }
            }
        }

        /// <summary>Compensation: every node this job created is terminated with its volume; optionally the cluster's metadata goes too.</summary>
        public void UndoNodes(IReadOnlyList<ClusterNode> nodes, bool removeMetadata)
        {
            if (request.KeepOnFailure)
            {
                return;
            }

            foreach (var node in nodes)
            {
                Add($"undo:{node.ServerId}", VmTaskKinds.RemoveNode, [], new JsonObject { ["node_id"] = node.Id }, CloudRetry, compensation: true);
            }

            if (removeMetadata)
            {
                Add("undo-metadata", VmTaskKinds.DeregisterMetadata, [], new JsonObject { ["keys"] = new JsonArray(""), ["prefix"] = true, ["optional"] = true }, AgentRetry, compensation: true);
            }
        }

        /// <summary>
        /// Resize: per node, stop its service, stop, resize the instance (and grow the volume), start, wait for
        /// the agent and start the service. Nodes of a role with <c>resize_policy: sequential</c> go one after
        /// another; otherwise side by side.
        /// </summary>
        public void Resize(IReadOnlyList<ClusterNode> live, JsonObject sizes)
        {
            foreach (var (roleName, size) in sizes)
            {
                var role = request.State.Roles.First(r => r.Name == roleName);
                var sequential = spec.GetValueOrDefault(roleName)?.ResizePolicy == "sequential";
                IReadOnlyList<string> previous = [];
                foreach (var node in live.Where(n => n.Role == roleName))
                {
                    var after = sequential ? previous : [];
                    var one = new List<ClusterNode> { node };
                    var stopped = Step("stop", one, after, allowFailure: true, keyPrefix: $"{node.ServerId}-");
                    var down = Add($"stop-instance:{node.ServerId}", VmTaskKinds.Instance, stopped, new JsonObject { ["node_id"] = node.Id, ["op"] = "stop" }, CloudRetry);
                    var resized = Add($"resize-instance:{node.ServerId}", VmTaskKinds.Instance, [down], new JsonObject
                    {
                        ["node_id"] = node.Id,
                        ["op"] = "resize",
                        ["cpu"] = size?["cpu"]?.GetValue<int>() ?? role.Cpu,
                        ["memory"] = size?["memory"]?.GetValue<int>() ?? role.Memory,
                    }, CloudRetry);
                    if (size?["volume_size"]?.GetValue<int>() is { } volumeSize && volumeSize != role.VolumeSize)
                    {
                        resized = Add($"resize-volume:{node.ServerId}", VmTaskKinds.ResizeVolume, [resized], new JsonObject { ["node_id"] = node.Id, ["size_gib"] = volumeSize }, CloudRetry);
                    }

                    var up = Add($"start-instance:{node.ServerId}", VmTaskKinds.Instance, [resized], new JsonObject { ["node_id"] = node.Id, ["op"] = "start" }, CloudRetry);
                    var agent = Add($"agent:{node.ServerId}", VmTaskKinds.WaitAgent, [up], new JsonObject { ["node_id"] = node.Id }, AgentWait, timeoutSeconds: 30);
                    previous = Step("start", one, [agent], keyPrefix: $"{node.ServerId}-");
                }
            }
        }

        private static void Merge(JsonObject input, JsonObject? extra)
        {
            foreach (var (key, value) in extra ?? [])
            {
                input[key] = value?.DeepClone();
            }
        }
    }
}
