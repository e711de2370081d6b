using System.Text.Json.Nodes;
using Pitrix.Testing;
using Pitrix.Web.Client;
using Pitrix.Web.Components.Pages.Deploy;
using Xunit;

namespace Pitrix.Web.Tests;

/// <summary>The deploy wizard's form: config.json and values.schema.json to fields, and a form post back to the request's values.</summary>
public sealed class DeployFormTests
{
    private static JsonNode ZooKeeperConfig => JsonNode.Parse(File.ReadAllText(RepoFiles.Path("samples", "vmcluster", "zookeeper", "config.json")))!;

    private static JsonNode HelloWebSchema => JsonNode.Parse(File.ReadAllText(RepoFiles.Path("samples", "charts", "hello-web", "values.schema.json")))!;

    private static JsonObject HelloWebValues => YamlValues.Parse(File.ReadAllText(RepoFiles.Path("samples", "charts", "hello-web", "values.yaml"))).Values!;

    private static FormField Field(DeployForm form, string dotted) => Assert.Single(form.Fields, f => f.Dotted == dotted);

    private static FormInput Post(params (string Pointer, string[] Values)[] fields) =>
        new(fields.ToDictionary(f => DeployPaths.FieldPrefix + f.Pointer, f => (IReadOnlyList<string>)f.Values));

    [Fact]
    public void FromConfig_ZooKeeper_GroupsTypesRangesDefaultsRequired()
    {
        var form = DeployForm.FromConfig(ZooKeeperConfig);

        Assert.Equal(["cluster", "env"], form.Root.Items.Select(i => i.Dotted));
        var cluster = Assert.IsType<FormGroup>(form.Root.Items[0]);
        Assert.Equal("ZooKeeper cluster properties", cluster.Label);
        var role = Assert.Single(form.Groups, g => g.Dotted == "cluster.zk_node");
        Assert.Equal("ZooKeeper Node", role.Label);
        Assert.Equal("role-based node properties", role.Description);

        var count = Field(form, "cluster.zk_node.count");
        Assert.Equal(FieldKind.Choice, count.Kind);
        Assert.Equal(["1", "3", "5", "7"], count.Options.Select(o => o.Value));
        Assert.Equal("3", count.DefaultText);
        Assert.True(count.Required);
        Assert.Equal("Node Count", count.Label);
        Assert.Null(count.Language);

        var volume = Field(form, "cluster.zk_node.volume_size");
        Assert.Equal(FieldKind.Integer, volume.Kind);
        Assert.Equal((10.0, 1000.0, 10.0), (volume.Min, volume.Max, volume.Step));
        Assert.Equal("From 10 to 1000, in steps of 10.", volume.Constraints);

        var subnet = Field(form, "cluster.subnet");
        Assert.Equal((FieldKind.Text, true, ""), (subnet.Kind, subnet.Required, subnet.DefaultText));
        Assert.False(Field(form, "env.tick_time").Required);

        var words = Field(form, "env.four_letter_words");
        Assert.Equal(FieldKind.MultiChoice, words.Kind);
        Assert.Equal(",", words.Separator);
        Assert.Equal(["mntr", "ruok", "stat"], FormInput.Empty.Chosen(words).Order());

        // The cluster's own name and description fill cluster.name and cluster.description: not asked twice.
        Assert.Equal(FieldBinding.ClusterName, Field(form, "cluster.name").Binding);
        Assert.Equal(FieldBinding.ClusterDescription, Field(form, "cluster.description").Binding);
        Assert.Equal("/cluster/zk_node/count", count.Pointer);
        Assert.Equal("cfg/cluster/zk_node/count", count.Name);
        Assert.Equal(form.Fields.Count(), form.Fields.Select(f => f.Id).Distinct().Count());
    }

    [Fact]
    public void FromConfig_WithTranslations_LabelsAndDescriptionsTranslated_OthersKeptAsWritten()
    {
        var translations = new Dictionary<string, string>
        {
            ["Node Count"] = "节点数量",
            ["ZooKeeper Node"] = "ZooKeeper 节点",
            ["tickTime"] = "心跳时间 (毫秒)",
            ["CPUs of each node"] = "每个节点的 CPU",
        };

        var form = DeployForm.FromConfig(ZooKeeperConfig, translations, "zh-cn");

        Assert.Equal(("节点数量", "zh-cn"), (Field(form, "cluster.zk_node.count").Label, Field(form, "cluster.zk_node.count").Language));
        Assert.Equal("ZooKeeper 节点", Assert.Single(form.Groups, g => g.Dotted == "cluster.zk_node").Label);
        Assert.Equal("心跳时间 (毫秒)", Field(form, "env.tick_time").Label);
        Assert.Equal(("CPU", null), (Field(form, "cluster.zk_node.cpu").Label, Field(form, "cluster.zk_node.cpu").Language));
        Assert.Equal("每个节点的 CPU", Field(form, "cluster.zk_node.cpu").Description);
    }

