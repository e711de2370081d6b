using System.Diagnostics;
using System.Net;
using Pitrix.Packages;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Api.Tests;

/// <summary>The real helm binary (helm 3 and helm 4) against a repo's index.yaml: repo add, search and pull, public and with credentials.</summary>
public sealed class HelmRepoTests(SqliteServerFixture fixture) : IClassFixture<SqliteServerFixture>
{
    private TestServer Server => fixture.Server;

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Helm_RepoAddSearchPull_PublicRepo_AndPrivateRepoWithApiToken(int helmMajor)
    {
        using var admin = await Server.LoginAdminAsync();
        var repo = await admin.PostAsync("/api/v1/repos", new { name = ServerFixture.Unique("charts"), visibility = "public" });
        Assert.Equal(HttpStatusCode.Created, repo.Status);
        var (chart, archive) = await ChartAsync();
        var uploaded = await admin.UploadAsync("/api/v1/apps", archive, fields: new Dictionary<string, string> { ["repo_id"] = repo.Id });
        Assert.Equal(HttpStatusCode.Created, uploaded.Status);
        foreach (var action in new[] { "submit", "review", "pass", "release" })
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/app_versions/{uploaded.Id}:{action}")).Status);
        }

        using var helm = new HelmHome(HelmBinaries.Path(helmMajor));
        var url = new Uri(Server.Address, $"/api/v1/repos/{repo.Id}").ToString();
        var add = await helm.RunAsync("repo", "add", "pitrix", url);
        Assert.True(add.ExitCode == 0, add.Output);
        var search = await helm.RunAsync("search", "repo", $"pitrix/{chart}");
        Assert.True(search.ExitCode == 0, search.Output);
        Assert.Contains($"pitrix/{chart}", search.Output, StringComparison.Ordinal);
        Assert.Contains("0.1.0", search.Output, StringComparison.Ordinal);
        var pull = await helm.RunAsync("pull", $"pitrix/{chart}", "--version", "0.1.0", "-d", helm.Directory);
        Assert.True(pull.ExitCode == 0, pull.Output);
        Assert.Equal(archive, await File.ReadAllBytesAsync(Path.Combine(helm.Directory, $"{chart}-0.1.0.tgz")));

        // A group's repo: helm without credentials is refused; with the user name and an API token it works.
        var group = await admin.PostAsync("/api/v1/groups", new { name = ServerFixture.Unique("helm") });
        var userName = ServerFixture.Unique("helmuser");
        using var user = await Server.CreateUserAsync(userName, ["developer"], [group.Id]);
        var (privateChart, privateArchive) = await ChartAsync();
        var privateUpload = await user.UploadAsync("/api/v1/apps", privateArchive);
        Assert.Equal(HttpStatusCode.Created, privateUpload.Status);
        foreach (var (session, action) in new[] { (user, "submit"), (admin, "review"), (admin, "pass"), (user, "release") })
        {
            Assert.Equal(HttpStatusCode.OK, (await session.PostAsync($"/api/v1/app_versions/{privateUpload.Id}:{action}")).Status);
        }

        var privateRepo = (string)privateUpload.Body!["repo_id"]!;
        var privateUrl = new Uri(Server.Address, $"/api/v1/repos/{privateRepo}").ToString();
        var refused = await helm.RunAsync("repo", "add", "private", privateUrl);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("401", refused.Output, StringComparison.Ordinal);

        var token = (string)(await user.PostAsync("/api/v1/me/tokens", new { name = "helm" })).Body!["token"]!;
        var added = await helm.RunAsync("repo", "add", "private", privateUrl, "--username", userName, "--password-stdin", stdin: token);
        Assert.True(added.ExitCode == 0, added.Output);
        var pulled = await helm.RunAsync("pull", $"private/{privateChart}", "-d", helm.Directory);
        Assert.True(pulled.ExitCode == 0, pulled.Output);
        Assert.True(File.Exists(Path.Combine(helm.Directory, $"{privateChart}-0.1.0.tgz")));
        var searched = await helm.RunAsync("search", "repo", "private/");
        Assert.DoesNotContain(chart, searched.Output, StringComparison.Ordinal);
    }

    /// <summary>The hello-web sample chart under a unique name.</summary>
    private static async Task<(string Name, byte[] Archive)> ChartAsync()
    {
        var name = ServerFixture.Unique("hello");
        var work = Directory.CreateTempSubdirectory("pitrix-chart-").FullName;
        try
        {
            var source = RepoFiles.Path("samples", "charts", "hello-web");
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(work, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var chartYaml = Path.Combine(work, "Chart.yaml");
            await File.WriteAllTextAsync(chartYaml, (await File.ReadAllTextAsync(chartYaml)).Replace("name: hello-web", $"name: {name}", StringComparison.Ordinal));
            var (_, archive, _) = await PackageBuilder.BuildAsync(work, CancellationToken.None);
            return (name, archive);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The helm binary at <paramref name="helm"/> with its own cache, config and data directories.</summary>
    private sealed class HelmHome(string helm) : IDisposable
    {
        private readonly string _helm = helm;

        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("pitrix-helm-").FullName;

        public async Task<(int ExitCode, string Output)> RunAsync(params string[] args) => await RunAsync(args, null);

        public async Task<(int ExitCode, string Output)> RunAsync(string a, string b, string c, string d, string e, string f, string g, string stdin) => await RunAsync([a, b, c, d, e, f, g], stdin);

        private async Task<(int ExitCode, string Output)> RunAsync(string[] args, string? stdin)
        {
            var start = new ProcessStartInfo(_helm) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["HELM_CACHE_HOME"] = Path.Combine(Directory, "cache");
            start.Environment["HELM_CONFIG_HOME"] = Path.Combine(Directory, "config");
            start.Environment["HELM_DATA_HOME"] = Path.Combine(Directory, "data");
            using var process = Process.Start(start)!;
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }

            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
