using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Pitrix.Templates;

/// <summary>A port of the parts of Go's fmt package that templates reach: Sprint, Sprintln, Sprintf and their verbs.</summary>
public static class GoFormatter
{
    /// <summary>fmt.Sprint: operands are separated by a space when neither side is a string.</summary>
    public static string Sprint(params object?[] args)
    {
        var p = new Printer();
        var prevString = false;
        for (var i = 0; i < args.Length; i++)
        {
            var isString = args[i] is string;
            if (i > 0 && !isString && !prevString)
            {
                p.Buf.Append(' ');
            }

            p.PrintArg(args[i], 'v');
            prevString = isString;
        }

        return p.Buf.ToString();
    }

    /// <summary>fmt.Sprintln: operands are always separated by spaces and a newline is appended.</summary>
    public static string Sprintln(params object?[] args)
    {
        var p = new Printer();
        for (var i = 0; i < args.Length; i++)
        {
            if (i > 0)
            {
                p.Buf.Append(' ');
            }

            p.PrintArg(args[i], 'v');
        }

        p.Buf.Append('\n');
        return p.Buf.ToString();
    }

    /// <summary>fmt.Sprintf.</summary>
    public static string Sprintf(string format, params object?[] args)
    {
        var p = new Printer();
        p.DoPrintf(format, args);
        return p.Buf.ToString();
    }

    /// <summary>strconv.Quote.</summary>
    public static string Quote(string s) => QuoteWith(s, '"', asciiOnly: false);

