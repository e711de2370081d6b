using System.Globalization;
using System.Text;
using Pitrix.Packages.Repos;
using Pitrix.Testing;
using Xunit;

namespace Pitrix.Packages.Tests;

/// <summary>The streaming <see cref="RepoIndex.Parse(string)"/> against the graph-building reader it replaced, and its limits.</summary>
public sealed class RepoIndexStreamingTests
{
    private const string Varied = """
        apiVersion: v1
        entries:
          "app-ünïcödé":
          - name: app-ünïcödé
            version: 1.0.0
            description: "Ünïcode \u00e9 \U0001F680 — 中文 описание"
            flag: true
            flagNo: no
            count: 42
            hex: 0x1F
            float: 1.5e3
            inf: .inf
            nul: null
            upperNull: NULL
            tilde: ~
            empty:
            quotedNull: "null"
            quotedTilde: '~'
            quotedEmpty: ""
            single: 'it''s'
            literal: |
              line one
              line two
            folded: >-
              folded
              text
            int: !!int 7
            negative: !!int -3
            bool: !!bool false
            str: !!str 123
            strTilde: !!str ~
            bareStr: !!str
            float2: !!float 2.5
            timestamp: !!timestamp 2001-12-14
            keywords: [a, "b", 'c', 1, true, ~, ""]
            maintainers: &m
            - name: Jane Doe
              email: jane@example.com
            - name: 王小明
              email: wang@example.com
            annotations: {category: Database, "x/y": "z", 5: five, true: yes, ~: tilde-key, null: null-key, !!int 6: six, !!bool true: bool-key}
            removed: "false"
            urls: single.tgz
          aliased:
          - &base
            name: aliased
            version: 2.0.0
            maintainers: *m
            urls: [a.tgz, 7, b.tgz]
            digest: &d 0123abcd
          - <<: *base
            version: 2.1.0
            digest: *d
          - *base
          removals:
          - name: removals
            version: 0.1.0
            removed: true
          - name: removals
            version: 0.2.0
            removed: !!bool true
          - name: removals
            version: 0.3.0
            removed: "True"
          - name: other-name
            version: 0.4.0
            removed: yes
          duplicates:
          - {name: duplicates, version: 1.0.0, version: 1.1.0, description: first, description: second, urls: [x.tgz], urls: [y.tgz]}
          lists: &l
          - name: lists
            version: 3.0.0
          via-alias: *l
          sorting:
          - {version: 1.0.0}
          - {version: 10.0.0}
          - {version: 2.0.0-rc.1}
          - {version: not-semver}
          - {version: "2.0.0"}
          - {version: 1.0.0+build}
          - {version: also-not}
          - {version: 1.0}
          repeated: [{version: 1.0.0, description: gone}]
          repeated: [{version: 9.0.0, description: kept}]
          empty-list: []
        generated: 2024-01-02T03:04:05Z
        serverInfo: {contextPath: /v3}
        extraList: [1, 2, *m, {deep: {deeper: [*d]}}]
        ? [complex, key]
        : sequence-keyed
        ? {complex: key}
        : mapping-keyed
        &k anchoredKey: value
        keyAlias: *k
        *d : alias-keyed
        "": quoted-empty-key
        apiVersion: v1-last
        """;

