using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pitrix.Catalog.Indexing;
using Xunit;

namespace Pitrix.Catalog.Tests.Indexing;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"ref":"refs/heads/main"}""");

    private static string Sign(string secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [Fact]
    public void Verify_GitHubSignatureOfTheBody_IsAccepted_InAnyHexCase()
    {
        Assert.True(WebhookSignature.Verify("s3cret", Body, Sign("s3cret", Body), null));
        Assert.True(WebhookSignature.Verify("s3cret", Body, Sign("s3cret", Body).ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal), null));
    }

    [Theory]
    [InlineData("wrong-secret", false)]
    [InlineData("s3cret", true)]
    public void Verify_SignatureOfAnotherBodyOrSecret_IsRefused(string signingSecret, bool tamperBody)
    {
        var body = tamperBody ? Encoding.UTF8.GetBytes("""{"ref":"refs/heads/evil"}""") : Body;
        Assert.False(WebhookSignature.Verify("s3cret", body, Sign(signingSecret, Body), null));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("sha256=", null)]
    [InlineData("sha256=zz", null)]
    [InlineData("sha1=0123456789abcdef0123456789abcdef01234567", null)]
    [InlineData(null, "Bearer wrong")]
    [InlineData(null, "Basic czNjcmV0")]
    [InlineData(null, "Bearer ")]
    public void Verify_MissingOrMalformed_IsRefused(string? signature, string? authorization) =>
        Assert.False(WebhookSignature.Verify("s3cret", Body, signature, authorization));

    [Fact]
    public void Verify_BearerSecret_IsAccepted_ButNotWithAnEmptySecret()
    {
        Assert.True(WebhookSignature.Verify("s3cret", Body, null, "Bearer s3cret"));
        Assert.False(WebhookSignature.Verify("", Body, null, "Bearer "));
        Assert.False(WebhookSignature.Verify("", Body, Sign("", Body), null));
    }
}

public sealed class IndexerOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndInstanceIdsDiffer()
    {
        Assert.True(new IndexerOptionsValidator().Validate(null, new IndexerOptions()).Succeeded);
        Assert.NotEqual(new IndexerOptions().InstanceId, new IndexerOptions().InstanceId);
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2), 2, 4), (new IndexerOptions().PollInterval, new IndexerOptions().LeaseDuration, new IndexerOptions().MaxConcurrentSyncs, new IndexerOptions().PackageFetchConcurrency));
    }

    [Fact]
    public void AddPitrixCatalog_BadSettings_FailValidationNamingTheKeys()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Indexer:MaxConcurrentSyncs"] = "0",
            ["Indexer:LeaseDuration"] = "00:00:01",
            ["Indexer:InstanceId"] = new string('x', 101),
        }).Build();
        using var services = new ServiceCollection().AddPitrixCatalog(configuration).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<IndexerOptions>>().Value);

        Assert.Contains(failure.Failures, f => f.Contains("Indexer:MaxConcurrentSyncs", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("Indexer:LeaseDuration", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("Indexer:InstanceId", StringComparison.Ordinal));
    }
}
