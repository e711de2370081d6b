using Pitrix.Core.Versioning;
using Xunit;

namespace Pitrix.Core.Tests;

public sealed class SemVersionTests
{
    [Fact]
    public void CompareTo_FollowsSemVerPrecedenceExample()
    {
        // The ordering example of semver.org §11.
        string[] ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"];
        var parsed = ordered.Select(Parse).ToList();
        for (var i = 0; i < parsed.Count - 1; i++)
        {
            Assert.True(parsed[i] < parsed[i + 1], $"{ordered[i]} should precede {ordered[i + 1]}");
        }

        var shuffled = parsed.OrderBy(_ => Guid.NewGuid()).Order().Select(v => v.Original);
        Assert.Equal(ordered, shuffled);
    }

    [Fact]
    public void Equality_IgnoresBuildMetadata_AndLeadingV()
    {
        Assert.Equal(Parse("1.2.3+build.5"), Parse("v1.2.3"));
        Assert.Equal("1.2.3-rc.1+b", Parse("v1.2.3-rc.1+b").ToString());
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("01.2.3")]
    [InlineData("1.2.3-01")]
    [InlineData("1.2.3-")]
    [InlineData("latest")]
    [InlineData("")]
    public void TryParse_Invalid_ReturnsFalse(string text) => Assert.False(SemVersion.TryParse(text, out _));

    private static SemVersion Parse(string text) => SemVersion.TryParse(text, out var version) ? version : throw new FormatException(text);
}
