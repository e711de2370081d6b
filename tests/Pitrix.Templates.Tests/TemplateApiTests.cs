namespace Pitrix.Templates.Tests;

public sealed class TemplateApiTests
{
    [Fact]
    public void TemplateSet_ParseAddsDefinitions_LookupFindsThem()
    {
        var set = new TemplateSet();
        set.Parse("main", "{{define \"a\"}}A{{.}}{{end}}main:{{template \"a\" 1}}");

        Assert.NotNull(set.Lookup("a"));
        Assert.Null(set.Lookup("b"));
        Assert.Equal(["a", "main"], set.Names);
        Assert.Equal("main:A1", set.Execute("main", null));
        Assert.Equal("A2", set.Execute("a", 2L));
    }

    [Fact]
    public void TemplateSet_LaterDefinitionReplacesEarlier_ButEmptyDoesNot()
    {
        var set = new TemplateSet();
        set.Parse("main", "{{template \"part\" .}}");
        set.Parse("p1", "{{define \"part\"}}one{{end}}");
        set.Parse("p2", "{{define \"part\"}}two{{end}}");
        set.Parse("p3", "{{define \"part\"}}{{end}}");

        Assert.Equal("two", set.Execute("main", null));
    }

    [Fact]
    public void TemplateSet_AddParseTree_AliasesATemplate()
    {
        var set = new TemplateSet();
        var source = Template.Parse("src", "hello {{.}}");

        var alias = set.AddParseTree("greeting", source);

        Assert.Equal("hello you", alias.Execute("you"));
    }

    [Fact]
    public void TemplateSet_Clone_IsIndependent()
    {
        var set = new TemplateSet();
        set.Parse("main", "{{template \"x\"}}");
        set.Parse("x", "original");
        var clone = set.Clone();

        clone.Parse("x", "changed");

        Assert.Equal("original", set.Execute("main", null));
        Assert.Equal("changed", clone.Execute("main", null));
    }

    [Fact]
    public void Execute_PlainObjectsAndClrCollections_AreData()
    {
        var template = Template.Parse("t", "{{.Name}}:{{range .Tags}}{{.}},{{end}}{{index .Limits \"cpu\"}} {{len .Tags}} {{.Count | printf \"%T\"}}");
        var data = new Service("web", ["a", "b"], new Dictionary<string, int> { ["cpu"] = 2 }, 7);

        Assert.Equal("web:a,b,2 2 int", template.Execute(data));
    }

    [Fact]
    public void Execute_MissingKeyModes_BehaveLikeGo()
    {
        var data = new Dictionary<string, object?> { ["a"] = 1L };

        Assert.Equal("<no value>", Template.Parse("t", "{{.b}}").Execute(data));
        Assert.Equal("<no value> <nil>", Template.Parse("t", "{{.b}} {{printf \"%v\" .b}}", new TemplateOptions { MissingKey = MissingKeyMode.Zero }).Execute(data));
        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{.b}}", new TemplateOptions { MissingKey = MissingKeyMode.Error }).Execute(data));
        Assert.Contains("map has no entry for key \"b\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionLibrary_TypedParameters_AreCheckedLikeGo()
    {
        var functions = new FunctionLibrary().Add("double", [GoParam.Int], a => (long)a[0]! * 2);

        Assert.Equal("42", Template.Parse("t", "{{double 21}}", functions: functions).Execute(null));
        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{double \"x\"}}", functions: functions).Execute(null));
        Assert.Contains("expected integer; found \"x\"", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{double .}}", functions: functions).Execute(1.5));
        Assert.Contains("wrong type for value; expected int; got float64", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{double 1 2}}", functions: functions).Execute(null));
        Assert.Contains("wrong number of args for double: want 1 got 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FunctionLibrary_CustomFunctionOverridesBuiltin()
    {
        var functions = new FunctionLibrary().Add("len", [GoParam.Any], _ => "custom");

        Assert.Equal("custom", Template.Parse("t", "{{len .}}", functions: functions).Execute("abc"));
    }

    [Fact]
    public void FunctionCall_CanRenderOtherTemplatesOfTheSet()
    {
        var functions = new FunctionLibrary().AddWithExecution("render", [GoParam.String], call => call.Execution.ExecuteTemplate((string)call.Args[0]!, "data").ToUpperInvariant());
        var set = new TemplateSet(functions);
        set.Parse("inner", "inner {{.}}");
        set.Parse("outer", "[{{render \"inner\"}}]");

        Assert.Equal("[INNER DATA]", set.Execute("outer", null));
    }

    [Fact]
    public void Sprig_Int64Results_AreNotGoInts()
    {
        var functions = new FunctionLibrary().AddSprig();

        Assert.Equal("int64 5 true", Template.Parse("t", "{{printf \"%T\" (add 2 3)}} {{add 2 3}} {{eq (add 2 3) 5}}", functions: functions).Execute(null));
        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{repeat (add 1 1) \"x\"}}", functions: functions).Execute(null));
        Assert.Contains("expected int; got int64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Confd_ReadsFromAnyKeyValueView()
    {
        var view = new InMemoryKeyValueView(new Dictionary<string, string>
        {
            ["/hosts/a/ip"] = "10.0.0.1",
            ["/hosts/b/ip"] = "10.0.0.2",
        });
        var template = Template.Parse("t", "{{range lsdir \"/hosts\"}}{{.}}={{getv (printf \"/hosts/%s/ip\" .)}};{{end}}", functions: new FunctionLibrary().AddConfd(view));

        Assert.Equal("a=10.0.0.1;b=10.0.0.2;", template.Execute(null));
    }

    [Fact]
    public void Options_OutOfRange_AreRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TemplateSet(options: new TemplateOptions { MaxRecursionDepth = 0 }));

        Assert.Equal("MaxRecursionDepth", e.ParamName);
    }

    [Fact]
    public void Execute_ConcurrentExecutions_AreIndependent()
    {
        var template = Template.Parse("t", "{{define \"r\"}}{{if gt . 0}}{{template \"r\" (len (slice $.l 1))}}{{end}}{{end}}{{range .l}}{{.}}{{end}}");
        var results = new string[64];

        Parallel.For(0, results.Length, i =>
        {
            var list = Enumerable.Range(0, i % 10).Select(x => (object?)(long)x).ToList();
            results[i] = template.Execute(new Dictionary<string, object?> { ["l"] = list });
        });

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(string.Concat(Enumerable.Range(0, i % 10)), results[i]);
        }
    }