    [Fact]
    public void FromConfig_OddNodes_BareListYesNoFlagsPasswordsBooleansAndNoLabel()
    {
        var config = JsonNode.Parse("""
            [
              { "key": "env", "type": "array", "properties": [
                { "key": "admin_password", "type": "password", "required": "yes" },
                { "key": "debug", "type": "boolean", "default": false, "required": true },
                { "key": "ratio", "type": "number", "default": 0.5, "min": 0, "max": 1 },
                { "key": "mode", "type": "string", "range": ["a", "b"], "default": "a" },
                { "type": "string" },
                { "key": "debug", "type": "string" }
              ]}
            ]
            """);

        var form = DeployForm.FromConfig(config);

        Assert.Equal(["env.admin_password", "env.debug", "env.ratio", "env.mode"], form.Fields.Select(f => f.Dotted));
        Assert.Equal((FieldKind.Password, true, "admin_password"), (Field(form, "env.admin_password").Kind, Field(form, "env.admin_password").Required, Field(form, "env.admin_password").Label));
        Assert.Equal((FieldKind.Boolean, "false"), (Field(form, "env.debug").Kind, Field(form, "env.debug").DefaultText));
        Assert.Equal((FieldKind.Number, 0.0, 1.0), (Field(form, "env.ratio").Kind, Field(form, "env.ratio").Min, Field(form, "env.ratio").Max));
        Assert.Equal("From 0 to 1.", Field(form, "env.ratio").Constraints);
        Assert.Equal("env", Assert.Single(form.Groups).Label);
        Assert.Empty(DeployForm.FromConfig(null).Fields);
    }

