using System.Collections;
using System.Text;

namespace Pitrix.Templates;

/// <summary>Go's predefined template functions (text/template funcs.go).</summary>
internal static class Builtins
{
    public static readonly IReadOnlyDictionary<string, TemplateFunction> Functions = Build();

    private enum BasicKind
    {
        Invalid,
        Bool,
        Int,
        Float,
        Complex,
        String,
    }

    private static Dictionary<string, TemplateFunction> Build()
    {
        var list = new List<TemplateFunction>
        {
            new("and", [GoParam.Value, GoParam.Value], true, _ => throw new InvalidOperationException("unreachable")),
            new("or", [GoParam.Value, GoParam.Value], true, _ => throw new InvalidOperationException("unreachable")),
            new("not", [GoParam.Value], false, c => !GoValues.Truth(IndirectInterface(c.Args[0]))),
            new("call", [GoParam.Value, GoParam.Value], true, Call),
            new("html", [GoParam.Any], true, c => HtmlEscape(EvalArgs(c.Args))),
            new("js", [GoParam.Any], true, c => JsEscape(EvalArgs(c.Args))),
            new("urlquery", [GoParam.Any], true, c => QueryEscape(EvalArgs(c.Args))),
            new("print", [GoParam.Any], true, c => GoFormatter.Sprint([.. c.Args])),
            new("println", [GoParam.Any], true, c => GoFormatter.Sprintln([.. c.Args])),
            new("printf", [GoParam.String, GoParam.Any], true, c => GoFormatter.Sprintf((string)c.Args[0]!, [.. c.Args.Skip(1)])),
            new("len", [GoParam.Value], false, c => Length(c.Args[0])),
            new("index", [GoParam.Value, GoParam.Value], true, c => Index(c.Args[0], c.Args.Skip(1).ToList())),
            new("slice", [GoParam.Value, GoParam.Value], true, c => Slice(c.Args[0], c.Args.Skip(1).ToList())),
            new("eq", [GoParam.Value, GoParam.Value], true, c => Eq(c.Args[0], c.Args.Skip(1).ToList())),
            new("ne", [GoParam.Value, GoParam.Value], false, c => !Eq(c.Args[0], [c.Args[1]])),
            new("lt", [GoParam.Value, GoParam.Value], false, c => Lt(c.Args[0], c.Args[1])),
            new("le", [GoParam.Value, GoParam.Value], false, c => Le(c.Args[0], c.Args[1])),
            new("gt", [GoParam.Value, GoParam.Value], false, c => !Le(c.Args[0], c.Args[1])),
            new("ge", [GoParam.Value, GoParam.Value], false, c => !Lt(c.Args[0], c.Args[1])),
        };
        return list.ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    /// <summary>Go's indirectInterface: a nil interface becomes the invalid value.</summary>
    public static object? IndirectInterface(object? v) => v ?? NoValue.Instance;

    private static object? Call(FunctionCall c)
    {
        var fn = IndirectInterface(c.Args[0]);
        if (fn is NoValue)
        {
            throw new TemplateFunctionException("call of nil");
        }

        var args = c.Args.Skip(1).Select(a => a is NoValue ? null : a).ToArray();
        return fn switch
        {
            TemplateFunction f => f.Body(new FunctionCall(args, c.Execution)),
            Func<object?[], object?> d => d(args),
            _ => throw new TemplateFunctionException($"non-function of type {GoValues.TypeName(fn)}"),
        };
    }

    /// <summary>Go's evalArgs: a lone string is used as is; otherwise the values are printed with fmt.Sprint.</summary>
    private static string EvalArgs(IReadOnlyList<object?> args)
    {
        if (args.Count == 1 && args[0] is string s)
        {
            return s;
        }

        var printable = args.Select(a => a is null or NoValue ? "<no value>" : a).ToArray();
        return GoFormatter.Sprint(printable);
    }

    public static string HtmlEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\0': sb.Append('\uFFFD'); break;
                case '"': sb.Append("&#34;"); break;
                case '\'': sb.Append("&#39;"); break;
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    public static string JsEscape(string s)
    {
        const string hex = "0123456789ABCDEF";
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '\\': sb.Append("\\\\"); continue;
                case '\'': sb.Append("\\'"); continue;
                case '"': sb.Append("\\\""); continue;
                case '<': sb.Append("\\u003C"); continue;
                case '>': sb.Append("\\u003E"); continue;
                case '&': sb.Append("\\u0026"); continue;
                case '=': sb.Append("\\u003D"); continue;
            }

            if (c < ' ')
            {
                sb.Append("\\u00").Append(hex[c >> 4]).Append(hex[c & 0xF]);
                continue;
            }

            if (c < 0x80)
            {
                sb.Append(c);
                continue;
            }

            int r = c;
            var width = 1;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                r = char.ConvertToUtf32(c, s[i + 1]);
                width = 2;
            }

