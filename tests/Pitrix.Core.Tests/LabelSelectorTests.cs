using Pitrix.Core.Runtimes;
using Xunit;

namespace Pitrix.Core.Tests;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["env"] = "prod", ["tier"] = "gold", ["pitrix.dev/zone"] = "a", ["cpu"] = "8" };

    [Theory]
    [InlineData("env=prod", true)]
    [InlineData("env==prod", true)]
    [InlineData("env!=prod", false)]
    [InlineData("missing!=x", true)]
    [InlineData("env in (prod, staging)", true)]
    [InlineData("env in(dev)", false)]
    [InlineData("env notin (dev,test)", true)]
    [InlineData("missing notin (a)", true)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("!missing", true)]
    [InlineData("pitrix.dev/zone=a,env=prod,tier in (gold)", true)]
    [InlineData("env=prod,tier=silver", false)]
    [InlineData("cpu>4", true)]
    [InlineData("cpu<4", false)]
    public void Matches_FollowsKubernetesSemantics(string selector, bool expected)
    {
        var parsed = LabelSelector.Parse(selector);
        Assert.True(parsed.IsSuccess, parsed.Error?.Message);
        Assert.Equal(expected, parsed.Value!.Matches(Labels));
    }

    [Theory]
    [InlineData("")]
    [InlineData("env=prod,")]
    [InlineData("env in prod")]
    [InlineData("env in ()")]
    [InlineData("bad key=x")]
    [InlineData("env=$(reboot)")]
    [InlineData("cpu>many")]
    public void Parse_Malformed_IsRefusedWithSelectorInvalid(string selector)
    {
        var parsed = LabelSelector.Parse(selector);
        Assert.False(parsed.IsSuccess);
        Assert.Equal("selector.invalid", parsed.Error!.Code);
    }
}
