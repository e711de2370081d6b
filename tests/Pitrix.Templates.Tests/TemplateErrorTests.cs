namespace Pitrix.Templates.Tests;

public sealed class TemplateErrorTests
{
    [Fact]
    public void Parse_UnclosedAction_ReportsParseErrorWithLine()
    {
        var e = Assert.Throws<TemplateException>(() => Template.Parse("page", "line1\nline2 {{ if .x }}\n{{ .y "));

        Assert.Equal(TemplateErrorCodes.ParseError, e.Code);
        Assert.Equal("page", e.TemplateName);
        Assert.Equal(3, e.Line);
        Assert.StartsWith("template: page:3: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownFunction_NamesTheFunction()
    {
        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{ nosuch 1 }}"));

        Assert.Equal("template: t:1: function \"nosuch\" not defined", e.Message);
    }

    [Fact]
    public void Execute_BadField_ReportsLineAndByteColumn()
    {
        var template = Template.Parse("cfg", "a: 1\nb: 2\n  é: {{ .x.y }}\n");

        var e = Assert.Throws<TemplateException>(() => template.Execute(new Dictionary<string, object?> { ["x"] = 5L }));

        Assert.Equal(TemplateErrorCodes.ExecError, e.Code);
        Assert.Equal("cfg", e.TemplateName);
        Assert.Equal(3, e.Line);

        // Go counts columns in bytes: two spaces, "é" (2 bytes), ": ", "{{ ", ".x", then the failing ".y".
        Assert.Equal(11, e.Column);
        Assert.Equal("template: cfg:3:11: executing \"cfg\" at <.x.y>: can't evaluate field y in type interface {}", e.Message);
    }

    [Fact]
    public void Execute_ErrorInsideDefinedTemplate_NamesTheInnerTemplate()
    {
        var template = Template.Parse("main", "{{define \"inner\"}}\n{{ index . 5 }}{{end}}{{ template \"inner\" .list }}");

        var e = Assert.Throws<TemplateException>(() => template.Execute(new Dictionary<string, object?> { ["list"] = new List<object?> { 1L } }));

        Assert.Equal("inner", e.TemplateName);
        Assert.Equal(2, e.Line);
        Assert.Contains("executing \"inner\" at <index . 5>: error calling index: index out of range: 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_FunctionError_IsWrappedLikeGo()
    {
        var functions = new FunctionLibrary().Add("boom", [GoParam.String], args => throw new TemplateFunctionException("bad " + args[0]));
        var template = Template.Parse("t", "x{{ boom \"y\" }}", functions: functions);

        var e = Assert.Throws<TemplateException>(() => template.Execute(null));

        Assert.Equal("template: t:1:4: executing \"t\" at <boom \"y\">: error calling boom: bad y", e.Message);
    }

    [Fact]
    public void Execute_MissingTemplateName_IsNotFound()
    {
        var set = new TemplateSet();
        set.Parse("a", "A");

        var e = Assert.Throws<TemplateException>(() => set.Execute("b", null));

        Assert.Equal(TemplateErrorCodes.NotFound, e.Code);
    }

    [Fact]
    public void Execute_PartialOutput_StaysInWriter()
    {
        var template = Template.Parse("t", "before {{ .x.y }} after");
        using var writer = new StringWriter();

        Assert.Throws<TemplateException>(() => template.Execute(writer, new Dictionary<string, object?> { ["x"] = "s" }));

        Assert.Equal("before ", writer.ToString());
    }
}
