using System.Globalization;
using System.Text;

namespace Pitrix.Templates;

/// <summary>Go's strconv helpers the parser and the formatter need.</summary>
internal static class GoStrings
{
    public static string? Unquote(string s)
    {
        if (s.Length < 2)
        {
            return null;
        }

        var quote = s[0];
        if (quote != s[^1])
        {
            return null;
        }

        var body = s[1..^1];
        if (quote == '`')
        {
            return body.Contains('`', StringComparison.Ordinal) ? null : body.Replace("\r", string.Empty, StringComparison.Ordinal);
        }

        if (quote != '"' && quote != '\'')
        {
            return null;
        }

        if (body.Contains('\n', StringComparison.Ordinal))
        {
            return null;
        }

        var sb = new StringBuilder();
        var i = 0;
        while (i < body.Length)
        {
            if (body[i] == quote && quote == '"')
            {
                return null;
            }

            var (rune, next, ok) = UnquoteChar(body, i, quote);
            if (!ok)
            {
                return null;
            }

            AppendRune(sb, rune);
            i = next;
            if (quote == '\'' && i != body.Length)
            {
                return null;
            }
        }

        return sb.ToString();
    }

    public static void AppendRune(StringBuilder sb, int rune)
    {
        if (rune < 0 || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF))
        {
            sb.Append('\uFFFD');
        }
        else
        {
            sb.Append(char.ConvertFromUtf32(rune));
        }
    }

    /// <summary>Decodes one (possibly escaped) character at <paramref name="i"/>; returns the rune and the index after it.</summary>
    public static (int Rune, int Next, bool Ok) UnquoteChar(string s, int i, char quote)
    {
        if (i >= s.Length)
        {
            return (0, i, false);
        }

        var c = s[i];
        if (c == quote && quote is '\'' or '"')
        {
            return (0, i, false);
        }

        if (c != '\\')
        {
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                return (char.ConvertToUtf32(c, s[i + 1]), i + 2, true);
            }

            return (c, i + 1, true);
        }

        if (i + 1 >= s.Length)
        {
            return (0, i, false);
        }

        var e = s[i + 1];
        i += 2;
        switch (e)
        {
            case 'a': return (7, i, true);
            case 'b': return (8, i, true);
            case 'f': return (12, i, true);
            case 'n': return (10, i, true);
            case 'r': return (13, i, true);
            case 't': return (9, i, true);
            case 'v': return (11, i, true);
            case '\\': return ('\\', i, true);
            case '\'' or '"':
                return e == quote ? (e, i, true) : (0, i, false);
            case 'x' or 'u' or 'U':
                {
                    var n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + n > s.Length)
                    {
                        return (0, i, false);
                    }

                    var v = 0;
                    for (var k = 0; k < n; k++)
                    {
                        var d = HexValue(s[i + k]);
                        if (d < 0)
                        {
                            return (0, i, false);
                        }

                        v = (v << 4) | d;
                    }

                    if (e != 'x' && (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)))
                    {
                        return (0, i, false);
                    }

                    return (v, i + n, true);
                }

            case >= '0' and <= '7':
                {
                    if (i + 2 > s.Length)
                    {
                        return (0, i, false);
                    }

                    var v = e - '0';
                    for (var k = 0; k < 2; k++)
                    {
                        var d = s[i + k] - '0';
                        if (d < 0 || d > 7)
                        {
                            return (0, i, false);
                        }

                        v = (v << 3) | d;
                    }

                    return v > 255 ? (0, i, false) : (v, i + 2, true);
                }

            default:
                return (0, i, false);
        }
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>strconv.ParseUint(s, 0, 64).</summary>
    public static ulong? ParseUint(string s)
    {
        if (s.Length == 0 || s[0] == '+' || s[0] == '-')
        {
            return null;
        }

        return ParseMagnitude(s);
    }

    /// <summary>strconv.ParseInt(s, 0, 64).</summary>
    public static long? ParseInt(string s)
    {
        var negative = false;
        var body = s;
        if (body.Length > 0 && (body[0] == '+' || body[0] == '-'))
        {
            negative = body[0] == '-';
            body = body[1..];
        }

        var magnitude = ParseMagnitude(body);
        if (magnitude is not { } m)
        {
            return null;
        }

        if (negative)
        {
            return m > 9223372036854775808UL ? null : m == 9223372036854775808UL ? long.MinValue : -(long)m;
        }

        return m > long.MaxValue ? null : (long)m;
    }

    private static ulong? ParseMagnitude(string s)
    {
        if (s.Length == 0)
        {
            return null;
        }

        var numberBase = 10;
        var digits = s;
        if (s[0] == '0' && s.Length > 1)
        {
            switch (char.ToLowerInvariant(s[1]))
            {
                case 'x':
                    numberBase = 16;
                    digits = s[2..];
                    break;
                case 'o':
                    numberBase = 8;
                    digits = s[2..];
                    break;
                case 'b':
                    numberBase = 2;
                    digits = s[2..];
                    break;
                default:
                    numberBase = 8;
                    digits = s[1..];
                    break;
            }
        }

        if (!UnderscoreOk(s))
        {
            return null;
        }

        digits = digits.Replace("_", string.Empty, StringComparison.Ordinal);
        if (digits.Length == 0)
        {
            return null;
        }

        ulong value = 0;
        foreach (var c in digits)
        {
            var d = HexValue(c);
            if (d < 0 || d >= numberBase)
            {
                return null;
            }

            var next = (value * (ulong)numberBase) + (ulong)d;
            if (value > ulong.MaxValue / (ulong)numberBase || next < value)
            {
                return null;
            }

            value = next;
        }

        return value;
    }

    /// <summary>Go's underscoreOK: underscores only between digits or after a base prefix.</summary>
    private static bool UnderscoreOk(string s)
    {
        var saw = '^';
        var i = 0;
        if (s.Length >= 1 && (s[0] == '-' || s[0] == '+'))
        {
            s = s[1..];
        }

        var hex = false;
        if (s.Length >= 2 && s[0] == '0' && char.ToLowerInvariant(s[1]) is 'b' or 'o' or 'x')
        {
            i = 2;
            saw = '0';
            hex = char.ToLowerInvariant(s[1]) == 'x';
        }

        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (c is >= '0' and <= '9' || (hex && char.ToLowerInvariant(c) is >= 'a' and <= 'f'))
            {
                saw = '0';
                continue;
            }

            if (c == '_')
            {
                if (saw != '0')
                {
                    return false;
                }

                saw = '_';
                continue;
            }

            if (saw == '_')
            {
                return false;
            }

            saw = '!';
        }

        return saw != '_';
    }

    /// <summary>strconv.ParseFloat(s, 64) for the literal forms the lexer produces.</summary>
    public static double? ParseFloat(string s)
    {
        var body = s;
        var sign = 1.0;
        if (body.Length > 0 && (body[0] == '+' || body[0] == '-'))
        {
            sign = body[0] == '-' ? -1 : 1;
            body = body[1..];
        }

        if (body.Contains('_', StringComparison.Ordinal))
        {
            if (!UnderscoreOk(body))
            {
                return null;
            }

            body = body.Replace("_", string.Empty, StringComparison.Ordinal);
        }

        if (body.Length > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X'))
        {
            return ParseHexFloat(body[2..]) is { } h ? sign * h : null;
        }

        if (body.Length == 0 || body.Any(c => !(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-')))
        {
            return null;
        }

        // Go's ParseFloat reports out-of-range values as errors; .NET returns infinity.
        return double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? sign * d : null;
    }

    private static double? ParseHexFloat(string s)
    {
        var pIndex = s.IndexOfAny(['p', 'P']);
        if (pIndex < 0)
        {
            return null;
        }

        var mantissa = s[..pIndex];
        if (!int.TryParse(s[(pIndex + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent))
        {
            return null;
        }

        double value = 0;
        var seenDot = false;
        var fractionDigits = 0;
        foreach (var c in mantissa)
        {
            if (c == '.')
            {
                if (seenDot)
                {
                    return null;
                }

                seenDot = true;
                continue;
            }

            var d = HexValue(c);
            if (d < 0)
            {
                return null;
            }

            value = (value * 16) + d;
            if (seenDot)
            {
                fractionDigits++;
            }
        }

        return value * Math.Pow(2, exponent - (4 * fractionDigits));
    }
}
