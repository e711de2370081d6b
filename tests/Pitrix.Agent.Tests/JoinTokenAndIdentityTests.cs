using Xunit;

namespace Pitrix.Agent.Tests;

public sealed class JoinTokenAndIdentityTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task RedeemAsync_ConcurrentRedemptions_ExactlyOneSucceeds()
    {
        var store = new InMemoryJoinTokenStore(_time);
        var tokens = new JoinTokens(store, _time);
        var issued = await tokens.IssueAsync(AgentIdentity.Node("nd-1"), TimeSpan.FromMinutes(5), CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => tokens.RedeemAsync(issued.Token, CancellationToken.None))));

        Assert.Single(results, r => r.IsSuccess);
        Assert.All(results.Where(r => !r.IsSuccess), r => Assert.Equal(AgentErrorCodes.JoinTokenUsed, r.Error!.Code));
    }

    [Fact]
    public async Task IssueAsync_StoresOnlyTheHash()
    {
        var store = new RecordingStore(new InMemoryJoinTokenStore(_time));
        var issued = await new JoinTokens(store, _time).IssueAsync(AgentIdentity.Frontgate("fg-1"), TimeSpan.FromMinutes(5), CancellationToken.None);

        var record = Assert.Single(store.Added);
        Assert.Equal(JoinTokens.Hash(issued.Token), record.TokenHash);
        Assert.DoesNotContain(issued.Token, record.TokenHash, StringComparison.Ordinal);
        Assert.Equal(AgentIdentity.Frontgate("fg-1"), record.Identity);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(5), record.ExpiresAt);
    }

    [Theory]
    [InlineData("pitrix://node/nd-1", AgentKind.Node, "nd-1")]
    [InlineData("pitrix://frontgate/fg.a_b-1", AgentKind.Frontgate, "fg.a_b-1")]
    public void TryParse_ValidUri_RoundTrips(string uri, AgentKind kind, string id)
    {
        Assert.True(AgentIdentity.TryParse(uri, out var identity));
        Assert.Equal(kind, identity.Kind);
        Assert.Equal(id, identity.Id);
        Assert.Equal(uri, identity.Uri);
    }

    [Theory]
    [InlineData("https://node/nd-1")]
    [InlineData("pitrix://node/")]
    [InlineData("pitrix://user/u-1")]
    [InlineData("pitrix://node/nd-1/extra")]
    [InlineData("pitrix://node/../x")]
    public void TryParse_InvalidUri_False(string uri) => Assert.False(AgentIdentity.TryParse(uri, out _));

    private sealed class RecordingStore(IJoinTokenStore inner) : IJoinTokenStore
    {
        public List<JoinTokenRecord> Added { get; } = [];

        public Task AddAsync(JoinTokenRecord record, CancellationToken cancellationToken)
        {
            Added.Add(record);
            return inner.AddAsync(record, cancellationToken);
        }

        public Task<(JoinTokenConsumeStatus Status, AgentIdentity? Identity)> ConsumeAsync(string tokenHash, DateTimeOffset now, CancellationToken cancellationToken) =>
            inner.ConsumeAsync(tokenHash, now, cancellationToken);
    }
}
