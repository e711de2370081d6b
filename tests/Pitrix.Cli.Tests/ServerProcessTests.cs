using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace Pitrix.Cli.Tests;

/// <summary>
/// The README's path from a fresh machine: start <c>pitrix-server</c> as its own process with no
/// configuration but a data directory and a port, read the generated admin password, then drive the
/// real <c>pitrix</c> executable against it.
/// </summary>
public sealed partial class ServerProcessTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("pitrix-e2e-").FullName;

    [Fact]
    public async Task FreshServer_PrintsAdminPasswordOnce_AnswersReadyz_AndCliWorks()
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var (server, output) = StartServer(url);
        try
        {
            var password = await WaitForAsync(output, PasswordLine(), TimeSpan.FromSeconds(60));
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(http, url));

            var config = Path.Combine(_work, "config.json");
            var login = await RunCliAsync(config, password + "\n", "login", "--server", url, "--username", "admin", "--password-stdin");
            Assert.True(login.ExitCode == 0, login.Error);
            var create = await RunCliAsync(config, "", "runtime", "create", "e2e", "--provider", "local");
            Assert.True(create.ExitCode == 0, create.Error);
            var list = await RunCliAsync(config, "", "runtime", "list");
            Assert.Equal(0, list.ExitCode);
            Assert.Contains("e2e", list.Output, StringComparison.Ordinal);
        }
        finally
        {
            await StopAsync(server);
        }

        // A second start reuses the database and prints no password.
        var (again, secondOutput) = StartServer(url);
        try
        {
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, await WaitForReadyAsync(http, url));
            Assert.DoesNotContain("password", secondOutput.ToString(), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await StopAsync(again);
        }
    }

    [Fact]
    public async Task Migrate_CreatesSchemaAndExits_WithoutCreatingUsers()
    {
        var data = Path.Combine(_work, "migrated");
        var psi = DotnetExec(ServerDll, "migrate", "--data-dir", data);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, await error);
        Assert.Contains("up to date", await output, StringComparison.Ordinal);

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "pitrix.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = new Microsoft.Data.Sqlite.SqliteCommand("SELECT (SELECT COUNT(*) FROM sqlite_master WHERE name = 'runtimes'), (SELECT COUNT(*) FROM users)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1L, reader.GetInt64(0));
        Assert.Equal(0L, reader.GetInt64(1));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(data, "keys")));
    }

    [Fact]
    public async Task UnknownRole_FailsAtStartWithClearMessage()
    {
        var psi = DotnetExec(ServerDll, "--roles", "api,frontdoor", "--data-dir", Path.Combine(_work, "bad"), "--urls", $"http://127.0.0.1:{FreePort()}");
        using var process = Process.Start(psi)!;
        var errorTask = process.StandardError.ReadToEndAsync();
        var outputTask = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var text = await errorTask + await outputTask;
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("frontdoor", text, StringComparison.Ordinal);
    }

    private static string ServerDll => Path.Combine(AppContext.BaseDirectory, "pitrix-server.dll");

    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "pitrix.dll");

    private (Process Process, System.Text.StringBuilder Output) StartServer(string url)
    {
        // Pilot's listener takes a free port, so this server runs beside any other on the machine.
        var psi = DotnetExec(ServerDll, "--urls", url, "--data-dir", Path.Combine(_work, "data"), "--Agent:Pilot:Listen=127.0.0.1:0");
        psi.Environment.Remove("PITRIX_ADMIN_PASSWORD");
        var output = new System.Text.StringBuilder();
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output);
    }

    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            // SIGTERM: the server shuts down gracefully.
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, process.ExitCode);
        process.Dispose();
    }

    private static async Task<string> WaitForAsync(System.Text.StringBuilder output, Regex pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            var match = pattern.Match(text);
            if (match.Success)
            {
                return match.Groups[1].Value;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The server printed no admin password:\n" + output);
    }

    private static async Task<HttpStatusCode> WaitForReadyAsync(HttpClient http, string url)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var response = await http.GetAsync(url + "/readyz");
                return response.StatusCode;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException("The server did not answer /readyz.");
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(string config, string stdin, params string[] args)
    {
        var psi = DotnetExec(CliDll, args);
        psi.Environment["PITRIX_CONFIG"] = config;
        psi.RedirectStandardInput = true;
        using var process = Process.Start(psi)!;
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output, await error);
    }

    private static ProcessStartInfo DotnetExec(string dll, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        return psi;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("Created user 'admin' with password: (\\S+)")]
    private static partial Regex PasswordLine();

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
