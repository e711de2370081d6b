using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Pitrix.Templates;

/// <summary>
/// YAML as Helm produces and reads it (sigs.k8s.io/yaml over gopkg.in/yaml.v2): values go through JSON first,
/// map keys are sorted the way yaml.v2 sorts them, and scalars are quoted only when yaml.v2 would quote them.
/// </summary>
internal static partial class GoYaml
{
    private const int MaxDepth = 1000;

    /// <summary>sigs.k8s.io/yaml.Marshal; null when the value cannot be encoded (Go returns an error).</summary>
    public static string? Marshal(object? value)
    {
        var json = GoJson.Marshal(value, indent: false, escapeHtml: false);
        if (json == null)
        {
            return null;
        }

        using var doc = System.Text.Json.JsonDocument.Parse(json, new System.Text.Json.JsonDocumentOptions { MaxDepth = MaxDepth + 10 });
        var sb = new StringBuilder();
        var root = doc.RootElement;
        switch (root.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Object when root.EnumerateObject().Any():
                EmitMap(sb, root, 0);
                break;
            case System.Text.Json.JsonValueKind.Array when root.GetArrayLength() > 0:
                EmitSeq(sb, root, 0);
                break;
            default:
                sb.Append(InlineValue(root, 0, 0)).Append('\n');
                break;
        }

        return sb.ToString();
    }

    private const int BestWidth = 80;

    private static void EmitMap(StringBuilder sb, System.Text.Json.JsonElement map, int indent)
    {
        var props = map.EnumerateObject().GroupBy(p => p.Name, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        props.Sort((a, b) => KeyLess(a.Name, b.Name) ? -1 : KeyLess(b.Name, a.Name) ? 1 : 0);
        foreach (var p in props)
        {
            sb.Append(' ', indent);
            if (p.Name.Contains('\n', StringComparison.Ordinal))
            {
                // A multi-line key cannot be a simple key: libyaml writes it as "? key" and ": value".
                sb.Append("? ").Append(Scalar(p.Name, indent + 2, indent + 2, isKey: false)).Append('\n');
                sb.Append(' ', indent).Append(':');
                EmitValueAfterIndicator(sb, p.Value, indent, inSequence: false, indent + 1);
                continue;
            }

            var key = Scalar(p.Name, indent, indent, isKey: true);
            sb.Append(key).Append(':');
            EmitValueAfterIndicator(sb, p.Value, indent, inSequence: false, indent + key.Length + 1);
        }
    }

    private static void EmitSeq(StringBuilder sb, System.Text.Json.JsonElement list, int indent)
    {
        foreach (var item in list.EnumerateArray())
        {
            sb.Append(' ', indent).Append('-');
            EmitValueAfterIndicator(sb, item, indent, inSequence: true, indent + 1);
        }
    }

    private static void EmitValueAfterIndicator(StringBuilder sb, System.Text.Json.JsonElement value, int indent, bool inSequence, int column)
    {
        var childIndent = indent + 2;
        switch (value.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Object when value.EnumerateObject().Any():
                {
                    var child = new StringBuilder();
                    EmitMap(child, value, childIndent);
                    if (inSequence)
                    {
                        sb.Append(' ').Append(child.ToString(childIndent, child.Length - childIndent));
                    }
                    else
                    {
                        sb.Append('\n').Append(child);
                    }

                    break;
                }

            case System.Text.Json.JsonValueKind.Array when value.GetArrayLength() > 0:
                {
                    var child = new StringBuilder();
                    if (inSequence)
                    {
                        EmitSeq(child, value, childIndent);
                        sb.Append(' ').Append(child.ToString(childIndent, child.Length - childIndent));
                    }
                    else
                    {
                        EmitSeq(child, value, indent);
                        sb.Append('\n').Append(child);
                    }

                    break;
                }

            default:
                sb.Append(' ').Append(InlineValue(value, column + 1, childIndent)).Append('\n');
                break;
        }
    }

    private static string InlineValue(System.Text.Json.JsonElement e, int column, int indent) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => "{}",
        System.Text.Json.JsonValueKind.Array => "[]",
        System.Text.Json.JsonValueKind.Null => "null",
        System.Text.Json.JsonValueKind.True => "true",
        System.Text.Json.JsonValueKind.False => "false",
        System.Text.Json.JsonValueKind.Number => NumberText(e.GetRawText()),
        _ => Scalar(e.GetString()!, column, indent, isKey: false),
    };

