using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pitrix.Templates;

/// <summary>Go's encoding/json for the engine's value model: sorted keys, HTML-safe escaping, Go's float format.</summary>
internal static class GoJson
{
    private const int MaxDepth = 1000;

    /// <summary>json.Marshal / json.MarshalIndent(v, "", "  "); null when Go would return an error.</summary>
    public static string? Marshal(object? value, bool indent, bool escapeHtml)
    {
        var sb = new StringBuilder();
        return Write(sb, value, indent, escapeHtml, 0) ? sb.ToString() : null;
    }

    private static bool Write(StringBuilder sb, object? value, bool indent, bool escapeHtml, int depth)
    {
        if (depth > MaxDepth)
        {
            return false;
        }

        value = GoValues.Normalize(value);
        switch (value)
        {
            case null or NoValue:
                sb.Append("null");
                return true;
            case bool b:
                sb.Append(b ? "true" : "false");
                return true;
            case long or GoInt64:
                sb.Append(GoValues.ToLong(value).ToString(CultureInfo.InvariantCulture));
                return true;
            case double d:
                if (!double.IsFinite(d))
                {
                    return false;
                }

                sb.Append(FormatFloat(d));
                return true;
            case string s:
                WriteString(sb, s, escapeHtml);
                return true;
            case IDictionary map:
                {
                    if (map.Count == 0)
                    {
                        sb.Append("{}");
                        return true;
                    }

                    sb.Append('{');
                    var first = true;
                    foreach (var key in GoValues.SortedKeys(map))
                    {
                        if (!first)
                        {
                            sb.Append(',');
                        }

                        first = false;
                        NewLine(sb, indent, depth + 1);
                        WriteString(sb, System.Convert.ToString(key, CultureInfo.InvariantCulture) ?? string.Empty, escapeHtml);
                        sb.Append(indent ? ": " : ":");
                        if (!Write(sb, map[key], indent, escapeHtml, depth + 1))
                        {
                            return false;
                        }
                    }

                    NewLine(sb, indent, depth);
                    sb.Append('}');
                    return true;
                }

            case IList list:
                {
                    if (list.Count == 0)
                    {
                        sb.Append("[]");
                        return true;
                    }

                    sb.Append('[');
                    for (var i = 0; i < list.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(',');
                        }

                        NewLine(sb, indent, depth + 1);
                        if (!Write(sb, list[i], indent, escapeHtml, depth + 1))
                        {
                            return false;
                        }
                    }

                    NewLine(sb, indent, depth);
                    sb.Append(']');
                    return true;
                }

            case Delegate or TemplateFunction or System.Numerics.Complex:
                return false;
            default:
                {
                    var props = GoValues.Properties(value.GetType());
                    if (props.Length == 0)
                    {
                        sb.Append("{}");
                        return true;
                    }

                    sb.Append('{');
                    for (var i = 0; i < props.Length; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(',');
                        }

                        NewLine(sb, indent, depth + 1);
                        WriteString(sb, props[i].Name, escapeHtml);
                        sb.Append(indent ? ": " : ":");
                        if (!Write(sb, props[i].GetValue(value), indent, escapeHtml, depth + 1))
                        {
                            return false;
                        }
                    }

                    NewLine(sb, indent, depth);
                    sb.Append('}');
                    return true;
                }
        }
    }

    private static void NewLine(StringBuilder sb, bool indent, int depth)
    {
        if (indent)
        {
            sb.Append('\n').Append(' ', depth * 2);
        }
    }

    /// <summary>Go's float encoding: shortest form, exponent only below 1e-6 or from 1e21 up.</summary>
    public static string FormatFloat(double d)
    {
        var abs = Math.Abs(d);
        var fmt = abs != 0 && (abs < 1e-6 || abs >= 1e21) ? 'e' : 'f';
        var s = GoFormatter.FormatFloat(d, fmt, -1);
        if (fmt == 'e')
        {
            var n = s.Length;
            if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0')
            {
                s = s[..(n - 2)] + s[n - 1];
            }
        }

        return s;
    }

    private static void WriteString(StringBuilder sb, string s, bool escapeHtml)
    {
        const string hex = "0123456789abcdef";
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    continue;
                case '\\':
                    sb.Append("\\\\");
                    continue;
                case '\n':
                    sb.Append("\\n");
                    continue;
                case '\r':
                    sb.Append("\\r");
                    continue;
                case '\t':
                    sb.Append("\\t");
                    continue;
                case '\u2028' or '\u2029':
                    sb.Append("\\u202").Append(hex[c & 0xF]);
                    continue;
            }

            if (c < 0x20 || (escapeHtml && c is '<' or '>' or '&'))
            {
                sb.Append("\\u00").Append(hex[c >> 4]).Append(hex[c & 0xF]);
                continue;
            }

            if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(s[i - 1])))
            {
                sb.Append("\\ufffd");
                continue;
            }

            sb.Append(c);
        }

        sb.Append('"');
    }

    /// <summary>json.Unmarshal into interface{}: objects, arrays, float64 numbers, strings, bools, nil.</summary>
    public static (object? Value, string? Error) Unmarshal(string text)
    {
        if (new SyntaxChecker(text).Check() is { } syntaxError)
        {
            return (null, syntaxError);
        }

        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxDepth });
            return (Convert(doc.RootElement), null);
        }
        catch (JsonException e)
        {
            return (null, text.Trim().Length == 0 ? "unexpected end of JSON input" : "invalid JSON: " + e.Message);
        }
    }

    private static object? Convert(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject()
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Convert(g.Last().Value), StringComparer.Ordinal),
        JsonValueKind.Array => e.EnumerateArray().Select(Convert).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>Go's encoding/json scanner, used only to report syntax errors with Go's wording.</summary>
    private sealed class SyntaxChecker(string text)
    {
        private const string EndOfInput = "unexpected end of JSON input";
        private int _pos;

        public string? Check()
        {
            try
            {
                Value(0);
                SkipSpace();
                if (_pos < text.Length)
                {
                    return $"invalid character {QuoteChar(text[_pos])} after top-level value";
                }

                return null;
            }
            catch (FormatException e)
            {
                return e.Message;
            }
        }

        private static string QuoteChar(char c) => c switch
        {
            '\'' => "'\\''",
            '"' => "'\"'",
            _ => "'" + GoFormatter.Quote(c.ToString())[1..^1] + "'",
        };

        private void SkipSpace()
        {
            while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\n' or '\r')
            {
                _pos++;
            }
        }

        private char Peek() => _pos < text.Length ? text[_pos] : throw new FormatException(EndOfInput);

        /// <summary>At the end of input Go's scanner steps a space, so unfinished literals and numbers fail on ' '.</summary>
        private char PeekOrSpace() => _pos < text.Length ? text[_pos] : ' ';

        private static FormatException Invalid(char c, string context) => new($"invalid character {QuoteChar(c)} {context}");

        private void Value(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new FormatException("exceeded max depth");
            }

            SkipSpace();
            var c = Peek();
            switch (c)
            {
                case '{':
                    _pos++;
                    SkipSpace();
                    if (Peek() == '}')
                    {
                        _pos++;
                        return;
                    }

                    while (true)
                    {
                        SkipSpace();
                        if (Peek() != '"')
                        {
                            throw Invalid(Peek(), "looking for beginning of object key string");
                        }

                        String();
                        SkipSpace();
                        if (Peek() != ':')
                        {
                            throw Invalid(Peek(), "after object key");
                        }

                        _pos++;
                        Value(depth + 1);
                        SkipSpace();
                        var next = Peek();
                        _pos++;
                        if (next == '}')
                        {
                            return;
                        }

                        if (next != ',')
                        {
                            throw Invalid(next, "after object key:value pair");
                        }
                    }

                case '[':
                    _pos++;
                    SkipSpace();
                    if (Peek() == ']')
                    {
                        _pos++;
                        return;
                    }

                    while (true)
                    {
                        Value(depth + 1);
                        SkipSpace();
                        var next = Peek();
                        _pos++;
                        if (next == ']')
                        {
                            return;
                        }

                        if (next != ',')
                        {
                            throw Invalid(next, "after array element");
                        }
                    }

                case '"':
                    String();
                    return;
                case '-' or (>= '0' and <= '9'):
                    Number();
                    return;
                case 't':
                    Literal("true");
                    return;
                case 'f':
                    Literal("false");
                    return;
                case 'n':
                    Literal("null");
                    return;
                default:
                    throw Invalid(c, "looking for beginning of value");
            }
        }

        private void Literal(string word)
        {
            _pos++;
            for (var i = 1; i < word.Length; i++)
            {
                var c = PeekOrSpace();
                if (c != word[i])
                {
                    throw Invalid(c, $"in literal {word} (expecting {QuoteChar(word[i])})");
                }

                _pos++;
            }
        }

        private void String()
        {
            _pos++;
            while (true)
            {
                var c = Peek();
                _pos++;
                if (c == '"')
                {
                    return;
                }

                if (c == '\\')
                {
                    var e = PeekOrSpace();
                    _pos++;
                    if (e == 'u')
                    {
                        for (var i = 0; i < 4; i++)
                        {
                            var h = PeekOrSpace();
                            if (!char.IsAsciiHexDigit(h))
                            {
                                throw Invalid(h, "in \\u hexadecimal character escape");
                            }

                            _pos++;
                        }
                    }
                    else if (!"\"\\/bfnrt".Contains(e, StringComparison.Ordinal))
                    {
                        throw Invalid(e, "in string escape code");
                    }

                    continue;
                }

                if (c < 0x20)
                {
                    throw Invalid(c, "in string literal");
                }
            }
        }

        private void Number()
        {
            if (text[_pos] == '-')
            {
                _pos++;
                var first = PeekOrSpace();
                if (!char.IsAsciiDigit(first))
                {
                    throw Invalid(first, "in numeric literal");
                }
            }

            if (text[_pos] == '0')
            {
                _pos++;
            }
            else
            {
                while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
                {
                    _pos++;
                }
            }

            if (_pos < text.Length && text[_pos] == '.')
            {
                _pos++;
                var d = PeekOrSpace();
                if (!char.IsAsciiDigit(d))
                {
                    throw Invalid(d, "after decimal point in numeric literal");
                }

                while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
                {
                    _pos++;
                }
            }

            if (_pos < text.Length && text[_pos] is 'e' or 'E')
            {
                _pos++;
                if (PeekOrSpace() is '+' or '-')
                {
                    _pos++;
                }

                var d = PeekOrSpace();
                if (!char.IsAsciiDigit(d))
                {
                    throw Invalid(d, "in exponent of numeric literal");
                }

                while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
                {
                    _pos++;
                }
            }
        }
    }
}
