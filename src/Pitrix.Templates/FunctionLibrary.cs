namespace Pitrix.Templates;

/// <summary>The Go parameter types a template function can declare; arguments are checked and converted as Go's reflection would.</summary>
public enum GoParam
{
    /// <summary><c>interface{}</c>: any value; a missing value arrives as null.</summary>
    Any,

    /// <summary><c>string</c>.</summary>
    String,

    /// <summary><c>int</c>, delivered as <see cref="long"/>.</summary>
    Int,

    /// <summary><c>float64</c>, delivered as <see cref="double"/>.</summary>
    Float64,

    /// <summary><c>bool</c>.</summary>
    Bool,

    /// <summary><c>[]string</c>, delivered as <see cref="IList{T}"/> of string.</summary>
    StringSlice,

    /// <summary><c>[]interface{}</c>, delivered as <see cref="System.Collections.IList"/>.</summary>
    AnySlice,

    /// <summary><c>map[string]interface{}</c>, delivered as <see cref="System.Collections.IDictionary"/>.</summary>
    Map,

    /// <summary><c>reflect.Value</c>: the raw value, which may be the engine's "no value" marker.</summary>
    Value,
}

/// <summary>What a function sees when it is called: its converted arguments and the running execution.</summary>
public sealed class FunctionCall
{
    internal FunctionCall(object?[] args, Execution execution)
    {
        Args = args;
        Execution = execution;
    }

    /// <summary>The arguments, converted to the declared parameter types; variadic ones are flattened at the end.</summary>
    public IReadOnlyList<object?> Args { get; }

    /// <summary>The execution in progress, for functions such as <c>include</c> and <c>tpl</c>.</summary>
    public Execution Execution { get; }

    /// <summary>The options of the running execution.</summary>
    public TemplateOptions Options => Execution.Options;
}

/// <summary>A named function callable from templates.</summary>
public sealed class TemplateFunction
{
    public TemplateFunction(string name, IReadOnlyList<GoParam> parameters, bool isVariadic, Func<FunctionCall, object?> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (isVariadic && parameters.Count == 0)
        {
            throw new ArgumentException("A variadic function needs at least one parameter.", nameof(parameters));
        }

        Name = name;
        Parameters = parameters;
        IsVariadic = isVariadic;
        Body = body;
    }

    public string Name { get; }

    /// <summary>Declared parameters; when <see cref="IsVariadic"/> the last one repeats.</summary>
    public IReadOnlyList<GoParam> Parameters { get; }

    public bool IsVariadic { get; }

    public Func<FunctionCall, object?> Body { get; }
}

/// <summary>
/// A set of functions templates may call, on top of Go's built-ins. Libraries such as Sprig and confd
/// register into it (<c>library.AddSprig()</c>). Functions must stay sandboxed: no file, environment,
/// network or process access.
/// </summary>
public sealed class FunctionLibrary
{
    private readonly Dictionary<string, TemplateFunction> _functions = new(StringComparer.Ordinal);

    public IEnumerable<string> Names => _functions.Keys;

    /// <summary>Adds or replaces a function.</summary>
    public FunctionLibrary Add(TemplateFunction function)
    {
        _functions[function.Name] = function;
        return this;
    }

    /// <summary>Adds a function with typed parameters.</summary>
    public FunctionLibrary Add(string name, GoParam[] parameters, Func<object?[], object?> body, bool isVariadic = false) =>
        Add(new TemplateFunction(name, parameters, isVariadic, call => body([.. call.Args])));

    /// <summary>Adds a function with typed parameters that needs the running execution (options, other templates).</summary>
    public FunctionLibrary AddWithExecution(string name, GoParam[] parameters, Func<FunctionCall, object?> body, bool isVariadic = false) =>
        Add(new TemplateFunction(name, parameters, isVariadic, body));

    /// <summary>Adds a function taking any number of untyped arguments.</summary>
    public FunctionLibrary Add(string name, Func<object?[], object?> body) =>
        Add(name, [GoParam.Any], body, isVariadic: true);

    public bool Contains(string name) => _functions.ContainsKey(name);

    public TemplateFunction? Find(string name) => _functions.GetValueOrDefault(name);

    /// <summary>Copies every function of <paramref name="other"/> into this library.</summary>
    public FunctionLibrary AddAll(FunctionLibrary other)
    {
        foreach (var f in other._functions.Values)
        {
            _functions[f.Name] = f;
        }

        return this;
    }
}
