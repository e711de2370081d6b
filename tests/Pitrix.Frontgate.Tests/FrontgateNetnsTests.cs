using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Pitrix.Agent;
using Xunit;

namespace Pitrix.Frontgate.Tests;

/// <summary>
/// A frontgate bridging a network of namespaces (root, as test.sh runs): it dials Pilot from where it runs and
/// listens for drones inside a namespace it was given, as the local runtime's netns isolation starts it.
/// </summary>
public sealed class FrontgateNetnsTests : IAsyncLifetime
{
    private readonly string _namespace = "pitrix-fgtest-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    private string NamespacePath => "/run/netns/" + _namespace;

    public async Task InitializeAsync()
    {
        await IpAsync("netns", "add", _namespace);
        await IpAsync("-n", _namespace, "link", "set", "lo", "up");
    }

    public Task DisposeAsync() => IpAsync("netns", "delete", _namespace);

    [Fact]
    public async Task ListenNetworkNamespace_ServesDronesInsideIt_WhilePilotIsDialedFromTheHost()
    {
        // StartAsync returns once the frontgate holds its stream to the test Pilot on the host's 127.0.0.1.
        await using var environment = await FrontgateTestEnvironment.StartAsync(listenNetworkNamespace: NamespacePath);
        var port = environment.Host.DroneEndPoint.Port;
        await environment.Pilot.State.WaitForConnectionAsync(TimeSpan.FromSeconds(1));

        // Inside the namespace the drone port answers with the frontgate's certificate...
        using var inside = NetworkNamespace.CreateSocket(NamespacePath, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await inside.ConnectAsync(IPAddress.Loopback, port);
        // Issued by the test CA: checked by issuer only (the CA is not installed on the machine).
        var caSubject = environment.Ca.Certificate.Subject;
        await using var tls = new SslStream(new NetworkStream(inside), leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate?.Issuer == caSubject);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "frontgate", ApplicationProtocols = [SslApplicationProtocol.Http2] });
        Assert.Contains("fg-test", tls.RemoteCertificate!.Subject, StringComparison.Ordinal);

        // ...while on the host nothing listens there.
        using var outside = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAnyAsync<SocketException>(() => outside.ConnectAsync(IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task ListenNetworkNamespace_ThatDoesNotExist_FailsTheStart_WithBootstrapInvalid()
    {
        var failure = await Assert.ThrowsAsync<FrontgateStartupException>(
            () => FrontgateTestEnvironment.StartAsync(listenNetworkNamespace: "/run/netns/pitrix-no-such-namespace"));

        Assert.Equal(FrontgateStartupException.BootstrapInvalid, failure.Code);
        Assert.Contains("pitrix-no-such-namespace", failure.Message, StringComparison.Ordinal);
    }

    private static async Task IpAsync(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ip {string.Join(' ', arguments)}: {error}");
    }
}
