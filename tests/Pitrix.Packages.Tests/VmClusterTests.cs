using System.Text.Json.Nodes;
using Pitrix.Packages.VmCluster;
using Xunit;

namespace Pitrix.Packages.Tests;

public sealed class VmClusterTests
{
    // The ZooKeeper config.json of the original design note, completed where the note was cut.
    private const string ZooKeeperConfig = """
        {
          "type": "array",
          "properties": [{
            "key": "cluster",
            "description": "ZooKeeper release 3.4.9 cluster properties",
            "type": "array",
            "properties": [
              { "key": "name", "label": "Name", "type": "string", "default": "ZooKeeper", "required": "no" },
              { "key": "description", "label": "Description", "type": "string", "default": "", "required": "no" },
              { "key": "subnet", "label": "Subnet", "type": "string", "default": "", "required": "yes", "pattern": "^[a-z0-9-]+$" },
              { "key": "zk_node", "label": "ZooKeeper Node", "type": "array", "properties": [
                { "key": "cpu", "label": "CPU", "type": "integer", "default": 1, "range": [1, 2, 4, 8], "required": "yes" },
                { "key": "memory", "label": "Memory", "type": "integer", "default": 2048, "range": [1024, 2048, 4096, 8192], "required": "yes" },
                { "key": "count", "label": "Node Count", "type": "integer", "default": 3, "min": 1, "max": 9, "step": 2, "required": "yes" },
                { "key": "volume_size", "label": "Volume Size", "type": "integer", "default": 10, "min": 10, "step": 10, "required": "yes", "changeable": false }
              ]}
            ]
          }, {
            "key": "env",
            "type": "array",
            "properties": [
              { "key": "tick_time", "type": "integer", "default": 2000 },
              { "key": "ratio", "type": "number", "default": 0.5, "min": 0, "max": 1 },
              { "key": "four_letter_words", "type": "string", "default": "ruok,stat", "range": ["ruok", "stat", "mntr", "conf"], "multichoice": true, "separator": "," },
              { "key": "autopurge", "type": "boolean", "default": true },
              { "key": "admin_password", "type": "password", "required": true, "limits": { "min_length": 8 } }
            ]
          }]
        }
        """;

    [Fact]
    public void Validate_FillsDefaults_AndAcceptsGoodValues()
    {
        var schema = ConfigSchema.Parse(ZooKeeperConfig);
        var (values, errors) = schema.Validate(JsonNode.Parse("""{"cluster": {"subnet": "vxnet-1", "zk_node": {"count": 5}}, "env": {"admin_password": "s3cret!", "ratio": "0.25"}}""")!.AsObject());

        Assert.Empty(errors);
        Assert.Equal(5, (long)values["cluster"]!["zk_node"]!["count"]!);
        Assert.Equal(2048, (long)values["cluster"]!["zk_node"]!["memory"]!);
        Assert.Equal("ZooKeeper", (string?)values["cluster"]!["name"]);
        Assert.Equal(0.25, (double)values["env"]!["ratio"]!);
        Assert.True((bool)values["env"]!["autopurge"]!);
        Assert.False(schema.Root.Properties[0].Properties[3].Properties[3].Changeable);
        Assert.NotNull(schema.Root.Properties[1].Properties[4].Raw["limits"]);
    }

