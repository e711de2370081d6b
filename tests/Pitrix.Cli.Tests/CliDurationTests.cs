using Xunit;

namespace Pitrix.Cli.Tests;

public sealed class CliDurationTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData(" 45s ", 45)]
    public void TryParseSeconds_GoStyleDurations_AreSeconds(string text, int expected)
    {
        Assert.True(CliDuration.TryParseSeconds(text, out var seconds, out var error), error);
        Assert.Equal(expected, seconds);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("30", "needs a unit")]
    [InlineData("1x", "unknown unit")]
    [InlineData("m", "not a duration")]
    [InlineData("-5m", "not a duration")]
    [InlineData("1.5h", "fraction")]
    [InlineData("99999999999h", "too long")]
    [InlineData("600000h", "too long")]
    public void TryParseSeconds_Nonsense_SaysWhy(string text, string reason)
    {
        Assert.False(CliDuration.TryParseSeconds(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSeconds_Invalid_NamesTheOption()
    {
        var ex = Assert.Throws<CliInputException>(() => CliDuration.ParseSeconds("30", "--sync-interval"));
        Assert.StartsWith("--sync-interval:", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, ex.ExitCode);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(90, "1m30s")]
    [InlineData(1800, "30m")]
    [InlineData(3600, "1h")]
    [InlineData(5400, "1h30m")]
    [InlineData(90061, "1d1h1m1s")]
    public void Format_LargestUnitsFirst_AndParsesBack(long seconds, string expected)
    {
        Assert.Equal(expected, CliDuration.Format(seconds));
        Assert.True(CliDuration.TryParseSeconds(expected, out var back, out _));
        Assert.Equal(seconds, back);
    }
}
