using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Pitrix.AppFormats.VmCluster;
using Pitrix.Core.Clusters;
using Pitrix.Core.Engine;
using Pitrix.Core.Runtimes;
using Pitrix.Testing;

namespace Pitrix.AppFormats.VmCluster.Tests;

/// <summary>The DAGs the vmcluster format plans for the ZooKeeper sample, checked task by task.</summary>
public sealed class PlannerTests
{
    private static readonly VmClusterFormat Format = new();

    [Fact]
    public async Task Create_provisions_every_node_then_metadata_then_watch_init_start_and_health()
    {
        var (state, _) = await StateAsync(count: 3);
        var plan = Plan(state, ClusterAction.Create);

        Assert.Empty(plan["frontgate"].DependsOn);
        foreach (var sid in new[] { 1, 2, 3 })
        {
            Assert.Equal(["frontgate"], plan[$"volume:{sid}"].DependsOn);
            Assert.Equal(["frontgate", $"volume:{sid}"], plan[$"instance:{sid}"].DependsOn);
            Assert.Equal([$"instance:{sid}"], plan[$"agent:{sid}"].DependsOn);
            Assert.Equal([$"agent:{sid}"], plan[$"files:{sid}"].DependsOn);
            Assert.Equal(["metadata"], plan[$"watch:{sid}"].DependsOn);
            Assert.Equal(["start:zk_node"], plan[$"health:{sid}"].DependsOn);
            Assert.True(plan[$"undo:{sid}"].Compensation);
        }

        Assert.Equal(["files:1", "files:2", "files:3"], plan["metadata"].DependsOn);
        Assert.Equal(["watch:1", "watch:2", "watch:3"], plan["init:zk_node"].DependsOn);
        Assert.Equal(["init:zk_node"], plan["start:zk_node"].DependsOn);
        var start = Input(plan["start:zk_node"]);
        Assert.Equal("/opt/pitrix/app/scripts/zk.sh start", (string?)start["command"]);
        Assert.Equal(3, start["nodes"]!.AsArray().Count);
        Assert.Equal(300 + 60, plan["init:zk_node"].TimeoutSeconds);
        Assert.True(plan["undo-metadata"].Compensation);
        Assert.Equal("/var/lib/zookeeper", (string?)Input(plan["volume:1"])["mount_point"]);
    }

    [Fact]
    public async Task Keep_on_failure_plans_no_compensation()
    {
        var (state, _) = await StateAsync(count: 1);
        var plan = Format.Plan(new PlanRequest("job-1", ClusterAction.Create, state, [], null, KeepOnFailure: true)).Value!;
        Assert.DoesNotContain(plan.Tasks, t => t.Compensation);
    }

    [Fact]
    public async Task Scale_out_checks_first_registers_adding_hosts_and_tells_the_existing_nodes_last()
    {
        var (state, _) = await StateAsync(count: 3, added: 2);
        var plan = Plan(state, ClusterAction.ScaleOut);

        var check = Input(plan["pre_check:zk_node"]);
        Assert.Equal("/opt/pitrix/app/scripts/check.sh", (string?)check["command"]);
        Assert.Equal(3, check["nodes"]!.AsArray().Count);
        Assert.Equal(["pre_check:zk_node"], plan["frontgate"].DependsOn);
        Assert.False(plan.ContainsKey("instance:1"));
        Assert.True(plan.ContainsKey("instance:4") && plan.ContainsKey("instance:5"));
        Assert.Equal(2, Input(plan["metadata"])["adding"]!.AsArray().Count);
        var told = Input(plan["scale_out:zk_node"]);
        Assert.Equal(3, told["nodes"]!.AsArray().Count);
        Assert.Equal(2, told["adding"]!.AsArray().Count);
        Assert.Equal(["start:zk_node"], plan["scale_out:zk_node"].DependsOn);
        Assert.Equal(2, Input(plan["start:zk_node"])["nodes"]!.AsArray().Count);
        Assert.Equal(["scale_out:zk_node"], plan["clear-adding"].DependsOn);
        Assert.Contains(plan.Values, t => t.Compensation && t.Key == "undo:4");
        Assert.DoesNotContain(plan.Values, t => t.Compensation && t.Key == "undo:1");
    }

