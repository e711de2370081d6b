using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Pitrix.Templates;

/// <summary>
/// A read-only view of a key/value tree with slash-separated keys such as <c>/hosts/role/node/ip</c>, as confd
/// templates see their metadata.
/// </summary>
public interface IKeyValueView
{
    /// <summary>Looks up one key.</summary>
    bool TryGetValue(string key, [MaybeNullWhen(false)] out string value);

    /// <summary>Every pair whose key starts with <paramref name="prefix"/> (all pairs for the empty prefix).</summary>
    IEnumerable<KeyValuePair<string, string>> EnumeratePrefix(string prefix);
}

/// <summary>An <see cref="IKeyValueView"/> over an in-memory dictionary.</summary>
public sealed class InMemoryKeyValueView : IKeyValueView
{
    private readonly SortedDictionary<string, string> _values;

    public InMemoryKeyValueView(IEnumerable<KeyValuePair<string, string>> values)
    {
        _values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            _values[key] = value;
        }
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _values.TryGetValue(key, out value);

    public IEnumerable<KeyValuePair<string, string>> EnumeratePrefix(string prefix) =>
        _values.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal));
}

/// <summary>A key and its value, as confd's <c>get</c> and <c>gets</c> return them (<c>.Key</c>, <c>.Value</c>).</summary>
public sealed record KVPair(string Key, string Value);

/// <summary>
/// confd's template functions (kelseyhightower/confd resource/template and its memkv store) over an
/// <see cref="IKeyValueView"/>. Time, DNS and file functions are left out to keep templates sandboxed; <c>getenv</c>
/// reads only the <c>PITRIX_*</c> variables the caller hands over (the node's root, id and address), never the
/// process environment.
/// </summary>
public static class ConfdFunctions
{
    private const GoParam S = GoParam.String;
    private const GoParam I = GoParam.Int;

    /// <summary>The only names <c>getenv</c> reads.</summary>
    public const string GetenvPrefix = "PITRIX_";

