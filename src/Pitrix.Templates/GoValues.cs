using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace Pitrix.Templates;

/// <summary>The "invalid reflect.Value" of Go: what a missing map key evaluates to. It prints as &lt;no value&gt;.</summary>
internal sealed class NoValue
{
    public static readonly NoValue Instance = new();

    private NoValue()
    {
    }

    public override string ToString() => "<no value>";
}

internal enum GoKind
{
    Invalid,
    Nil,
    Bool,
    Int,
    Float,
    Complex,
    String,
    Slice,
    Map,
    Struct,
    Func,
}

/// <summary>How CLR values map onto Go's kinds and type names.</summary>
internal static class GoValues
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> _propertyCache = new();
    private static readonly ConcurrentDictionary<Type, string> _typeNameCache = new();
    private static readonly ConcurrentDictionary<Type, (bool InterfaceElements, bool StringKeys)> _containerCache = new();

    public static bool IsIntegral(object? v) =>
        v is long or GoInt64 or int or short or sbyte or byte or ushort or uint or ulong;

    public static bool IsFloat(object? v) => v is double or float or decimal;

    public static bool IsComplex(object? v) => v is System.Numerics.Complex;

    public static long ToLong(object v) => v switch
    {
        long l => l,
        int i => i,
        short s => s,
        sbyte sb => sb,
        byte b => b,
        ushort us => us,
        uint ui => ui,
        ulong ul => unchecked((long)ul),
        GoInt64 g => g.Value,
        _ => throw new InvalidCastException(),
    };

    public static double ToDouble(object v) => v switch
    {
        double d => d,
        float f => f,
        decimal m => (double)m,
        _ => ToLong(v),
    };

    public static GoKind Kind(object? v) => v switch
    {
        NoValue => GoKind.Invalid,
        null => GoKind.Nil,
        bool => GoKind.Bool,
        string => GoKind.String,
        _ when IsIntegral(v) => GoKind.Int,
        _ when IsFloat(v) => GoKind.Float,
        System.Numerics.Complex => GoKind.Complex,
        IDictionary => GoKind.Map,
        IList => GoKind.Slice,
        Delegate or TemplateFunction => GoKind.Func,
        _ => GoKind.Struct,
    };

    /// <summary>Normalizes CLR numbers to long/double so the rest of the engine sees Go's int and float64.</summary>
    public static object? Normalize(object? v) => v switch
    {
        long or double or string or bool or null or GoInt64 => v,
        _ when IsIntegral(v) => ToLong(v!),
        float f => (double)f,
        decimal m => (double)m,
        _ => v,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "<nil>",
        NoValue => "<invalid>",
        _ => TypeName(v.GetType()),
    };

    public static string TypeName(Type t) => _typeNameCache.GetOrAdd(t, ComputeTypeName);

    private static string ComputeTypeName(Type t)
    {
        if (t == typeof(object))
        {
            return "interface {}";
        }

        if (t == typeof(string))
        {
            return "string";
        }

        if (t == typeof(bool))
        {
            return "bool";
        }

        if (t == typeof(double))
        {
            return "float64";
        }

        if (t == typeof(System.Numerics.Complex))
        {
            return "complex128";
        }

        if (t == typeof(float))
        {
            return "float32";
        }

        if (t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(sbyte))
        {
            return "int";
        }

        if (t == typeof(GoInt64))
        {
            return "int64";
        }

        if (t == typeof(byte))
        {
            return "uint8";
        }

        if (t == typeof(ulong))
        {
            return "uint64";
        }

        if (t == typeof(uint) || t == typeof(ushort))
        {
            return "uint";
        }

        if (typeof(Delegate).IsAssignableFrom(t) || t == typeof(TemplateFunction))
        {
            return "func";
        }

        if (t.IsArray)
        {
            return "[]" + TypeName(t.GetElementType()!);
        }

        var dictionary = FindGeneric(t, typeof(IDictionary<,>));
        if (dictionary != null)
        {
            var args = dictionary.GetGenericArguments();
            return "map[" + TypeName(args[0]) + "]" + TypeName(args[1]);
        }

        if (typeof(IDictionary).IsAssignableFrom(t))
        {
            return "map[string]interface {}";
        }

        var list = FindGeneric(t, typeof(IList<>));
        if (list != null)
        {
            return "[]" + TypeName(list.GetGenericArguments()[0]);
        }

        if (typeof(IList).IsAssignableFrom(t))
        {
            return "[]interface {}";
        }

        return "main." + t.Name;
    }

    /// <summary>Whether the elements of a map or slice are typed <c>interface {}</c> in Go terms.</summary>
    public static bool HasInterfaceElements(object container) => Container(container.GetType()).InterfaceElements;

    /// <summary>Whether a map's keys are strings (or untyped), so that <c>.key</c> can look them up.</summary>
    public static bool HasStringKeys(object map) => Container(map.GetType()).StringKeys;

    private static (bool InterfaceElements, bool StringKeys) Container(Type type) => _containerCache.GetOrAdd(type, static t =>
    {
        if (t.IsArray)
        {
            return (t.GetElementType() == typeof(object), false);
        }

        var dictionary = FindGeneric(t, typeof(IDictionary<,>));
        if (dictionary != null)
        {
            var args = dictionary.GetGenericArguments();
            return (args[1] == typeof(object), args[0] == typeof(string) || args[0] == typeof(object));
        }

        var list = FindGeneric(t, typeof(IList<>));
        return (list == null || list.GetGenericArguments()[0] == typeof(object), true);
    });

    private static Type? FindGeneric(Type t, Type openGeneric)
    {
        if (t.IsGenericType && t.GetGenericTypeDefinition() == openGeneric)
        {
            return t;
        }

        return t.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == openGeneric);
    }

    /// <summary>Public instance properties of a plain object, in declaration order (Go's struct field order).</summary>
    public static PropertyInfo[] Properties(Type t) =>
        _propertyCache.GetOrAdd(t, static type => type
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead)
            .OrderBy(p => p.MetadataToken)
            .ToArray());

    /// <summary>Go's isTrue.</summary>
    public static (bool Truth, bool Ok) IsTrue(object? v)
    {
        switch (v)
        {
            case NoValue or null:
                return (false, true);
            case bool b:
                return (b, true);
            case string s:
                return (s.Length > 0, true);
            case IDictionary d:
                return (d.Count > 0, true);
            case IList l:
                return (l.Count > 0, true);
            case Delegate or TemplateFunction:
                return (true, true);
        }

        if (IsIntegral(v))
        {
            return (ToLong(v) != 0, true);
        }

        if (IsFloat(v))
        {
            return (ToDouble(v) != 0, true);
        }

        if (v is System.Numerics.Complex c)
        {
            return (c != System.Numerics.Complex.Zero, true);
        }

        return (true, true);
    }

    public static bool Truth(object? v) => IsTrue(v).Truth;

    /// <summary>Map keys sorted as Go's fmt and range sort them.</summary>
    public static List<object> SortedKeys(IDictionary d)
    {
        var keys = new List<object>();
        foreach (var k in d.Keys)
        {
            keys.Add(k);
        }

        keys.Sort(CompareKeys);
        return keys;
    }

    private static int CompareKeys(object a, object b)
    {
        if (a is string sa && b is string sb)
        {
            return CompareUtf8(sa, sb);
        }

        if (IsIntegral(a) && IsIntegral(b))
        {
            return ToLong(a).CompareTo(ToLong(b));
        }

        if ((IsFloat(a) || IsIntegral(a)) && (IsFloat(b) || IsIntegral(b)))
        {
            return ToDouble(a).CompareTo(ToDouble(b));
        }

        return string.CompareOrdinal(a.ToString(), b.ToString());
    }

    /// <summary>Compares strings by their UTF-8 bytes, as Go does.</summary>
    public static int CompareUtf8(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var ca = a[i];
            var cb = b[i];
            if (ca == cb)
            {
                continue;
            }

            // Surrogates (U+10000 and up) sort after U+E000-U+FFFF in UTF-8 but before them in UTF-16.
            var sa = char.IsSurrogate(ca);
            var sb = char.IsSurrogate(cb);
            if (sa != sb)
            {
                return sa ? 1 : -1;
            }

            return ca.CompareTo(cb);
        }

        return a.Length.CompareTo(b.Length);
    }
}

/// <summary>
/// A Go <c>int64</c>, distinct from Go's <c>int</c> (a plain <see cref="long"/> here). Sprig's arithmetic returns
/// int64, and Go refuses to pass one where an <c>int</c> parameter is expected; keeping the type apart keeps that behaviour.
/// </summary>
public readonly record struct GoInt64(long Value)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
