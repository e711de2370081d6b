using Pitrix.Packages.Repos;
using Xunit;

namespace Pitrix.Packages.Tests;

public sealed class RepoIndexTests
{
    private const string HelmIndex = """
        apiVersion: v1
        entries:
          nginx:
          - apiVersion: v2
            appVersion: 1.25.3
            created: "2024-01-02T03:04:05.000000006Z"
            description: NGINX
            digest: 0123abcd
            name: nginx
            version: 15.1.0
            urls:
            - https://charts.example.com/nginx-15.1.0.tgz
            annotations:
              category: Infrastructure
            dependencies:
            - name: common
              repository: oci://registry/charts
              version: 2.x.x
          - apiVersion: v2
            name: nginx
            version: 15.10.0-rc.1
            urls: [nginx-15.10.0-rc.1.tgz]
          - name: nginx
            version: "1.0"
            urls: [nginx-1.0.tgz]
          - name: nginx
            version: 15.2.0
            urls: [nginx-15.2.0.tgz]
        generated: "2024-01-02T03:04:05Z"
        serverInfo:
          contextPath: /v3
        """;

    [Fact]
    public void Parse_HelmIndex_SortsNewestFirst_AndKeepsUnknownFields()
    {
        var index = RepoIndex.Parse(HelmIndex);

        Assert.Equal("15.10.0-rc.1,15.2.0,15.1.0,1.0", string.Join(",", index.Entries["nginx"].Select(e => e.Version)));
        var entry = index.Entries["nginx"].Single(e => e.Version == "15.1.0");
        Assert.Equal("0123abcd", entry.Digest);
        Assert.Equal("https://charts.example.com/nginx-15.1.0.tgz", Assert.Single(entry.Urls));
        Assert.Equal("Infrastructure", ((Dictionary<string, object?>)entry.Metadata["annotations"]!)["category"]);
        Assert.True(index.Extra.ContainsKey("serverInfo"));
    }

    [Fact]
    public void ToYaml_RoundTrips_WithVersionsStayingStrings()
    {
        var first = RepoIndex.Parse(HelmIndex);
        var yaml = first.ToYaml();
        var second = RepoIndex.Parse(yaml);

        Assert.Contains("version: \"1.0\"", yaml, StringComparison.Ordinal);
        Assert.Equal(first.Entries["nginx"].Select(e => e.Version), second.Entries["nginx"].Select(e => e.Version));
        Assert.Equal("2024-01-02T03:04:05Z", second.Generated);
        Assert.True(second.Extra.ContainsKey("serverInfo"));
        Assert.Equal("2.x.x", ((Dictionary<string, object?>)((List<object?>)second.Entries["nginx"].Single(e => e.Version == "15.1.0").Metadata["dependencies"]!)[0]!)["version"]);
    }

    [Fact]
    public void AddAndMerge_ReplaceSameVersion_KeepOlderOnes()
    {
        var index = RepoIndex.Parse(HelmIndex);
        index.Add(new IndexEntry { Name = "nginx", Version = "15.1.0", Urls = ["rebuilt.tgz"], Digest = "ff" });
        Assert.Equal("rebuilt.tgz", index.Entries["nginx"].Single(e => e.Version == "15.1.0").Urls[0]);
        Assert.Equal(4, index.Entries["nginx"].Count);

        var fresh = new RepoIndex();
        fresh.Add(new IndexEntry { Name = "redis", Version = "1.0.0" });
        fresh.Add(new IndexEntry { Name = "nginx", Version = "15.1.0", Urls = ["newest.tgz"] });
        fresh.Merge(index);
        Assert.Equal("newest.tgz", fresh.Entries["nginx"].Single(e => e.Version == "15.1.0").Urls[0]);
        Assert.Equal(4, fresh.Entries["nginx"].Count);
        Assert.Single(fresh.Entries["redis"]);
    }

    [Theory]
    [InlineData("entries: [unclosed", "index.invalid_yaml")]
    [InlineData("- just\n- a list\n", "index.invalid")]
    [InlineData("apiVersion: v1\nentries: 42\n", "index.invalid")]
    [InlineData("apiVersion: v1\nentries:\n  app: notalist\n", "index.invalid")]
    [InlineData("apiVersion: v1\nentries:\n  app:\n  - name: app\n", "index.invalid")]
    public void Parse_BadIndex_FailsWithCode(string yaml, string code)
    {
        var ex = Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml));
        Assert.Equal(code, ex.Code);
        Assert.Equal("index.yaml", ex.Path);
    }

    [Fact]
    public void Parse_BillionLaughs_FailsFastAsTooComplex()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
        var previous = "a";
        for (var level = 1; level <= 9; level++)
        {
            var name = "l" + level;
            yaml += $"{name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n";
            previous = name;
        }

        var ex = Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml));
        Assert.Equal("index.too_complex", ex.Code);
    }
}
