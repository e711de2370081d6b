using System.Text.Json.Nodes;
using Pitrix.Packages;

namespace Pitrix.Testing;

/// <summary>Builds packages from the samples with a chosen name and version, so tests sharing a server never collide.</summary>
public static class SamplePackages
{
    /// <summary>The Helm chart <c>samples/charts/{chart}</c> packaged with a chosen name and version (Chart.yaml rewritten).</summary>
    public static async Task<(string Name, byte[] Archive)> BuildChartAsync(string chart = "hello-web", string version = "0.1.0", string? name = null, Action<string>? edit = null)
    {
        var work = CopyTree(RepoFiles.Path("samples", "charts", chart), "pitrix-chart-");
        try
        {
            edit?.Invoke(work);
            name ??= ServerFixture.Unique(chart);
            var chartYaml = Path.Combine(work, "Chart.yaml");
            var lines = (await File.ReadAllLinesAsync(chartYaml))
                .Select(l => l.StartsWith("name:", StringComparison.Ordinal) ? $"name: {name}" : l.StartsWith("version:", StringComparison.Ordinal) ? $"version: {version}" : l);
            await File.WriteAllLinesAsync(chartYaml, lines);
            var (_, archive, _) = await PackageBuilder.BuildAsync(work, CancellationToken.None);
            return (name, archive);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    public static async Task<(string Name, byte[] Archive)> BuildAsync(string sample = "zookeeper", string version = "1.0.0", string? name = null, Action<string>? edit = null)
    {
        var work = CopyTree(RepoFiles.Path("samples", "vmcluster", sample), "pitrix-pkg-");
        try
        {
            name ??= ServerFixture.Unique(sample);
            var metadataPath = Path.Combine(work, "package.json");
            var metadata = JsonNode.Parse(await File.ReadAllTextAsync(metadataPath))!;
            metadata["name"] = name;
            metadata["version"] = version;
            await File.WriteAllTextAsync(metadataPath, metadata.ToJsonString());
            edit?.Invoke(work);
            var (_, archive, _) = await PackageBuilder.BuildAsync(work, CancellationToken.None);
            return (name, archive);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A copy of <paramref name="source"/> in a new temporary directory; the caller deletes it.</summary>
    public static string CopyTree(string source, string prefix)
    {
        var work = Directory.CreateTempSubdirectory(prefix).FullName;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(work, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return work;
    }
}