    [Fact]
    public void Parse_SampleRepoIndex_MatchesTheGraphReader()
    {
        var yaml = File.ReadAllText(RepoFiles.Path("samples", "repo", "index.yaml"));

        var streamed = Dump(RepoIndex.Parse(yaml));

        Assert.Equal(Dump(LegacyRepoIndex.Parse(yaml)), streamed);
        Assert.Contains("etcd-cluster", streamed, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_VariedScalarsAnchorsAndUnicode_MatchesTheGraphReader()
    {
        var streamed = Dump(RepoIndex.Parse(Varied));

        Assert.Equal(Dump(LegacyRepoIndex.Parse(Varied)), streamed);

        // Guards against both readers agreeing on nothing: the document's features are in the dump.
        Assert.Contains("Int32:7", streamed, StringComparison.Ordinal);
        Assert.Contains("DateTime:", streamed, StringComparison.Ordinal);
        Assert.Contains("\"王小明\"", streamed, StringComparison.Ordinal);
        Assert.Contains("🚀", streamed, StringComparison.Ordinal);
        Assert.Contains("via-alias", streamed, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GeneratedIndex_MatchesTheGraphReader()
    {
        var yaml = Generate(apps: 60, versions: 6, seed: 20261124);

        Assert.Equal(Dump(LegacyRepoIndex.Parse(yaml)), Dump(RepoIndex.Parse(yaml)));
    }

    [Theory]
    [InlineData("entries: &e\n  a:\n  - {name: a, version: 1.0.0, keywords: [x]}\ncopy: *e\n")]
    [InlineData("&root\napiVersion: v2\nentries:\n  a:\n  - {version: 1.0.0}\n")]
    [InlineData("!!map\napiVersion: v2\nentries: !!map\n  a:\n  - !!map {version: 1.0.0}\n")]
    [InlineData("apiVersion: ~\ngenerated: !!int 5\nentries: ~\n")]
    [InlineData("entries:\n  a: nolist\n  b:\n  - {version: 1.0.0}\n  a:\n  - {version: 2.0.0}\n")]
    [InlineData("entries: 42\nentries:\n  a:\n  - {version: 1.0.0}\n")]
    [InlineData("entries:\n  a:\n  - &v {version: 1.0.0, urls: [a.tgz]}\n  b:\n  - *v\n")]
    [InlineData("\uFEFFapiVersion: v1\nentries: {}\n")]
    [InlineData("---\napiVersion: v1\nentries: {}\n...\n")]
    public void Parse_UnusualButValidShapes_MatchTheGraphReader(string yaml)
    {
        Assert.Equal(Outcome(() => LegacyRepoIndex.Parse(yaml)), Outcome(() => RepoIndex.Parse(yaml)));
    }

    [Theory]
    [InlineData("entries: [unclosed")]
    [InlineData("apiVersion: v1\n---\napiVersion: v2\n")]
    [InlineData("a: *nope\n")]
    [InlineData("a: !custom x\n")]
    [InlineData("a: !custom [x]\n")]
    [InlineData("a: !!int x\n")]
    [InlineData("a: !!bool 1\n")]
    [InlineData("a: !!seq [1]\n")]
    [InlineData("a: !!map [1]\n")]
    [InlineData("a: ! 5\n")]
    [InlineData("x: 1\n? \n: 1\n")]
    [InlineData("x:\n  y: 1\n  !!str : 1\n")]
    [InlineData("a:\n  - b\n c: d\n")]
    [InlineData("a: 'unterminated\n")]
    [InlineData("a: \"\\q\"\n")]
    [InlineData("a:\n\t- b\n")]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("just a scalar")]
    [InlineData("- just\n- a list\n")]
    [InlineData("entries: 42\n")]
    [InlineData("entries: {}\nentries: [1]\n")]
    [InlineData("entries:\n  b: nolist\n  a:\n  - name: a\n")]
    [InlineData("entries:\n  a:\n  - name: a\n  b: nolist\n")]
    [InlineData("entries:\n  a:\n  - {version: 1.0.0}\n  - [bad]\n  - {name: a}\n")]
    [InlineData("entries:\n  a:\n  - {version: ''}\n")]
    [InlineData("entries:\n  a:\n  - {version: !!int 5}\n")]
    [InlineData("entries:\n  a:\n  - {version: ~}\n")]
    [InlineData("entries:\n  a:\n  - {name: a}\nafter: [unclosed\n")]
    [InlineData("entries:\n  a: &x [{name: a}]\n  b: *x\n")]
    public void Parse_BadIndex_FailsLikeTheGraphReader(string yaml)
    {
        var expected = Outcome(() => LegacyRepoIndex.Parse(yaml));

        Assert.StartsWith("error ", expected, StringComparison.Ordinal);
        Assert.Equal(expected, Outcome(() => RepoIndex.Parse(yaml)));
    }

    [Fact]
    public void Parse_MalformedYaml_NamesLineAndColumn()
    {
        const string yaml = "apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n   urls: [app.tgz]\n";

        var ex = Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml));

        Assert.Equal("index.invalid_yaml", ex.Code);
        Assert.StartsWith("index.yaml: Line 6, column 4: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AliasBombOfMappings_FailsAsTooComplex_WithoutExpandingIt()
    {
        var yaml = new StringBuilder("l0: &l0 {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x, i: x, j: x}\n");
        for (var level = 1; level <= 12; level++)
        {
            var items = string.Join(", ", Enumerable.Range(0, 10).Select(i => $"k{i}: *l{level - 1}"));
            yaml.Append(CultureInfo.InvariantCulture, $"l{level}: &l{level} {{{items}}}\n");
        }

        var before = GC.GetTotalAllocatedBytes();
        var ex = Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml.ToString()));
        var allocated = GC.GetTotalAllocatedBytes() - before;

        Assert.Equal("index.too_complex", ex.Code);
        Assert.Contains("2000000 nodes", ex.Message, StringComparison.Ordinal);

        // 10^13 nodes if expanded; stopping at the budget allocates a few hundred MiB at most.
        Assert.True(allocated < 1024L * 1024 * 1024, $"Allocated {allocated} bytes.");
    }

    [Fact]
    public void Parse_AliasBombBeforeBadYaml_StopsAtTheBudget()
    {
        // The graph reader parsed the whole document first and reported the YAML error; stopping at the
        // budget instead means a hostile document is never read to its end.
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
        for (var level = 1; level <= 9; level++)
        {
            yaml += $"l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat(level == 1 ? "*a" : $"*l{level - 1}", 10))}]\n";
        }

        yaml += "broken: [unclosed\n";

        Assert.Equal("index.too_complex", Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml)).Code);
        Assert.Equal("index.invalid_yaml", Assert.Throws<PackageException>(() => LegacyRepoIndex.Parse(yaml)).Code);
    }

    [Fact]
    public void Parse_AliasInsideItsOwnAnchor_FailsAsTooComplex()
    {
        var ex = Assert.Throws<PackageException>(() => RepoIndex.Parse("a: &x [1, {b: *x}]\n"));

        Assert.Equal("index.too_complex", ex.Code);
        Assert.Contains("*x", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, null)]
    [InlineData(65, "index.too_deep")]
    [InlineData(200_000, "index.too_deep")]
    public void Parse_DeeplyNestedFlow_FailsClearlyPastTheLimit(int depth, string? code)
    {
        // One sequence nested `depth` levels: the graph reader overflowed the stack at a few thousand, and
        // YamlDotNet's scanner slows down with the square of the flow depth, so the reader must stop at once.
        var yaml = new string('[', depth) + new string(']', depth);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = Record.Exception(() => RepoIndex.Parse(yaml));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"Took {watch.Elapsed}.");

        if (code is null)
        {
            Assert.Equal("index.invalid", Assert.IsType<PackageException>(ex).Code);
        }
        else
        {
            var error = Assert.IsType<PackageException>(ex);
            Assert.Equal(code, error.Code);
            Assert.Contains("Line 1, column 65", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_DeeplyNestedBlockMetadata_FailsAsTooDeep()
    {
        var yaml = new StringBuilder("entries:\n  app:\n  - version: 1.0.0\n    annotations:\n");
        for (var level = 0; level < 70; level++)
        {
            yaml.Append(' ', 6 + (2 * level)).Append("k:\n");
        }

        yaml.Append(' ', 6 + 140).Append("leaf\n");

        Assert.Equal("index.too_deep", Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml.ToString())).Code);
    }

    [Fact]
    public void Parse_AliasThatWouldNestTooDeep_FailsAsTooDeep()
    {
        var nested = new string('[', 40) + new string(']', 40);
        var yaml = $"a: &a {nested}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n";

        Assert.Equal("index.too_deep", Assert.Throws<PackageException>(() => RepoIndex.Parse(yaml)).Code);
    }

    [Fact]
    public void Parse_Utf8Bytes_WithByteOrderMark_MatchesTheString()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Varied)).ToArray();

        var fromBytes = Dump(RepoIndex.Parse(bytes));
        using var stream = new MemoryStream(bytes);
        var fromStream = Dump(RepoIndex.Parse(stream));

        Assert.Equal(Dump(RepoIndex.Parse(Varied)), fromBytes);
        Assert.Equal(fromBytes, fromStream);
    }

    [Fact]
    public void Parse_TooLargeBytesOrStream_FailsAsTooLarge()
    {
        var bytes = new byte[RepoIndex.MaxBytes + 1];
        bytes.AsSpan().Fill((byte)'#');

        Assert.Equal("index.too_large", Assert.Throws<PackageException>(() => RepoIndex.Parse(bytes)).Code);
        using var unseekable = new ForwardOnlyStream(bytes);
        Assert.Equal("index.too_large", Assert.Throws<PackageException>(() => RepoIndex.Parse(unseekable)).Code);
    }

    [Fact]
    public void Parse_RepeatedKeysAndValues_ShareOneString()
    {
        var index = RepoIndex.Parse("""
            entries:
              a:
              - {version: 1.0.0, apiVersion: v2, maintainers: [{name: Jane, email: jane@example.com}]}
              - {version: 1.1.0, apiVersion: v2, maintainers: [{name: Jane, email: jane@example.com}]}
            """);

        var (newer, older) = (index.Entries["a"][0], index.Entries["a"][1]);
        Assert.Same(newer.Metadata["apiVersion"], older.Metadata["apiVersion"]);
        Assert.Same(newer.Metadata.Keys.First(), older.Metadata.Keys.First());
        var email = (Dictionary<string, object?> m) => m["email"];
        Assert.Same(email((Dictionary<string, object?>)((List<object?>)newer.Metadata["maintainers"]!)[0]!), email((Dictionary<string, object?>)((List<object?>)older.Metadata["maintainers"]!)[0]!));
    }

    private static string Outcome(Func<RepoIndex> parse)
    {
        try
        {
            return Dump(parse());
        }
        catch (PackageException ex)
        {
            return $"error {ex.Code} ({ex.Path}): {ex.Message}";
        }
    }

    /// <summary>Everything a parse produced, with each value's type and each map's key order.</summary>
    private static string Dump(RepoIndex index)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"apiVersion={Show(index.ApiVersion)} generated={Show(index.Generated)}\n");
        foreach (var (name, entries) in index.Entries)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Show(name)}:\n");
            foreach (var e in entries)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {Show(e.Name)} {Show(e.Version)} urls={Show(e.Urls.Cast<object?>().ToList())} digest={Show(e.Digest)} created={Show(e.Created)} removed={e.Removed} metadata={Show(e.Metadata)}\n");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"extra={Show(index.Extra)}\n");
        return text.ToString();
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"",
        Dictionary<string, object?> map => "{" + string.Join(", ", map.Select(p => Show(p.Key) + ": " + Show(p.Value))) + "}",
        List<object?> list => "[" + string.Join(", ", list.Select(Show)) + "]",
        _ => $"{value.GetType().Name}:{Convert.ToString(value, CultureInfo.InvariantCulture)}",
    };

    /// <summary>An index with every scalar style and type the reader resolves, in random combinations.</summary>
    private static string Generate(int apps, int versions, int seed)
    {
        var random = new Random(seed);
        string[] scalars =
        [
            "plain text", "\"double quoted\"", "'single quoted'", "true", "false", "yes", "no", "42", "-7", "3.14", "1e10", "0x1F",
            ".nan", "~", "null", "Null", "NULL", "", "\"\"", "''", "\"null\"", "!!int 12", "!!bool true", "!!float 0.5", "!!str 99",
            "!!timestamp 2024-05-06", "\"ünïcödé ✓\"", "日本語", "\"line\\nbreak\"", "\"\\u00e9\\t\"", "2026-01-01T00:00:00Z",
        ];
        var yaml = new StringBuilder("apiVersion: v1\nentries:\n");
        for (var a = 0; a < apps; a++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  app-{a}:\n");
            for (var v = 0; v < versions; v++)
            {
                string Pick() => scalars[random.Next(scalars.Length)];
                string PickInFlow() => Pick() is { Length: > 0 } picked ? picked : "~";
                yaml.Append(CultureInfo.InvariantCulture, $"  - name: app-{a}\n    version: {random.Next(3)}.{v}.{random.Next(2)}\n");
                yaml.Append(CultureInfo.InvariantCulture, $"    description: {Pick()}\n    appVersion: {Pick()}\n    removed: {Pick()}\n");
                yaml.Append(CultureInfo.InvariantCulture, $"    keywords: [{PickInFlow()}, {PickInFlow()}]\n    urls:\n    - app-{a}-{v}.tgz\n    - {Pick()}\n");
                yaml.Append(CultureInfo.InvariantCulture, $"    annotations:\n      one: {Pick()}\n      \"two\": {Pick()}\n");
                if (random.Next(4) == 0)
                {
                    yaml.Append(CultureInfo.InvariantCulture, $"    maintainers: &m{a}x{v}\n    - name: {Pick()}\n      email: {Pick()}\n");
                }
                else if (v > 0)
                {
                    yaml.Append("    dependencies: [{name: common, version: 1.x}]\n");
                }
            }
        }

        yaml.Append("generated: 2026-01-01T00:00:00Z\nextra: {nested: [1, {two: 2}]}\n");
        return yaml.ToString();
    }

    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