    internal static string QuoteWith(string s, char quote, bool asciiOnly)
    {
        var sb = new StringBuilder();
        sb.Append(quote);
        for (var i = 0; i < s.Length; i++)
        {
            int r = s[i];
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                r = char.ConvertToUtf32(s[i], s[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                r = 0xFFFD;
            }

            AppendEscapedRune(sb, r, quote, asciiOnly);
        }

        sb.Append(quote);
        return sb.ToString();
    }

    internal static void AppendEscapedRune(StringBuilder sb, int r, char quote, bool asciiOnly)
    {
        if (r == quote || r == '\\')
        {
            sb.Append('\\').Append((char)r);
            return;
        }

        if (asciiOnly ? r < 0x80 && IsPrint(r) : IsPrint(r))
        {
            GoStrings.AppendRune(sb, r);
            return;
        }

        switch (r)
        {
            case 7: sb.Append("\\a"); return;
            case 8: sb.Append("\\b"); return;
            case 12: sb.Append("\\f"); return;
            case 10: sb.Append("\\n"); return;
            case 13: sb.Append("\\r"); return;
            case 9: sb.Append("\\t"); return;
            case 11: sb.Append("\\v"); return;
        }

        if (r < ' ' || r == 0x7f)
        {
            sb.Append("\\x").Append(r.ToString("x2", CultureInfo.InvariantCulture));
        }
        else if (r < 0x10000)
        {
            sb.Append("\\u").Append(r.ToString("x4", CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append("\\U").Append(r.ToString("x8", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>unicode.IsPrint, approximated with .NET's Unicode categories.</summary>
    internal static bool IsPrint(int r)
    {
        if (r == ' ')
        {
            return true;
        }

        if (r < 0x20 || r == 0x7f || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        {
            return false;
        }

        var category = CharUnicodeInfo.GetUnicodeCategory(r);
        return category switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator => false,
            _ => true,
        };
    }

    /// <summary>fmt's %#U: <c>U+0041 'A'</c>.</summary>
    internal static string SharpU(int r)
    {
        if (r < 0)
        {
            return "U+FFFFFFFFFFFFFFFF";
        }

        var s = "U+" + r.ToString("X4", CultureInfo.InvariantCulture);
        return IsPrint(r) ? s + " '" + char.ConvertFromUtf32(r) + "'" : s;
    }

    /// <summary>strconv.FormatFloat(v, fmt, prec, 64).</summary>
    internal static string FormatFloat(double v, char fmt, int prec)
    {
        if (double.IsNaN(v))
        {
            return "NaN";
        }

        if (double.IsInfinity(v))
        {
            return v > 0 ? "+Inf" : "-Inf";
        }

        var neg = v < 0 || (v == 0 && double.IsNegative(v));
        var abs = Math.Abs(v);
        if (fmt is 'x' or 'X' or 'b')
        {
            return (neg ? "-" : string.Empty) + (fmt == 'b' ? BinaryFloat(abs) : HexFloat(abs, prec, fmt));
        }

        var shortest = prec < 0;
        string digits;
        int dp;
        if (shortest)
        {
            (digits, dp) = ShortestDigits(abs);
            prec = fmt switch
            {
                'e' or 'E' => Math.Max(digits.Length - 1, 0),
                'f' => Math.Max(digits.Length - dp, 0),
                _ => digits.Length,
            };
        }
        else
        {
            (digits, dp) = ExactDigits(abs);
            switch (fmt)
            {
                case 'e' or 'E':
                    (digits, dp) = Round(digits, dp, prec + 1);
                    break;
                case 'f':
                    (digits, dp) = Round(digits, dp, dp + prec);
                    break;
                default:
                    if (prec == 0)
                    {
                        prec = 1;
                    }

                    (digits, dp) = Round(digits, dp, prec);
                    break;
            }
        }

        switch (fmt)
        {
            case 'e' or 'E':
                return FmtE(neg, digits, dp, prec, fmt);
            case 'f':
                return FmtF(neg, digits, dp, prec);
            default:
                {
                    var eprec = prec;
                    if (eprec > digits.Length && digits.Length >= dp)
                    {
                        eprec = digits.Length;
                    }

                    if (shortest)
                    {
                        eprec = 6;
                    }

                    var exp = dp - 1;
                    if (exp < -4 || exp >= eprec)
                    {
                        if (prec > digits.Length)
                        {
                            prec = digits.Length;
                        }

                        return FmtE(neg, digits, dp, prec - 1, fmt == 'G' ? 'E' : 'e');
                    }

                    if (prec > dp)
                    {
                        prec = digits.Length;
                    }

                    return FmtF(neg, digits, dp, Math.Max(prec - dp, 0));
                }
        }
    }

    /// <summary>strconv's 'b' format: decimal mantissa and binary exponent.</summary>
    private static string BinaryFloat(double v)
    {
        var bits = BitConverter.DoubleToInt64Bits(v);
        var exp = (int)((bits >> 52) & 0x7FF);
        var mant = bits & 0xFFFFFFFFFFFFFL;
        if (exp == 0)
        {
            exp = 1;
        }
        else
        {
            mant |= 1L << 52;
        }

        exp -= 1075;
        return mant.ToString(CultureInfo.InvariantCulture) + "p" + (exp >= 0 ? "+" : "-") + Math.Abs(exp).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>strconv's 'x' format: 0x1.8p+01.</summary>
    private static string HexFloat(double v, int prec, char fmt)
    {
        var bits = BitConverter.DoubleToInt64Bits(v);
        var exp = (int)((bits >> 52) & 0x7FF);
        var mant = (ulong)(bits & 0xFFFFFFFFFFFFFL);
        if (v == 0)
        {
            exp = 0;
        }
        else if (exp == 0)
        {
            // Denormal: shift the mantissa up until the implicit bit is set.
            exp = -1022;
            while ((mant & (1UL << 52)) == 0)
            {
                mant <<= 1;
                exp--;
            }

            mant &= 0xFFFFFFFFFFFFFUL;
        }
        else
        {
            exp -= 1023;
        }

        var lead = v == 0 ? '0' : '1';
        var digits = mant.ToString("x13", CultureInfo.InvariantCulture);
        if (prec < 0)
        {
            digits = digits.TrimEnd('0');
        }
        else if (prec < 13)
        {
            // Round half to even at the requested number of hex digits.
            var shift = (13 - prec) * 4;
            var full = (1UL << 52) | mant;
            var half = 1UL << (shift - 1);
            var rem = full & ((1UL << shift) - 1);
            full >>= shift;
            if (rem > half || (rem == half && (full & 1) == 1))
            {
                full++;
            }

            if (full >> (prec * 4) >= 2)
            {
                full >>= 1;
                exp++;
            }

            lead = v == 0 ? '0' : '1';
            digits = prec == 0 ? string.Empty : (full & ((1UL << (prec * 4)) - 1)).ToString("x" + prec.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        }
        else
        {
            digits = digits.PadRight(prec, '0');
        }

        var sb = new StringBuilder("0x").Append(lead);
        if (digits.Length > 0)
        {
            sb.Append('.').Append(digits);
        }

        sb.Append('p').Append(exp >= 0 ? '+' : '-');
        var e = Math.Abs(exp);
        sb.Append(e < 10 ? "0" + e.ToString(CultureInfo.InvariantCulture) : e.ToString(CultureInfo.InvariantCulture));
        var result = sb.ToString();
        return fmt == 'X' ? result.ToUpperInvariant() : result;
    }

    private static string FmtE(bool neg, string d, int dp, int prec, char fmt)
    {
        var sb = new StringBuilder();
        if (neg)
        {
            sb.Append('-');
        }

        sb.Append(d.Length != 0 ? d[0] : '0');
        if (prec > 0)
        {
            sb.Append('.');
            var i = 1;
            var m = Math.Min(d.Length, prec + 1);
            if (i < m)
            {
                sb.Append(d, i, m - i);
                i = m;
            }

            for (; i <= prec; i++)
            {
                sb.Append('0');
            }
        }

        sb.Append(fmt);
        var exp = d.Length == 0 ? 0 : dp - 1;
        sb.Append(exp < 0 ? '-' : '+');
        exp = Math.Abs(exp);
        sb.Append(exp < 10 ? "0" + exp.ToString(CultureInfo.InvariantCulture) : exp.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static string FmtF(bool neg, string d, int dp, int prec)
    {
        var sb = new StringBuilder();
        if (neg)
        {
            sb.Append('-');
        }

        if (dp > 0)
        {
            var m = Math.Min(d.Length, dp);
            sb.Append(d, 0, m);
            for (; m < dp; m++)
            {
                sb.Append('0');
            }
        }
        else
        {
            sb.Append('0');
        }

        if (prec > 0)
        {
            sb.Append('.');
            for (var i = 1; i <= prec; i++)
            {
                var j = dp + i - 1;
                sb.Append(j >= 0 && j < d.Length ? d[j] : '0');
            }
        }

        return sb.ToString();
    }

    /// <summary>Shortest digits that round-trip, as (digits, decimal point position).</summary>
    private static (string Digits, int Dp) ShortestDigits(double v)
    {
        if (v == 0)
        {
            return (string.Empty, 0);
        }

        var r = v.ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }

        var point = r.IndexOf('.', StringComparison.Ordinal);
        var intPart = point >= 0 ? r[..point] : r;
        var fracPart = point >= 0 ? r[(point + 1)..] : string.Empty;
        var digits = intPart + fracPart;
        var dp = intPart.Length + exponent;
        var lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
        }

        digits = digits[lead..];
        dp -= lead;
        digits = digits.TrimEnd('0');
        return (digits, dp);
    }

    /// <summary>The exact decimal expansion of a finite non-negative double.</summary>
    private static (string Digits, int Dp) ExactDigits(double v)
    {
        if (v == 0)
        {
            return (string.Empty, 0);
        }

        var bits = BitConverter.DoubleToInt64Bits(v);
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1L << 52;
        }

        exponent -= 1075;
        BigInteger number = mantissa;
        int dp;
        string digits;
        if (exponent >= 0)
        {
            number <<= exponent;
            digits = number.ToString(CultureInfo.InvariantCulture);
            dp = digits.Length;
        }
        else
        {
            // mantissa / 2^-e = mantissa * 5^-e / 10^-e
            number *= BigInteger.Pow(5, -exponent);
            digits = number.ToString(CultureInfo.InvariantCulture);
            dp = digits.Length + exponent;
        }

        var trimmed = digits.TrimEnd('0');
        return (trimmed, dp);
    }

    /// <summary>Rounds a decimal to <paramref name="nd"/> digits, half to even (Go's decimal.Round).</summary>
    private static (string Digits, int Dp) Round(string d, int dp, int nd)
    {
        if (nd < 0 || nd >= d.Length)
        {
            return (d, dp);
        }

        bool up;
        if (d[nd] == '5' && nd + 1 == d.Length)
        {
            up = nd > 0 && (d[nd - 1] - '0') % 2 == 1;
        }
        else
        {
            up = d[nd] >= '5';
        }

        if (!up)
        {
            return (d[..nd].TrimEnd('0'), dp);
        }

        var chars = d[..nd].ToCharArray();
        var i = nd - 1;
        while (i >= 0 && chars[i] == '9')
        {
            i--;
        }

        if (i < 0)
        {
            return ("1", dp + 1);
        }

        chars[i]++;
        return (new string(chars, 0, i + 1), dp);
    }

    /// <summary>One fmt print state: flags, width and precision plus the output buffer.</summary>
    private sealed class Printer
    {
        public StringBuilder Buf { get; } = new();

        private bool _plus;
        private bool _minus;
        private bool _sharp;
        private bool _space;
        private bool _zero;
        private bool _plusV;
        private bool _sharpV;
        private bool _widPresent;
        private bool _precPresent;
        private int _wid;
        private int _prec;
        private bool _goodArgNum;
        private bool _reordered;
        private object? _arg;
        private bool _hasArg;

        private void ClearFlags()
        {
            _plus = _minus = _sharp = _space = _zero = _plusV = _sharpV = _widPresent = _precPresent = false;
            _wid = _prec = 0;
        }

        private void WritePadding(int n)
        {
            if (n <= 0)
            {
                return;
            }

            Buf.Append(_zero ? '0' : ' ', n);
        }

        private void Pad(string s)
        {
            if (!_widPresent || _wid == 0)
            {
                Buf.Append(s);
                return;
            }

            var width = _wid - RuneCount(s);
            if (!_minus)
            {
                WritePadding(width);
                Buf.Append(s);
            }
            else
            {
                Buf.Append(s);
                var oldZero = _zero;
                _zero = false;
                WritePadding(width);
                _zero = oldZero;
            }
        }

        private static int RuneCount(string s)
        {
            var n = 0;
            for (var i = 0; i < s.Length; i++)
            {
                if (!(char.IsLowSurrogate(s[i]) && i > 0 && char.IsHighSurrogate(s[i - 1])))
                {
                    n++;
                }
            }

            return n;
        }

        private string Truncate(string s)
        {
            if (!_precPresent)
            {
                return s;
            }

            var n = _prec;
            for (var i = 0; i < s.Length; i++)
            {
                if (char.IsLowSurrogate(s[i]) && i > 0 && char.IsHighSurrogate(s[i - 1]))
                {
                    continue;
                }

                n--;
                if (n < 0)
                {
                    return s[..i];
                }
            }

            return s;
        }

        public void PrintArg(object? arg, char verb)
        {
            arg = arg is NoValue ? null : GoValues.Normalize(arg);
            _arg = arg;
            _hasArg = true;
            if (arg == null)
            {
                if (verb is 'T' or 'v')
                {
                    Pad("<nil>");
                }
                else
                {
                    BadVerb(verb);
                }

                return;
            }

            if (verb == 'T')
            {
                FmtS(GoValues.TypeName(arg));
                return;
            }

            if (verb == 'p')
            {
                BadVerb(verb);
                return;
            }

            PrintValue(arg, verb, 0);
        }

        private void PrintValue(object? value, char verb, int depth)
        {
            value = GoValues.Normalize(value);
            if (depth > 0)
            {
                _arg = value;
                _hasArg = value != null;
            }

            switch (value)
            {
                case null:
                    Buf.Append("<nil>");
                    return;
                case IGoStringer stringer when verb is 'v' or 's' or 'x' or 'X' or 'q':
                    FmtString(stringer.GoString(), verb);
                    return;
                case bool b:
                    if (verb is 't' or 'v')
                    {
                        Pad(b ? "true" : "false");
                    }
                    else
                    {
                        BadVerb(verb);
                    }

                    return;
                case long l:
                    FmtInteger(l, verb);
                    return;
                case GoInt64 g:
                    FmtInteger(g.Value, verb);
                    return;
                case double d:
                    FmtFloat(d, verb);
                    return;
                case System.Numerics.Complex c:
                    FmtComplex(c, verb);
                    return;
                case string s:
                    FmtString(s, verb);
                    return;
                case IDictionary or IList when _sharpV:
                    PrintGoSyntax(value, verb, depth);
                    return;
                case IDictionary map:
                    Buf.Append("map[");
                    var first = true;
                    foreach (var key in GoValues.SortedKeys(map))
                    {
                        if (!first)
                        {
                            Buf.Append(' ');
                        }

                        first = false;
                        PrintValue(key, verb, depth + 1);
                        Buf.Append(':');
                        PrintValue(map[key], verb, depth + 1);
                    }

                    Buf.Append(']');
                    return;
                case IList list:
                    Buf.Append('[');
                    for (var i = 0; i < list.Count; i++)
                    {
                        if (i > 0)
                        {
                            Buf.Append(' ');
                        }

                        PrintValue(list[i], verb, depth + 1);
                    }

                    Buf.Append(']');
                    return;
                case Delegate or TemplateFunction:
                    if (verb == 'v')
                    {
                        Buf.Append("0x1");
                    }
                    else
                    {
                        BadVerb(verb);
                    }

                    return;
                default:
                    if (_sharpV)
                    {
                        Buf.Append(GoValues.TypeName(value));
                    }

                    Buf.Append('{');
                    var props = GoValues.Properties(value.GetType());
                    for (var i = 0; i < props.Length; i++)
                    {
                        if (i > 0)
                        {
                            Buf.Append(_sharpV ? ", " : " ");
                        }

                        if (_plusV || _sharpV)
                        {
                            Buf.Append(props[i].Name).Append(':');
                        }

                        PrintValue(props[i].GetValue(value), verb, depth + 1);
                    }

                    Buf.Append('}');
                    return;
            }
        }

        /// <summary>%#v for maps and slices: <c>map[string]interface {}{"a":1}</c>, <c>[]interface {}{1, "x"}</c>.</summary>
        private void PrintGoSyntax(object value, char verb, int depth)
        {
            var iface = GoValues.HasInterfaceElements(value);
            Buf.Append(GoValues.TypeName(value)).Append('{');
            if (value is IDictionary map)
            {
                var first = true;
                foreach (var key in GoValues.SortedKeys(map))
                {
                    if (!first)
                    {
                        Buf.Append(", ");
                    }

                    first = false;
                    PrintValue(key, verb, depth + 1);
                    Buf.Append(':');
                    PrintElement(map[key], verb, depth, iface);
                }
            }
            else
            {
                var list = (IList)value;
                for (var i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                    {
                        Buf.Append(", ");
                    }

                    PrintElement(list[i], verb, depth, iface);
                }
            }

            Buf.Append('}');
        }

        private void PrintElement(object? element, char verb, int depth, bool iface)
        {
            if (element == null && iface)
            {
                Buf.Append("interface {}(nil)");
                return;
            }

            PrintValue(element, verb, depth + 1);
        }

        private void BadVerb(char verb)
        {
            Buf.Append("%!").Append(verb).Append('(');
            if (_hasArg && _arg != null)
            {
                var arg = _arg;
                Buf.Append(GoValues.TypeName(arg)).Append('=');
                PrintArg(arg, 'v');
            }
            else
            {
                Buf.Append("<nil>");
            }

            Buf.Append(')');
        }

        private void FmtInteger(long v, char verb)
        {
            switch (verb)
            {
                case 'v' or 'd':
                    FormatInteger(v, 10, verb, "0123456789abcdefx");
                    break;
                case 'b':
                    FormatInteger(v, 2, verb, "0123456789abcdefx");
                    break;
                case 'o' or 'O':
                    FormatInteger(v, 8, verb, "0123456789abcdefx");
                    break;
                case 'x':
                    FormatInteger(v, 16, verb, "0123456789abcdefx");
                    break;
                case 'X':
                    FormatInteger(v, 16, verb, "0123456789ABCDEFX");
                    break;
                case 'c':
                    Pad(RuneString(v));
                    break;
                case 'q':
                    Pad(QuoteRune(v));
                    break;
                case 'U':
                    FmtUnicode(v);
                    break;
                case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
                    BadVerb(verb);
                    break;
                default:
                    BadVerb(verb);
                    break;
            }
        }

        private static string RuneString(long v)
        {
            var r = v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ? 0xFFFD : (int)v;
            return char.ConvertFromUtf32(r);
        }

        private string QuoteRune(long v)
        {
            var r = v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ? 0xFFFD : (int)v;
            var sb = new StringBuilder();
            sb.Append('\'');
            AppendEscapedRune(sb, r, '\'', _plus);
            sb.Append('\'');
            return sb.ToString();
        }

        private void FmtUnicode(long v)
        {
            var hex = ((ulong)v).ToString("X", CultureInfo.InvariantCulture);
            var prec = 4;
            if (_precPresent && _prec > 4)
            {
                prec = _prec;
            }

            var s = "U+" + hex.PadLeft(prec, '0');
            if (_sharp && v >= 0 && v <= 0x10FFFF && IsPrint((int)v))
            {
                s += " '" + char.ConvertFromUtf32((int)v) + "'";
            }

            var oldZero = _zero;
            _zero = false;
            Pad(s);
            _zero = oldZero;
        }

        private void FormatInteger(long value, int numberBase, char verb, string digits)
        {
            var negative = value < 0;
            var u = negative ? (ulong)(-(value + 1)) + 1 : (ulong)value;
            var prec = 0;
            if (_precPresent)
            {
                prec = _prec;
                if (prec == 0 && u == 0)
                {
                    var oldZero = _zero;
                    _zero = false;
                    WritePadding(_wid);
                    _zero = oldZero;
                    return;
                }
            }
            else if (_zero && _widPresent)
            {
                prec = _wid;
                if (negative || _plus || _space)
                {
                    prec--;
                }
            }

            var sb = new StringBuilder();
            if (u == 0)
            {
                sb.Insert(0, '0');
            }

            while (u > 0)
            {
                sb.Insert(0, digits[(int)(u % (ulong)numberBase)]);
                u /= (ulong)numberBase;
            }

            while (sb.Length < prec)
            {
                sb.Insert(0, '0');
            }

            if (_sharp)
            {
                switch (numberBase)
                {
                    case 2:
                        sb.Insert(0, "0b");
                        break;
                    case 8:
                        if (sb[0] != '0')
                        {
                            sb.Insert(0, '0');
                        }

                        break;
                    case 16:
                        sb.Insert(0, "0" + digits[16]);
                        break;
                }
            }

            if (verb == 'O')
            {
                sb.Insert(0, "0o");
            }

            if (negative)
            {
                sb.Insert(0, '-');
            }
            else if (_plus)
            {
                sb.Insert(0, '+');
            }
            else if (_space)
            {
                sb.Insert(0, ' ');
            }

            var zero = _zero;
            _zero = false;
            Pad(sb.ToString());
            _zero = zero;
        }

        private void FmtFloat(double v, char verb)
        {
            switch (verb)
            {
                case 'v':
                    FormatFloatVerb(v, 'g', -1);
                    break;
                case 'g' or 'G':
                    FormatFloatVerb(v, verb, -1);
                    break;
                case 'f' or 'F' or 'e' or 'E':
                    FormatFloatVerb(v, verb == 'F' ? 'f' : verb, 6);
                    break;
                case 'x' or 'X' or 'b':
                    FormatFloatVerb(v, verb, -1);
                    break;
                default:
                    BadVerb(verb);
                    break;
            }
        }

        /// <summary>fmt's complex formatting: (real+imagi), each part with the float verb.</summary>
        private void FmtComplex(System.Numerics.Complex c, char verb)
        {
            if (verb is not ('v' or 'b' or 'g' or 'G' or 'x' or 'X' or 'f' or 'F' or 'e' or 'E'))
            {
                BadVerb(verb);
                return;
            }

            var oldPlus = _plus;
            Buf.Append('(');
            FmtFloat(c.Real, verb);
            _plus = true;
            FmtFloat(c.Imaginary, verb);
            Buf.Append("i)");
            _plus = oldPlus;
        }

        private void FormatFloatVerb(double v, char verb, int prec)
        {
            if (_precPresent)
            {
                prec = _prec;
            }

            var num = FormatFloat(v, verb, prec);
            if (num[0] is '-' or '+')
            {
                // already signed
            }
            else
            {
                num = "+" + num;
            }

            if (_space && num[0] == '+' && !_plus)
            {
                num = " " + num[1..];
            }

            if (num[1] is 'I' or 'N')
            {
                var oldZero = _zero;
                _zero = false;
                if (num[1] == 'N' && !_space && !_plus)
                {
                    num = num[1..];
                }

                Pad(num);
                _zero = oldZero;
                return;
            }

            if (_sharp)
            {
                num = SharpFloat(num, verb, prec);
            }

            if (_plus || num[0] != '+')
            {
                if (_zero && _widPresent && _wid > num.Length)
                {
                    Buf.Append(num[0]);
                    WritePadding(_wid - num.Length);
                    Buf.Append(num, 1, num.Length - 1);
                    return;
                }

                Pad(num);
                return;
            }

            Pad(num[1..]);
        }

        private static string SharpFloat(string num, char verb, int prec)
        {
            var digits = verb is 'g' or 'G' ? (prec == -1 ? 6 : prec) : 0;
            var tail = string.Empty;
            var e = num.IndexOfAny(['e', 'E']);
            var body = num;
            if (e >= 0)
            {
                tail = num[e..];
                body = num[..e];
            }

            var sawDot = false;
            var sawNonzero = false;
            for (var i = 1; i < body.Length; i++)
            {
                if (body[i] == '.')
                {
                    sawDot = true;
                }
                else if (body[i] != '0' || sawNonzero)
                {
                    sawNonzero = sawNonzero || body[i] != '0';
                    if (sawNonzero)
                    {
                        digits--;
                    }
                }
            }

            if (!sawDot)
            {
                if (body.Length == 2 && body[1] == '0')
                {
                    digits--;
                }

                body += ".";
            }

            if (digits > 0)
            {
                body += new string('0', digits);
            }

            return body + tail;
        }

        private void FmtS(string s) => Pad(Truncate(s));

        private void FmtString(string s, char verb)
        {
            switch (verb)
            {
                case 'v':
                    if (_sharpV)
                    {
                        FmtQ(s);
                    }
                    else
                    {
                        FmtS(s);
                    }

                    break;
                case 's':
                    FmtS(s);
                    break;
                case 'x':
                    FmtSx(s, "0123456789abcdefx");
                    break;
                case 'X':
                    FmtSx(s, "0123456789ABCDEFX");
                    break;
                case 'q':
                    FmtQ(s);
                    break;
                default:
                    BadVerb(verb);
                    break;
            }
        }

        private void FmtQ(string s)
        {
            s = Truncate(s);
            if (_sharp && !s.Contains('`', StringComparison.Ordinal) && s.All(c => c == '\t' || !(c < ' ' || c == 0x7f || c == '\uFEFF')))
            {
                Pad("`" + s + "`");
                return;
            }

            Pad(QuoteWith(s, '"', _plus));
        }

        private void FmtSx(string s, string digits)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            var length = bytes.Length;
            if (_precPresent && _prec < length)
            {
                length = _prec;
            }

            var sb = new StringBuilder();
            for (var i = 0; i < length; i++)
            {
                if (_space && i > 0)
                {
                    sb.Append(' ');
                }

                if (_sharp && (_space || i == 0))
                {
                    sb.Append('0').Append(digits[16]);
                }

                sb.Append(digits[bytes[i] >> 4]).Append(digits[bytes[i] & 0xF]);
            }

            Pad(sb.ToString());
        }

        public void DoPrintf(string format, object?[] a)
        {
            var end = format.Length;
            var argNum = 0;
            var afterIndex = false;
            _reordered = false;
            var i = 0;
            while (i < end)
            {
                _goodArgNum = true;
                var lasti = i;
                while (i < end && format[i] != '%')
                {
                    i++;
                }

                if (i > lasti)
                {
                    Buf.Append(format, lasti, i - lasti);
                }

                if (i >= end)
                {
                    break;
                }

                i++;
                ClearFlags();
                var simple = false;
                for (; i < end; i++)
                {
                    var c = format[i];
                    var isFlag = true;
                    switch (c)
                    {
                        case '#':
                            _sharp = true;
                            break;
                        case '0':
                            _zero = !_minus;
                            break;
                        case '+':
                            _plus = true;
                            break;
                        case '-':
                            _minus = true;
                            _zero = false;
                            break;
                        case ' ':
                            _space = true;
                            break;
                        default:
                            isFlag = false;
                            break;
                    }

                    if (isFlag)
                    {
                        continue;
                    }

                    if (c is >= 'a' and <= 'z' && argNum < a.Length)
                    {
                        if (c == 'v')
                        {
                            _sharpV = _sharp;
                            _sharp = false;
                            _plusV = _plus;
                            _plus = false;
                        }

                        PrintArg(a[argNum], c);
                        argNum++;
                        i++;
                        simple = true;
                    }

                    break;
                }

                if (simple)
                {
                    continue;
                }

                (argNum, i, afterIndex) = ArgNumber(argNum, format, i, a.Length);

                if (i < end && format[i] == '*')
                {
                    i++;
                    (_wid, _widPresent, argNum) = IntFromArg(a, argNum);
                    if (!_widPresent)
                    {
                        Buf.Append("%!(BADWIDTH)");
                    }

                    if (_wid < 0)
                    {
                        _wid = -_wid;
                        _minus = true;
                        _zero = false;
                    }

                    afterIndex = false;
                }
                else
                {
                    (_wid, _widPresent, i) = ParseNum(format, i, end);
                    if (afterIndex && _widPresent)
                    {
                        _goodArgNum = false;
                    }
                }

                if (i + 1 < end && format[i] == '.')
                {
                    i++;
                    if (afterIndex)
                    {
                        _goodArgNum = false;
                    }

                    (argNum, i, afterIndex) = ArgNumber(argNum, format, i, a.Length);
                    if (i < end && format[i] == '*')
                    {
                        i++;
                        (_prec, _precPresent, argNum) = IntFromArg(a, argNum);
                        if (_prec < 0)
                        {
                            _prec = 0;
                            _precPresent = false;
                        }

                        if (!_precPresent)
                        {
                            Buf.Append("%!(BADPREC)");
                        }

                        afterIndex = false;
                    }
                    else
                    {
                        (_prec, _precPresent, i) = ParseNum(format, i, end);
                        if (!_precPresent)
                        {
                            _prec = 0;
                            _precPresent = true;
                        }
                    }
                }

                if (!afterIndex)
                {
                    (argNum, i, afterIndex) = ArgNumber(argNum, format, i, a.Length);
                }

                if (i >= end)
                {
                    Buf.Append("%!(NOVERB)");
                    break;
                }

                int verb = format[i];
                var size = 1;
                if (char.IsHighSurrogate(format[i]) && i + 1 < end && char.IsLowSurrogate(format[i + 1]))
                {
                    verb = char.ConvertToUtf32(format[i], format[i + 1]);
                    size = 2;
                }

                i += size;
                if (verb == '%')
                {
                    Buf.Append('%');
                }
                else if (!_goodArgNum)
                {
                    Buf.Append("%!").Append(char.ConvertFromUtf32(verb)).Append("(BADINDEX)");
                }
                else if (argNum >= a.Length)
                {
                    Buf.Append("%!").Append(char.ConvertFromUtf32(verb)).Append("(MISSING)");
                }
                else
                {
                    if (verb == 'v')
                    {
                        _sharpV = _sharp;
                        _sharp = false;
                        _plusV = _plus;
                        _plus = false;
                    }

                    PrintArg(a[argNum], verb > 0xFFFF ? '?' : (char)verb);
                    argNum++;
                }
            }

            if (!_reordered && argNum < a.Length)
            {
                ClearFlags();
                Buf.Append("%!(EXTRA ");
                for (var k = argNum; k < a.Length; k++)
                {
                    if (k > argNum)
                    {
                        Buf.Append(", ");
                    }

                    var arg = a[k] is NoValue ? null : a[k];
                    if (arg == null)
                    {
                        Buf.Append("<nil>");
                    }
                    else
                    {
                        Buf.Append(GoValues.TypeName(arg)).Append('=');
                        PrintArg(arg, 'v');
                    }
                }

                Buf.Append(')');
            }
        }

        private static (int Num, bool Ok, int Next) ParseNum(string s, int start, int end)
        {
            if (start >= end)
            {
                return (0, false, end);
            }

            var num = 0;
            var isNum = false;
            var i = start;
            for (; i < end && s[i] >= '0' && s[i] <= '9'; i++)
            {
                if (num > 1_000_000)
                {
                    return (0, false, end);
                }

                num = (num * 10) + (s[i] - '0');
                isNum = true;
            }

            return (num, isNum, i);
        }

        private (int ArgNum, int Next, bool Found) ArgNumber(int argNum, string format, int i, int numArgs)
        {
            if (format.Length <= i || format[i] != '[')
            {
                return (argNum, i, false);
            }

            _reordered = true;
            var (index, wid, ok) = ParseArgNumber(format[i..]);
            if (ok && index >= 0 && index < numArgs)
            {
                return (index, i + wid, true);
            }

            _goodArgNum = false;
            return (argNum, i + wid, ok);
        }

        private static (int Index, int Wid, bool Ok) ParseArgNumber(string format)
        {
            if (format.Length < 3)
            {
                return (0, 1, false);
            }

            for (var i = 1; i < format.Length; i++)
            {
                if (format[i] == ']')
                {
                    var (width, ok, newi) = ParseNum(format, 1, i);
                    if (!ok || newi != i)
                    {
                        return (0, i + 1, false);
                    }

                    return (width - 1, i + 1, true);
                }
            }

            return (0, 1, false);
        }

        private static (int Num, bool IsInt, int ArgNum) IntFromArg(object?[] a, int argNum)
        {
            var num = 0;
            var isInt = false;
            if (argNum < a.Length)
            {
                var arg = GoValues.Normalize(a[argNum]);
                if (GoValues.IsIntegral(arg) && GoValues.ToLong(arg!) is var l && l >= int.MinValue && l <= int.MaxValue)
                {
                    num = (int)l;
                    isInt = true;
                }

                argNum++;
                if (num > 1_000_000 || num < -1_000_000)
                {
                    num = 0;
                    isInt = false;
                }
            }

            return (num, isInt, argNum);
        }
    }
}

/// <summary>A value that prints through Go's fmt like a type with a String() method.</summary>
public interface IGoStringer
{
    string GoString();
}
