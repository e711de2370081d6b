using System.Text;
using System.Text.Json.Nodes;
using Pitrix.Packages.Archives;
using Pitrix.Packages.Helm;
using Pitrix.Packages.Yaml;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Packages.Tests;

public sealed class HelmChartTests
{
    private static readonly string ChartDirectory = RepoFiles.Path("samples", "charts", "hello-web");

    [Fact]
    public async Task Read_SampleChartFromArchive_ExposesMetadataValuesAndSchema()
    {
        var builder = new ArchiveBuilder();
        foreach (var (path, content) in await RepoFiles.ReadDirectoryAsync(ChartDirectory))
        {
            builder.File("hello-web/" + path, content);
        }

        var archive = await SafeArchive.ReadAsync(builder.Stream());
        var chart = HelmChart.Read(archive.ContentFiles);

        Assert.Equal("hello-web", chart.Name);
        Assert.Equal("0.1.0", chart.Version);
        Assert.Equal("1.25", chart.AppVersion);
        Assert.Equal("application", chart.Type);
        Assert.Equal(1, (long)chart.Values["replicaCount"]!);
        Assert.Equal("1.25", (string?)chart.Values["image"]!["tag"]);
        Assert.Contains("templates/deployment.yaml", chart.Templates);
        Assert.Contains("# Number of web server pods.", chart.ValuesYaml, StringComparison.Ordinal);
        Assert.StartsWith("# hello-web", chart.Readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateValues_MergesOverDefaults_AndReportsSchemaErrorsByPath()
    {
        var chart = HelmChart.Read(await RepoFiles.ReadDirectoryAsync(ChartDirectory));

        var (merged, ok) = chart.ValidateValues(JsonNode.Parse("""{"replicaCount": 3, "image": {"tag": "1.27"}, "resources": null}""")!.AsObject());
        Assert.Empty(ok);
        Assert.Equal(3, (long)merged["replicaCount"]!);
        Assert.Equal("nginx", (string?)merged["image"]!["repository"]);
        Assert.Equal("1.27", (string?)merged["image"]!["tag"]);
        Assert.False(merged.ContainsKey("resources"));

        var (_, errors) = chart.ValidateValues(JsonNode.Parse("""{"replicaCount": 99, "service": {"port": "eighty", "type": "Magic"}}""")!.AsObject());
        Assert.Contains("/replicaCount", errors.Keys);
        Assert.Contains("/service/port", errors.Keys);
        Assert.Contains("/service/type", errors.Keys);
    }

    [Theory]
    [InlineData("name: x\nversion: 1.0.0\n", "chart.invalid_api_version")]
    [InlineData("apiVersion: v2\nversion: 1.0.0\n", "chart.invalid_name")]
    [InlineData("apiVersion: v2\nname: ../x\nversion: 1.0.0\n", "chart.invalid_name")]
    [InlineData("apiVersion: v2\nname: x\nversion: one\n", "chart.invalid_version")]
    [InlineData("apiVersion: v2\nname: x\nversion: 1.0.0\ntype: plugin\n", "chart.invalid_type")]
    [InlineData("apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n- version: 1.0.0\n", "chart.invalid_dependency")]
    [InlineData("apiVersion: [v2\n", "yaml.invalid")]
    [InlineData("- a\n- b\n", "chart.invalid")]
    public void Read_BadChartYaml_FailsWithCode(string chartYaml, string code)
    {
        var files = new Dictionary<string, byte[]> { ["Chart.yaml"] = Encoding.UTF8.GetBytes(chartYaml) };
        var ex = Assert.Throws<PackageException>(() => HelmChart.Read(files));
        Assert.Equal(code, ex.Code);
        Assert.Equal("Chart.yaml", ex.Path);
    }

    [Fact]
    public void Read_BadValuesOrSchema_FailsWithFileName()
    {
        var chartYaml = Encoding.UTF8.GetBytes("apiVersion: v2\nname: x\nversion: 1.0.0\n");
        Assert.Equal("chart.missing_chart_yaml", Assert.Throws<PackageException>(() => HelmChart.Read(new Dictionary<string, byte[]>())).Code);
        var badValues = Assert.Throws<PackageException>(() => HelmChart.Read(new Dictionary<string, byte[]> { ["Chart.yaml"] = chartYaml, ["values.yaml"] = "- list"u8.ToArray() }));
        Assert.Equal("values.yaml", badValues.Path);
        var badSchema = Assert.Throws<PackageException>(() => HelmChart.Read(new Dictionary<string, byte[]> { ["Chart.yaml"] = chartYaml, ["values.schema.json"] = "{nope"u8.ToArray() }));
        Assert.Equal("chart.invalid_schema", badSchema.Code);
    }

    [Fact]
    public void YamlJson_TypesPlainScalarsLikeGoYaml_AndKeepsQuotedOnesAsStrings()
    {
        var node = YamlJson.Parse("a: 3\nb: \"3\"\nc: yes\nd: 'on'\ne: 1.5\nf: ~\ng: 0x1F\nh: 1.2.3\ni: -7\n", "t.yaml")!;
        Assert.Equal(3, (long)node["a"]!);
        Assert.Equal("3", (string?)node["b"]);
        Assert.True((bool)node["c"]!);
        Assert.Equal("on", (string?)node["d"]);
        Assert.Equal(1.5, (double)node["e"]!);
        Assert.Null(node["f"]);
        Assert.Equal(31, (long)node["g"]!);
        Assert.Equal("1.2.3", (string?)node["h"]);
        Assert.Equal(-7, (long)node["i"]!);
    }

    [Fact]
    public void YamlJson_MergeKeysAndAnchors_AsHelmReadsThem()
    {
        var node = YamlJson.Parse("base: &base {cpu: 1, memory: 512}\nweb:\n  <<: *base\n  memory: 1024\n", "values.yaml")!;
        Assert.Equal(1, (long)node["web"]!["cpu"]!);
        Assert.Equal(1024, (long)node["web"]!["memory"]!);
    }

    [Fact]
    public void YamlJson_AliasBomb_FailsAsTooComplex()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
        for (var level = 1; level <= 9; level++)
        {
            var previous = level == 1 ? "a" : "l" + (level - 1);
            yaml += $"l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat("*" + previous, 10))}]\n";
        }

        var ex = Assert.Throws<PackageException>(() => YamlJson.Parse(yaml, "values.yaml"));
        Assert.Equal("yaml.too_complex", ex.Code);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public async Task HelmTemplate_RealHelm_RendersSampleWithEscapedUserValues(int helmMajor)
    {
        var helm = new HelmCli(HelmBinaries.Path(helmMajor));
        Assert.StartsWith($"v{helmMajor}.", await helm.VersionAsync(CancellationToken.None), StringComparison.Ordinal);
        Assert.Equal(helmMajor, await helm.MajorVersionAsync(CancellationToken.None));

        var output = await helm.TemplateAsync(ChartDirectory, "demo", "web", "greeting: \"<script>alert(1)</script>\"\nreplicaCount: 2\n", TimeSpan.FromSeconds(60), CancellationToken.None);

        Assert.Contains("kind: Deployment", output, StringComparison.Ordinal);
        Assert.Contains("replicas: 2", output, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", output, StringComparison.Ordinal);
        Assert.Contains("name: demo-hello-web", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public async Task HelmTemplate_BrokenChart_FailsWithHelmsMessage(int helmMajor)
    {
        var directory = Directory.CreateTempSubdirectory("pitrix-chart-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "Chart.yaml"), "apiVersion: v2\nname: broken\nversion: 0.1.0\n");
            Directory.CreateDirectory(Path.Combine(directory, "templates"));
            await File.WriteAllTextAsync(Path.Combine(directory, "templates", "x.yaml"), "value: {{ .Values.missing | required \"missing is required\" }}\n");
            var ex = await Assert.ThrowsAsync<PackageException>(() => new HelmCli(HelmBinaries.Path(helmMajor)).TemplateAsync(directory, "r", "default", null, TimeSpan.FromSeconds(60), CancellationToken.None));
            Assert.Equal("helm.template_failed", ex.Code);
            Assert.Contains("missing is required", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("v3.17.3+ge4da497", 3)]
    [InlineData("v4.1.4+g05fa379\n", 4)]
    [InlineData("v4.0.0-rc.1", 4)]
    [InlineData("v10.2.0", 10)]
    [InlineData("Client: v2.16.1+gbbdfe5e", 0)]
    [InlineData("4.1.4", 0)]
    [InlineData("v", 0)]
    [InlineData("", 0)]
    public void ParseMajorVersion_ReadsHelmVersionShort(string version, int major) =>
        Assert.Equal(major, HelmCli.ParseMajorVersion(version));

    [Fact]
    public async Task MajorVersion_OfAHelm2OrUnreadableBinary_IsRefused_AndNotRemembered()
    {
        var directory = Directory.CreateTempSubdirectory("pitrix-fake-helm-").FullName;
        try
        {
            // A stand-in for helm 2, whose --short output is "Client: v2...": refused each time it is asked.
            var fake = Path.Combine(directory, "helm");
            await File.WriteAllTextAsync(fake, "#!/bin/sh\necho 'Client: v2.16.1+gbbdfe5e'\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var helm = new HelmCli(fake);

            var refused = await Assert.ThrowsAsync<PackageException>(() => helm.MajorVersionAsync(CancellationToken.None));
            Assert.Equal("helm.unsupported_version", refused.Code);
            Assert.Contains("3.17+ or 4.x", refused.Message, StringComparison.Ordinal);

            // The binary is replaced by a helm 4: the failed read was not remembered.
            await File.WriteAllTextAsync(fake, "#!/bin/sh\necho 'v4.1.4+g05fa379'\n");
            Assert.Equal(4, await helm.MajorVersionAsync(CancellationToken.None));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
