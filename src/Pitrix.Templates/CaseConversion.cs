using System.Globalization;
using System.Text;

namespace Pitrix.Templates;

/// <summary>A port of huandu/xstrings case conversion (snakecase, kebabcase, camelcase) used by Sprig.</summary>
internal static class CaseConversion
{
    private enum WordType
    {
        Invalid,
        Number,
        UpperCase,
        Alphabet,
        Connector,
        Punct,
        Other,
    }

    private static bool IsConnector(char r) => r is '-' or '_' || char.IsWhiteSpace(r);

    private static bool IsAlphabet(char r) => char.IsLetter(r) && r < 0x2E80;

    private static bool IsPunct(char r) => CharUnicodeInfo.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation
        or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    private static bool IsNumber(char r) => char.IsNumber(r);

    public static string ToCamelCase(string str)
    {
        if (str.Length == 0)
        {
            return string.Empty;
        }

        var buf = new StringBuilder();
        var i = 0;
        char r0 = '\0';
        var found = false;
        while (i < str.Length)
        {
            r0 = str[i++];
            if (!IsConnector(r0))
            {
                r0 = char.ToUpperInvariant(r0);
                found = true;
                break;
            }

            buf.Append(r0);
        }

        if (i >= str.Length)
        {
            if (found)
            {
                buf.Append(r0);
            }

            return buf.ToString();
        }

        while (i < str.Length)
        {
            var r1 = r0;
            r0 = str[i++];
            if (IsConnector(r0) && IsConnector(r1))
            {
                buf.Append(r1);
                continue;
            }

            if (IsConnector(r1))
            {
                r0 = char.ToUpperInvariant(r0);
            }
            else
            {
                r0 = char.ToLowerInvariant(r0);
                buf.Append(r1);
            }
        }

        buf.Append(r0);
        return buf.ToString();
    }

    public static string ToLowerWords(string str, char connector)
    {
        if (str.Length == 0)
        {
            return string.Empty;
        }

        var buf = new StringBuilder();
        var (wt, word, remaining) = NextWord(str);
        while (remaining.Length > 0)
        {
            if (wt != WordType.Connector)
            {
                ToLower(buf, wt, word, connector);
            }

            var prev = wt;
            var last = word;
            (wt, word, remaining) = NextWord(remaining);
            switch (prev)
            {
                case WordType.Number:
                    while (wt is WordType.Alphabet or WordType.Number)
                    {
                        ToLower(buf, wt, word, connector);
                        (wt, word, remaining) = NextWord(remaining);
                    }

                    if (wt is not WordType.Invalid and not WordType.Punct and not WordType.Connector)
                    {
                        buf.Append(connector);
                    }

                    break;
                case WordType.Connector:
                    ToLower(buf, prev, last, connector);
                    break;
                case WordType.Punct:
                    break;
                default:
                    if (wt != WordType.Number)
                    {
                        if (wt is not WordType.Connector and not WordType.Punct)
                        {
                            buf.Append(connector);
                        }

                        break;
                    }

                    if (remaining.Length == 0)
                    {
                        break;
                    }

                    last = word;
                    (wt, word, remaining) = NextWord(remaining);
                    if (wt != WordType.Alphabet)
                    {
                        ToLower(buf, WordType.Number, last, connector);
                        if (wt is not WordType.Connector and not WordType.Punct)
                        {
                            buf.Append(connector);
                        }

                        break;
                    }

                    buf.Append(connector);
                    ToLower(buf, WordType.Number, last, connector);
                    while (wt is WordType.Alphabet or WordType.Number)
                    {
                        ToLower(buf, wt, word, connector);
                        (wt, word, remaining) = NextWord(remaining);
                    }

                    if (wt is not WordType.Invalid and not WordType.Connector and not WordType.Punct)
                    {
                        buf.Append(connector);
                    }

                    break;
            }
        }

        ToLower(buf, wt, word, connector);
        return buf.ToString();
    }

    private static void ToLower(StringBuilder buf, WordType wt, string str, char connector)
    {
        if (wt is not WordType.UpperCase and not WordType.Connector)
        {
            buf.Append(str);
            return;
        }

        foreach (var r in str)
        {
            if (IsConnector(r))
            {
                buf.Append(connector);
            }
            else if (char.IsUpper(r))
            {
                buf.Append(char.ToLowerInvariant(r));
            }
            else
            {
                buf.Append(r);
            }
        }
    }

    private static (WordType Type, string Word, string Remaining) NextWord(string str)
    {
        if (str.Length == 0)
        {
            return (WordType.Invalid, string.Empty, string.Empty);
        }

        var offset = 1;
        var r = str[0];
        WordType wt;
        if (IsConnector(r))
        {
            wt = WordType.Connector;
            while (offset < str.Length && IsConnector(str[offset]))
            {
                offset++;
            }
        }
        else if (IsPunct(r))
        {
            wt = WordType.Punct;
            while (offset < str.Length && IsPunct(str[offset]))
            {
                offset++;
            }
        }
        else if (char.IsUpper(r))
        {
            wt = WordType.UpperCase;
            if (offset < str.Length)
            {
                var next = str[offset];
                if (char.IsUpper(next))
                {
                    offset++;
                    while (offset < str.Length && char.IsUpper(str[offset]))
                    {
                        offset++;
                    }

                    // "HTTPStatus" splits into "HTTP" and "Status".
                    if (offset < str.Length && IsAlphabet(str[offset]))
                    {
                        offset--;
                    }
                }
                else if (IsAlphabet(next))
                {
                    offset++;
                    while (offset < str.Length && IsAlphabet(str[offset]) && !char.IsUpper(str[offset]))
                    {
                        offset++;
                    }
                }
            }
        }
        else if (IsAlphabet(r))
        {
            wt = WordType.Alphabet;
            while (offset < str.Length && IsAlphabet(str[offset]) && !char.IsUpper(str[offset]))
            {
                offset++;
            }
        }
        else if (IsNumber(r))
        {
            wt = WordType.Number;
            while (offset < str.Length && IsNumber(str[offset]))
            {
                offset++;
            }
        }
        else
        {
            wt = WordType.Other;
            while (offset < str.Length && !(IsConnector(str[offset]) || IsAlphabet(str[offset]) || IsNumber(str[offset]) || IsPunct(str[offset])))
            {
                offset++;
            }
        }

        return (wt, str[..offset], str[offset..]);
    }
}
