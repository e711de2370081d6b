using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Pitrix.Agent;
using Pitrix.Agent.Protocol.V1;
using Pitrix.Core.Agents;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Pilot.Tests;

/// <summary>What Pilot must keep across a restart of the server: reports, join tokens and the CA, whose key is encrypted on disk.</summary>
public abstract class PilotRestartTests : IAsyncLifetime
{
    private TestServer _server = null!;

    protected abstract string DatabaseKind { get; }

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(DatabaseKind);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Restart_ReportsJoinTokensAndCa_AreKept()
    {
        var nodeId = ServerFixture.Unique("nd");
        var laterNodeId = ServerFixture.Unique("nd");
        using var credential = await TestFrontgate.EnrollAsync(_server, ServerFixture.Unique("fg"));
        JoinTicket laterTicket;
        await using (var frontgate = await TestFrontgate.ConnectAsync(_server, credential))
        {
            using var node = await frontgate.EnrollNodeAsync(_server, nodeId);
            laterTicket = await Network.IssueJoinTokenAsync(AgentKinds.Node, laterNodeId, CancellationToken.None);
            await frontgate.SendAsync(new FrontgateMessage { CommandResult = PilotTests.Result(nodeId, "tk-1", exitCode: 0, stdout: "started", stderr: "") });
            await frontgate.SendAsync(new FrontgateMessage { NodeHealth = PilotTests.Health(nodeId, HealthState.Healthy, "ok", DateTimeOffset.UtcNow) });
            Assert.True((await Network.PingAsync(frontgate.Id, null, CancellationToken.None)).IsSuccess);
        }

        await _server.RestartAsync();

        var result = await Network.WaitForCommandResultAsync(nodeId, "tk-1", TimeSpan.Zero, CancellationToken.None);
        Assert.Equal((0, "started"), (result!.ExitCode, result.StdoutTail));
        Assert.Equal(AgentHealthState.Healthy, (await Network.GetNodeHealthAsync([nodeId], CancellationToken.None))[nodeId].State);
        Assert.False(Network.IsConnected(credential.Identity.Id));

        // The frontgate's certificate from before the restart is still trusted, and the token issued then still enrolls.
        await using var reconnected = await TestFrontgate.ConnectAsync(_server, credential);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = await reconnected.RelayEnrollAsync(laterTicket.Token, AgentCredential.CreateSigningRequest(key));
        Assert.Equal($"pitrix://node/{laterNodeId}", enrolled.Enrolled.Identity);
        Assert.Equal(laterTicket.CaPem, enrolled.Enrolled.CaPem);

        // A report of the same task after the restart does not replace the first.
        await reconnected.SendAsync(new FrontgateMessage { CommandResult = PilotTests.Result(nodeId, "tk-1", exitCode: 9, stdout: "again", stderr: "") });
        Assert.True((await Network.PingAsync(reconnected.Id, null, CancellationToken.None)).IsSuccess);
        Assert.Equal(0, (await Network.WaitForCommandResultAsync(nodeId, "tk-1", TimeSpan.Zero, CancellationToken.None))!.ExitCode);
    }

    [Fact]
    public async Task CaKey_OnDisk_IsEncryptedNotPlaintextPem()
    {
        var keyPath = Path.Combine(_server.DataDirectory, "pki", CertificateAuthority.KeyFileName);

        var stored = await File.ReadAllTextAsync(keyPath);

        Assert.True(CertificateAuthority.IsProtectedKey(stored));
        Assert.DoesNotContain("PRIVATE KEY", stored, StringComparison.Ordinal);
        using var key = ECDsa.Create();
        Assert.ThrowsAny<ArgumentException>(() => key.ImportFromPem(stored));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        var refused = Assert.Throws<InvalidOperationException>(() => CertificateAuthority.LoadOrCreate(Path.GetDirectoryName(keyPath)!, TimeProvider.System));
        Assert.Contains("encrypted", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueJoinToken_Ticket_NamesPilotsBoundAddressAndTheCa()
    {
        var endpoint = _server.Services.GetRequiredService<PilotEndpoint>();

        var ticket = await Network.IssueJoinTokenAsync(AgentKinds.Frontgate, "fg-1", CancellationToken.None);

        Assert.Equal($"https://127.0.0.1:{endpoint.BoundEndPoint!.Port}", ticket.PilotAddress);
        Assert.NotEqual(0, endpoint.BoundEndPoint.Port);
        Assert.Equal(_server.Services.GetRequiredService<CertificateAuthority>().CertificatePem, ticket.CaPem);
        Assert.StartsWith("pjt_", ticket.Token, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Network.IssueJoinTokenAsync("pilot", "p-1", CancellationToken.None));
    }

    private IAgentNetwork Network => _server.Services.GetRequiredService<IAgentNetwork>();
}

public sealed class SqlitePilotRestartTests : PilotRestartTests
{
    protected override string DatabaseKind => "sqlite";
}

public sealed class PostgresPilotRestartTests : PilotRestartTests
{
    protected override string DatabaseKind => "postgres";
}
