using Pitrix.Core.Engine;
using Xunit;

namespace Pitrix.Core.Tests;

public sealed class TaskPlanTests
{
    private static PlannedTask T(string key, params string[] dependsOn) => new(key, "noop", dependsOn);

    [Fact]
    public void Validate_Diamond_ReturnsATopologicalOrder()
    {
        var plan = new TaskPlan("create", [T("d", "b", "c"), T("b", "a"), T("c", "a"), T("a")]);
        var order = plan.Validate();
        Assert.True(order.IsSuccess, order.Error?.Message);
        var keys = order.Value!.Select(t => t.Key).ToList();
        Assert.Equal("a", keys[0]);
        Assert.Equal("d", keys[3]);
        Assert.True(keys.IndexOf("b") < keys.IndexOf("d") && keys.IndexOf("c") < keys.IndexOf("d"));
    }

    [Theory]
    [InlineData("cycle")]
    [InlineData("self")]
    [InlineData("unknown")]
    [InlineData("duplicate")]
    [InlineData("blank")]
    public void Validate_BrokenPlans_AreRefusedWithPlanInvalid(string kind)
    {
        TaskPlan plan = kind switch
        {
            "cycle" => new("x", [T("a", "c"), T("b", "a"), T("c", "b"), T("free")]),
            "self" => new("x", [T("a", "a")]),
            "unknown" => new("x", [T("a", "ghost")]),
            "duplicate" => new("x", [T("a"), T("a")]),
            _ => new("x", [T(" ")]),
        };
        var result = plan.Validate();
        Assert.False(result.IsSuccess);
        Assert.Equal("plan.invalid", result.Error!.Code);
        if (kind == "cycle")
        {
            Assert.Contains("a, b, c", result.Error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("free", result.Error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2, 1.0, 1000)]
    [InlineData(3, 1.0, 2000)]
    [InlineData(4, 0.5, 2000)]
    [InlineData(10, 1.0, 60000)]
    [InlineData(40, 1.0, 60000)]
    [InlineData(2, 0.0, 0)]
    public void RetryDelay_IsFullJitterUnderAnExponentialCap(int attempt, double random, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryPolicy.Delay(attempt, 1000, 60_000, random));
    }
}
