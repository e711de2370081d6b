using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Core.Engine;
using Pitrix.Testing;

namespace Pitrix.AppFormats.Helm.Tests;

public sealed partial class HelmClusterHelm3Tests
{
    [Fact]
    public async Task Readiness_against_an_API_server_out_of_reach_spends_its_whole_attempt_retrying_then_fails_retryably()
    {
        // A kubeconfig like the real one, naming a loopback port nothing listens on.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var deadPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var kubeconfig = Regex.Replace(Kube.AdminKubeconfig, @"server: *https://127\.0\.0\.1:\d+", $"server: https://127.0.0.1:{deadPort}");
        Assert.NotEqual(Kube.AdminKubeconfig, kubeconfig);

        using var admin = await Server.LoginAdminAsync();
        var credential = await admin.PostAsync("/api/v1/credentials", new { name = ServerFixture.Unique("dead-kube"), provider = "kubernetes", secret = kubeconfig });
        Assert.True(credential.Status == HttpStatusCode.Created, credential.ToString());
        var runtime = await admin.PostAsync("/api/v1/runtimes", new { name = ServerFixture.Unique("dead-k8s"), provider = "kubernetes", zone = "apps", credential_id = credential.Id });
        Assert.True(runtime.Status == HttpStatusCode.Created, runtime.ToString());

        var handler = Server.Services.GetServices<ITaskHandler>().OfType<HelmReadyHandler>().Single();
        var clock = Stopwatch.StartNew();
        var outcome = await handler.RunAsync(
            new TaskContext("task-1", "job-1", "ready", HelmTaskKinds.Ready, "idem-1", """{"release":"nowhere"}""", 1, "cluster-1", runtime.Id),
            CancellationToken.None);
        clock.Stop();

        Assert.False(outcome.Succeeded);
        Assert.Equal("kubernetes.unavailable", outcome.ErrorCode);
        Assert.True(outcome.Retryable);
        Assert.InRange(clock.Elapsed, HelmReadyHandler.WatchBudget - HelmReadyHandler.UnreachablePause - TimeSpan.FromSeconds(1), HelmReadyHandler.WatchBudget + TimeSpan.FromSeconds(10));
    }
}
