using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pitrix.Testing;

namespace Pitrix.Providers.Kubernetes.Tests;

/// <summary>
/// A kubernetes runtime through the API of a real server against the real API server: the kubeconfig is a
/// credential, encrypted at rest, never returned, and never in a log line, even at Debug level.
/// </summary>
[Collection(KubernetesGroup.Name)]
public sealed class RuntimeApiTests(KubeApiServer kube) : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _logs = new();
    private TestServer? _server;

    private TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(
        "sqlite",
        builder => builder.Logging.AddProvider(new CapturingLoggerProvider(_logs)).SetMinimumLevel(LogLevel.Debug),
        "--Logging:LogLevel:Default=Debug");

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task KubeconfigCredential_ValidatesTheRuntime_AndNeverAppearsInTheDatabaseTheApiOrTheLogs()
    {
        using var admin = await Server.LoginAdminAsync();
        var kubeconfig = kube.AdminKubeconfig;
        var keyData = kubeconfig.Split('\n').Single(l => l.Contains("client-key-data:", StringComparison.Ordinal)).Split(':')[1].Trim();

        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = kubeconfig });
        Assert.True(credential.Status == HttpStatusCode.Created, credential.ToString());
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("k8s"), provider = "kubernetes", zone = "pitrix-apps", credential_id = credential.Id });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());

        var validation = await admin.PostAsync($"/api/v1/runtimes/{runtime.Id}:validate");

        Assert.True(validation.Status == HttpStatusCode.OK, validation.ToString());
        Assert.True((bool)validation.Body!["ok"]!, validation.Text);
        Assert.Contains("v1.20.2", validation.Text, StringComparison.Ordinal);

        // Never returned, never stored or logged in plaintext.
        var read = await admin.GetAsync($"/api/v1/credentials/{credential.Id}");
        Assert.DoesNotContain(keyData[..40], read.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("BEGIN", read.Text, StringComparison.Ordinal);
        // Every file of the server's data directory (the SQLite database and its WAL among them).
        foreach (var file in Directory.EnumerateFiles(Server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.False(Contains(bytes, keyData[..40]), $"{file} holds the kubeconfig's client key");
            Assert.False(Contains(bytes, "client-key-data"), $"{file} holds the kubeconfig");
        }

        Assert.NotEmpty(_logs);
        Assert.DoesNotContain(_logs, l => l.Contains(keyData[..40], StringComparison.Ordinal) || l.Contains("client-key-data", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnsafeKubeconfig_FailsValidation_WithItsCode_AndRunsNothing()
    {
        using var admin = await Server.LoginAdminAsync();
        var marker = Path.Combine(Path.GetTempPath(), $"pitrix-exec-{Guid.NewGuid():N}");
        var kubeconfig = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: {kube.Url}
            users:
            - name: u
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: /usr/bin/touch
                  args: ["{marker}"]
            contexts:
            - name: x
              context: {"{"}cluster: c, user: u{"}"}
            current-context: x
            """;
        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("kube"), provider = "kubernetes", secret = kubeconfig });
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("k8s"), provider = "kubernetes", zone = "default", credential_id = credential.Id });

        var validation = await admin.PostAsync($"/api/v1/runtimes/{runtime.Id}:validate");

        Assert.False((bool)validation.Body!["ok"]!, validation.Text);
        Assert.Contains(KubeconfigException.Unsafe, validation.Text, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