    [Fact]
    public async Task Scale_in_marks_deleting_hosts_stops_and_removes_the_leaving_nodes_then_forgets_them()
    {
        var (state, nodes) = await StateAsync(count: 5);
        var leaving = nodes.Where(n => n.ServerId >= 4).Select(n => (JsonNode)n.Id).ToArray();
        var plan = Plan(state, ClusterAction.ScaleIn, new JsonObject { ["node_ids"] = new JsonArray(leaving) });

        Assert.Equal(3, Input(plan["pre_check:zk_node"])["nodes"]!.AsArray().Count);
        Assert.Equal(2, Input(plan["mark-deleting"])["deleting"]!.AsArray().Count);
        Assert.True((bool)Input(plan["leaving-destroy:zk_node"])["allow_failure"]!);
        Assert.Equal(2, Input(plan["leaving-destroy:zk_node"])["deleting"]!.AsArray().Count);
        Assert.Equal(2, Input(plan["leaving-stop:zk_node"])["deleting"]!.AsArray().Count);
        Assert.Equal(["leaving-stop:zk_node"], plan["remove:4"].DependsOn);
        Assert.False(plan.ContainsKey("remove:1"));
        Assert.Equal(["remove:4", "remove:5"], plan["forget"].DependsOn);
        var forget = Input(plan["forget"])["keys"]!.AsArray().Select(k => (string)k!).ToList();
        Assert.Contains($"hosts/zk_node/{nodes[3].Id}/", forget);
        Assert.Contains("deleting-hosts/", forget);
        Assert.Equal(3, Input(plan["scale_in:zk_node"])["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Cease_runs_destroy_and_stop_removes_every_node_then_the_metadata_and_releases_the_frontgate()
    {
        var (state, _) = await StateAsync(count: 3, status: ClusterStatus.Active);
        var plan = Plan(state, ClusterAction.Cease);
        Assert.True((bool)Input(plan["destroy:zk_node"])["allow_failure"]!);
        Assert.Equal(["destroy:zk_node"], plan["stop:zk_node"].DependsOn);
        Assert.Equal(["stop:zk_node"], plan["remove:1"].DependsOn);
        Assert.Equal(["remove:1", "remove:2", "remove:3"], plan["deregister"].DependsOn);
        Assert.Equal(["deregister"], plan["release-frontgate"].DependsOn);
        Assert.Equal(VmTaskKinds.ReleaseFrontgate, plan["release-frontgate"].Kind);

        var (stopped, _) = await StateAsync(count: 3, status: ClusterStatus.Stopped);
        Assert.DoesNotContain(Plan(stopped, ClusterAction.Cease).Values, t => t.Kind == VmTaskKinds.Run);
    }

    [Fact]
    public async Task Upgrade_stops_installs_the_new_files_registers_runs_upgrade_then_starts()
    {
        var (state, _) = await StateAsync(count: 3, status: ClusterStatus.Active);
        var target = await DesignAsync(3);
        var plan = Plan(state, ClusterAction.Upgrade, new JsonObject { ["app_version_id"] = "av-new" }, target);

        Assert.Equal(["stop:zk_node"], plan["files:1"].DependsOn);
        Assert.Equal("av-new", (string?)Input(plan["files:1"])["app_version_id"]);
        Assert.Equal("av-new", (string?)Input(plan["metadata"])["app_version_id"]);
        Assert.Equal(["metadata"], plan["upgrade:zk_node"].DependsOn);
        Assert.Equal(["upgrade:zk_node"], plan["start:zk_node"].DependsOn);
    }

    [Fact]
    public async Task Stop_of_a_stopped_cluster_runs_no_command_and_update_config_only_writes_metadata()
    {
        var (stopped, _) = await StateAsync(count: 3, status: ClusterStatus.Stopped);
        Assert.DoesNotContain(Plan(stopped, ClusterAction.Stop).Values, t => t.Kind == VmTaskKinds.Run);

        var (active, _) = await StateAsync(count: 3, status: ClusterStatus.Active);
        var changed = await DesignAsync(3, new JsonObject { ["env"] = new JsonObject { ["tick_time"] = 3000 } });
        var plan = Plan(active, ClusterAction.UpdateConfig, [], changed);
        var only = Assert.Single(plan.Values);
        Assert.Equal(VmTaskKinds.RegisterMetadata, only.Kind);
        Assert.Equal("3000", (string?)Input(only)["env"]!["zk_node"]!["tick_time"]);
    }

    [Fact]
    public async Task Custom_actions_run_with_parameters_and_unknown_ones_are_refused()
    {
        var (state, _) = await StateAsync(count: 3, status: ClusterStatus.Active);
        var plan = Plan(state, ClusterAction.Custom, new JsonObject { ["name"] = "stat", ["parameters"] = new JsonObject { ["label"] = "$(touch pwned)" } });
        var run = Input(plan["stat:zk_node"]);
        Assert.Equal("$(touch pwned)", (string?)run["parameters"]!["label"]);

        var refused = Format.Plan(new PlanRequest("job-1", ClusterAction.Custom, state, new JsonObject { ["name"] = "start" }, null, false));
        Assert.Equal("cluster.unknown_custom_action", refused.Error!.Code);
        Assert.Contains("stat", refused.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Roles_run_a_step_in_layers_by_order_and_nodes_to_execute_on_limits_the_nodes()
    {
        var (state, _) = await StateAsync(count: 3, status: ClusterStatus.Active, edit: spec =>
        {
            var node = spec["nodes"]!.AsArray()[0]!.AsObject();
            var second = node.DeepClone().AsObject();
            second["role"] = "observer";
            second["services"]!["start"]!["order"] = 2;
            second["services"]!["start"]!["nodes_to_execute_on"] = 1;
            spec["nodes"]!.AsArray().Add(second);
        });
        var plan = Plan(state, ClusterAction.Start);
        Assert.Equal(["start:zk_node"], plan["start:observer"].DependsOn);
        Assert.Single(Input(plan["start:observer"])["nodes"]!.AsArray());
    }

    [Fact]
    public async Task The_files_bundle_is_a_gzip_tar_with_executable_scripts()
    {
        var files = await RepoFiles.ReadDirectoryAsync(RepoFiles.Path("samples", "vmcluster", "zookeeper"));
        var bundle = await InstallFilesHandler.BundleAsync(files, CancellationToken.None);
        await using var reader = new TarReader(new GZipStream(new MemoryStream(bundle), CompressionMode.Decompress));
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            entries[entry.Name] = entry;
        }

        Assert.True(entries["scripts/zk.sh"].Mode.HasFlag(UnixFileMode.UserExecute));
        Assert.False(entries["confd/templates/zoo.cfg.tmpl"].Mode.HasFlag(UnixFileMode.UserExecute));
        Assert.Equal(files.Count, entries.Count);
    }

    [Fact]
    public async Task Metadata_holds_every_host_under_its_role_the_cluster_and_role_env()
    {
        var (state, nodes) = await StateAsync(count: 3);
        for (var i = 0; i < nodes.Count; i++)
        {
            nodes[i].PrivateIp = $"127.70.0.{i + 2}";
        }

        var runtime = new Runtime { Id = "rt-1", Name = "local", Provider = "local", Zone = "z", OwnerId = "u" };
        var input = new JsonObject { ["env"] = new JsonObject { ["zk_node"] = new JsonObject { ["tick_time"] = "2000" } }, ["adding"] = new JsonArray(nodes[1].Id) };
        var entries = RegisterMetadataHandler.Entries(state.Cluster, runtime, nodes, state.Roles, input);
        Assert.Equal("127.70.0.2", entries[$"hosts/zk_node/{nodes[0].Id}/ip"]);
        Assert.Equal("2", entries[$"hosts/zk_node/{nodes[1].Id}/sid"]);
        Assert.Equal("127.70.0.3", entries[$"adding-hosts/zk_node/{nodes[1].Id}/ip"]);
        Assert.False(entries.ContainsKey($"adding-hosts/zk_node/{nodes[0].Id}/ip"));
        Assert.Equal("2000", entries["env/zk_node/tick_time"]);
        Assert.Equal(state.Cluster.Id, entries["cluster/cluster_id"]);
    }

    private static Dictionary<string, PlannedTask> Plan(ClusterState state, string action, JsonObject? parameters = null, ClusterDesign? target = null)
    {
        var result = Format.Plan(new PlanRequest("job-1", action, state, parameters ?? [], target, false));
        Assert.True(result.IsSuccess, result.Error?.ToString());
        Assert.True(result.Value!.Validate().IsSuccess, result.Value.Validate().Error?.ToString());
        return result.Value.Tasks.ToDictionary(t => t.Key);
    }

    private static JsonObject Input(PlannedTask task) => JsonNode.Parse(task.Input)!.AsObject();

    private static async Task<ClusterDesign> DesignAsync(int count, JsonObject? extra = null)
    {
        var files = await RepoFiles.ReadDirectoryAsync(RepoFiles.Path("samples", "vmcluster", "zookeeper"));
        var values = new JsonObject { ["cluster"] = new JsonObject { ["subnet"] = "default", ["zk_node"] = new JsonObject { ["count"] = count } } };
        foreach (var (key, value) in extra ?? [])
        {
            values[key] = value?.DeepClone();
        }

        var design = Format.Design(new AppPackage("vmcluster", "zookeeper", "1.0.0", files), values);
        Assert.True(design.IsSuccess, design.Error?.ToString());
        return design.Value!;
    }

    /// <summary>A cluster of the ZooKeeper sample with <paramref name="count"/> nodes, and <paramref name="added"/> more made by job-1.</summary>
    private static async Task<(ClusterState State, List<ClusterNode> Nodes)> StateAsync(int count, int added = 0, string status = ClusterStatus.Pending, Action<JsonObject>? edit = null)
    {
        var design = await DesignAsync(count);
        var spec = JsonNode.Parse(design.Spec!)!.AsObject();
        edit?.Invoke(spec);
        var cluster = new Cluster
        {
            Id = "cl-1", Name = "zk", AppId = "app-1", AppVersionId = "av-1", RuntimeId = "rt-1", Format = "vmcluster",
            OwnerId = "u", Status = status, Spec = spec.ToJsonString(),
        };
        var roles = spec["nodes"]!.AsArray().Select(n => new ClusterRole
        {
            ClusterId = "cl-1", Name = (string)n!["role"]!, Count = count, Cpu = 1, Memory = 2048, VolumeSize = 10,
            Env = new Dictionary<string, string> { ["tick_time"] = "2000" },
        }).ToList();
        var nodes = new List<ClusterNode>();
        foreach (var role in roles)
        {
            for (var i = 0; i < count + added; i++)
            {
                nodes.Add(new ClusterNode
                {
                    Id = $"cln-{role.Name}-{i + 1}", ClusterId = "cl-1", Role = role.Name, ServerId = nodes.Count + 1,
                    Status = i < count ? NodeStatus.Running : NodeStatus.Pending, CreatedByJobId = i < count ? "job-0" : "job-1",
                });
            }
        }

        if (status == ClusterStatus.Pending)
        {
            foreach (var node in nodes)
            {
                node.Status = NodeStatus.Pending;
            }
        }

        return (new ClusterState(cluster, "local", "z", roles, nodes), nodes);
    }
}
