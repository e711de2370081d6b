namespace Pitrix.Templates.Tests.GoReference;

/// <summary>Every corpus case must render byte for byte as Go's text/template renders it.</summary>
[Collection(GoReferenceGroup.Name)]
public sealed class CorpusTests(GoReferenceFixture fixture)
{
    private static readonly Lazy<Dictionary<string, CorpusCase>> _cases =
        new(() => CorpusCase.LoadAll().ToDictionary(c => c.Name, StringComparer.Ordinal));

    public static TheoryData<string> BuiltinCases() => Names("builtin");

    public static TheoryData<string> SprigCases() => Names("sprig");

    public static TheoryData<string> ConfdCases() => Names("confd");

    private static TheoryData<string> Names(string funcs)
    {
        var data = new TheoryData<string>();
        foreach (var c in _cases.Value.Values.Where(c => c.Funcs == funcs).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BuiltinCases))]
    public void Builtin_MatchesGo(string name) => AssertMatchesGo(name);

    [Theory]
    [MemberData(nameof(SprigCases))]
    public void Sprig_MatchesGo(string name) => AssertMatchesGo(name);

    [Theory]
    [MemberData(nameof(ConfdCases))]
    public void Confd_MatchesGo(string name) => AssertMatchesGo(name);

    [Fact]
    public void Corpus_HasEnoughCases()
    {
        Assert.True(_cases.Value.Values.Count(c => c.Funcs == "builtin") >= 300);
        Assert.Equal(_cases.Value.Count, fixture.Results.Count);
    }

    private void AssertMatchesGo(string name)
    {
        var c = _cases.Value[name];
        RenderResult expected;
        if (c.Expected != null)
        {
            Assert.False(string.IsNullOrEmpty(c.HandVerified), "A case with a hand-written expectation must say why.");
            expected = c.Expected;
        }
        else
        {
            Assert.True(fixture.Results.TryGetValue(name, out var go), $"gotmplref produced no result for {name}");
            expected = go!;
        }

        var actual = c.Render();

        // One comparison of the whole result, printed in full so that a failure shows every difference.
        var want = Describe(expected);
        var got = Describe(actual);
        if (want != got)
        {
            Assert.Fail($"Go:\n{want}\n--- Pitrix:\n{got}\n---");
        }
    }

    private static string Describe(RenderResult r) =>
        r.Error == null ? "output: " + r.Output : $"{r.Phase} error: {r.Error}\noutput: {r.Output}";
}