    [Fact]
    public void Execute_FromInsideAFunction_RunsInline()
    {
        var inner = Template.Parse("inner", "inner:{{.}}");
        var functions = new FunctionLibrary().Add("nested", [GoParam.Any], a => inner.Execute(a[0]));

        Assert.Equal("[inner:5]", Template.Parse("t", "[{{nested 5}}]", functions: functions).Execute(null));
    }

    [Fact]
    public void Call_InvokesFunctionValuesFromData()
    {
        Func<object?[], object?> join = args => string.Join("+", args);
        var data = new Dictionary<string, object?> { ["join"] = join, ["n"] = 1L };

        Assert.Equal("a+1", Template.Parse("t", "{{call .join \"a\" .n}}").Execute(data));
        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{call .n}}").Execute(data));
        Assert.Contains("error calling call: non-function of type int", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_MapWithIntegerKeys_ConvertsTheIndex()
    {
        var data = new Dictionary<string, object?> { ["ports"] = new Dictionary<int, string> { [80] = "http", [443] = "https" } };

        Assert.Equal("https []", Template.Parse("t", "{{index .ports 443}} [{{index .ports 1}}]").Execute(data));
        Assert.Equal("80=http 443=https ", Template.Parse("t", "{{range $k, $v := .ports}}{{$k}}={{$v}} {{end}}").Execute(data));
        var e = Assert.Throws<TemplateException>(() => Template.Parse("t", "{{index .ports \"x\"}}").Execute(data));
        Assert.Contains("value has type string; should be int", e.Message, StringComparison.Ordinal);
    }

    private sealed record Service(string Name, List<string> Tags, Dictionary<string, int> Limits, int Count);
}

public sealed class ConfdGetenvTests
{
    [Fact]
    public void Getenv_reads_only_the_PITRIX_variables_handed_over()
    {
        var environment = new Dictionary<string, string> { ["PITRIX_ROOT"] = "/srv/node-1", ["HOME"] = "/root" };
        var set = new Pitrix.Templates.TemplateSet(new Pitrix.Templates.FunctionLibrary().AddConfd(new Pitrix.Templates.InMemoryKeyValueView(new Dictionary<string, string>()), environment));
        set.Parse("t", """{{getenv "PITRIX_ROOT"}}|{{getenv "PITRIX_MISSING" "dflt"}}""");
        Assert.Equal("/srv/node-1|dflt", set.Execute("t", null));
        set.Parse("home", """{{getenv "HOME"}}""");
        var refused = Assert.ThrowsAny<Pitrix.Templates.TemplateException>(() => set.Execute("home", null));
        Assert.Contains("PITRIX_", refused.Message, StringComparison.Ordinal);

        // The process environment is never read, even for a PITRIX_ name.
        Environment.SetEnvironmentVariable("PITRIX_GETENV_PROBE", "leaked");
        var bare = new Pitrix.Templates.TemplateSet(new Pitrix.Templates.FunctionLibrary().AddConfd(new Pitrix.Templates.InMemoryKeyValueView(new Dictionary<string, string>())));
        bare.Parse("t", """[{{getenv "PITRIX_GETENV_PROBE"}}]""");
        Assert.Equal("[]", bare.Execute("t", null));
    }
}