    /// <summary>How yaml.v2 re-encodes a JSON number it resolved as int or float.</summary>
    private static string NumberText(string raw)
    {
        var plain = raw.Replace("_", string.Empty, StringComparison.Ordinal);
        if (GoStrings.ParseInt(plain) is { } i)
        {
            return i.ToString(CultureInfo.InvariantCulture);
        }

        if (GoStrings.ParseUint(plain) is { } u)
        {
            return u.ToString(CultureInfo.InvariantCulture);
        }

        var f = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
        return FloatText(f);
    }

    private static string FloatText(double f) => GoFormatter.FormatFloat(f, 'g', -1) switch
    {
        "+Inf" => ".inf",
        "-Inf" => "-.inf",
        "NaN" => ".nan",
        var s => s,
    };

    /// <summary>
    /// Encodes a string scalar with the style yaml.v2 picks (plain, single-quoted, double-quoted or literal), folding
    /// long lines at spaces past column 80 the way libyaml does. <paramref name="column"/> is where the scalar starts.
    /// </summary>
    private static string Scalar(string s, int column, int indent, bool isKey)
    {
        var analysis = Analyze(s);
        if (s.Contains('\n', StringComparison.Ordinal))
        {
            if (isKey || !analysis.BlockAllowed)
            {
                return DoubleQuoted(s, column, indent, allowBreaks: !isKey);
            }

            return Literal(s, indent, analysis);
        }

        if (ResolvesToNonString(s) || Base60Float().IsMatch(s))
        {
            return DoubleQuoted(s, column, indent, allowBreaks: !isKey);
        }

        if (analysis.PlainAllowed)
        {
            return Plain(s, column, indent, allowBreaks: !isKey);
        }

        return analysis.SingleQuotedAllowed
            ? SingleQuoted(s, column, indent, allowBreaks: !isKey)
            : DoubleQuoted(s, column, indent, allowBreaks: !isKey);
    }

    private static string Plain(string s, int column, int indent, bool allowBreaks)
    {
        var sb = new StringBuilder();
        var spaces = false;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == ' ')
            {
                if (allowBreaks && !spaces && column > BestWidth && !(i + 1 < s.Length && s[i + 1] == ' '))
                {
                    sb.Append('\n').Append(' ', indent);
                    column = indent;
                }
                else
                {
                    sb.Append(' ');
                    column++;
                }

                spaces = true;
                continue;
            }

            sb.Append(s[i]);
            if (!char.IsLowSurrogate(s[i]))
            {
                column++;
            }

