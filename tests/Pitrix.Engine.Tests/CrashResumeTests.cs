using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Pitrix.Providers.Fake;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Engine.Tests;

/// <summary>
/// The server as a real process on the FAKE cloud: 20 cluster creations are under way when the process is
/// killed with SIGKILL; after a restart every job finishes, and the fake cloud's log shows no instance
/// created twice (tasks find what a killed attempt created by its idempotency key).
/// </summary>
public sealed class CrashResumeTests : IDisposable
{
    private const string Password = "crash-test-admin-password";
    private readonly string _data = Directory.CreateTempSubdirectory("pitrix-crash-").FullName;

    private static string ServerDll => Path.Combine(AppContext.BaseDirectory, "pitrix-fake-cloud-server.dll");

    [Fact]
    public async Task KilledServer_ResumesEveryJob_WithoutCreatingAnythingTwice()
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var server = Start(url);
        var clusters = new List<(string ClusterId, string JobId)>();
        try
        {
            using var admin = await LoginAsync(url);
            var repoId = await FakeCloudWorld.PublicRepoAsync(admin);
            var versionId = await FakeCloudWorld.ReleaseSampleAsync(admin, repoId, "zk-crash", "1.0.0");
            var runtimeId = await FakeCloudWorld.FakeRuntimeAsync(admin);
            for (var i = 0; i < 20; i++)
            {
                var created = await admin.PostAsync("/api/v1/clusters", new
                {
                    name = $"zk-{i}",
                    app_version_id = versionId,
                    runtime_id = runtimeId,
                    values = new { cluster = new { subnet = "s1" } },
                    labels = new Dictionary<string, string> { ["fake.latency-ms"] = "250" },
                });
                Assert.True(created.Status == HttpStatusCode.Accepted, created.ToString());
                clusters.Add(((string)created.Body!["cluster"]!["id"]!, (string)created.Body["job"]!["id"]!));
            }

            // Kill once some instances exist and before all jobs are done.
            var log = Path.Combine(_data, "fake-cloud");
            for (var i = 0; i < 400 && FakeCloud.ReadLog(log).Count(e => e.Result == "created") < 15; i++)
            {
                await Task.Delay(25);
            }

            server.Kill();
            await server.WaitForExitAsync();

            // The kill really landed mid-way: some create jobs had finished tasks, some were unfinished.
            var (unfinished, tasksDone) = await ProgressAsync();
            Assert.True(unfinished > 0, "Every job had finished before the kill; the test proved nothing.");
            Assert.True(tasksDone > 0, "No task had finished before the kill.");

            server.Dispose();
            server = Start(url);
            using var again = await LoginAsync(url);
            foreach (var (clusterId, jobId) in clusters)
            {
                var job = await WaitAsync(again, clusterId, jobId);
                Assert.True((string?)job["status"] == "succeeded", job.ToJsonString());
            }

            var instanceIds = new List<string>();
            foreach (var (clusterId, _) in clusters)
            {
                var cluster = (await again.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
                Assert.Equal("active", (string?)cluster["cluster"]!["status"]);
                Assert.All(cluster["nodes"]!.AsArray(), n => Assert.NotNull(n!["instance_id"]));
                instanceIds.AddRange(cluster["nodes"]!.AsArray().Select(n => (string)n!["instance_id"]!));
            }

            // No key created twice. (The kill may land between an instance's creation and its log line; the
            // resumed task then logs "found" for it, so some keys may have no "created" line, never two.)
            var entries = FakeCloud.ReadLog(log).Where(e => e.Op == "create_instance").ToList();
            var creations = entries.Where(e => e.Result == "created").GroupBy(e => e.Key).ToList();
            Assert.All(creations, g => Assert.Single(g));
            // A resumed task that finds its instance by key does not call create again, so a key may have no log line at all.
            Assert.InRange(entries.Select(e => e.Key).Distinct().Count(), 1, 60);
            Assert.Equal(60, Directory.GetFiles(Path.Combine(log, "instances"), "*.json").Length);
            Assert.Equal(60, instanceIds.Distinct().Count());
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
                await server.WaitForExitAsync();
            }

            server.Dispose();
        }
    }

    private async Task<(long UnfinishedJobs, long TasksDone)> ProgressAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "pitrix.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = new Microsoft.Data.Sqlite.SqliteCommand(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE FinishedAt IS NULL), (SELECT COUNT(*) FROM job_tasks WHERE Status = 'succeeded')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private Process Start(string url)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { ServerDll, "--urls", url, "--data-dir", _data, "--Engine:PollInterval=00:00:00.100", "--Engine:LeaseDuration=00:00:03", "--Logging:LogLevel:Default=Warning", "--Agent:Pilot:Listen=127.0.0.1:0" })
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["PITRIX_ADMIN_PASSWORD"] = Password;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<ApiSession> LoginAsync(string url)
    {
        var session = new ApiSession(new HttpClient { BaseAddress = new Uri(url) });
        for (var i = 0; i < 600; i++)
        {
            try
            {
                var login = await session.PostAsync("/api/v1/auth/login", new { username = "admin", password = Password });
                if (login.Status == HttpStatusCode.OK)
                {
                    session.Token = (string)login.Body!["access_token"]!;
                    return session;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The server at {url} did not start.");
    }

    private static async Task<JsonNode> WaitAsync(ApiSession session, string clusterId, string jobId)
    {
        for (var i = 0; i < 1200; i++)
        {
            var job = (await session.GetAsync($"/api/v1/jobs/{jobId}")).Body!;
            var cluster = (await session.GetAsync($"/api/v1/clusters/{clusterId}")).Body!;
            if (job["job"]!["finished_at"] is not null && cluster["cluster"]!["transition"] is null)
            {
                return job["job"]!;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Job {jobId} did not finish after the restart.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
