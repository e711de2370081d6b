using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Packages.VmCluster;
using Pitrix.Templates;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Packages.Tests;

public sealed class ClusterTemplateTests
{
    private static readonly string ZooKeeper = RepoFiles.Path("samples", "vmcluster", "zookeeper");

    private static (ConfigSchema Schema, string Template) Sample() =>
        (ConfigSchema.Parse(File.ReadAllText(Path.Combine(ZooKeeper, "config.json"))), File.ReadAllText(Path.Combine(ZooKeeper, "cluster.json.tmpl")));

    [Fact]
    public void Render_ZooKeeperSample_WithUserValues_ProducesAValidCluster()
    {
        var (schema, template) = Sample();
        var (values, errors) = schema.Validate(JsonNode.Parse("""{"cluster": {"subnet": "vxnet-0", "zk_node": {"count": 5}}, "env": {"tick_time": 3000}}""")!.AsObject());
        Assert.Empty(errors);

        var cluster = ClusterTemplate.Render(template, values);

        Assert.Empty(ClusterSpec.Validate(cluster));
        var node = cluster["nodes"]![0]!;
        Assert.Equal(5, (int)node["count"]!);
        Assert.Equal(2048, (int)node["memory"]!);
        Assert.Equal(3000, (int)node["env"]!["tick_time"]!);
        Assert.Equal("ruok,stat,mntr", (string?)node["env"]!["four_letter_words"]);
        Assert.Equal("vxnet-0", (string?)cluster["subnet"]);
        Assert.Equal(600, ClusterSpec.TimeoutOf(node["services"]!["start"]!.AsObject()));
        Assert.Equal(300, ClusterSpec.TimeoutOf(node["services"]!["init"]!.AsObject()));
    }

    [Theory]
    [InlineData("\", \"injected\": \"yes")]
    [InlineData("\"}]}")]
    [InlineData("line\nbreak\t\\ and \u0001 control")]
    [InlineData("$(reboot) `reboot` ; rm -rf /")]
    public void Render_HostileStrings_StayData(string hostile)
    {
        const string template = """{"name": "{{.cluster.name}}", "description": "prefix {{.cluster.name}} suffix", "raw": {{.cluster.name}}, "nodes": [{"container": {"type": "kvm", "image": "i"}, "count": 1}]}""";
        var values = new JsonObject { ["cluster"] = new JsonObject { ["name"] = hostile } };

        var cluster = ClusterTemplate.Render(template, values);

        Assert.Equal(hostile, (string?)cluster["name"]);
        Assert.Equal($"prefix {hostile} suffix", (string?)cluster["description"]);
        Assert.Equal(hostile, (string?)cluster["raw"]);
        Assert.Null(cluster["injected"]);
    }

    [Fact]
    public void Render_ShorthandAndGoSyntax_AndControlActions_AreAccepted()
    {
        const string template = """
            {"nodes": [
            {{- range $i, $role := .roles }}{{ if $i }},{{ end }}
              {"role": "{{ $role.name }}", "count": {{ $role.count }}, "container": {"type": "docker", "image": "{{ $role.image | default "debian" }}"}, "env": {"label": "{{ upper $role.name }}-{{ $i }}"}}
            {{- end }}
            ], "name": {{cluster.name}}, "missing": "{{.cluster.nothing}}"}
            """;
        var values = JsonNode.Parse("""{"cluster": {"name": "demo"}, "roles": [{"name": "web", "count": 2}, {"name": "db", "count": 1, "image": "postgres"}]}""")!.AsObject();

        var cluster = ClusterTemplate.Render(template, values);

        Assert.Equal("demo", (string?)cluster["name"]);
        Assert.Null(cluster["missing"]);
        Assert.Equal("DB-1", (string?)cluster["nodes"]![1]!["env"]!["label"]);
        Assert.Equal("postgres", (string?)cluster["nodes"]![1]!["container"]!["image"]);
        Assert.Empty(ClusterSpec.Validate(cluster));
    }

    [Theory]
    [InlineData("{\"name\": {{.x | nosuchfunc}} }", "template.parse_error")]
    [InlineData("{\"name\": {{ .x ", "template.parse_error")]
    [InlineData("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}", "template.limit_exceeded")]
    [InlineData("{\"nodes\": [ {{ .cluster.count }} ", "cluster.invalid_json")]
    [InlineData("[1, 2]", "cluster.invalid")]
    public void Render_BrokenTemplates_FailWithCodeAndFile(string template, string code)
    {
        var ex = Assert.Throws<PackageException>(() => ClusterTemplate.Render(template, new JsonObject { ["cluster"] = new JsonObject { ["count"] = 1 } }));
        Assert.Equal(code, ex.Code);
        Assert.Equal("cluster.json.tmpl", ex.Path);
    }