    [Fact]
    public void ToValues_OnlyWhatDiffersFromTheDefaults_TypedAsTheFieldIs()
    {
        var form = DeployForm.FromConfig(ZooKeeperConfig);
        var input = Post(
            ("/cluster/subnet", ["vxnet-1"]),
            ("/cluster/zk_node/count", ["5"]),
            ("/cluster/zk_node/cpu", ["1"]),
            ("/cluster/zk_node/memory", ["4096"]),
            ("/cluster/zk_node/volume_size", ["20"]),
            ("/env/tick_time", ["2000"]),
            ("/env/init_limit", ["many"]),
            ("/env/sync_limit", [""]),
            ("/env/four_letter_words", ["", "ruok", "conf"]));

        var values = form.ToValues(input, " zk-prod ", "");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {
              "cluster": { "name": "zk-prod", "subnet": "vxnet-1", "zk_node": { "count": 5, "memory": 4096, "volume_size": 20 } },
              "env": { "init_limit": "many", "sync_limit": "", "four_letter_words": "ruok,conf" }
            }
            """), values), values.ToJsonString());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, values["cluster"]!["zk_node"]!["count"]!.GetValueKind());
    }

    [Fact]
    public void ToValues_NothingPosted_IsNothingButTheBoundName()
    {
        var form = DeployForm.FromConfig(ZooKeeperConfig);

        Assert.Equal("""{"cluster":{"name":"zk"}}""", form.ToValues(FormInput.Empty, "zk", null).ToJsonString());

        // Every multi-choice option unticked is a change too: the hidden marker says the field was posted.
        Assert.Equal("", (string?)form.ToValues(Post(("/env/four_letter_words", [""])), "ZooKeeper", null)["env"]!["four_letter_words"]);
    }

    [Fact]
    public void ToValues_CheckBoxes_TheLastValuePostedCounts()
    {
        var form = DeployForm.FromValuesSchema(JsonNode.Parse("""{"type": "object", "properties": {"debug": {"type": "boolean"}, "on": {"type": "boolean", "default": true}}}"""), null);

        var ticked = form.ToValues(Post(("/debug", ["false", "true"]), ("/on", ["false", "true"])), null, null);
        var unticked = form.ToValues(Post(("/debug", ["false"]), ("/on", ["false"])), null, null);

        Assert.Equal("""{"debug":true}""", ticked.ToJsonString());
        Assert.Equal("""{"on":false}""", unticked.ToJsonString());
    }

    [Fact]
    public void FromValuesSchema_HelloWeb_NestedGroupsEnumsBoundsRequiredDefaultsFromValuesYaml()
    {
        var form = DeployForm.FromValuesSchema(HelloWebSchema, HelloWebValues);

        Assert.Equal(["replicaCount", "image", "greeting", "service"], form.Root.Items.Select(i => i.Dotted));
        var replicas = Field(form, "replicaCount");
        Assert.Equal((FieldKind.Integer, true, 0.0, 20.0, "1"), (replicas.Kind, replicas.Required, replicas.Min, replicas.Max, replicas.DefaultText));
        Assert.Equal("Number of web server pods", replicas.Description);
        Assert.Equal(["image.repository", "image.tag", "image.pullPolicy"], Assert.Single(form.Groups, g => g.Dotted == "image").Items.Select(i => i.Dotted));
        Assert.True(Field(form, "image.repository").Required);
        Assert.False(Field(form, "image.pullPolicy").Required);
        Assert.Equal("1.25", Field(form, "image.tag").DefaultText);
        var pullPolicy = Field(form, "image.pullPolicy");
        Assert.Equal((FieldKind.Choice, "IfNotPresent"), (pullPolicy.Kind, pullPolicy.DefaultText));
        Assert.Equal(["Always", "IfNotPresent", "Never"], pullPolicy.Options.Select(o => o.Value));
        Assert.Equal(200, Field(form, "greeting").MaxLength);
        Assert.Equal("At most 200 characters.", Field(form, "greeting").Constraints);
        Assert.Equal(["/resources"], form.YamlOnly);
        Assert.True(form.TakesYaml);
    }

    [Fact]
    public void FromValuesSchema_TypeListsWriteOnlyRefsArraysAndTitles()
    {
        var schema = JsonNode.Parse("""
            {
              "type": "object",
              "required": ["password"],
              "properties": {
                "password": { "type": "string", "writeOnly": true },
                "nodePort": { "type": ["integer", "null"], "title": "Node port", "exclusiveMinimum": 0 },
                "mode": { "enum": ["fast", "safe"] },
                "hosts": { "type": "array", "items": { "type": "string" } },
                "tls": { "$ref": "#/definitions/tls" },
                "deep": { "type": "object", "properties": { "deeper": { "type": "object", "properties": { "flag": { "type": "boolean" } } } } }
              }
            }
            """);

        var form = DeployForm.FromValuesSchema(schema, null);

        Assert.Equal((FieldKind.Password, true), (Field(form, "password").Kind, Field(form, "password").Required));
        Assert.Equal((FieldKind.Integer, "Node port"), (Field(form, "nodePort").Kind, Field(form, "nodePort").Label));
        Assert.Equal(FieldKind.Choice, Field(form, "mode").Kind);
        Assert.Equal(FieldKind.Boolean, Field(form, "deep.deeper.flag").Kind);
        Assert.Equal(["/hosts", "/tls"], form.YamlOnly);
    }

    [Fact]
    public void FromValuesSchema_NoSchema_FieldsFromValuesYamlScalars()
    {
        var defaults = YamlValues.Parse("replicas: 2\nratio: 0.5\nname: web\nenabled: true\nlist: [1, 2]\nnested:\n  port: 80\n").Values;

        var form = DeployForm.FromValuesSchema(null, defaults);

        Assert.Equal(["replicas", "ratio", "name", "enabled", "nested.port"], form.Fields.Select(f => f.Dotted));
        Assert.Equal([FieldKind.Integer, FieldKind.Number, FieldKind.Text, FieldKind.Boolean, FieldKind.Integer], form.Fields.Select(f => f.Kind));
        Assert.Equal(["/list"], form.YamlOnly);
    }

    [Fact]
    public void ToValues_Helm_ChoicesKeepTheirJsonType_YamlMergedOver()
    {
        var form = DeployForm.FromValuesSchema(
            JsonNode.Parse("""{"properties": {"size": {"enum": [1, 2, 4]}, "image": {"type": "object", "properties": {"tag": {"type": "string"}, "pullPolicy": {"enum": ["Always", "Never"]}}}}}"""),
            YamlValues.Parse("size: 1\nimage:\n  tag: '1.0'\n  pullPolicy: Never\n").Values);

        var values = form.ToValues(Post(("/size", ["4"]), ("/image/tag", ["1.0"]), ("/image/pullPolicy", ["Always"])), null, null);
        var merged = DeployPaths.Merge(values, YamlValues.Parse("image:\n  tag: '2.0'\nextra: [a]\n").Values!);

        Assert.Equal("""{"size":4,"image":{"pullPolicy":"Always"}}""", values.ToJsonString());
        Assert.Equal("""{"size":4,"image":{"pullPolicy":"Always","tag":"2.0"},"extra":["a"]}""", merged.ToJsonString());
    }

    [Fact]
    public void Errors_MatchFieldsByDottedPathOrPointer_AndYamlValuesByPointer()
    {
        var form = DeployForm.FromConfig(ZooKeeperConfig);
        var errors = new DeployErrors(new Dictionary<string, string[]>
        {
            ["cluster.zk_node.volume_size"] = ["Must be at most 1000."],
            ["/env/tick_time"] = ["Must be at least 100."],
            ["cluster.name"] = ["Bad name."],
            ["name"] = ["Required."],
            ["/service/port"] = ["Too big."],
            ["/"] = ["Missing properties."],
        });

        Assert.Equal(["Must be at most 1000."], errors.For(Field(form, "cluster.zk_node.volume_size")));
        Assert.Equal(["Must be at least 100."], errors.For(Field(form, "env.tick_time")));
        Assert.Empty(errors.For(Field(form, "cluster.zk_node.count")));
        Assert.Equal(["Bad name.", "Required."], errors.For("name", Field(form, "cluster.name")));
        Assert.Equal([("/service/port", "Too big.")], errors.InYaml(YamlValues.Parse("service:\n  port: 70000\n").Values));
        Assert.Empty(errors.InYaml(YamlValues.Parse("greeting: hi\n").Values));
    }

    [Fact]
    public void Paths_PointersEscapeSlashesAndTildes()
    {
        Assert.Equal("/metadata/labels/app.kubernetes.io~1name/a~0b", DeployPaths.Pointer(["metadata", "labels", "app.kubernetes.io/name", "a~b"]));
        Assert.Equal(["metadata", "labels", "app.kubernetes.io/name", "a~b"], DeployPaths.Segments("/metadata/labels/app.kubernetes.io~1name/a~0b"));
        Assert.Empty(DeployPaths.Segments("/"));
    }

    [Fact]
    public void YamlValues_TypesLikeTheCli_SyntaxErrorsWithTheirLine_OnlyMappings()
    {
        var (values, error) = YamlValues.Parse("count: 3\nratio: 0.5\non: true\nname: web\nquoted: '3'\nnothing: ~\nlist: [a, 1]\n");
        Assert.Null(error);
        Assert.Equal("""{"count":3,"ratio":0.5,"on":true,"name":"web","quoted":"3","nothing":null,"list":["a",1]}""", values!.ToJsonString());

        Assert.Equal("{}", YamlValues.Parse("  \n").Values!.ToJsonString());
        Assert.Equal("{}", YamlValues.Parse("# only a comment\n").Values!.ToJsonString());

        var (_, syntax) = YamlValues.Parse("greeting: hi\nreplicaCount: [1\n");
        Assert.StartsWith("Line 3, column", syntax, StringComparison.Ordinal);
        Assert.Contains("Write the values as a mapping", YamlValues.Parse("- a\n- b\n").Error, StringComparison.Ordinal);
        Assert.Contains("one YAML document", YamlValues.Parse("a: 1\n---\nb: 2\n").Error, StringComparison.Ordinal);
        Assert.NotNull(YamlValues.Parse("a: 1\na: 2\n").Error);
    }

    [Fact]
    public void YamlValues_AliasBomb_IsRefusedNotExpanded()
    {
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + string.Concat(Enumerable.Range(0, 8).Select(i =>
            $"{(char)('b' + i)}: &{(char)('b' + i)} [{string.Join(", ", Enumerable.Repeat("*" + (char)('a' + i), 10))}]\n"));

        var (values, error) = YamlValues.Parse(bomb);

        Assert.Null(values);
        Assert.Contains("too large", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8", "zh-cn")]
    [InlineData("zh", "zh-cn")]
    [InlineData("en-GB,en;q=0.9", "en")]
    [InlineData("fr-FR,fr;q=0.9,zh-CN;q=0.5", "zh-cn")]
    [InlineData("de;q=0.1,en;q=0.9", "en")]
    [InlineData("fr-FR", null)]
    [InlineData("*", null)]
    [InlineData("en;q=0", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Locale_Pick_FollowsTheBrowsersOrderAndQuality(string? acceptLanguage, string? expected) =>
        Assert.Equal(expected, DeployLocale.Pick(acceptLanguage, ["en", "zh-cn"]));

    [Fact]
    public void PlanLevels_ATaskComesAfterEveryTaskItDependsOn()
    {
        static DeployPlanTask Step(string key, params string[] after) => new(key, "k", after, false, 1, 60);
        var levels = DeployPlanView.LevelsOf([Step("frontgate"), Step("instance:1", "frontgate"), Step("volume:2", "frontgate"), Step("instance:2", "frontgate", "volume:2"), Step("metadata", "instance:1", "instance:2"), Step("other")]);

        Assert.Equal([["frontgate", "other"], ["instance:1", "volume:2"], ["instance:2"], ["metadata"]], levels.Select(l => l.Select(t => t.Key).ToArray()).ToArray());
    }
}
