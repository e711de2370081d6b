using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Pitrix.Packages.Archives;
using Pitrix.Packages.Repos;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Cli.Tests;

/// <summary><c>pitrix package</c>, <c>lint</c> and <c>repo index</c> on the samples and on broken packages.</summary>
public sealed class PackageCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("pitrix-pkg-").FullName;

    private static string HelloWeb => RepoFiles.Path("samples", "charts", "hello-web");

    private async Task<(int ExitCode, string Output, string Error)> PitrixAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, new CliEnvironment(new StringReader(""), output, error, Path.Combine(_work, "config.json"), InputIsTerminal: false));
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Package_SampleChart_IsReproducibleAndReadable()
    {
        var first = await PitrixAsync("package", HelloWeb, "-d", Path.Combine(_work, "a"));
        var second = await PitrixAsync("package", HelloWeb, "-d", Path.Combine(_work, "b"));
        Assert.Equal(ExitCodes.Ok, first.ExitCode);
        var a = await File.ReadAllBytesAsync(Path.Combine(_work, "a", "hello-web-0.1.0.tgz"));
        var b = await File.ReadAllBytesAsync(Path.Combine(_work, "b", "hello-web-0.1.0.tgz"));
        Assert.Equal(a, b);

        var archive = await SafeArchive.ReadAsync(new MemoryStream(a));
        Assert.Equal("hello-web", archive.RootDirectory);
        Assert.Contains("templates/deployment.yaml", archive.ContentFiles.Keys);
    }

    [Fact]
    public async Task Lint_GoodChart_Passes_BrokenOnesListEveryProblem()
    {
        var good = await PitrixAsync("lint", HelloWeb);
        Assert.Equal(ExitCodes.Ok, good.ExitCode);
        Assert.Contains("no problems", good.Output, StringComparison.Ordinal);

        var broken = Path.Combine(_work, "broken");
        Directory.CreateDirectory(broken);
        await File.WriteAllTextAsync(Path.Combine(broken, "Chart.yaml"), "apiVersion: v2\nname: broken\nversion: latest\n");
        var bad = await PitrixAsync("lint", broken);
        Assert.Equal(ExitCodes.Invalid, bad.ExitCode);
        Assert.Contains("[chart.invalid_version]", bad.Output, StringComparison.Ordinal);

        var schemaViolation = Path.Combine(_work, "violating");
        CopyDirectory(HelloWeb, schemaViolation);
        await File.WriteAllTextAsync(Path.Combine(schemaViolation, "values.yaml"), (await File.ReadAllTextAsync(Path.Combine(schemaViolation, "values.yaml"))).Replace("replicaCount: 1", "replicaCount: 500", StringComparison.Ordinal));
        var violating = await PitrixAsync("lint", schemaViolation);
        Assert.Equal(ExitCodes.Invalid, violating.ExitCode);
        Assert.Contains("/replicaCount", violating.Output, StringComparison.Ordinal);

        var hostile = Path.Combine(_work, "hostile.tgz");
        await File.WriteAllBytesAsync(hostile, Tgz(("../../etc/cron.d/evil", "* * * * * root reboot")));
        var refused = await PitrixAsync("lint", hostile);
        Assert.Equal(ExitCodes.Invalid, refused.ExitCode);
        Assert.Contains("[archive.path_traversal]", refused.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RepoIndex_IndexesPackages_SkipsBrokenOnes_AndMerges()
    {
        var repo = Path.Combine(_work, "repo");
        Assert.Equal(ExitCodes.Ok, (await PitrixAsync("package", HelloWeb, "-d", repo)).ExitCode);
        await File.WriteAllBytesAsync(Path.Combine(repo, "junk-1.0.0.tgz"), Tgz(("readme.txt", "no chart here")));

        var result = await PitrixAsync("repo", "index", repo, "--url", "https://charts.example.invalid/stable");
        Assert.Equal(ExitCodes.Invalid, result.ExitCode);
        Assert.Contains("junk-1.0.0.tgz", result.Error, StringComparison.Ordinal);
        Assert.Contains("[package.unknown_format]", result.Error, StringComparison.Ordinal);

        var index = RepoIndex.Parse(await File.ReadAllTextAsync(Path.Combine(repo, "index.yaml")));
        var entry = Assert.Single(index.Entries["hello-web"]);
        Assert.Equal("0.1.0", entry.Version);
        Assert.Equal("helm", entry.Format);
        Assert.Equal("https://charts.example.invalid/stable/hello-web-0.1.0.tgz", Assert.Single(entry.Urls));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(repo, "hello-web-0.1.0.tgz")))), entry.Digest);

        var old = new RepoIndex();
        old.Add(new IndexEntry { Name = "legacy", Version = "0.9.0", Urls = ["legacy-0.9.0.tgz"] });
        var oldPath = Path.Combine(_work, "old-index.yaml");
        await File.WriteAllTextAsync(oldPath, old.ToYaml());
        File.Delete(Path.Combine(repo, "junk-1.0.0.tgz"));
        Assert.Equal(ExitCodes.Ok, (await PitrixAsync("repo", "index", repo, "--merge", oldPath)).ExitCode);
        var merged = RepoIndex.Parse(await File.ReadAllTextAsync(Path.Combine(repo, "index.yaml")));
        Assert.True(merged.Entries.ContainsKey("legacy"));
        Assert.Equal("hello-web-0.1.0.tgz", merged.Entries["hello-web"][0].Urls[0]);
    }

    private static string ZooKeeper => RepoFiles.Path("samples", "vmcluster", "zookeeper");

    [Fact]
    public async Task SampleRepo_MatchesFreshlyBuiltPackages()
    {
        var index = RepoIndex.Parse(await File.ReadAllTextAsync(RepoFiles.Path("samples", "repo", "index.yaml")));
        var samples = Directory.GetDirectories(RepoFiles.Path("samples", "vmcluster")).Append(HelloWeb).ToList();
        Assert.Equal(samples.Count, index.Entries.Count);
        foreach (var sample in samples)
        {
            Assert.Equal(ExitCodes.Ok, (await PitrixAsync("lint", sample)).ExitCode);
            var built = await PitrixAsync("package", sample, "-d", _work);
            Assert.Equal(ExitCodes.Ok, built.ExitCode);
            var path = built.Output.Trim();
            var entry = index.Entries[Path.GetFileName(sample)].Single();
            Assert.True(
                Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path))) == entry.Digest,
                $"samples/repo is stale for {Path.GetFileName(path)}: rebuild it with `pitrix package {sample} -d samples/repo && pitrix repo index samples/repo`.");
        }
    }

    [Fact]
    public async Task LintAndRender_VmClusterSample_AndBrokenCopies()
    {
        Assert.Equal(ExitCodes.Ok, (await PitrixAsync("lint", ZooKeeper)).ExitCode);

        var values = Path.Combine(_work, "values.json");
        await File.WriteAllTextAsync(values, """{"cluster": {"subnet": "vxnet-9", "zk_node": {"count": 7}}}""");
        var rendered = await PitrixAsync("render", ZooKeeper, "--values", values);
        Assert.Equal(ExitCodes.Ok, rendered.ExitCode);
        Assert.Equal(7, (int)System.Text.Json.Nodes.JsonNode.Parse(rendered.Output)!["nodes"]![0]!["count"]!);

        await File.WriteAllTextAsync(values, """{"cluster": {"zk_node": {"count": 2, "cpu": "many"}}}""");
        var invalid = await PitrixAsync("render", ZooKeeper, "--values", values);
        Assert.Equal(ExitCodes.Invalid, invalid.ExitCode);
        Assert.Contains("cluster.subnet: Required.", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("cluster.zk_node.count", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("cluster.zk_node.cpu", invalid.Error, StringComparison.Ordinal);

        var broken = Path.Combine(_work, "zk-broken");
        CopyDirectory(ZooKeeper, broken);
        var template = Path.Combine(broken, "cluster.json.tmpl");
        await File.WriteAllTextAsync(template, (await File.ReadAllTextAsync(template)).Replace("\"memory\": {{.cluster.zk_node.memory}},", "\"memory\": {{.cluster.zk_node.memory}}, \"gpu\": 99,", StringComparison.Ordinal).Replace("\"timeout\": 300", "\"timeout\": 999999", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(broken, "locale", "de.json"), "{ nicht json");
        var lint = await PitrixAsync("lint", broken);
        Assert.Equal(ExitCodes.Invalid, lint.ExitCode);
        Assert.Contains("nodes[0].gpu", lint.Output, StringComparison.Ordinal);
        Assert.Contains("nodes[0].services.init.timeout", lint.Output, StringComparison.Ordinal);
        Assert.Contains("[locale.invalid_json]", lint.Output, StringComparison.Ordinal);

        await File.WriteAllTextAsync(template, "{\"name\": {{ .cluster.name | nosuch }} }");
        var parseError = await PitrixAsync("lint", broken);
        Assert.Contains("[template.parse_error]", parseError.Output, StringComparison.Ordinal);
    }

    private static byte[] Tgz(params (string Name, string Content)[] files)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) });
            }
        }

        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar.ToArray());
        }

        return output.ToArray();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
