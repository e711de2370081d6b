using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pitrix.Templates;

/// <summary>
/// The Sprig function library (Masterminds/sprig v3) as Helm exposes it: the sandbox-safe subset (strings, lists,
/// dicts, defaults, math, encoding, regex, semver, reflection and the must* variants), with Helm's
/// own <c>toYaml</c>, <c>fromYaml</c>, <c>toJson</c>, <c>fromJson</c>, <c>include</c>, <c>tpl</c> and <c>required</c>.
/// Random, time, environment, network and crypto-key functions are not included.
/// </summary>
public static class SprigFunctions
{
    private const GoParam S = GoParam.String;
    private const GoParam I = GoParam.Int;
    private const GoParam A = GoParam.Any;
    private const GoParam M = GoParam.Map;

    /// <summary>Registers the Sprig subset into <paramref name="library"/>.</summary>
    public static FunctionLibrary AddSprig(this FunctionLibrary library)
    {
        AddStrings(library);
        AddDefaults(library);
        AddLists(library);
        AddDicts(library);
        AddConversions(library);
        AddMath(library);
        AddEncoding(library);
        AddRegex(library);
        AddHelm(library);
        AddMust(library);
        AddReflection(library);
        return library;
    }

    /// <summary>Sprig's must* variants: the same operations, returning an error where the plain ones panic.</summary>
    private static void AddMust(FunctionLibrary l)
    {
        foreach (var name in new[]
        {
            "first", "last", "rest", "initial", "reverse", "uniq", "without", "has", "compact", "slice", "append", "push",
            "prepend", "chunk", "merge", "mergeOverwrite", "regexFind", "regexFindAll", "regexReplaceAll", "regexReplaceAllLiteral", "regexSplit",
        })
        {
            var plain = l.Find(name)!;
            l.Add(new TemplateFunction("must" + char.ToUpperInvariant(name[0]) + name[1..], plain.Parameters, plain.IsVariadic, plain.Body));
        }

        l.Add("mustDeepCopy", [A], a => DeepCopy(a[0]));
        l.Add("mustToJson", [A], a => GoJson.Marshal(a[0], indent: false, escapeHtml: true) ?? throw new TemplateFunctionException("json: unsupported value"));
        l.Add("mustToPrettyJson", [A], a => GoJson.Marshal(a[0], indent: true, escapeHtml: true) ?? throw new TemplateFunctionException("json: unsupported value"));
        l.Add("mustToRawJson", [A], a => GoJson.Marshal(a[0], indent: false, escapeHtml: false) ?? throw new TemplateFunctionException("json: unsupported value"));
        l.Add("mustFromJson", [S], a =>
        {
            var (value, error) = GoJson.Unmarshal(Str(a[0]));
            return error != null ? throw new TemplateFunctionException(error) : value;
        });
        l.AddWithExecution("mustRegexMatch", [S, S], c => GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout)!.IsMatch(Str(c.Args[1])));
    }

    private static void AddReflection(FunctionLibrary l)
    {
        l.Add("typeOf", [A], a => GoFormatter.Sprintf("%T", a[0]));
        l.Add("typeIs", [S, A], a => Str(a[0]) == GoFormatter.Sprintf("%T", a[1]));
        l.Add("typeIsLike", [S, A], a => Str(a[0]) == GoFormatter.Sprintf("%T", a[1]) || "*" + Str(a[0]) == GoFormatter.Sprintf("%T", a[1]));
        l.Add("kindOf", [A], a => KindOf(a[0]));
        l.Add("kindIs", [S, A], a => Str(a[0]) == KindOf(a[0 + 1]));
        l.Add("deepEqual", [A, A], a => DeepEqual(a[0], a[1]));
        l.Add("hello", [], _ => "Hello!");
    }

    private static string KindOf(object? v) => v switch
    {
        null or NoValue => "invalid",
        GoInt64 => "int64",
        _ => KindName(v),
    };

    private static void AddStrings(FunctionLibrary l)
    {
        l.Add("trim", [S], a => Str(a[0]).Trim(GoWhitespace));
        l.Add("trimAll", [S, S], a => Str(a[1]).Trim(Str(a[0]).ToCharArray()));
        l.Add("trimall", [S, S], a => Str(a[1]).Trim(Str(a[0]).ToCharArray()));
        l.Add("trimPrefix", [S, S], a => Str(a[1]).StartsWith(Str(a[0]), StringComparison.Ordinal) ? Str(a[1])[Str(a[0]).Length..] : Str(a[1]));
        l.Add("trimSuffix", [S, S], a => Str(a[1]).EndsWith(Str(a[0]), StringComparison.Ordinal) ? Str(a[1])[..^Str(a[0]).Length] : Str(a[1]));
        l.Add("upper", [S], a => Str(a[0]).ToUpperInvariant());
        l.Add("lower", [S], a => Str(a[0]).ToLowerInvariant());
        l.Add("title", [S], a => Title(Str(a[0])));
        l.Add("untitle", [S], a => Untitle(Str(a[0])));
        l.Add("repeat", [I, S], a => Repeat(Str(a[1]), Int(a[0])));
        l.Add("substr", [I, I, S], a => Substr(Int(a[0]), Int(a[1]), Str(a[2])));
        l.Add("nospace", [S], a => string.Concat(Str(a[0]).Where(c => !char.IsWhiteSpace(c))));
        l.Add("trunc", [I, S], a => Trunc(Int(a[0]), Str(a[1])));
        l.Add("abbrev", [I, S], a => Abbrev(Int(a[0]), Str(a[1])));
        l.Add("abbrevboth", [I, I, S], a => AbbrevBoth(Int(a[0]), Int(a[1]), Str(a[2])));
        l.Add("initials", [S], a => Initials(Str(a[0])));
        l.Add("wrap", [I, S], a => Wrap(Str(a[1]), Int(a[0]), "\n", false));
        l.Add("wrapWith", [I, S, S], a => Wrap(Str(a[2]), Int(a[0]), Str(a[1]), true));
        l.Add("contains", [S, S], a => Str(a[1]).Contains(Str(a[0]), StringComparison.Ordinal));
        l.Add("hasPrefix", [S, S], a => Str(a[1]).StartsWith(Str(a[0]), StringComparison.Ordinal));
        l.Add("hasSuffix", [S, S], a => Str(a[1]).EndsWith(Str(a[0]), StringComparison.Ordinal));
        l.Add("quote", a => string.Join(" ", a.Where(x => x != null).Select(x => GoFormatter.Quote(StrVal(x)))));
        l.Add("squote", a => string.Join(" ", a.Where(x => x != null).Select(x => "'" + GoFormatter.Sprint(x) + "'")));
        l.Add("cat", a => string.Join(" ", a.Where(x => x != null).Select(x => GoFormatter.Sprint(x))));
        l.Add("indent", [I, S], a => Indent(Int(a[0]), Str(a[1])));
        l.Add("nindent", [I, S], a => "\n" + Indent(Int(a[0]), Str(a[1])));
        l.Add("replace", [S, S, S], a => Str(a[1]).Length == 0 ? ReplaceEmpty(Str(a[2]), Str(a[1])) : Str(a[2]).Replace(Str(a[0]), Str(a[1]), StringComparison.Ordinal));
        l.Add("plural", [S, S, I], a => Int(a[2]) == 1 ? Str(a[0]) : Str(a[1]));
        l.Add("snakecase", [S], a => CaseConversion.ToLowerWords(Str(a[0]), '_'));
        l.Add("kebabcase", [S], a => CaseConversion.ToLowerWords(Str(a[0]), '-'));
        l.Add("camelcase", [S], a => CaseConversion.ToCamelCase(Str(a[0])));
        l.Add("swapcase", [S], a => SwapCase(Str(a[0])));
        l.Add("split", [S, S], a => Split(Str(a[0]), Str(a[1])));
        l.Add("splitList", [S, S], a => GoSplit(Str(a[1]), Str(a[0])));
        l.Add("splitn", [S, I, S], a => SplitN(Str(a[0]), Int(a[1]), Str(a[2])));
        l.Add("join", [S, A], a => string.Join(Str(a[0]), StrSlice(a[1])));
        l.Add("sortAlpha", [A], a => SortAlpha(a[0]));
        l.Add("toString", [A], a => StrVal(a[0]));
        l.Add("toStrings", [A], a => StrSlice(a[0]));
        l.Add("base", [S], a => GoPath.Base(Str(a[0])));
        l.Add("dir", [S], a => GoPath.Dir(Str(a[0])));
        l.Add("clean", [S], a => GoPath.Clean(Str(a[0])));
        l.Add("ext", [S], a => GoPath.Ext(Str(a[0])));
        l.Add("isAbs", [S], a => Str(a[0]).StartsWith('/'));
    }

    private static void AddDefaults(FunctionLibrary l)
    {
        l.Add("default", [A, A], a => a.Length < 2 || Empty(a[1]) ? a[0] : a[1], isVariadic: true);
        l.Add("empty", [A], a => Empty(a[0]));
        l.Add("coalesce", a => a.FirstOrDefault(x => !Empty(x)));
        l.Add("all", a => a.All(x => !Empty(x)));
        l.Add("any", a => a.Any(x => !Empty(x)));
        l.Add("ternary", [A, A, GoParam.Bool], a => (bool)a[2]! ? a[0] : a[1]);
        l.Add("fail", [S], a => throw new TemplateFunctionException(Str(a[0])));
        l.Add("required", [S, A], a =>
            a[1] is null or "" ? throw new TemplateFunctionException(Str(a[0])) : a[1]);
    }

    private static void AddLists(FunctionLibrary l)
    {
        l.Add("list", a => a.ToList());
        l.Add("tuple", a => a.ToList());
        l.Add("append", [A, A], a => Push(a[0], a[1], "push"));
        l.Add("push", [A, A], a => Push(a[0], a[1], "push"));
        l.Add("prepend", [A, A], a => Prepend(a[0], a[1]));
        l.Add("first", [A], a => ListOf(a[0], "find first") is { } x ? (x.Count == 0 ? null : x[0]) : null);
        l.Add("last", [A], a => ListOf(a[0], "find last") is { } x ? (x.Count == 0 ? null : x[^1]) : null);
        l.Add("rest", [A], a => ListOf(a[0], "find rest")!.Skip(1).ToList());
        l.Add("initial", [A], a => ListOf(a[0], "find initial") is { Count: > 0 } x ? x.Take(x.Count - 1).ToList() : []);
        l.Add("reverse", [A], a => Enumerable.Reverse(ListOf(a[0], "find reverse")!).ToList());
        l.Add("uniq", [A], a => Uniq(ListOf(a[0], "find uniq")!));
        l.Add("without", [A, A], a => ListOf(a[0], "find without")!.Where(x => !a.Skip(1).Any(o => DeepEqual(o, x))).ToList(), isVariadic: true);
        l.Add("has", [A, A], a => a[1] != null && ListOf(a[1], "find has")!.Any(x => DeepEqual(a[0], x)));
        l.Add("compact", [A], a => ListOf(a[0], "compact")!.Where(x => !Empty(x)).ToList());
        l.Add("slice", [A, A], a => SliceList(a[0], a.Skip(1).ToArray()), isVariadic: true);
        l.Add("concat", a => Concat(a));
        l.Add("chunk", [I, A], a => Chunk(Int(a[0]), ListOf(a[1], "chunk")!));
        l.Add("until", [I], a => UntilStep(0, Int(a[0]), Int(a[0]) < 0 ? -1 : 1));
        l.Add("untilStep", [I, I, I], a => UntilStep(Int(a[0]), Int(a[1]), Int(a[2])));
        l.Add("seq", [I], a => Seq(a.Select(x => (long)x!).ToArray()), isVariadic: true);
    }

    private static void AddDicts(FunctionLibrary l)
    {
        l.Add("dict", a =>
        {
            var d = NewMap();
            for (var i = 0; i < a.Length; i += 2)
            {
                d[StrVal(a[i])] = i + 1 < a.Length ? a[i + 1] : string.Empty;
            }

            return d;
        });
        l.Add("get", [M, S], a => Map(a[0]) is { } d && d.Contains(Str(a[1])) ? d[Str(a[1])] : string.Empty);
        l.Add("set", [M, S, A], a => SetKey(a[0], Str(a[1]), a[2]));
        l.Add("unset", [M, S], a =>
        {
            Map(a[0])?.Remove(Str(a[1]));
            return a[0];
        });
        l.Add("hasKey", [M, S], a => Map(a[0])?.Contains(Str(a[1])) ?? false);
        l.Add("pluck", [S, M], a => a.Skip(1).Select(Map).Where(d => d != null && d.Contains(Str(a[0]))).Select(d => d![Str(a[0])]).ToList(), isVariadic: true);
        l.Add("keys", [M], a => a.Select(Map).Where(d => d != null).SelectMany(d => d!.Keys.Cast<string>()).ToList(), isVariadic: true);
        l.Add("values", [M], a => Map(a[0]) is { } d ? d.Values.Cast<object?>().ToList() : []);
        l.Add("pick", [M, S], a =>
        {
            var res = NewMap();
            var d = Map(a[0]);
            foreach (var k in a.Skip(1).Cast<string>())
            {
                if (d != null && d.Contains(k))
                {
                    res[k] = d[k];
                }
            }

            return res;
        }, isVariadic: true);
        l.Add("omit", [M, S], a =>
        {
            var res = NewMap();
            var omit = a.Skip(1).Cast<string>().ToHashSet(StringComparer.Ordinal);
            if (Map(a[0]) is { } d)
            {
                foreach (DictionaryEntry e in d)
                {
                    if (!omit.Contains((string)e.Key))
                    {
                        res[(string)e.Key] = e.Value;
                    }
                }
            }

            return res;
        }, isVariadic: true);
        l.Add("merge", [M, M], a => Merge(a, overwrite: false), isVariadic: true);
        l.Add("mergeOverwrite", [M, M], a => Merge(a, overwrite: true), isVariadic: true);
        l.Add("deepCopy", [A], a => a[0] == null ? throw new TemplateFunctionException("deepCopy error: value is nil") : DeepCopy(a[0]));
        l.Add("dig", [A], a => Dig(a), isVariadic: true);
    }

    private static void AddConversions(FunctionLibrary l)
    {
        l.Add("atoi", [S], a => long.TryParse(Str(a[0]), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : 0L);
        l.Add("int", [A], a => ToInt64(a[0]));
        l.Add("int64", [A], a => new GoInt64(ToInt64(a[0])));
        l.Add("float64", [A], a => ToFloat64(a[0]));
        l.Add("toDecimal", [A], a =>
        {
            try
            {
                return new GoInt64(Convert.ToInt64(GoFormatter.Sprint(a[0]), 8));
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                return new GoInt64(0);
            }
        });
    }

    private static void AddMath(FunctionLibrary l)
    {
        l.Add("add1", [A], a => new GoInt64(unchecked(ToInt64(a[0]) + 1)));
        l.Add("add", a => new GoInt64(a.Aggregate(0L, (s, x) => unchecked(s + ToInt64(x)))));
        l.Add("sub", [A, A], a => new GoInt64(unchecked(ToInt64(a[0]) - ToInt64(a[1]))));
        l.Add("div", [A, A], a => ToInt64(a[1]) == 0 ? throw new TemplateFunctionException("runtime error: integer divide by zero") : new GoInt64(ToInt64(a[0]) / ToInt64(a[1])));
        l.Add("mod", [A, A], a => ToInt64(a[1]) == 0 ? throw new TemplateFunctionException("runtime error: integer divide by zero") : new GoInt64(ToInt64(a[0]) % ToInt64(a[1])));
        l.Add("mul", [A, A], a => new GoInt64(a.Skip(1).Aggregate(ToInt64(a[0]), (s, x) => unchecked(s * ToInt64(x)))), isVariadic: true);
        l.Add("max", [A, A], a => new GoInt64(a.Select(ToInt64).Max()), isVariadic: true);
        l.Add("biggest", [A, A], a => new GoInt64(a.Select(ToInt64).Max()), isVariadic: true);
        l.Add("min", [A, A], a => new GoInt64(a.Select(ToInt64).Min()), isVariadic: true);
        l.Add("maxf", [A, A], a => a.Select(ToFloat64).Aggregate(Math.Max), isVariadic: true);
        l.Add("minf", [A, A], a => a.Select(ToFloat64).Aggregate(Math.Min), isVariadic: true);
        l.Add("add1f", [A], a => DecimalOp(a[0], [1L], (x, y) => x + y));
        l.Add("addf", [A], a => DecimalOp(0.0, a, (x, y) => x + y), isVariadic: true);
        l.Add("subf", [A, A], a => DecimalOp(a[0], a[1..], (x, y) => x - y), isVariadic: true);
        l.Add("mulf", [A, A], a => DecimalOp(a[0], a[1..], (x, y) => x * y), isVariadic: true);
        l.Add("divf", [A, A], a => DecimalOp(a[0], a[1..], (x, y) => y == 0 ? throw new TemplateFunctionException("decimal division by 0") : Math.Round(x / y, 16, MidpointRounding.AwayFromZero)), isVariadic: true);
        l.Add("floor", [A], a => Math.Floor(ToFloat64(a[0])));
        l.Add("ceil", [A], a => Math.Ceiling(ToFloat64(a[0])));
        l.Add("round", [A, I, GoParam.Float64], a => Round(ToFloat64(a[0]), Int(a[1]), a.Length > 2 ? (double)a[2]! : 0.5), isVariadic: true);
    }

    private static void AddEncoding(FunctionLibrary l)
    {
        l.Add("b64enc", [S], a => Convert.ToBase64String(Encoding.UTF8.GetBytes(Str(a[0]))));
        l.Add("b64dec", [S], a => Base64Decode(Str(a[0])));
        l.Add("b32enc", [S], a => Base32.Encode(Encoding.UTF8.GetBytes(Str(a[0]))));
        l.Add("b32dec", [S], a => Base32.Decode(Str(a[0])));
        l.Add("sha256sum", [S], a => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Str(a[0])))));
