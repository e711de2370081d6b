using System.Text;
using Pitrix.Packages.Helm;
using Pitrix.Packages.VmCluster;

namespace Pitrix.Packages;

/// <summary>One problem found in a package: the file it is in (when known), a message and a stable code.</summary>
public sealed record LintProblem(string? Path, string Message, string Code)
{
    public override string ToString() => $"{Message} [{Code}]";
}

/// <summary>
/// The checks a package must pass before it is published: the CLI's <c>pitrix package lint</c> and the
/// server's upload run the same ones.
/// </summary>
public static class PackageLinter
{
    /// <summary>Every problem found in the package's files (empty when it is fine).</summary>
    public static IReadOnlyList<LintProblem> Lint(IReadOnlyDictionary<string, byte[]> files, string format) =>
        format == PackageFormat.VmCluster ? LintVmCluster(files) : LintHelm(files);

    private static List<LintProblem> LintVmCluster(IReadOnlyDictionary<string, byte[]> files)
    {
        var problems = new List<LintProblem>();
        Check(problems, () =>
        {
            if (!files.TryGetValue(ConfigSchema.FileName, out var config))
            {
                throw new PackageException("package.missing_file", "A vmcluster package needs config.json.", ConfigSchema.FileName);
            }

            var schema = ConfigSchema.Parse(Encoding.UTF8.GetString(config));

            // The defaults must themselves be acceptable values.
            foreach (var (key, messages) in schema.Validate(null).Errors.Where(e => !e.Value.All(m => m == "Required.")))
            {
                problems.Add(new LintProblem(ConfigSchema.FileName, $"{ConfigSchema.FileName}: default of '{key}': {string.Join(" ", messages)}", "config.invalid_default"));
            }
        });
        if (!files.TryGetValue(ClusterTemplate.FileName, out var template))
        {
            problems.Add(new LintProblem(ClusterTemplate.FileName, "cluster.json.tmpl: A vmcluster package needs cluster.json.tmpl.", "package.missing_file"));
        }
        else if (files.TryGetValue(ConfigSchema.FileName, out var configBytes))
        {
            // Render with the defaults (and placeholders for required values) and check the result.
            Check(problems, () =>
            {
                var schema = ConfigSchema.Parse(Encoding.UTF8.GetString(configBytes));
                var cluster = ClusterTemplate.Render(Encoding.UTF8.GetString(template), schema.SampleValues());
                foreach (var (path, messages) in ClusterSpec.Validate(cluster))
                {
                    problems.Add(new LintProblem(ClusterTemplate.FileName, $"{ClusterTemplate.FileName} (rendered with defaults): {path}: {string.Join(" ", messages)}", "cluster.invalid"));
                }
            });
        }

        foreach (var locale in files.Keys.Where(k => k.StartsWith("locale/", StringComparison.Ordinal) && k.EndsWith(".json", StringComparison.Ordinal)))
        {
            Check(problems, () =>
            {
                try
                {
                    _ = System.Text.Json.Nodes.JsonNode.Parse(files[locale]);
                }
                catch (System.Text.Json.JsonException ex)
                {
                    throw new PackageException("locale.invalid_json", $"Invalid JSON at line {ex.LineNumber + 1}.", locale);
                }
            });
        }

        return problems;
    }

    private static List<LintProblem> LintHelm(IReadOnlyDictionary<string, byte[]> files)
    {
        var problems = new List<LintProblem>();
        Check(problems, () =>
        {
            var chart = HelmChart.Read(files);
            foreach (var (path, messages) in chart.ValidateValues(null).Errors)
            {
                problems.Add(new LintProblem("values.yaml", $"values.yaml: {path}: {string.Join(" ", messages)}", "chart.values_violate_schema"));
            }

            if (chart.Type == "application" && chart.Templates.Count == 0)
            {
                problems.Add(new LintProblem("templates/", "templates/: An application chart needs templates.", "chart.no_templates"));
            }
        });
        return problems;
    }

    private static void Check(List<LintProblem> problems, Action check)
    {
        try
        {
            check();
        }
        catch (PackageException ex)
        {
            problems.Add(new LintProblem(ex.Path, ex.Message, ex.Code));
        }
    }
}