            if (GoFormatter.IsPrint(r))
            {
                sb.Append(s, i, width);
            }
            else
            {
                sb.Append("\\u").Append(r.ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }

            i += width - 1;
        }

        return sb.ToString();
    }

    /// <summary>Go's url.QueryEscape.</summary>
    public static string QueryEscape(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                sb.Append(c);
            }
            else if (c == ' ')
            {
                sb.Append('+');
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static long Length(object? item)
    {
        switch (item)
        {
            case NoValue:
                throw new TemplateFunctionException("reflect: call of reflect.Value.Type on zero Value");
            case null:
                throw new TemplateFunctionException("len of nil pointer");
            case string s:
                return Encoding.UTF8.GetByteCount(s);
            case IList l:
                return l.Count;
            case IDictionary d:
                return d.Count;
            default:
                throw new TemplateFunctionException($"len of type {GoValues.TypeName(item)}");
        }
    }

    private static int IndexArg(object? index, int cap)
    {
        index = GoValues.Normalize(IndirectInterface(index));
        long x;
        switch (index)
        {
            case long or GoInt64:
                x = GoValues.ToLong(index);
                break;
            case NoValue:
                throw new TemplateFunctionException("cannot index slice/array with nil");
            default:
                throw new TemplateFunctionException($"cannot index slice/array with type {GoValues.TypeName(index)}");
        }

        if (x < 0 || x > cap)
        {
            throw new TemplateFunctionException($"index out of range: {x}");
        }

        return (int)x;
    }

    private static object? Index(object? item, List<object?> indexes)
    {
        item = IndirectInterface(item);
        if (item is NoValue)
        {
            throw new TemplateFunctionException("index of untyped nil");
        }

        foreach (var rawIndex in indexes)
        {
            var index = IndirectInterface(rawIndex);
            if (item == null)
            {
                throw new TemplateFunctionException("index of nil pointer");
            }

            switch (item)
            {
                case string s:
                    {
                        var bytes = Encoding.UTF8.GetBytes(s);
                        var x = IndexArg(index, bytes.Length);
                        if (x == bytes.Length)
                        {
                            throw new TemplateFunctionException("reflect: string index out of range");
                        }

                        item = (long)bytes[x];
                        break;
                    }

                case IList list:
                    {
                        var x = IndexArg(index, list.Count);
                        if (x == list.Count)
                        {
                            throw new TemplateFunctionException("reflect: slice index out of range");
                        }

                        item = list[x];
                        break;
                    }

                case IDictionary map:
                    {
                        var key = PrepareKey(map, index);
                        item = map.Contains(key) ? map[key] : ZeroFor(map);
                        break;
                    }

                default:
                    throw new TemplateFunctionException($"can't index item of type {GoValues.TypeName(item)}");
            }
        }

        return item;
    }

    /// <summary>Go's prepareArg for a map key: the index must be assignable (or, for integers, convertible) to the key type.</summary>
    private static object PrepareKey(IDictionary map, object? index)
    {
        var generic = map.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        var keyType = generic?.GetGenericArguments()[0] ?? typeof(string);
        var keyName = GoValues.TypeName(keyType);
        if (index is NoValue or null)
        {
            throw new TemplateFunctionException($"value is nil; should be of type {keyName}");
        }

        if (keyType == typeof(object) || keyType.IsInstanceOfType(index))
        {
            return index;
        }

        if (GoValues.IsIntegral(index) && (keyType == typeof(long) || keyType == typeof(int) || keyType == typeof(short) || keyType == typeof(sbyte)
            || keyType == typeof(ulong) || keyType == typeof(uint) || keyType == typeof(ushort) || keyType == typeof(byte)))
        {
            return Convert.ChangeType(GoValues.ToLong(index), keyType, System.Globalization.CultureInfo.InvariantCulture);
        }

        throw new TemplateFunctionException($"value has type {GoValues.TypeName(index)}; should be {keyName}");
    }

    private static object? ZeroFor(IDictionary map)
    {
        var generic = map.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        var elementType = generic?.GetGenericArguments()[1];
        if (elementType == typeof(string))
        {
            return string.Empty;
        }

        return elementType is { IsValueType: true } ? GoValues.Normalize(Activator.CreateInstance(elementType)) : null;
    }

    private static object Slice(object? item, List<object?> indexes)
    {
        item = IndirectInterface(item);
        if (item is NoValue)
        {
            throw new TemplateFunctionException("slice of untyped nil");
        }

        if (indexes.Count > 3)
        {
            throw new TemplateFunctionException($"too many slice indexes: {indexes.Count}");
        }

        int cap;
        int length;
        switch (item)
        {
            case string s:
                if (indexes.Count == 3)
                {
                    throw new TemplateFunctionException("cannot 3-index slice a string");
                }

                cap = length = Encoding.UTF8.GetByteCount(s);
                break;
            case IList list:
                cap = length = list.Count;
                break;
            default:
                throw new TemplateFunctionException($"can't slice item of type {GoValues.TypeName(item)}");
        }

        int[] idx = [0, length, 0];
        for (var i = 0; i < indexes.Count; i++)
        {
            idx[i] = IndexArg(indexes[i], cap);
        }

        if (idx[0] > idx[1])
        {
            throw new TemplateFunctionException($"invalid slice index: {idx[0]} > {idx[1]}");
        }

        if (indexes.Count == 3 && idx[1] > idx[2])
        {
            throw new TemplateFunctionException($"invalid slice index: {idx[1]} > {idx[2]}");
        }

        if (item is string str)
        {
            return SprigFunctions.SliceBytes(Encoding.UTF8.GetBytes(str), idx[0], idx[1]);
        }

        var source = (IList)item;
        var result = CreateListLike(source);
        for (var i = idx[0]; i < idx[1]; i++)
        {
            result.Add(source[i]);
        }

        return result;
    }

    /// <summary>A new empty list with the same element type as <paramref name="source"/>.</summary>
    internal static IList CreateListLike(IList source)
    {
        var t = source.GetType();
        var elementType = t.IsArray
            ? t.GetElementType()!
            : t.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IList<>))?.GetGenericArguments()[0] ?? typeof(object);
        return (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))!;
    }

    private static (BasicKind Kind, bool Ok) GetBasicKind(object? v)
    {
        v = GoValues.Normalize(v);
        return v switch
        {
            bool => (BasicKind.Bool, true),
            long or GoInt64 => (BasicKind.Int, true),
            double => (BasicKind.Float, true),
            System.Numerics.Complex => (BasicKind.Complex, true),
            string => (BasicKind.String, true),
            _ => (BasicKind.Invalid, false),
        };
    }

    private static bool Eq(object? arg1, List<object?> arg2)
    {
        arg1 = GoValues.Normalize(IndirectInterface(arg1));
        if (arg2.Count == 0)
        {
            throw new TemplateFunctionException("missing argument for comparison");
        }

        var (k1, _) = GetBasicKind(arg1);
        foreach (var raw in arg2)
        {
            var arg = GoValues.Normalize(IndirectInterface(raw));
            var (k2, _) = GetBasicKind(arg);
            bool truth;
            if (k1 != k2)
            {
                if (arg1 is not NoValue && arg is not NoValue)
                {
                    throw new TemplateFunctionException("incompatible types for comparison");
                }

                truth = false;
            }
            else
            {
                switch (k1)
                {
                    case BasicKind.Int:
                        truth = GoValues.ToLong(arg1!) == GoValues.ToLong(arg!);
                        break;
                    case BasicKind.Bool or BasicKind.Float or BasicKind.Complex or BasicKind.String:
                        truth = Equals(arg1, arg);
                        break;
                    default:
                        if (arg1 is NoValue || arg is NoValue)
                        {
                            truth = arg1 is NoValue && arg is NoValue;
                            break;
                        }

                        if (arg1 is IList or IDictionary || arg1 is Delegate)
                        {
                            throw new TemplateFunctionException($"non-comparable type {GoFormatter.Sprintf("%s", arg1)}: {GoValues.TypeName(arg1)}");
                        }

                        if (arg is IList or IDictionary || arg is Delegate)
                        {
                            throw new TemplateFunctionException($"non-comparable type {GoFormatter.Sprintf("%s", arg)}: {GoValues.TypeName(arg)}");
                        }

                        if (arg1!.GetType() != arg!.GetType())
                        {
                            throw new TemplateFunctionException($"non-comparable types {GoFormatter.Sprintf("%s", arg1)}: {GoValues.TypeName(arg1)}, {GoValues.TypeName(arg)}: {GoFormatter.Sprint(arg)}");
                        }

                        truth = arg1.Equals(arg);
                        break;
                }
            }

            if (truth)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Lt(object? arg1, object? arg2)
    {
        arg1 = GoValues.Normalize(IndirectInterface(arg1));
        var (k1, ok1) = GetBasicKind(arg1);
        if (!ok1)
        {
            throw new TemplateFunctionException("invalid type for comparison");
        }

        arg2 = GoValues.Normalize(IndirectInterface(arg2));
        var (k2, ok2) = GetBasicKind(arg2);
        if (!ok2)
        {
            throw new TemplateFunctionException("invalid type for comparison");
        }

        if (k1 != k2)
        {
            throw new TemplateFunctionException("incompatible types for comparison");
        }

        return k1 switch
        {
            BasicKind.Bool or BasicKind.Complex => throw new TemplateFunctionException("invalid type for comparison"),
            BasicKind.Float => (double)arg1! < (double)arg2!,
            BasicKind.Int => GoValues.ToLong(arg1!) < GoValues.ToLong(arg2!),
            _ => GoValues.CompareUtf8((string)arg1!, (string)arg2!) < 0,
        };
    }

    private static bool Le(object? arg1, object? arg2) => Lt(arg1, arg2) || Eq(arg1, [arg2]);
}
