using Microsoft.Extensions.DependencyInjection;
using Pitrix.Core.Agents;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Pilot.Tests;

/// <summary>Requests a frontgate never answers end at the configured deadline.</summary>
public abstract class PilotDeadlineTests : IAsyncLifetime
{
    private TestServer _server = null!;

    protected abstract string DatabaseKind { get; }

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(DatabaseKind, "--Agent:Pilot:CallTimeout=00:00:00.500");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Request_NeverAnswered_FailsAsTimeoutAndTheStreamStaysUsable()
    {
        var network = _server.Services.GetRequiredService<IAgentNetwork>();
        await using var frontgate = await TestFrontgate.StartAsync(_server, ServerFixture.Unique("fg"));
        frontgate.Answer = _ => null;

        var error = await network.StartConfigWatchAsync(frontgate.Id, "nd-1", CancellationToken.None);
        frontgate.Answer = request => TestFrontgate.DefaultAnswer(request, "fg-test");
        var pong = await network.PingAsync(frontgate.Id, null, CancellationToken.None);

        Assert.Equal(AgentNetworkErrors.Timeout, error!.Code);
        Assert.Equal(Core.ErrorKind.Unavailable, error.Kind);
        Assert.True(pong.IsSuccess, pong.Error?.ToString());
    }
}

public sealed class SqlitePilotDeadlineTests : PilotDeadlineTests
{
    protected override string DatabaseKind => "sqlite";
}

public sealed class PostgresPilotDeadlineTests : PilotDeadlineTests
{
    protected override string DatabaseKind => "postgres";
}