#pragma warning disable CA5350 // sha1sum is part of Sprig's contract; it is not used for security here.
        l.Add("sha1sum", [S], a => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(Str(a[0])))));
#pragma warning restore CA5350
        l.Add("adler32sum", [S], a => Adler32(Encoding.UTF8.GetBytes(Str(a[0]))).ToString(CultureInfo.InvariantCulture));
        l.Add("toJson", [A], a => GoJson.Marshal(a[0], indent: false, escapeHtml: true) ?? string.Empty);
        l.Add("toPrettyJson", [A], a => GoJson.Marshal(a[0], indent: true, escapeHtml: true) ?? string.Empty);
        l.Add("toRawJson", [A], a => GoJson.Marshal(a[0], indent: false, escapeHtml: false) ?? string.Empty);
        l.Add("fromJson", [S], a =>
        {
            var (value, error) = GoJson.Unmarshal(Str(a[0]));
            if (error == null && value is not (Dictionary<string, object?> or null))
            {
                error = $"json: cannot unmarshal {(value is IList ? "array" : value is string ? "string" : value is bool ? "bool" : "number")} into Go value of type map[string]interface {{}}";
            }

            var m = value as Dictionary<string, object?> ?? NewMap();
            if (error != null)
            {
                m = NewMap();
                m["Error"] = error;
            }

            return m;
        });
        l.Add("fromJsonArray", [S], a =>
        {
            var (value, error) = GoJson.Unmarshal(Str(a[0]));
            return error != null ? new List<object?> { error }
                : value as List<object?> ?? (value == null ? [] : [$"json: cannot unmarshal {(value is IDictionary ? "object" : value is string ? "string" : value is bool ? "bool" : "number")} into Go value of type []interface {{}}"]);
        });
        l.Add("semver", [S], a => SemanticVersion.Parse(Str(a[0])));
        l.Add("semverCompare", [S, S], a => SemanticVersion.Satisfies(Str(a[0]), Str(a[1])));
    }

    private static void AddRegex(FunctionLibrary l)
    {
        l.AddWithExecution("regexMatch", [S, S], c => GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout, quiet: true)?.IsMatch(Str(c.Args[1])) ?? false);
        l.AddWithExecution("regexFind", [S, S], c => GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout)!.Match(Str(c.Args[1])) is { Success: true } m ? m.Value : string.Empty);
        l.AddWithExecution("regexFindAll", [S, S, I], c => GoRegex.FindAll(GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout)!, Str(c.Args[1]), Int(c.Args[2])).Select(m => m.Value).ToList());
        l.AddWithExecution("regexReplaceAll", [S, S, S], c => GoRegex.ReplaceAll(GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout)!, Str(c.Args[1]), Str(c.Args[2]), literal: false));
        l.AddWithExecution("regexReplaceAllLiteral", [S, S, S], c => GoRegex.ReplaceAll(GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout)!, Str(c.Args[1]), Str(c.Args[2]), literal: true));
        l.AddWithExecution("regexSplit", [S, S, I], c => GoRegex.Split(GoRegex.Compile(Str(c.Args[0]), c.Options.RegexTimeout)!, Str(c.Args[1]), Int(c.Args[2])));
        l.Add("regexQuoteMeta", [S], a => GoRegex.QuoteMeta(Str(a[0])));
    }

    private static void AddHelm(FunctionLibrary l)
    {
        l.Add("toYaml", [A], a => GoYaml.Marshal(a[0]) is { } y ? TrimOneNewline(y) : string.Empty);
        l.Add("fromYaml", [S], a =>
        {
            try
            {
                return GoYaml.UnmarshalMap(Str(a[0]));
            }
            catch (FormatException e)
            {
                var m = NewMap();
                m["Error"] = e.Message;
                return m;
            }
        });
        l.Add("fromYamlArray", [S], a =>
        {
            try
            {
                return GoYaml.UnmarshalList(Str(a[0]));
            }
            catch (FormatException e)
            {
                return new List<object?> { e.Message };
            }
        });
        l.AddWithExecution("include", [S, A], c => c.Execution.ExecuteTemplate(Str(c.Args[0]), c.Args[1]));
        l.AddWithExecution("tpl", [S, A], c =>
        {
            var text = Str(c.Args[0]);
            try
            {
                return c.Execution.ExecuteText("tpl", text, c.Args[1]);
            }
            catch (TemplateException e) when (e.Code == TemplateErrorCodes.ParseError)
            {
                throw new TemplateFunctionException($"cannot parse template {GoFormatter.Quote(text)}: {e.Message}");
            }
            catch (TemplateException e) when (e.Code == TemplateErrorCodes.ExecError)
            {
                throw new TemplateFunctionException($"error during tpl function execution for {GoFormatter.Quote(text)}: {e.Message}");
            }
        });
    }

    private static string TrimOneNewline(string s) => s.EndsWith('\n') ? s[..^1] : s;

    internal static readonly char[] GoWhitespace = ['\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00A0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000'];

    internal static string Str(object? v) => (string)v!;

    internal static int Int(object? v) => (int)Math.Clamp((long)v!, int.MinValue, int.MaxValue);

    internal static Dictionary<string, object?> NewMap() => new(StringComparer.Ordinal);

    private static IDictionary? Map(object? v) => v as IDictionary;

    /// <summary>Sprig's strval: strings as they are, everything else as fmt's %v.</summary>
    internal static string StrVal(object? v) => v is string s ? s : GoFormatter.Sprintf("%v", v);

    /// <summary>Sprig's strslice.</summary>
    internal static List<string> StrSlice(object? v) => v switch
    {
        IList<string> strings => [.. strings],
        IList list => list.Cast<object?>().Where(x => x != null).Select(StrVal).ToList(),
        null => [],
        _ => [StrVal(v)],
    };

    /// <summary>Sprig's empty.</summary>
    internal static bool Empty(object? v) => v switch
    {
        null or NoValue => true,
        string s => s.Length == 0,
        IList l => l.Count == 0,
        IDictionary d => d.Count == 0,
        bool b => !b,
        _ when GoValues.IsIntegral(v) => GoValues.ToLong(v) == 0,
        _ when GoValues.IsFloat(v) => GoValues.ToDouble(v) == 0,
        _ => false,
    };

    /// <summary>spf13/cast ToInt64.</summary>
    internal static long ToInt64(object? v)
    {
        v = GoValues.Normalize(v);
        switch (v)
        {
            case long or GoInt64:
                return GoValues.ToLong(v);
            case double d:
                return double.IsNaN(d) ? long.MinValue : d >= 9.2233720368547758e18 || d < -9.2233720368547758e18 ? long.MinValue : (long)d;
            case bool b:
                return b ? 1 : 0;
            case string s:
                return GoStrings.ParseInt(TrimZeroDecimal(s)) ?? 0;
            default:
                return 0;
        }
    }

    /// <summary>spf13/cast ToFloat64.</summary>
    internal static double ToFloat64(object? v)
    {
        v = GoValues.Normalize(v);
        return v switch
        {
            long or GoInt64 => GoValues.ToLong(v),
            double d => d,
            bool b => b ? 1 : 0,
            string s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : 0,
            _ => 0,
        };
    }

    private static string TrimZeroDecimal(string s)
    {
        var foundZero = false;
        for (var i = s.Length; i > 0; i--)
        {
            switch (s[i - 1])
            {
                case '.':
                    if (foundZero)
                    {
                        return s[..(i - 1)];
                    }

                    break;
                case '0':
                    foundZero = true;
                    break;
                default:
                    return s;
            }
        }

        return s;
    }

    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var prev = ' ';
        foreach (var c in s)
        {
            sb.Append(IsSeparator(prev) ? char.ToUpperInvariant(c) : c);
            prev = c;
        }

        return sb.ToString();

        static bool IsSeparator(char r)
        {
            if (r <= 0x7F)
            {
                return !(char.IsAsciiLetterOrDigit(r) || r == '_');
            }

            return !char.IsLetterOrDigit(r) && char.IsWhiteSpace(r);
        }
    }

    private static string Untitle(string s)
    {
        var chars = s.ToCharArray();
        var next = true;
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsWhiteSpace(chars[i]))
            {
                next = true;
            }
            else if (next)
            {
                chars[i] = char.ToLowerInvariant(chars[i]);
                next = false;
            }
        }

        return new string(chars);
    }

    private static string SwapCase(string s)
    {
        // goutils.SwapCase title-cases a lower-case letter after whitespace, which equals upper-casing it here.
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var ch = chars[i];
            if (char.IsUpper(ch))
            {
                chars[i] = char.ToLowerInvariant(ch);
            }
            else if (char.IsLower(ch))
            {
                chars[i] = char.ToUpperInvariant(ch);
            }
        }

        return new string(chars);
    }

    private static string Repeat(string s, int count)
    {
        if (count < 0)
        {
            throw new TemplateFunctionException("strings: negative Repeat count");
        }

        if ((long)s.Length * count > 16L * 1024 * 1024)
        {
            throw new TemplateFunctionException("strings: Repeat output length overflow");
        }

        return new StringBuilder(s.Length * count).Insert(0, s, count).ToString();
    }

    // Go strings are UTF-8 bytes: Sprig's substr, trunc and abbrev count bytes, not characters.
    private static string Substr(int start, int end, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (start < 0)
        {
            return SliceBytes(b, 0, end, omittedStart: true);
        }

        if (end < 0 || end > b.Length)
        {
            return SliceBytes(b, start, b.Length, omittedEnd: true);
        }

        return SliceBytes(b, start, end);
    }

    /// <summary>b[start:end] with Go's bounds-check panic message.</summary>
    internal static string SliceBytes(byte[] b, int start, int end, bool omittedStart = false, bool omittedEnd = false)
    {
        if (end > b.Length || end < 0)
        {
            throw new TemplateFunctionException($"runtime error: slice bounds out of range [{(omittedStart ? string.Empty : start.ToString(CultureInfo.InvariantCulture))}:{end}] with length {b.Length}");
        }

        if (start > end || start < 0)
        {
            throw new TemplateFunctionException(omittedEnd
                ? $"runtime error: slice bounds out of range [{start}:{b.Length}]"
                : $"runtime error: slice bounds out of range [{start}:{end}]");
        }

        return Encoding.UTF8.GetString(b, start, end - start);
    }

    private static string Trunc(int c, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (c < 0 && b.Length + c > 0)
        {
            return SliceBytes(b, b.Length + c, b.Length);
        }

        if (c >= 0 && b.Length > c)
        {
            return SliceBytes(b, 0, c);
        }

        return s;
    }

    private static string Abbrev(int width, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (width < 4 || b.Length == 0 || b.Length <= width)
        {
            return s;
        }

        return SliceBytes(b, 0, width - 3) + "...";
    }

    /// <summary>goutils.AbbreviateFull through Sprig's abbrevboth.</summary>
    private static string AbbrevBoth(int left, int right, string s)
    {
        if (right < 4 || (left > 0 && right < 7) || s.Length == 0)
        {
            return s;
        }

        var b = Encoding.UTF8.GetBytes(s);
        if (b.Length <= right)
        {
            return s;
        }

        var offset = Math.Min(left, b.Length);
        if (b.Length - offset < right - 3)
        {
            offset = b.Length - (right - 3);
        }

        if (offset <= 4)
        {
            return SliceBytes(b, 0, right - 3) + "...";
        }

        if (offset + right - 3 < b.Length)
        {
            var rest = SliceBytes(b, offset, b.Length);
            var restBytes = Encoding.UTF8.GetBytes(rest);
            var inner = right - 3 < 4 ? rest : restBytes.Length <= right - 3 ? rest : SliceBytes(restBytes, 0, right - 6) + "...";
            return "..." + inner;
        }

        return "..." + SliceBytes(b, b.Length - (right - 3), b.Length);
    }

    /// <summary>Sprig's decimal arithmetic (shopspring/decimal): exact on the shortest decimal form of each float.</summary>
    private static double DecimalOp(object? first, object?[] rest, Func<decimal, decimal, decimal> op)
    {
        try
        {
            var result = ToDecimal(ToFloat64(first));
            foreach (var x in rest)
            {
                result = op(result, ToDecimal(ToFloat64(x)));
            }

            // decimal-to-double casts are not correctly rounded; parsing the decimal text is, like Go's Float64().
            return double.Parse(result.ToString(CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            throw new TemplateFunctionException("decimal overflow");
        }

        static decimal ToDecimal(double d) =>
            decimal.Parse(d.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static string Initials(string s)
    {
        var sb = new StringBuilder();
        var gap = true;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c))
            {
                gap = true;
            }
            else if (gap)
            {
                sb.Append(c);
                gap = false;
            }
        }

        return sb.ToString();
    }

    /// <summary>goutils WrapCustom.</summary>
    private static string Wrap(string str, int wrapLength, string newLine, bool wrapLongWords)
    {
        if (str.Length == 0)
        {
            return string.Empty;
        }

        if (wrapLength < 1)
        {
            wrapLength = 1;
        }

        var inputLength = str.Length;
        var offset = 0;
        var sb = new StringBuilder();
        while (inputLength - offset > wrapLength)
        {
            if (str[offset] == ' ')
            {
                offset++;
                continue;
            }

            var end = wrapLength + offset + 1;
            var spaceToWrapAt = str.LastIndexOf(' ', end - 1, end - offset);
            if (spaceToWrapAt >= offset)
            {
                sb.Append(str, offset, spaceToWrapAt - offset).Append(newLine);
                offset = spaceToWrapAt + 1;
            }
            else if (wrapLongWords)
            {
                sb.Append(str, offset, wrapLength).Append(newLine);
                offset += wrapLength;
            }
            else
            {
                var index = str.IndexOf(' ', wrapLength + offset);
                if (index == -1)
                {
                    sb.Append(str, offset, str.Length - offset);
                    offset = inputLength;
                }
                else
                {
                    sb.Append(str, offset, index - offset).Append(newLine);
                    offset = index + 1;
                }
            }
        }

        sb.Append(str, offset, str.Length - offset);
        return sb.ToString();
    }

    private static string Indent(int spaces, string v)
    {
        var pad = new string(' ', Math.Max(spaces, 0));
        return pad + v.Replace("\n", "\n" + pad, StringComparison.Ordinal);
    }

    /// <summary>strings.Replace with an empty old string inserts the new one around every character.</summary>
    private static string ReplaceEmpty(string s, string replacement)
    {
        var sb = new StringBuilder(replacement);
        foreach (var c in s)
        {
            sb.Append(c).Append(replacement);
        }

        return sb.ToString();
    }

    /// <summary>strings.Split: an empty separator splits into characters.</summary>
    internal static List<string> GoSplit(string s, string sep)
    {
        if (sep.Length == 0)
        {
            return s.Select(c => c.ToString()).ToList();
        }

        return [.. s.Split(sep)];
    }

    private static Dictionary<string, string> Split(string sep, string orig)
    {
        var res = new Dictionary<string, string>(StringComparer.Ordinal);
        var parts = GoSplit(orig, sep);
        for (var i = 0; i < parts.Count; i++)
        {
            res["_" + i.ToString(CultureInfo.InvariantCulture)] = parts[i];
        }

        return res;
    }

    private static Dictionary<string, string> SplitN(string sep, int n, string orig)
    {
        var res = new Dictionary<string, string>(StringComparer.Ordinal);
        if (n == 0)
        {
            return res;
        }

        var parts = n < 0 || sep.Length == 0 ? GoSplit(orig, sep) : [.. orig.Split(sep, n)];
        for (var i = 0; i < parts.Count; i++)
        {
            res["_" + i.ToString(CultureInfo.InvariantCulture)] = parts[i];
        }

        return res;
    }

    private static List<string> SortAlpha(object? v)
    {
        if (v is IList)
        {
            var strings = StrSlice(v);
            strings.Sort(GoValues.CompareUtf8);
            return strings;
        }

        return [StrVal(v)];
    }

    private static List<object?>? ListOf(object? v, string what)
    {
        return v switch
        {
            null => throw new TemplateFunctionException("runtime error: invalid memory address or nil pointer dereference"),
            IList l => l.Cast<object?>().ToList(),
            _ => throw new TemplateFunctionException($"Cannot {what} on type {KindName(v)}"),
        };
    }

    internal static string KindName(object? v) => GoValues.Kind(v) switch
    {
        GoKind.Bool => "bool",
        GoKind.Int => "int",
        GoKind.Float => "float64",
        GoKind.Complex => "complex128",
        GoKind.String => "string",
        GoKind.Slice => "slice",
        GoKind.Map => "map",
        GoKind.Func => "func",
        _ => "struct",
    };

    private static List<object?> Push(object? list, object? v, string what)
    {
        var l = ListOf(list, what)!;
        l.Add(v);
        return l;
    }

    private static List<object?> Prepend(object? list, object? v)
    {
        var l = ListOf(list, "prepend")!;
        l.Insert(0, v);
        return l;
    }

    private static List<object?> Uniq(List<object?> list)
    {
        var dest = new List<object?>();
        foreach (var item in list)
        {
            if (!dest.Any(d => DeepEqual(item, d)))
            {
                dest.Add(item);
            }
        }

        return dest;
    }

    /// <summary>reflect.DeepEqual over the engine's value model.</summary>
    internal static bool DeepEqual(object? a, object? b)
    {
        a = GoValues.Normalize(a);
        b = GoValues.Normalize(b);
        if (a == null || b == null)
        {
            return a == null && b == null;
        }

        if (a.GetType() != b.GetType() && !(a is IList && b is IList && GoValues.TypeName(a) == GoValues.TypeName(b))
            && !(a is IDictionary && b is IDictionary && GoValues.TypeName(a) == GoValues.TypeName(b)))
        {
            return false;
        }

        switch (a)
        {
            case IList la:
                {
                    var lb = (IList)b;
                    if (la.Count != lb.Count)
                    {
                        return false;
                    }

                    for (var i = 0; i < la.Count; i++)
                    {
                        if (!DeepEqual(la[i], lb[i]))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            case IDictionary da:
                {
                    var db = (IDictionary)b;
                    if (da.Count != db.Count)
                    {
                        return false;
                    }

                    foreach (DictionaryEntry e in da)
                    {
                        if (!db.Contains(e.Key) || !DeepEqual(e.Value, db[e.Key]))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            default:
                return a.Equals(b);
        }
    }

    private static object? SliceList(object? list, object?[] indices)
    {
        var l = list switch
        {
            null => throw new TemplateFunctionException("runtime error: invalid memory address or nil pointer dereference"),
            IList x => x,
            _ => throw new TemplateFunctionException($"list should be type of slice or array but {KindName(list)}"),
        };
        if (l.Count == 0)
        {
            return null;
        }

        var start = indices.Length > 0 ? (int)ToInt64(indices[0]) : 0;
        var end = indices.Length < 2 ? l.Count : (int)ToInt64(indices[1]);
        if (start < 0 || end > l.Count || start > end)
        {
            throw new TemplateFunctionException("reflect: slice index out of range");
        }

        var result = Builtins.CreateListLike(l);
        for (var i = start; i < end; i++)
        {
            result.Add(l[i]);
        }

        return result;
    }

    private static List<object?> Concat(object?[] lists)
    {
        var res = new List<object?>();
        foreach (var list in lists)
        {
            switch (list)
            {
                case null:
                    throw new TemplateFunctionException("runtime error: invalid memory address or nil pointer dereference");
                case IList l:
                    res.AddRange(l.Cast<object?>());
                    break;
                default:
                    throw new TemplateFunctionException($"Cannot concat type {KindName(list)} as list");
            }
        }

        return res;
    }

    private static List<List<object?>> Chunk(int size, List<object?> list)
    {
        var result = new List<List<object?>>();
        if (size <= 0)
        {
            throw new TemplateFunctionException("runtime error: integer divide by zero");
        }

        for (var i = 0; i < list.Count; i += size)
        {
            result.Add(list.Skip(i).Take(size).ToList());
        }

        return result;
    }

    private const int MaxGeneratedItems = 1_000_000;

    internal static List<long> UntilStep(long start, long stop, long step)
    {
        var v = new List<long>();
        if (stop < start)
        {
            if (step >= 0)
            {
                return v;
            }

            for (var i = start; i > stop; i += step)
            {
                Guard(v);
                v.Add(i);
            }

            return v;
        }

        if (step <= 0)
        {
            return v;
        }

        for (var i = start; i < stop; i += step)
        {
            Guard(v);
            v.Add(i);
        }

        return v;

        static void Guard(List<long> v)
        {
            if (v.Count >= MaxGeneratedItems)
            {
                throw new TemplateFunctionException($"sequence longer than {MaxGeneratedItems} items");
            }
        }
    }

    private static string Seq(long[] p)
    {
        long increment = 1;
        List<long> values;
        switch (p.Length)
        {
            case 0:
                return string.Empty;
            case 1:
                {
                    long start = 1;
                    var end = p[0];
                    if (end < start)
                    {
                        increment = -1;
                    }

                    values = UntilStep(start, end + increment, increment);
                    break;
                }

            case 2:
                {
                    var step = p[1] < p[0] ? -1 : 1;
                    values = UntilStep(p[0], p[1] + step, step);
                    break;
                }

            case 3:
                {
                    if (p[2] < p[0])
                    {
                        increment = -1;
                        if (p[1] > 0)
                        {
                            return string.Empty;
                        }
                    }

                    values = UntilStep(p[0], p[2] + increment, p[1]);
                    break;
                }

            default:
                return string.Empty;
        }

        return string.Join(" ", values.Select(x => x.ToString(CultureInfo.InvariantCulture)));
    }

    private static object? SetKey(object? map, string key, object? value)
    {
        if (map is IDictionary d)
        {
            d[key] = value;
        }
        else
        {
            throw new TemplateFunctionException("assignment to entry in nil map");
        }

        return map;
    }

    private static object? Merge(object?[] a, bool overwrite)
    {
        var dst = a[0] as IDictionary ?? NewMap();
        foreach (var src in a.Skip(1))
        {
            if (src is IDictionary s)
            {
                MergeInto(dst, s, overwrite);
            }
        }

        return dst;
    }

    /// <summary>imdario/mergo's map merge as Sprig uses it (Merge / MergeWithOverwrite).</summary>
    private static void MergeInto(IDictionary dst, IDictionary src, bool overwrite)
    {
        foreach (DictionaryEntry entry in src)
        {
            var key = entry.Key;
            var sv = entry.Value;
            var exists = dst.Contains(key);
            var dv = exists ? dst[key] : null;
            if (sv == null)
            {
                if (overwrite)
                {
                    dst[key] = null;
                }

                continue;
            }

            if (sv is IDictionary sm)
            {
                if (dv is IDictionary dm)
                {
                    MergeInto(dm, sm, overwrite);
                }
            }
            else if (sv is IList && overwrite)
            {
                dst[key] = sv;
            }

            if (exists && !Empty(dv) && sv is IDictionary or IList)
            {
                continue;
            }

            if (overwrite || !exists || Empty(dv))
            {
                dst[key] = sv;
            }
        }
    }

    internal static object? DeepCopy(object? v) => v switch
    {
        IDictionary d => d.Keys.Cast<object>().ToDictionary(k => (string)k, k => DeepCopy(d[k]), StringComparer.Ordinal),
        IList<string> s => s.ToList(),
        IList l => l.Cast<object?>().Select(DeepCopy).ToList(),
        _ => v,
    };

    private static object? Dig(object?[] ps)
    {
        if (ps.Length < 3)
        {
            throw new TemplateFunctionException("dig needs at least three arguments");
        }

        var dict = ps[^1] as IDictionary ?? throw new TemplateFunctionException("interface conversion: interface {} is not map[string]interface {}");
        var def = ps[^2];
        for (var i = 0; i < ps.Length - 2; i++)
        {
            var key = ps[i] as string ?? throw new TemplateFunctionException("interface conversion: interface {} is not string");
            if (!dict.Contains(key))
            {
                return def;
            }

            if (i == ps.Length - 3)
            {
                return dict[key];
            }

            dict = dict[key] as IDictionary ?? throw new TemplateFunctionException("interface conversion: interface {} is not map[string]interface {}");
        }

        return def;
    }

    private static double Round(double val, int places, double roundOn)
    {
        var pow = Math.Pow(10, places);
        var digit = pow * val;
        var div = digit - Math.Truncate(digit);
        var round = div >= roundOn ? Math.Ceiling(digit) : Math.Floor(digit);
        return round / pow;
    }

    private static string Base64Decode(string v)
    {
        try
        {
            if (v.Length % 4 != 0 || v.Contains('\n', StringComparison.Ordinal) || v.Contains('\r', StringComparison.Ordinal))
            {
                throw new FormatException();
            }

            return Encoding.UTF8.GetString(Convert.FromBase64String(v));
        }
        catch (FormatException)
        {
            var index = 0;
            while (index < v.Length && (char.IsAsciiLetterOrDigit(v[index]) || v[index] is '+' or '/'))
            {
                index++;
            }

            if (index == v.Length)
            {
                index = v.Length - (v.Length % 4);
                if (v.Length % 4 == 1)
                {
                    index = v.Length - 1;
                }
            }

            return "illegal base64 data at input byte " + index.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static uint Adler32(byte[] data)
    {
        uint a = 1;
        uint b = 0;
        foreach (var d in data)
        {
            a = (a + d) % 65521;
            b = (b + a) % 65521;
        }

        return (b << 16) | a;
    }

    /// <summary>RFC 4648 base32 with padding, as Go's base32.StdEncoding.</summary>
    private static class Base32
    {
        private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

        public static string Encode(byte[] data)
        {
            var sb = new StringBuilder();
            for (var i = 0; i < data.Length; i += 5)
            {
                var chunk = data.AsSpan(i, Math.Min(5, data.Length - i));
                ulong buffer = 0;
                for (var j = 0; j < 5; j++)
                {
                    buffer = (buffer << 8) | (j < chunk.Length ? chunk[j] : 0UL);
                }

                var chars = (chunk.Length * 8 + 4) / 5;
                for (var j = 0; j < 8; j++)
                {
                    sb.Append(j < chars ? Alphabet[(int)((buffer >> (35 - (j * 5))) & 31)] : '=');
                }
            }

            return sb.ToString();
        }

        public static string Decode(string s)
        {
            var bytes = new List<byte>();
            var stripped = s.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal);
            if (stripped.Length % 8 != 0)
            {
                return "illegal base32 data at input byte " + (stripped.Length - (stripped.Length % 8)).ToString(CultureInfo.InvariantCulture);
            }

            for (var i = 0; i < stripped.Length; i += 8)
            {
                ulong buffer = 0;
                var count = 0;
                for (var j = 0; j < 8; j++)
                {
                    var c = stripped[i + j];
                    if (c == '=')
                    {
                        if (stripped[(i + j)..].Any(x => x != '='))
                        {
                            return "illegal base32 data at input byte " + (i + j).ToString(CultureInfo.InvariantCulture);
                        }

                        buffer <<= 5 * (8 - j);
                        break;
                    }

                    var v = Alphabet.IndexOf(c, StringComparison.Ordinal);
                    if (v < 0)
                    {
                        return "illegal base32 data at input byte " + (i + j).ToString(CultureInfo.InvariantCulture);
                    }

                    buffer = (buffer << 5) | (uint)v;
                    count++;
                }

                var n = count * 5 / 8;
                for (var j = 0; j < n; j++)
                {
                    bytes.Add((byte)(buffer >> (32 - (j * 8))));
                }
            }

            return Encoding.UTF8.GetString([.. bytes]);
        }
    }
}