            spaces = false;
        }

        return sb.ToString();
    }

    private static string SingleQuoted(string s, int column, int indent, bool allowBreaks)
    {
        var sb = new StringBuilder("'");
        column++;
        var spaces = false;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == ' ')
            {
                if (allowBreaks && !spaces && column > BestWidth && i != 0 && i != s.Length - 1 && !(i + 1 < s.Length && s[i + 1] == ' '))
                {
                    sb.Append('\n').Append(' ', indent);
                    column = indent;
                }
                else
                {
                    sb.Append(' ');
                    column++;
                }

                spaces = true;
                continue;
            }

            sb.Append(s[i] == '\'' ? "''" : s[i].ToString());
            column += s[i] == '\'' ? 2 : char.IsLowSurrogate(s[i]) ? 0 : 1;
            spaces = false;
        }

        return sb.Append('\'').ToString();
    }

    private static string DoubleQuoted(string s, int column, int indent, bool allowBreaks)
    {
        var sb = new StringBuilder("\"");
        column++;
        var spaces = false;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            int rune = c;
            var width = 1;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                rune = char.ConvertToUtf32(c, s[i + 1]);
                width = 2;
            }

            var isBreak = c is '\r' or '\n' or '\u0085' or '\u2028' or '\u2029';
            if (width == 2 || !IsPrintable(c) || c == '\uFEFF' || isBreak || c is '"' or '\\')
            {
                var escape = rune switch
                {
                    0x00 => "\\0",
                    0x07 => "\\a",
                    0x08 => "\\b",
                    0x09 => "\\t",
                    0x0A => "\\n",
                    0x0B => "\\v",
                    0x0C => "\\f",
                    0x0D => "\\r",
                    0x1B => "\\e",
                    0x22 => "\\\"",
                    0x5C => "\\\\",
                    0x85 => "\\N",
                    0xA0 => "\\_",
                    0x2028 => "\\L",
                    0x2029 => "\\P",
                    <= 0xFF => "\\x" + rune.ToString("X2", CultureInfo.InvariantCulture),
                    <= 0xFFFF => "\\u" + rune.ToString("X4", CultureInfo.InvariantCulture),
                    _ => "\\U" + rune.ToString("X8", CultureInfo.InvariantCulture),
                };
                sb.Append(escape);
                column += escape.Length;
                spaces = false;
                i += width - 1;
                continue;
            }

            if (c == ' ')
            {
                if (allowBreaks && !spaces && column > BestWidth && i != 0 && i != s.Length - 1)
                {
                    sb.Append('\n').Append(' ', indent);
                    column = indent;
                    if (i + 1 < s.Length && s[i + 1] == ' ')
                    {
                        sb.Append('\\');
                        column++;
                    }
                }
                else
                {
                    sb.Append(' ');
                    column++;
                }

                spaces = true;
                continue;
            }

            sb.Append(c);
            column++;
            spaces = false;
        }

        return sb.Append('"').ToString();
    }

    private static string Literal(string s, int indent, ScalarAnalysis analysis)
    {
        var sb = new StringBuilder("|");
        if (analysis.LeadingSpace || analysis.LeadingBreak)
        {
            sb.Append('2');
        }

        if (!s.EndsWith('\n'))
        {
            sb.Append('-');
        }
        else if (s.Length == 1 || s[^2] == '\n')
        {
            sb.Append('+');
        }

        var body = s.EndsWith('\n') ? s[..^1] : s;
        foreach (var line in body.Split('\n'))
        {
            sb.Append('\n');
            if (line.Length > 0)
            {
                sb.Append(' ', indent).Append(line);
            }
        }

        return sb.ToString();
    }

    /// <summary>libyaml's IS_PRINTABLE (tab and carriage return are not; characters outside the BMP are not either).</summary>
    private static bool IsPrintable(char c) =>
        c == 0xA || (c >= 0x20 && c <= 0x7E) || c == 0x85 || (c >= 0xA0 && c <= 0xD7FF)
        || (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF);

    private sealed record ScalarAnalysis(bool PlainAllowed, bool SingleQuotedAllowed, bool BlockAllowed, bool LeadingSpace, bool LeadingBreak);

    /// <summary>libyaml's yaml_emitter_analyze_scalar, for block context.</summary>
    private static ScalarAnalysis Analyze(string value)
    {
        if (value.Length == 0)
        {
            return new ScalarAnalysis(false, true, false, false, false);
        }

        var blockIndicators = false;
        var lineBreaks = false;
        var specialCharacters = false;
        var leadingSpace = false;
        var leadingBreak = false;
        var trailingSpace = false;
        var trailingBreak = false;
        var breakSpace = false;
        var spaceBreak = false;
        var precededByWhitespace = true;
        var previousSpace = false;
        var previousBreak = false;

        if (value.StartsWith("---", StringComparison.Ordinal) || value.StartsWith("...", StringComparison.Ordinal))
        {
            blockIndicators = true;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var followedByWhitespace = i + 1 >= value.Length || value[i + 1] is ' ' or '\t' or '\r' or '\n' || value[i + 1] == '\u0085' || value[i + 1] == '\u2028' || value[i + 1] == '\u2029';
            if (i == 0)
            {
                switch (c)
                {
                    case '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`':
                        blockIndicators = true;
                        break;
                    case '?' or ':' or '-':
                        if (followedByWhitespace)
                        {
                            blockIndicators = true;
                        }

                        break;
                }
            }
            else
            {
                if ((c == ':' && followedByWhitespace) || (c == '#' && precededByWhitespace))
                {
                    blockIndicators = true;
                }
            }

            if (!IsPrintable(c))
            {
                specialCharacters = true;
            }

            var isBreak = c is '\r' or '\n' or '\u0085' or '\u2028' or '\u2029';
            if (c == ' ')
            {
                if (i == 0)
                {
                    leadingSpace = true;
                }

                if (i == value.Length - 1)
                {
                    trailingSpace = true;
                }

                if (previousBreak)
                {
                    breakSpace = true;
                }

                previousSpace = true;
                previousBreak = false;
            }
            else if (isBreak)
            {
                lineBreaks = true;
                if (i == 0)
                {
                    leadingBreak = true;
                }

                if (i == value.Length - 1)
                {
                    trailingBreak = true;
                }

                if (previousSpace)
                {
                    spaceBreak = true;
                }

                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }

            precededByWhitespace = c is ' ' or '\t' || isBreak;
        }

        var blockPlain = true;
        var singleQuoted = true;
        var block = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak)
        {
            blockPlain = false;
        }

        if (trailingSpace)
        {
            block = false;
        }

        if (breakSpace)
        {
            blockPlain = false;
            singleQuoted = false;
        }

        if (spaceBreak || specialCharacters)
        {
            blockPlain = false;
            singleQuoted = false;
            block = false;
        }

        if (lineBreaks || blockIndicators)
        {
            blockPlain = false;
        }

        return new ScalarAnalysis(blockPlain, singleQuoted, block, leadingSpace, leadingBreak);
    }

    private static readonly HashSet<string> _nonStringWords = new(StringComparer.Ordinal)
    {
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        string.Empty, "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
    };

    /// <summary>yaml.v2's resolve: whether a plain scalar would read back as something other than a string.</summary>
    private static bool ResolvesToNonString(string s) => ResolvePlain(s) is not string;

    private static object? ResolvePlain(string s)
    {
        if (_nonStringWords.Contains(s))
        {
            return s switch
            {
                "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON" => true,
                "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF" => false,
                "" or "~" or "null" or "Null" or "NULL" => null,
                ".nan" or ".NaN" or ".NAN" => double.NaN,
                "-.inf" or "-.Inf" or "-.INF" => double.NegativeInfinity,
                "<<" => s,
                _ => double.PositiveInfinity,
            };
        }

        var hint = s[0];
        if (hint is not ('-' or '+' or '.' or (>= '0' and <= '9')))
        {
            return s;
        }

        if (hint != '.' && Timestamp().IsMatch(s))
        {
            return new DateOnlyMarker(s);
        }

        var plain = s.Replace("_", string.Empty, StringComparison.Ordinal);
        if (GoStrings.ParseInt(plain) is { } i)
        {
            return i;
        }

        if (GoStrings.ParseUint(plain) is { } u)
        {
            return (double)u;
        }

        if (YamlFloat().IsMatch(plain) && double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var f))
        {
            return f;
        }

        if (plain.StartsWith("0b", StringComparison.Ordinal) && TryParseBinary(plain[2..], out var b))
        {
            return b;
        }

        if (plain.StartsWith("-0b", StringComparison.Ordinal) && TryParseBinary(plain[3..], out var nb))
        {
            return -nb;
        }

        return s;
    }

    private static bool TryParseBinary(string digits, out long value)
    {
        value = 0;
        if (digits.Length == 0 || digits.Length > 63 || digits.Any(c => c is not ('0' or '1')))
        {
            return false;
        }

        value = System.Convert.ToInt64(digits, 2);
        return true;
    }

    private sealed record DateOnlyMarker(string Text);

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex YamlFloat();

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")]
    private static partial Regex Base60Float();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$")]
    private static partial Regex Timestamp();

    /// <summary>yaml.v2's keyList.Less for string keys: letters after other runes, digit runs compared as numbers.</summary>
    internal static bool KeyLess(string a, string b)
    {
        var ar = a;
        var br = b;
        for (var i = 0; i < ar.Length && i < br.Length; i++)
        {
            if (ar[i] == br[i])
            {
                continue;
            }

            var al = char.IsLetter(ar[i]);
            var bl = char.IsLetter(br[i]);
            if (al && bl)
            {
                return ar[i] < br[i];
            }

            if (al || bl)
            {
                return bl;
            }

            long an = 0;
            long bn = 0;
            if (ar[i] == '0' || br[i] == '0')
            {
                for (var j = i - 1; j >= 0 && char.IsDigit(ar[j]); j--)
                {
                    if (ar[j] != '0')
                    {
                        an = 1;
                        bn = 1;
                        break;
                    }
                }
            }

            var ai = i;
            for (; ai < ar.Length && char.IsDigit(ar[ai]); ai++)
            {
                an = unchecked((an * 10) + (ar[ai] - '0'));
            }

            var bi = i;
            for (; bi < br.Length && char.IsDigit(br[bi]); bi++)
            {
                bn = unchecked((bn * 10) + (br[bi] - '0'));
            }

            if (an != bn)
            {
                return an < bn;
            }

            if (ai != bi)
            {
                return ai < bi;
            }

            return ar[i] < br[i];
        }

        return ar.Length < br.Length;
    }

    /// <summary>Helm's fromYaml: a YAML mapping read through JSON (numbers become float64).</summary>
    public static Dictionary<string, object?> UnmarshalMap(string text)
    {
        var value = Unmarshal(text);
        return value switch
        {
            null => new Dictionary<string, object?>(StringComparer.Ordinal),
            Dictionary<string, object?> d => d,
            IList => throw new FormatException("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"),
            _ => throw new FormatException($"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {JsonKind(value)} into Go value of type map[string]interface {{}}"),
        };
    }

    /// <summary>Helm's fromYamlArray.</summary>
    public static List<object?> UnmarshalList(string text)
    {
        var value = Unmarshal(text);
        return value switch
        {
            null => [],
            List<object?> l => l,
            IDictionary => throw new FormatException("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"),
            _ => throw new FormatException($"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {JsonKind(value)} into Go value of type []interface {{}}"),
        };
    }

    private static string JsonKind(object value) => value switch
    {
        string => "string",
        bool => "bool",
        _ => "number",
    };

    /// <summary>Any YAML document read as sigs.k8s.io/yaml does; aliases share one object, they are not copied.</summary>
    public static object? Unmarshal(string text)
    {
        try
        {
            var reader = new YamlReader(new YamlDotNet.Core.Parser(new StringReader(text)));
            return reader.ReadFirstDocument();
        }
        catch (YamlException e)
        {
            // YamlDotNet (like libyaml) reports "While <context>, <problem>."; yaml.v2 reports "line N: <problem>",
            // numbering parser errors from the 0-based problem line and scanner errors from the 1-based one.
            var problem = e.Message.TrimEnd('.');
            var comma = problem.IndexOf(", ", StringComparison.Ordinal);
            if (problem.StartsWith("While ", StringComparison.Ordinal) && comma > 0)
            {
                problem = problem[(comma + 2)..];
            }

            var problemLine = e.Start.Line - 1;
            var line = problemLine == 0 ? 0 : e is SemanticErrorException ? problemLine : problemLine + 1;
            var where = line == 0 ? string.Empty : $"line {line}: ";
            throw new FormatException($"error converting YAML to JSON: yaml: {where}{problem}", e);
        }
    }

    /// <summary>Builds values from YamlDotNet's event stream the way yaml.v2 decodes into interface{}, then through JSON.</summary>
    private sealed class YamlReader(IParser parser)
    {
        private readonly Dictionary<string, object?> _anchors = new(StringComparer.Ordinal);
        private int _depth;

        public object? ReadFirstDocument()
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            var value = parser.Accept<DocumentEnd>(out _) ? null : ReadNode();
            parser.Consume<DocumentEnd>();
            return value;
        }

        private object? ReadNode()
        {
            if (++_depth > MaxDepth)
            {
                throw new FormatException("error converting YAML to JSON: yaml: exceeded max depth");
            }

            try
            {
                if (parser.TryConsume<AnchorAlias>(out var alias))
                {
                    return _anchors.TryGetValue(alias.Value.Value, out var target)
                        ? target
                        : throw new FormatException($"error converting YAML to JSON: yaml: unknown anchor '{alias.Value.Value}' referenced");
                }

                if (parser.TryConsume<Scalar>(out var scalar))
                {
                    var value = ScalarValue(scalar);
                    Remember(scalar.Anchor, value);
                    return value;
                }

                if (parser.TryConsume<SequenceStart>(out var sequenceStart))
                {
                    var list = new List<object?>();
                    Remember(sequenceStart.Anchor, list);
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        list.Add(ReadNode());
                    }

                    return list;
                }

                var mappingStart = parser.Consume<MappingStart>();
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                Remember(mappingStart.Anchor, map);
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var isMergeKey = parser.Accept<Scalar>(out var keyEvent) && keyEvent.Value == "<<" && keyEvent.Style is ScalarStyle.Plain;
                    var key = ReadNode();
                    var value = ReadNode();
                    if (isMergeKey && value is Dictionary<string, object?> or List<object?>)
                    {
                        Merge(map, value);
                        continue;
                    }

                    map[KeyText(key)] = value;
                }

                return map;
            }
            finally
            {
                _depth--;
            }
        }

        /// <summary>yaml.v2's merge key: keys of the merged maps that the mapping does not set itself.</summary>
        private static void Merge(Dictionary<string, object?> map, object? value)
        {
            var sources = value is List<object?> list ? list : [value];
            foreach (var source in sources.OfType<Dictionary<string, object?>>())
            {
                foreach (var (k, v) in source)
                {
                    map.TryAdd(k, v);
                }
            }
        }

        private void Remember(AnchorName anchor, object? value)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = value;
            }
        }

        private static string KeyText(object? key) => key switch
        {
            string s => s,
            null => "null",
            bool b => b ? "true" : "false",
            double d => GoJson.FormatFloat(d),
            _ => GoFormatter.Sprint(key),
        };

        private static object? ScalarValue(Scalar scalar)
        {
            if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any) || !(scalar.Tag.IsEmpty || scalar.Tag.IsNonSpecific))
            {
                return scalar.Value;
            }

            return ResolvePlain(scalar.Value) switch
            {
                long l => (double)l,
                double d when !double.IsFinite(d) => throw new FormatException($"error converting YAML to JSON: json: unsupported value: {GoFormatter.Sprint(d)}"),
                DateOnlyMarker m => m.Text,
                var resolved => resolved,
            };
        }
    }
}
