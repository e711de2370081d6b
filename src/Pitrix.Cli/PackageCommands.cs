using System.CommandLine;
using System.Text;
using Pitrix.Packages;
using Pitrix.Packages.Archives;
using Pitrix.Packages.Helm;
using Pitrix.Packages.Repos;
using Pitrix.Packages.VmCluster;

namespace Pitrix.Cli;

/// <summary>Local package commands: they work on files and need no server.</summary>
internal static class PackageCommands
{
    public static Command Package(CliEnvironment env)
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "Package directory (with package.json or Chart.yaml)" };
        var destination = new Option<DirectoryInfo?>("--destination", "-d") { Description = "Where to write the .tgz (default: current directory)" };
        var command = new Command("package", "Build <name>-<version>.tgz from a package directory, reproducibly") { directory, destination };
        command.SetAction(async (parse, ct) => await GuardAsync(env, async () =>
        {
            var (fileName, archive, summary) = await PackageBuilder.BuildAsync(parse.GetValue(directory)!.FullName, ct);
            var target = Path.Combine(parse.GetValue(destination)?.FullName ?? Directory.GetCurrentDirectory(), fileName);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await File.WriteAllBytesAsync(target, archive, ct);
            await env.Output.WriteLineAsync(target);
            await env.Error.WriteLineAsync($"Packaged {summary.Format} {summary.Name} {summary.Version} ({archive.Length} bytes).");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Lint(CliEnvironment env)
    {
        var path = new Argument<string>("path") { Description = "Package directory or .tgz" };
        var command = new Command("lint", "Check a package and print every problem found") { path };
        command.SetAction(async (parse, ct) =>
        {
            var target = parse.GetValue(path)!;
            var problems = new List<string>();
            string? title = null;
            try
            {
                var files = await PackageSource.LoadAsync(target, ct);
                var summary = PackageSummary.Read(files);
                title = $"{summary.Format} {summary.Name} {summary.Version}";
                problems.AddRange(PackageLinter.Lint(files, summary.Format).Select(p => p.ToString()));
            }
            catch (PackageException ex)
            {
                problems.Add(Describe(ex));
            }

            if (problems.Count == 0)
            {
                await env.Output.WriteLineAsync($"{target}: {title}: no problems found.");
                return ExitCodes.Ok;
            }

            await env.Output.WriteLineAsync($"{target}{(title is null ? "" : ": " + title)}: {problems.Count} problem(s)");
            foreach (var problem in problems)
            {
                await env.Output.WriteLineAsync("  ERROR " + problem);
            }

            return ExitCodes.Invalid;
        });
        return command;
    }

    public static Command Render(CliEnvironment env)
    {
        var directory = new Argument<string>("path") { Description = "vmcluster package directory or .tgz" };
        var valuesFile = new Option<FileInfo?>("--values", "-f") { Description = "JSON file of configuration values (default: the package's defaults)" };
        var command = new Command("render", "Validate values against config.json and print the rendered cluster") { directory, valuesFile };
        command.SetAction(async (parse, ct) => await GuardAsync(env, async () =>
        {
            var files = await PackageSource.LoadAsync(parse.GetValue(directory)!, ct);
            if (PackageFormat.Detect(files) != PackageFormat.VmCluster)
            {
                throw new PackageException("package.not_vmcluster", "render works on vmcluster packages; use helm template for charts.");
            }

            var schema = ConfigSchema.Parse(Encoding.UTF8.GetString(files.TryGetValue(ConfigSchema.FileName, out var c) ? c : throw new PackageException("package.missing_file", "config.json is missing.", ConfigSchema.FileName)));
            System.Text.Json.Nodes.JsonObject? given = null;
            if (parse.GetValue(valuesFile) is { } file)
            {
                given = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, ct)) as System.Text.Json.Nodes.JsonObject
                    ?? throw new PackageException("values.invalid", "The values file must hold a JSON object.", file.Name);
            }

            var (values, errors) = schema.Validate(given);
            if (errors.Count > 0)
            {
                foreach (var (path, messages) in errors)
                {
                    await env.Error.WriteLineAsync($"  {path}: {string.Join(" ", messages)}");
                }

                throw new PackageException("values.invalid", $"{errors.Count} value(s) do not fit config.json.");
            }

            var template = files.TryGetValue(ClusterTemplate.FileName, out var t) ? Encoding.UTF8.GetString(t) : throw new PackageException("package.missing_file", "cluster.json.tmpl is missing.", ClusterTemplate.FileName);
            var cluster = ClusterTemplate.Render(template, values);
            var problems = ClusterSpec.Validate(cluster);
            await env.Output.WriteLineAsync(cluster.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            foreach (var (path, messages) in problems)
            {
                await env.Error.WriteLineAsync($"  {path}: {string.Join(" ", messages)}");
            }

            return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
        }));
        return command;
    }

    public static Command Repo(CliEnvironment env)
    {
        var repo = new Command("repo", "App repositories: index local package directories, and manage the server's repos");
        var directory = new Argument<DirectoryInfo>("dir") { Description = "Directory holding .tgz packages" };
        var url = new Option<string?>("--url") { Description = "Base URL the packages will be served from" };
        var merge = new Option<FileInfo?>("--merge") { Description = "An existing index.yaml whose other entries are kept" };
        var index = new Command("index", "Write <dir>/index.yaml for the packages in a directory (like helm repo index)") { directory, url, merge };
        index.SetAction(async (parse, ct) => await GuardAsync(env, async () =>
        {
            var dir = parse.GetValue(directory)!.FullName;
            RepoIndex? old = null;
            if (parse.GetValue(merge) is { } mergeFile)
            {
                old = RepoIndex.Parse(await File.ReadAllTextAsync(mergeFile.FullName, ct));
            }

            var (result, skipped) = await RepoIndexer.IndexDirectoryAsync(dir, parse.GetValue(url), old, TimeProvider.System, ct);
            var target = Path.Combine(dir, "index.yaml");
            await File.WriteAllTextAsync(target, result.ToYaml(), ct);
            foreach (var problem in skipped)
            {
                await env.Error.WriteLineAsync("  skipped " + Describe(problem));
            }

            await env.Output.WriteLineAsync(target);
            await env.Error.WriteLineAsync($"Indexed {result.Entries.Values.Sum(v => v.Count)} version(s) of {result.Entries.Count} app(s); skipped {skipped.Count}.");
            return skipped.Count == 0 ? ExitCodes.Ok : ExitCodes.Invalid;
        }));
        repo.Subcommands.Add(index);
        return repo;
    }

    private static string Describe(PackageException ex) => $"{ex.Message} [{ex.Code}]";

    private static async Task<int> GuardAsync(CliEnvironment env, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (PackageException ex)
        {
            await env.Error.WriteLineAsync("Error: " + Describe(ex));
            return ExitCodes.Invalid;
        }
        catch (System.Text.Json.JsonException ex)
        {
            await env.Error.WriteLineAsync($"Error: invalid JSON at line {ex.LineNumber + 1}. [values.invalid_json]");
            return ExitCodes.Invalid;
        }
        catch (IOException ex)
        {
            await env.Error.WriteLineAsync("Error: " + ex.Message);
            return ExitCodes.Failure;
        }
    }
}
