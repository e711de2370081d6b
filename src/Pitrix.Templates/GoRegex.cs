using System.Text;
using System.Text.RegularExpressions;

namespace Pitrix.Templates;

/// <summary>Go RE2 regular expressions mapped onto .NET's non-backtracking engine (with a match timeout), plus Go's match iteration rules.</summary>
internal static class GoRegex
{
    /// <summary>Compiles a Go pattern; on a syntax error returns null when <paramref name="quiet"/>, else throws like regexp.MustCompile.</summary>
    public static Regex? Compile(string pattern, TimeSpan timeout, bool quiet = false)
    {
        try
        {
            var translated = Translate(pattern);
            try
            {
                // Like RE2, the non-backtracking engine runs in linear time, so hostile patterns cannot hang a render.
                return new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, timeout);
            }
            catch (NotSupportedException)
            {
                return new Regex(translated, RegexOptions.CultureInvariant, timeout);
            }
        }
        catch (ArgumentException e)
        {
            if (quiet)
            {
                return null;
            }

            throw new TemplateFunctionException($"regexp: Compile({QuoteBackquote(pattern)}): error parsing regexp: {e.Message}");
        }
    }

    private static string QuoteBackquote(string s) => s.Contains('`', StringComparison.Ordinal) ? GoFormatter.Quote(s) : "`" + s + "`";

    /// <summary>Rewrites RE2-only syntax: (?P&lt;name&gt;), \pL, POSIX classes, ASCII-only \d \w \s, and $ as end of text.</summary>
    private static string Translate(string p)
    {
        var sb = new StringBuilder();
        var inClass = false;
        var multiline = false;
        for (var i = 0; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\' && i + 1 < p.Length)
            {
                var n = p[i + 1];
                switch (n)
                {
                    case 'd':
                        sb.Append(inClass ? "0-9" : "[0-9]");
                        break;
                    case 'w':
                        sb.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]");
                        break;
                    case 's':
                        sb.Append(inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]");
                        break;
                    case 'D' when !inClass:
                        sb.Append("[^0-9]");
                        break;
                    case 'W' when !inClass:
                        sb.Append("[^0-9A-Za-z_]");
                        break;
                    case 'S' when !inClass:
                        sb.Append("[^\\t\\n\\f\\r ]");
                        break;
                    case 'p' or 'P' when i + 2 < p.Length && p[i + 2] != '{':
                        sb.Append('\\').Append(n).Append('{').Append(p[i + 2]).Append('}');
                        i++;
                        break;
                    case 'z':
                        sb.Append("\\z");
                        break;
                    default:
                        sb.Append(c).Append(n);
                        break;
                }

                i++;
                continue;
            }

            if (inClass)
            {
                if (c == '[' && i + 1 < p.Length && p[i + 1] == ':')
                {
                    var end = p.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        sb.Append(PosixClass(p[(i + 2)..end]));
                        i = end + 1;
                        continue;
                    }
                }

                if (c == ']')
                {
                    inClass = false;
                }

                sb.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    if (i + 1 < p.Length && p[i + 1] == '^')
                    {
                        sb.Append('^');
                        i++;
                    }

                    if (i + 1 < p.Length && p[i + 1] == ']')
                    {
                        sb.Append("\\]");
                        i++;
                    }

                    break;
                case '(' when p.AsSpan(i).StartsWith("(?P<"):
                    sb.Append("(?<");
                    i += 3;
                    break;
                case '(' when IsFlagGroupWithMultiline(p, i):
                    multiline = true;
                    sb.Append(c);
                    break;
                case '$':
                    // RE2's $ is the end of the text; with (?m) it is the end of a line, which .NET's $ already is.
                    sb.Append(multiline ? "$" : "\\z");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Whether p[i..] starts a flag group such as (?m) or (?im:...) that turns multi-line mode on.</summary>
    private static bool IsFlagGroupWithMultiline(string p, int i)
    {
        if (!p.AsSpan(i).StartsWith("(?"))
        {
            return false;
        }

        var flags = new string(p[(i + 2)..].TakeWhile(ch => ch is not (':' or ')')).ToArray());
        var on = flags.Split('-')[0];
        return flags.All(ch => ch is 'i' or 'm' or 's' or 'U' or '-') && on.Contains('m', StringComparison.Ordinal);
    }

    private static string PosixClass(string name) => name switch
    {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => "\\x00-\\x7F",
        "blank" => "\\t ",
        "cntrl" => "\\x00-\\x1F\\x7F",
        "digit" => "0-9",
        "graph" => "!-~",
        "lower" => "a-z",
        "print" => " -~",
        "punct" => "!-/:-@\\[-`{-~",
        "space" => "\\t\\n\\v\\f\\r ",
        "upper" => "A-Z",
        "word" => "0-9A-Za-z_",
        "xdigit" => "0-9A-Fa-f",
        _ => throw new TemplateFunctionException($"invalid character class range: [:{name}:]"),
    };

    /// <summary>Matches as Go's FindAll does: empty matches right after a previous match are skipped.</summary>
    public static List<Match> FindAll(Regex regex, string s, int n)
    {
        var result = new List<Match>();
        if (n == 0)
        {
            return result;
        }

        var prevEnd = -1;
        foreach (Match m in regex.Matches(s))
        {
            if (m.Length == 0 && m.Index == prevEnd)
            {
                continue;
            }

            result.Add(m);
            prevEnd = m.Index + m.Length;
            if (n > 0 && result.Count == n)
            {
                break;
            }
        }

        return result;
    }

    public static string ReplaceAll(Regex regex, string s, string replacement, bool literal)
    {
        var sb = new StringBuilder();
        var last = 0;
        foreach (var m in FindAll(regex, s, -1))
        {
            sb.Append(s, last, m.Index - last);
            if (literal)
            {
                sb.Append(replacement);
            }
            else
            {
                Expand(sb, regex, m, replacement);
            }

            last = m.Index + m.Length;
        }

        sb.Append(s, last, s.Length - last);
        return sb.ToString();
    }

    /// <summary>Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$.</summary>
    private static void Expand(StringBuilder sb, Regex regex, Match m, string template)
    {
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c != '$' || i + 1 >= template.Length)
            {
                sb.Append(c);
                continue;
            }

            if (template[i + 1] == '$')
            {
                sb.Append('$');
                i++;
                continue;
            }

            string name;
            int next;
            if (template[i + 1] == '{')
            {
                var close = template.IndexOf('}', i + 2);
                name = close < 0 ? string.Empty : template[(i + 2)..close];
                next = close;
                if (close < 0 || name.Length == 0 || !name.All(IsNameChar))
                {
                    sb.Append('$');
                    continue;
                }
            }
            else
            {
                var j = i + 1;
                while (j < template.Length && IsNameChar(template[j]))
                {
                    j++;
                }

                name = template[(i + 1)..j];
                next = j - 1;
                if (name.Length == 0)
                {
                    sb.Append('$');
                    continue;
                }
            }

            if (int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
            {
                if (index < m.Groups.Count && regex.GroupNumberFromName(index.ToString(System.Globalization.CultureInfo.InvariantCulture)) == index)
                {
                    sb.Append(m.Groups[index].Value);
                }
            }
            else if (regex.GroupNumberFromName(name) >= 0)
            {
                sb.Append(m.Groups[name].Value);
            }

            i = next;
        }

        static bool IsNameChar(char ch) => char.IsAsciiLetterOrDigit(ch) || ch == '_';
    }

    /// <summary>Go's Regexp.Split.</summary>
    public static List<string> Split(Regex regex, string s, int n)
    {
        if (n == 0)
        {
            return [];
        }

        if (regex.ToString().Length > 0 && s.Length == 0)
        {
            return [string.Empty];
        }

        var matches = FindAll(regex, s, n);
        var strings = new List<string>();
        var beg = 0;
        var end = 0;
        foreach (var m in matches)
        {
            if (n > 0 && strings.Count == n - 1)
            {
                break;
            }

            end = m.Index;
            if (m.Index + m.Length != 0)
            {
                strings.Add(s[beg..end]);
            }

            beg = m.Index + m.Length;
        }

        if (end != s.Length)
        {
            strings.Add(s[beg..]);
        }

        return strings;
    }

    public static string QuoteMeta(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s)
        {
            if ("\\.+*?()|[]{}^$".Contains(c, StringComparison.Ordinal))
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
