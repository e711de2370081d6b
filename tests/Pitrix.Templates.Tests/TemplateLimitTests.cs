using System.Diagnostics;

namespace Pitrix.Templates.Tests;

public sealed class TemplateLimitTests
{
    [Fact]
    public void Execute_InfiniteTemplateRecursion_FailsFastWithLimitExceeded()
    {
        var template = Template.Parse("t", "{{define \"loop\"}}x{{template \"loop\" .}}{{end}}{{template \"loop\" .}}");
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
        Assert.Contains("exceeded maximum template depth (1000)", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Execute_RecursionDepthOption_IsHonoured()
    {
        var options = new TemplateOptions { MaxRecursionDepth = 10 };
        var template = Template.Parse("t", "{{define \"r\"}}{{if gt . 0}}{{template \"r\" (len (slice $.l 1))}}{{end}}{{end}}ok", options);
        var deep = Template.Parse("t", "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}", options);

        Assert.Equal("ok", template.Execute(null));
        var e = Assert.Throws<TemplateException>(() => deep.Execute(null));
        Assert.Contains("(10)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_IncludeRecursion_FailsWithLimitExceeded()
    {
        var functions = new FunctionLibrary().AddSprig();
        var template = Template.Parse("t", "{{define \"inc\"}}{{include \"inc\" .}}{{end}}{{include \"inc\" .}}", functions: functions);

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
    }

    [Fact]
    public void Execute_HugeRange_FailsWithLimitExceeded()
    {
        var options = new TemplateOptions { MaxRangeIterations = 1000 };
        var template = Template.Parse("t", "{{range .}}{{range $}}.{{end}}{{end}}", options);
        var data = Enumerable.Range(0, 100).Select(i => (object?)(long)i).ToList();

        var e = Assert.Throws<TemplateException>(() => template.Execute(data));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
        Assert.Contains("range iterations exceeded the limit of 1000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_RangeOverHugeInteger_FailsWithLimitExceeded()
    {
        var template = Template.Parse("t", "{{range 100000000000}}{{end}}");

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
    }

    [Fact]
    public void Execute_OutputOverCap_FailsWithLimitExceeded()
    {
        var options = new TemplateOptions { MaxOutputBytes = 1024 };
        var template = Template.Parse("t", "{{range .}}0123456789{{end}}", options);
        var data = Enumerable.Range(0, 200).Select(i => (object?)(long)i).ToList();

        var e = Assert.Throws<TemplateException>(() => template.Execute(data));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
        Assert.Contains("output exceeded the limit of 1024 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_OutputUnderCap_Succeeds()
    {
        var options = new TemplateOptions { MaxOutputBytes = 1024 };
        var template = Template.Parse("t", "{{range .}}0123456789{{end}}", options);
        var data = Enumerable.Range(0, 100).Select(i => (object?)(long)i).ToList();

        Assert.Equal(1000, template.Execute(data).Length);
    }

    [Fact]
    public void Execute_IncludeOutputCountsAgainstCap()
    {
        var options = new TemplateOptions { MaxOutputBytes = 100 };
        var functions = new FunctionLibrary().AddSprig();
        var template = Template.Parse("t", "{{define \"big\"}}{{range until 50}}0123456789{{end}}{{end}}{{ $x := include \"big\" . }}", options, functions);

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
    }

    [Fact]
    public void Execute_Timeout_FailsWithLimitExceeded()
    {
        var options = new TemplateOptions { Timeout = TimeSpan.FromMilliseconds(200), MaxRangeIterations = long.MaxValue };
        var template = Template.Parse("t", "{{range 1000000000000}}{{end}}", options);
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal(TemplateErrorCodes.LimitExceeded, e.Code);
        Assert.Contains("time limit", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Execute_Cancelled_Throws()
    {
        var options = new TemplateOptions { MaxRangeIterations = long.MaxValue, Timeout = TimeSpan.FromMinutes(5) };
        var template = Template.Parse("t", "{{range 1000000000000}}{{end}}", options);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        Assert.ThrowsAny<OperationCanceledException>(() => template.Execute(null, cts.Token));
    }

    [Fact]
    public void Parse_DeeplyNestedParentheses_FailsWithoutCrashing()
    {
        var text = "{{" + new string('(', 50_000) + "1" + new string(')', 50_000) + "}}";

        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", text));

        Assert.Equal(TemplateErrorCodes.ParseError, e.Code);
    }

    [Fact]
    public void Execute_SprigRepeat_IsBounded()
    {
        var template = Template.Parse("t", "{{ repeat 100000000 \"0123456789\" }}", functions: new FunctionLibrary().AddSprig());

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal(TemplateErrorCodes.ExecError, e.Code);
    }

    [Fact]
    public void Execute_CatastrophicRegex_RunsInLinearTimeLikeRe2()
    {
        var options = new TemplateOptions { RegexTimeout = TimeSpan.FromSeconds(5) };
        var template = Template.Parse("t", "{{regexMatch \"^(a+)+$\" .}}", options, new FunctionLibrary().AddSprig());
        var clock = Stopwatch.StartNew();

        Assert.Equal("false", template.Execute(new string('a', 5000) + "!"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }
}