    [Fact]
    public void ClusterSpec_ReportsBadFieldsByPath_AndKeepsCustomServices()
    {
        var cluster = JsonNode.Parse("""
            {"advanced_actions": ["teleport"], "nodes": [
              {"role": "a", "container": {"type": "vm"}, "count": 500, "cpu": 0, "volume": {"size": -1, "filesystem": "fat32", "mount_point": "data"},
               "services": {"start": {"timeout": 100000}, "init": {"cmd": "  "}, "backup": {}, "rotate_logs": {"cmd": "logrotate -f /etc/logrotate.conf", "timeout": 60}},
               "health_check": {"interval_sec": 0}},
              {"role": "a", "container": {"type": "kvm", "image": "x"}},
              {"container": {"type": "kvm", "image": "x"}, "count": 1}
            ]}
            """)!.AsObject();

        var errors = ClusterSpec.Validate(cluster);

        foreach (var path in new[]
        {
            "advanced_actions", "nodes[0].container.type", "nodes[0].container.image", "nodes[0].count", "nodes[0].cpu", "nodes[0].volume.size",
            "nodes[0].volume.filesystem", "nodes[0].volume.mount_point", "nodes[0].services.start.cmd", "nodes[0].services.start.timeout",
            "nodes[0].services.init.cmd", "nodes[0].health_check.interval_sec", "nodes[1].role", "nodes[1].count", "nodes[2].role",
        })
        {
            Assert.True(errors.ContainsKey(path), $"expected an error at {path}; got {string.Join(", ", errors.Keys)}");
        }

        Assert.False(errors.ContainsKey("nodes[0].services.backup.cmd"));
        Assert.DoesNotContain(errors.Keys, k => k.Contains("rotate_logs", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_HugeOutput_IsStoppedByTheEngineLimits()
    {
        const string template = "{\"x\": \"{{range $i := until 10000}}{{range $j := until 10000}}aaaaaaaaaaaaaaaa{{end}}{{end}}\"}";
        var ex = Assert.Throws<PackageException>(() => ClusterTemplate.Render(template, [], new Templates.TemplateOptions { MaxOutputBytes = 1024 * 1024 }));
        Assert.Equal("template.limit_exceeded", ex.Code);
        Assert.Contains("cluster.json.tmpl", Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(ex.Message)), StringComparison.Ordinal);
    }
}

public sealed class ConfdSampleTests
{
    [Fact]
    public void ZooCfgTemplate_RendersEveryPeerFromMetadata()
    {
        var metadata = new Dictionary<string, string>
        {
            ["/env/tick_time"] = "3000",
            ["/host/ip"] = "10.0.0.12",
            ["/hosts/zk_node/zk1/sid"] = "1",
            ["/hosts/zk_node/zk1/ip"] = "10.0.0.11",
            ["/hosts/zk_node/zk2/sid"] = "2",
            ["/hosts/zk_node/zk2/ip"] = "10.0.0.12",
            ["/hosts/zk_node/zk3/sid"] = "3",
            ["/hosts/zk_node/zk3/ip"] = "10.0.0.13",
        };
        var functions = new Templates.FunctionLibrary().AddConfd(new Templates.InMemoryKeyValueView(metadata));
        var set = new Templates.TemplateSet(functions);
        var text = File.ReadAllText(RepoFiles.Path("samples", "vmcluster", "zookeeper", "confd", "templates", "zoo.cfg.tmpl"));
        set.Parse("zoo.cfg.tmpl", text);

        var output = set.Execute("zoo.cfg.tmpl", null);

        Assert.Contains("tickTime=3000\n", output, StringComparison.Ordinal);
        Assert.Contains("initLimit=10\n", output, StringComparison.Ordinal);
        Assert.Contains("server.1=10.0.0.11:2888:3888", output, StringComparison.Ordinal);
        Assert.Contains("server.3=10.0.0.13:2888:3888", output, StringComparison.Ordinal);
        Assert.Equal(3, output.Split('\n').Count(l => l.StartsWith("server.", StringComparison.Ordinal)));
        Assert.Contains("clientPortAddress=10.0.0.12\n", output, StringComparison.Ordinal);
    }

    private static string Render(string sample, string template, Dictionary<string, string> metadata)
    {
        var set = new TemplateSet(new FunctionLibrary().AddConfd(new InMemoryKeyValueView(metadata)));
        set.Parse(template, File.ReadAllText(RepoFiles.Path("samples", "vmcluster", sample, "confd", "templates", template)));
        return set.Execute(template, null);
    }

    /// <summary>The metadata view of <paramref name="self"/> in an etcd cluster of hosts n1..n<paramref name="hosts"/> (sid = index), the ones from <paramref name="addingFrom"/> on joining.</summary>
    private static Dictionary<string, string> EtcdView(int self, int hosts, int addingFrom = int.MaxValue)
    {
        var view = new Dictionary<string, string>
        {
            ["/cluster/cluster_id"] = "cl-abc",
            ["/host/node_id"] = $"n{self}",
            ["/host/role"] = "etcd_node",
            ["/host/sid"] = $"{self}",
            ["/host/ip"] = $"10.0.0.1{self}",
        };
        for (var i = 1; i <= hosts; i++)
        {
            foreach (var tree in i >= addingFrom ? new[] { "hosts", "adding-hosts" } : ["hosts"])
            {
                view[$"/{tree}/etcd_node/n{i}/ip"] = $"10.0.0.1{i}";
                view[$"/{tree}/etcd_node/n{i}/sid"] = $"{i}";
                view[$"/{tree}/etcd_node/n{i}/node_id"] = $"n{i}";
            }
        }

        return view;
    }

    [Fact]
    public void EtcdTemplate_ListsEveryMemberInInitialCluster()
    {
        var output = Render("etcd-cluster", "etcd.conf.yml.tmpl", EtcdView(self: 2, hosts: 3));

        Assert.Contains("name: 'n2'\n", output, StringComparison.Ordinal);
        Assert.Contains("initial-cluster: 'n1=http://10.0.0.11:2380,n2=http://10.0.0.12:2380,n3=http://10.0.0.13:2380'\n", output, StringComparison.Ordinal);
        Assert.Contains("initial-cluster-state: 'new'\n", output, StringComparison.Ordinal);
        Assert.Contains("initial-cluster-token: 'cl-abc'\n", output, StringComparison.Ordinal);
        Assert.Contains("listen-client-urls: 'http://10.0.0.12:2379'\n", output, StringComparison.Ordinal);
        Assert.Contains("listen-peer-urls: 'http://10.0.0.12:2380'\n", output, StringComparison.Ordinal);
        Assert.Contains("data-dir: '/var/lib/etcd/default'\n", output, StringComparison.Ordinal);
        Assert.Contains("heartbeat-interval: 100\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("0.0.0.0", output, StringComparison.Ordinal);

        var members = Render("etcd-cluster", "members.tmpl", EtcdView(self: 2, hosts: 3));
        Assert.Contains("self n2 10.0.0.12 new\n", members, StringComparison.Ordinal);
        Assert.Contains("host n3 10.0.0.13 member", members, StringComparison.Ordinal);
        Assert.DoesNotContain("\nbefore ", members, StringComparison.Ordinal);
    }

    [Fact]
    public void EtcdTemplate_JoiningMember_ListsTheMembersAndTheOnesAddedBeforeIt()
    {
        // Scaling 3 → 5: n4 and n5 join one after the other, each starting with the membership it joins.
        var n4 = Render("etcd-cluster", "etcd.conf.yml.tmpl", EtcdView(self: 4, hosts: 5, addingFrom: 4));
        Assert.Contains("initial-cluster: 'n1=http://10.0.0.11:2380,n2=http://10.0.0.12:2380,n3=http://10.0.0.13:2380,n4=http://10.0.0.14:2380'\n", n4, StringComparison.Ordinal);
        Assert.Contains("initial-cluster-state: 'existing'\n", n4, StringComparison.Ordinal);
        var n5 = Render("etcd-cluster", "etcd.conf.yml.tmpl", EtcdView(self: 5, hosts: 5, addingFrom: 4));
        Assert.Contains("initial-cluster: 'n1=http://10.0.0.11:2380,n2=http://10.0.0.12:2380,n3=http://10.0.0.13:2380,n4=http://10.0.0.14:2380,n5=http://10.0.0.15:2380'\n", n5, StringComparison.Ordinal);

        var members = Render("etcd-cluster", "members.tmpl", EtcdView(self: 5, hosts: 5, addingFrom: 4));
        Assert.Contains("self n5 10.0.0.15 existing\n", members, StringComparison.Ordinal);
        Assert.Contains("host n1 10.0.0.11 member\n", members, StringComparison.Ordinal);
        Assert.Contains("host n4 10.0.0.14 adding\nbefore n4\n", members, StringComparison.Ordinal);
        Assert.Single(members.Split('\n'), l => l.StartsWith("before ", StringComparison.Ordinal));

        // A member already there keeps state "new" (its data decides; etcd ignores the initial cluster then).
        var n1 = Render("etcd-cluster", "etcd.conf.yml.tmpl", EtcdView(self: 1, hosts: 5, addingFrom: 4));
        Assert.Contains("initial-cluster-state: 'new'\n", n1, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/env/heartbeat_interval", "100\nforce-new-cluster: true")]
    [InlineData("/env/auto_compaction_retention", "1' ; x: 'y")]
    public void EtcdTemplate_NonNumericSettings_FailTheRender(string key, string value)
    {
        var view = EtcdView(self: 1, hosts: 1);
        view[key] = value;
        Assert.ThrowsAny<TemplateException>(() => Render("etcd-cluster", "etcd.conf.yml.tmpl", view));
    }

    [Fact]
    public void RedisTemplate_SizesMemoryAndOmitsEmptyPassword()
    {
        var metadata = new Dictionary<string, string>
        {
            ["/host/ip"] = "10.0.0.5",
            ["/host/memory"] = "2048",
            ["/env/appendonly"] = "false",
        };
        var output = Render("redis", "redis.conf.tmpl", metadata);
        Assert.Contains("maxmemory 1536mb\n", output, StringComparison.Ordinal);
        Assert.Contains("appendonly no", output, StringComparison.Ordinal);
        Assert.DoesNotContain("requirepass", output, StringComparison.Ordinal);

        metadata["/env/requirepass"] = "s3cret";
        Assert.Contains("requirepass \"s3cret\"", Render("redis", "redis.conf.tmpl", metadata), StringComparison.Ordinal);
    }
}