    [Fact]
    public void Validate_BadValues_NameEveryKeyPath()
    {
        var schema = ConfigSchema.Parse(ZooKeeperConfig);
        var (_, errors) = schema.Validate(JsonNode.Parse("""
            {"cluster": {"subnet": "Bad Subnet!", "zk_node": {"cpu": 3, "count": 4, "memory": "lots", "volume_size": 15}, "colour": "red"},
             "env": {"ratio": 2, "four_letter_words": "ruok,kill", "autopurge": "maybe", "tick_time": 1.5}}
            """)!.AsObject());

        Assert.Contains("cluster.subnet", errors.Keys);
        Assert.Contains("cluster.zk_node.cpu", errors.Keys);
        Assert.Contains("cluster.zk_node.count", errors.Keys);
        Assert.Contains("cluster.zk_node.memory", errors.Keys);
        Assert.Contains("cluster.zk_node.volume_size", errors.Keys);
        Assert.Equal("Unknown key.", Assert.Single(errors["cluster.colour"]));
        Assert.Contains("env.ratio", errors.Keys);
        Assert.Contains("\"kill\"", Assert.Single(errors["env.four_letter_words"]), StringComparison.Ordinal);
        Assert.Contains("env.autopurge", errors.Keys);
        Assert.Contains("env.tick_time", errors.Keys);
        Assert.Equal("Required.", Assert.Single(errors["env.admin_password"]));
    }

    [Fact]
    public void Validate_RequiredWithoutValueOrDefault_IsReported()
    {
        var schema = ConfigSchema.Parse(ZooKeeperConfig);
        var (_, errors) = schema.Validate(null);
        Assert.Equal("Required.", Assert.Single(errors["cluster.subnet"]));
    }

    [Theory]
    [InlineData("{not json", "config.invalid_json")]
    [InlineData("42", "config.invalid")]
    [InlineData("""{"type":"array","properties":[{"key":"a","type":"float"}]}""", "config.invalid_type")]
    [InlineData("""{"type":"array","properties":[{"type":"string"}]}""", "config.invalid")]
    [InlineData("""{"type":"array","properties":[{"key":"a","type":"string"},{"key":"a","type":"integer"}]}""", "config.duplicate_key")]
    [InlineData("""{"type":"array","properties":[{"key":"a","type":"string","pattern":"(unclosed"}]}""", "config.invalid_pattern")]
    [InlineData("""{"type":"array","properties":[{"key":"a","type":"integer","min":"low"}]}""", "config.invalid")]
    [InlineData("""{"type":"array","properties":[{"key":"a","type":"string","required":"perhaps"}]}""", "config.invalid")]
    public void Parse_BadConfig_FailsWithCode(string json, string code)
    {
        var ex = Assert.Throws<PackageException>(() => ConfigSchema.Parse(json));
        Assert.Equal(code, ex.Code);
        Assert.Equal("config.json", ex.Path);
    }

    [Fact]
    public void PackageMetadata_Parse_KeepsUnknownFields()
    {
        var metadata = PackageMetadata.Parse("""
            {"api_version": "v1", "name": "zookeeper", "version": "3.4.9-1", "app_version": "3.4.9", "description": "ZooKeeper",
             "maintainers": [{"name": "Pitrix", "email": "dev@pitrix.dev"}], "keywords": ["coordination"], "x_vendor": {"tier": 1}}
            """);
        Assert.Equal("zookeeper", metadata.Name);
        Assert.Equal("dev@pitrix.dev", metadata.Maintainers[0].Email);
        Assert.True(metadata.Extra!.ContainsKey("x_vendor"));
    }

    [Theory]
    [InlineData("""{"name": "ZooKeeper", "version": "1.0.0"}""", "package.invalid_name")]
    [InlineData("""{"name": "zk", "version": "1.0"}""", "package.invalid_version")]
    [InlineData("""{"name": "zk", "version": "1.0.0", "api_version": "v9"}""", "package.unsupported_api_version")]
    [InlineData("""{"name": "zk", "version": 1}""", "package.invalid_json")]
    [InlineData("""{"name": "zk",""", "package.invalid_json")]
    [InlineData("null", "package.invalid_json")]
    public void PackageMetadata_Parse_Bad_FailsWithCode(string json, string code)
    {
        var ex = Assert.Throws<PackageException>(() => PackageMetadata.Parse(json));
        Assert.Equal(code, ex.Code);
        Assert.DoesNotContain("System.", ex.Message, StringComparison.Ordinal);
    }
}