    /// <summary>
    /// Registers the confd functions reading from <paramref name="view"/>. <c>getenv NAME [DEFAULT]</c> answers from
    /// <paramref name="environment"/> (DEFAULT or "" when unset or empty, as confd's); a name not starting with
    /// <see cref="GetenvPrefix"/> fails the template.
    /// </summary>
    public static FunctionLibrary AddConfd(this FunctionLibrary library, IKeyValueView view, IReadOnlyDictionary<string, string>? environment = null)
    {
        library.Add("getenv", [S, S], a =>
        {
            var name = Str(a[0]);
            if (!name.StartsWith(GetenvPrefix, StringComparison.Ordinal))
            {
                throw new TemplateFunctionException($"getenv: only {GetenvPrefix}* variables may be read, not '{name}'");
            }

            var value = environment is not null && environment.TryGetValue(name, out var set) ? set : "";
            return value.Length == 0 && a.Length > 1 ? Str(a[1]) : value;
        }, isVariadic: true);
        library.Add("exists", [S], a => view.TryGetValue(Str(a[0]), out _));
        library.Add("get", [S], a => Get(view, Str(a[0])));
        library.Add("gets", [S], a => Matching(view, Str(a[0])).Select(kv => new KVPair(kv.Key, kv.Value)).ToList());
        library.Add("getv", [S, S], a => view.TryGetValue(Str(a[0]), out var v) ? v : a.Length > 1 ? Str(a[1]) : throw NotExist(Str(a[0])), isVariadic: true);
        library.Add("getvs", [S], a =>
        {
            var values = Matching(view, Str(a[0])).Select(kv => kv.Value).ToList();
            values.Sort(GoValues.CompareUtf8);
            return values;
        });
        library.Add("ls", [S], a => List(view, Str(a[0])));
        library.Add("lsdir", [S], a => ListDir(view, Str(a[0])));
        library.Add("base", [S], a => GoPath.Base(Str(a[0])));
        library.Add("dir", [S], a => GoPath.Dir(Str(a[0])));
        library.Add("split", [S, S], a => SprigFunctions.GoSplit(Str(a[0]), Str(a[1])));
        library.Add("join", [GoParam.StringSlice, S], a => string.Join(Str(a[1]), (IList<string>)a[0]!));
        library.Add("json", [S], a =>
        {
            var (value, error) = GoJson.Unmarshal(Str(a[0]));
            return error != null ? throw new TemplateFunctionException(error)
                : value as Dictionary<string, object?> ?? (value == null ? null : throw new TemplateFunctionException($"json: cannot unmarshal {JsonKind(value)} into Go value of type map[string]interface {{}}"));
        });
        library.Add("jsonArray", [S], a =>
        {
            var (value, error) = GoJson.Unmarshal(Str(a[0]));
            return error != null ? throw new TemplateFunctionException(error)
                : value as List<object?> ?? (value == null ? null : throw new TemplateFunctionException($"json: cannot unmarshal {JsonKind(value)} into Go value of type []interface {{}}"));
        });
        library.Add("map", a =>
        {
            if (a.Length % 2 != 0)
            {
                throw new TemplateFunctionException("invalid map call");
            }

            var dict = SprigFunctions.NewMap();
            for (var i = 0; i < a.Length; i += 2)
            {
                dict[a[i] as string ?? throw new TemplateFunctionException("map keys must be strings")] = a[i + 1];
            }

            return dict;
        });
        library.Add("toUpper", [S], a => Str(a[0]).ToUpperInvariant());
        library.Add("toLower", [S], a => Str(a[0]).ToLowerInvariant());
        library.Add("contains", [S, S], a => Str(a[0]).Contains(Str(a[1]), StringComparison.Ordinal));
        library.Add("replace", [S, S, S, I], a => Replace(Str(a[0]), Str(a[1]), Str(a[2]), (long)a[3]!));
        library.Add("trimSuffix", [S, S], a => Str(a[0]).EndsWith(Str(a[1]), StringComparison.Ordinal) ? Str(a[0])[..^Str(a[1]).Length] : Str(a[0]));
        library.Add("parseBool", [S], a => Str(a[0]) switch
        {
            "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
            "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
            var s => throw new TemplateFunctionException($"strconv.ParseBool: parsing {GoFormatter.Quote(s)}: invalid syntax"),
        });
        library.Add("add", [I, I], a => unchecked((long)a[0]! + (long)a[1]!));
        library.Add("sub", [I, I], a => unchecked((long)a[0]! - (long)a[1]!));
        library.Add("mul", [I, I], a => unchecked((long)a[0]! * (long)a[1]!));
        library.Add("div", [I, I], a => (long)a[1]! == 0 ? throw new TemplateFunctionException("runtime error: integer divide by zero") : (long)a[0]! / (long)a[1]!);
        library.Add("mod", [I, I], a => (long)a[1]! == 0 ? throw new TemplateFunctionException("runtime error: integer divide by zero") : (long)a[0]! % (long)a[1]!);
        library.Add("seq", [I, I], a => SprigFunctions.UntilStep((long)a[0]!, (long)a[1]! + 1, 1));
        library.Add("atoi", [S], a => GoAtoi(Str(a[0])));
        library.Add("toJson", [GoParam.Any], a => GoJson.Marshal(a[0], indent: false, escapeHtml: true) ?? throw new TemplateFunctionException("json: unsupported value"));
        library.Add("toYaml", [GoParam.Any], a => GoYaml.Marshal(a[0]) ?? throw new TemplateFunctionException("yaml: unsupported value"));
        return library;
    }

    private static string Str(object? v) => (string)v!;

    private static TemplateFunctionException NotExist(string key) => new($"key does not exist: {key}");

    private static string JsonKind(object value) => value switch
    {
        string => "string",
        bool => "bool",
        List<object?> => "array",
        Dictionary<string, object?> => "object",
        _ => "number",
    };

    private static KVPair Get(IKeyValueView view, string key) =>
        view.TryGetValue(key, out var value) ? new KVPair(key, value) : throw NotExist(key);

    /// <summary>Pairs whose key matches a path.Match pattern, sorted by key.</summary>
    private static List<KeyValuePair<string, string>> Matching(IKeyValueView view, string pattern)
    {
        var literalEnd = pattern.IndexOfAny(['*', '?', '[', '\\']);
        var prefix = literalEnd < 0 ? pattern : pattern[..literalEnd];
        var result = view.EnumeratePrefix(prefix).Where(kv => GoPath.Match(pattern, kv.Key)).ToList();
        result.Sort((x, y) => GoValues.CompareUtf8(x.Key, y.Key));
        return result;
    }

    private static string[] PathToTerms(string path) => GoPath.Clean(path).Split('/');

    private static bool SamePrefixTerms(string[] prefix, string[] test)
    {
        if (test.Length < prefix.Length)
        {
            return false;
        }

        for (var i = 0; i < prefix.Length; i++)
        {
            if (prefix[i] != test[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>memkv's List: the names directly under <paramref name="filePath"/>, or its own name if it is a key.</summary>
    private static List<string> List(IKeyValueView view, string filePath)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var prefix = PathToTerms(filePath);
        var clean = GoPath.Clean(filePath);
        foreach (var (key, _) in view.EnumeratePrefix(clean == "/" ? string.Empty : clean))
        {
            if (key == filePath)
            {
                names.Add(GoPath.Base(key));
                continue;
            }

            if (SamePrefixTerms(prefix, PathToTerms(GoPath.Dir(key))))
            {
                var stripped = key.StartsWith(filePath, StringComparison.Ordinal) ? key[filePath.Length..] : key;
                stripped = stripped.StartsWith('/') ? stripped[1..] : stripped;
                names.Add(stripped.Split('/')[0]);
            }
        }

        var list = names.ToList();
        list.Sort(GoValues.CompareUtf8);
        return list;
    }

    /// <summary>memkv's ListDir: the sub-directories directly under <paramref name="filePath"/>.</summary>
    private static List<string> ListDir(IKeyValueView view, string filePath)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var prefix = PathToTerms(filePath);
        foreach (var (key, _) in view.EnumeratePrefix(filePath))
        {
            var items = PathToTerms(GoPath.Dir(key));
            if (SamePrefixTerms(prefix, items) && items.Length - prefix.Length >= 1)
            {
                names.Add(items[prefix.Length]);
            }
        }

        var list = names.ToList();
        list.Sort(GoValues.CompareUtf8);
        return list;
    }

    private static string Replace(string s, string oldValue, string newValue, long n)
    {
        if (n == 0 || oldValue == newValue)
        {
            return s;
        }

        if (oldValue.Length == 0)
        {
            var count = 0;
            var sb = new System.Text.StringBuilder();
            for (var i = 0; i <= s.Length; i++)
            {
                if (n < 0 || count < n)
                {
                    sb.Append(newValue);
                    count++;
                }

                if (i < s.Length)
                {
                    sb.Append(s[i]);
                }
            }

            return sb.ToString();
        }

        var result = new System.Text.StringBuilder();
        var start = 0;
        var replaced = 0;
        while (n < 0 || replaced < n)
        {
            var index = s.IndexOf(oldValue, start, StringComparison.Ordinal);
            if (index < 0)
            {
                break;
            }

            result.Append(s, start, index - start).Append(newValue);
            start = index + oldValue.Length;
            replaced++;
        }

        result.Append(s, start, s.Length - start);
        return result.ToString();
    }

    private static long GoAtoi(string s)
    {
        var digits = s.Length > 0 && (s[0] is '+' or '-') ? s[1..] : s;
        var wellFormed = digits.Length > 0 && digits.All(char.IsAsciiDigit);
        if (wellFormed && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        var reason = wellFormed ? "value out of range" : "invalid syntax";
        throw new TemplateFunctionException($"strconv.Atoi: parsing {GoFormatter.Quote(s)}: {reason}");
    }
}
