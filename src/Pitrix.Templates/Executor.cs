using System.Collections;
using System.Diagnostics;

namespace Pitrix.Templates;

/// <summary>A value during execution plus whether Go would see it through an <c>interface {}</c> (for error messages and nil checks).</summary>
internal readonly record struct Val(object? Obj, bool Iface = false)
{
    public static readonly Val Invalid = new(NoValue.Instance);

    public bool IsValid => Obj is not NoValue;
}

/// <summary>Marks "no value was piped in" (Go's missingVal), distinct from every real value.</summary>
internal sealed class MissingFinal
{
    public static readonly MissingFinal Instance = new();
}

internal enum Flow
{
    Normal,
    Break,
    Continue,
}

/// <summary>
/// One execution of a template: a port of Go's text/template exec.go. It is also what functions such as
/// <c>include</c> and <c>tpl</c> use to run other templates within the same limits.
/// </summary>
public sealed class Execution
{
    private const int CheckEvery = 256;

    private readonly TemplateSet _set;
    private readonly LimitedWriter _writer;
    private readonly CancellationToken _cancellationToken;
    private long _startedAt = Stopwatch.GetTimestamp();
    private readonly List<(string Name, Val Value)> _vars = [];
    private ParseTree _tree;
    private string _templateName;
    private Node? _node;
    private int _depth;
    private long _rangeIterations;
    private int _steps;

    internal Execution(TemplateSet set, ParseTree tree, string templateName, TextWriter writer, CancellationToken cancellationToken)
    {
        _set = set;
        _tree = tree;
        _templateName = templateName;
        _writer = new LimitedWriter(writer, set.Options.MaxOutputBytes);
        _cancellationToken = cancellationToken;
    }

    /// <summary>The options this execution runs under.</summary>
    public TemplateOptions Options => _set.Options;

    /// <summary>The template set being executed.</summary>
    public TemplateSet Set => _set;

    internal void Run(object? data)
    {
        var dot = new Val(data ?? NoValue.Instance);
        _vars.Add(("$", dot));
        try
        {
            Walk(dot, _tree.Root!);
        }
        catch (LimitException e)
        {
            throw Error(TemplateErrorCodes.LimitExceeded, e.Message);
        }
    }

    /// <summary>Executes the named template with <paramref name="data"/> into a string, as Helm's <c>include</c> does.</summary>
    public string ExecuteTemplate(string name, object? data)
    {
        var tree = _set.LookupTree(name) ?? throw new TemplateFunctionException($"template: no template {GoFormatter.Quote(name)} associated with template {GoFormatter.Quote(_templateName)}");
        return RunNested(tree, name, data);
    }

    /// <summary>Parses <paramref name="text"/> as a template that can see this set's templates, and executes it.</summary>
    public string ExecuteText(string name, string text, object? data)
    {
        var clone = _set.Clone();
        var template = clone.Parse(name, text);
        var tree = clone.LookupTree(template.Name)!;
        return RunNested(tree, name, data, clone);
    }

    private string RunNested(ParseTree tree, string name, object? data, TemplateSet? set = null)
    {
        if (_depth + 1 > _set.Options.MaxRecursionDepth)
        {
            throw new LimitException($"exceeded maximum template depth ({_set.Options.MaxRecursionDepth})");
        }

        using var buffer = new StringWriter();
        var nested = new Execution(set ?? _set, tree, name, buffer, _cancellationToken)
        {
            _depth = _depth + 1,
            _rangeIterations = _rangeIterations,
            _startedAt = _startedAt,
        };
        nested._writer.Budget = _writer.Remaining;
        try
        {
            nested.Run(data);
        }
        finally
        {
            _rangeIterations = nested._rangeIterations;
        }

        return buffer.ToString();
    }

    private TemplateException Error(string code, string message)
    {
        var name = _templateName;
        if (_node == null)
        {
            return new TemplateException(code, $"template: {name}: {message}", name, 0, 0);
        }

        var (location, context) = _tree.ErrorContext(_node);
        var parts = location.Split(':');
        var line = int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture);
        var column = int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture);
        return new TemplateException(
            code,
            $"template: {location}: executing {GoFormatter.Quote(name)} at <{context}>: {message}",
            name,
            line,
            column);
    }

    private TemplateException Errorf(string message) => Error(TemplateErrorCodes.ExecError, message);

    private void At(Node node) => _node = node;

    private void Step()
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error(TemplateErrorCodes.LimitExceeded, "execution nested too deeply for the available stack");
        }

        if (++_steps % CheckEvery != 0)
        {
            return;
        }

        _cancellationToken.ThrowIfCancellationRequested();
        if (Stopwatch.GetElapsedTime(_startedAt) > _set.Options.Timeout)
        {
            throw Error(TemplateErrorCodes.LimitExceeded, $"execution exceeded the time limit of {_set.Options.Timeout.TotalSeconds:0.###}s");
        }
    }

    private Flow Walk(Val dot, Node node)
    {
        At(node);
        Step();
        switch (node)
        {
            case ActionNode action:
                {
                    var val = EvalPipeline(dot, action.Pipe);
                    if (action.Pipe.Decl.Count == 0)
                    {
                        PrintValue(action, val);
                    }

                    return Flow.Normal;
                }

            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            case CommentNode:
                return Flow.Normal;
            case ListNode list:
                foreach (var n in list.Nodes)
                {
                    var flow = Walk(dot, n);
                    if (flow != Flow.Normal)
                    {
                        return flow;
                    }
                }

                return Flow.Normal;
            case BranchNode { Kind: BranchKind.Range } range:
                return WalkRange(dot, range);
            case BranchNode branch:
                return WalkIfOrWith(dot, branch);
            case TemplateNode template:
                WalkTemplate(dot, template);
                return Flow.Normal;
            case TextNode text:
                Write(text.Text);
                return Flow.Normal;
            default:
                throw Errorf($"unknown node: {node}");
        }
    }

    private void Write(string s)
    {
        try
        {
            _writer.Write(s);
        }
        catch (LimitException e)
        {
            throw Error(TemplateErrorCodes.LimitExceeded, e.Message);
        }
    }

    private Flow WalkIfOrWith(Val dot, BranchNode node)
    {
        var mark = _vars.Count;
        try
        {
            var val = EvalPipeline(dot, node.Pipe);
            var (truth, ok) = GoValues.IsTrue(val.Obj);
            if (!ok)
            {
                throw Errorf($"if/with can't use {GoFormatter.Sprint(val.Obj)}");
            }

            if (truth)
            {
                return Walk(node.Kind == BranchKind.With ? val : dot, node.List);
            }

            if (node.ElseList != null)
            {
                return Walk(dot, node.ElseList);
            }

            return Flow.Normal;
        }
        finally
        {
            Pop(mark);
        }
    }

    private Flow WalkRange(Val dot, BranchNode r)
    {
        At(r);
        var outerMark = _vars.Count;
        try
        {
            var val = EvalPipeline(dot, r.Pipe);
            var mark = _vars.Count;

            // Returns false when the loop must stop (break).
            bool OneIteration(Val index, Val elem)
            {
                CountIteration();
                if (r.Pipe.Decl.Count > 0)
                {
                    if (r.Pipe.IsAssign)
                    {
                        SetVar(r.Pipe.Decl[0].Ident[0], r.Pipe.Decl.Count > 1 ? index : elem);
                    }
                    else
                    {
                        SetTopVar(1, elem);
                    }
                }

                if (r.Pipe.Decl.Count > 1)
                {
                    if (r.Pipe.IsAssign)
                    {
                        SetVar(r.Pipe.Decl[1].Ident[0], elem);
                    }
                    else
                    {
                        SetTopVar(2, index);
                    }
                }

                try
                {
                    return Walk(elem, r.List) != Flow.Break;
                }
                finally
                {
                    Pop(mark);
                }
            }

            switch (val.Obj)
            {
                case string:
                    throw Errorf($"range can't iterate over {GoFormatter.Sprint(val.Obj)}");
                case IList list when list.Count > 0:
                    {
                        var iface = GoValues.HasInterfaceElements(list);
                        for (var i = 0; i < list.Count; i++)
                        {
                            if (!OneIteration(new Val((long)i), new Val(Elem(list[i], iface), iface)))
                            {
                                break;
                            }
                        }

                        return Flow.Normal;
                    }

                case IDictionary map when map.Count > 0:
                    {
                        var iface = GoValues.HasInterfaceElements(map);
                        foreach (var key in GoValues.SortedKeys(map))
                        {
                            if (!OneIteration(new Val(key), new Val(Elem(map[key], iface), iface)))
                            {
                                break;
                            }
                        }

                        return Flow.Normal;
                    }

                case IList or IDictionary or NoValue:
                    break;
                case var n when GoValues.IsIntegral(n):
                    {
                        if (r.Pipe.Decl.Count > 1)
                        {
                            throw Errorf($"can't use {GoFormatter.Sprint(val.Obj)} to iterate over more than one variable");
                        }

                        var count = GoValues.ToLong(n!);
                        if (count <= 0)
                        {
                            break;
                        }

                        for (long i = 0; i < count; i++)
                        {
                            if (!OneIteration(Val.Invalid, new Val(n is GoInt64 ? new GoInt64(i) : i)))
                            {
                                break;
                            }
                        }

                        return Flow.Normal;
                    }

                default:
                    throw Errorf($"range can't iterate over {GoFormatter.Sprint(val.Obj)}");
            }

            if (r.ElseList != null)
            {
                // Go's range recovers a break raised anywhere in its walk, including its else branch.
                var flow = Walk(dot, r.ElseList);
                return flow == Flow.Break ? Flow.Normal : flow;
            }

            return Flow.Normal;
        }
        finally
        {
            Pop(outerMark);
        }
    }

    private static object? Elem(object? value, bool iface) => iface ? value : GoValues.Normalize(value);

    private void CountIteration()
    {
        Step();
        if (++_rangeIterations > _set.Options.MaxRangeIterations)
        {
            throw Error(TemplateErrorCodes.LimitExceeded, $"range iterations exceeded the limit of {_set.Options.MaxRangeIterations}");
        }
    }

    private void WalkTemplate(Val dot, TemplateNode t)
    {
        At(t);
        var tree = _set.LookupTree(t.Name) ?? throw Errorf($"template {GoFormatter.Quote(t.Name)} not defined");
        if (_depth >= _set.Options.MaxRecursionDepth)
        {
            throw Error(TemplateErrorCodes.LimitExceeded, $"exceeded maximum template depth ({_set.Options.MaxRecursionDepth})");
        }

        var newDot = t.Pipe == null ? Val.Invalid : EvalPipeline(dot, t.Pipe);
        var saved = (_tree, _templateName, _vars.ToArray());
        _depth++;
        _tree = tree;
        _templateName = t.Name;
        _vars.Clear();
        _vars.Add(("$", newDot));
        try
        {
            Walk(newDot, tree.Root!);
        }
        finally
        {
            _depth--;
            (_tree, _templateName, var vars) = saved;
            _vars.Clear();
            _vars.AddRange(vars);
        }
    }

    private Val EvalPipeline(Val dot, PipeNode pipe)
    {
        At(pipe);
        object? final = MissingFinal.Instance;
        Val value = Val.Invalid;
        foreach (var cmd in pipe.Cmds)
        {
            value = EvalCommand(dot, cmd, final);

            // A value of static type interface {} is unwrapped: a nil interface becomes the invalid value.
            value = new Val(value.Obj ?? NoValue.Instance);
            final = value.Obj;
        }

        foreach (var variable in pipe.Decl)
        {
            if (pipe.IsAssign)
            {
                SetVar(variable.Ident[0], value);
            }
            else
            {
                _vars.Add((variable.Ident[0], value));
            }
        }

        return value;
    }

    private void NotAFunction(List<Node> args, object? final)
    {
        if (args.Count > 1 || final is not MissingFinal)
        {
            throw Errorf($"can't give argument to non-function {args[0]}");
        }
    }

    private Val EvalCommand(Val dot, CommandNode cmd, object? final)
    {
        var firstWord = cmd.Args[0];
        switch (firstWord)
        {
            case FieldNode field:
                return EvalFieldNode(dot, field, cmd.Args, final);
            case ChainNode chain:
                return EvalChainNode(dot, chain, cmd.Args, final);
            case IdentifierNode identifier:
                return EvalFunction(dot, identifier, cmd, cmd.Args, final);
            case PipeNode pipe:
                NotAFunction(cmd.Args, final);
                return EvalPipeline(dot, pipe);
            case VariableNode variable:
                return EvalVariableNode(dot, variable, cmd.Args, final);
        }

        At(firstWord);
        NotAFunction(cmd.Args, final);
        return firstWord switch
        {
            BoolNode b => new Val(b.True),
            DotNode => dot,
            NilNode => throw Errorf("nil is not a command"),
            NumberNode number => new Val(IdealConstant(number)),
            StringNode s => new Val(s.Text),
            _ => throw Errorf($"can't evaluate command {GoFormatter.Quote(firstWord.ToString())}"),
        };
    }

    private object IdealConstant(NumberNode constant)
    {
        At(constant);
        var text = constant.Text;
        var isHexInt = text.Length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && text.IndexOfAny(['p', 'P']) < 0;
        var isRuneInt = text.Length > 0 && text[0] == '\'';
        if (constant.IsComplex)
        {
            return constant.Complex128;
        }

        if (constant.IsFloat && !isHexInt && !isRuneInt && text.IndexOfAny(['.', 'e', 'E', 'p', 'P']) >= 0)
        {
            return constant.Float64;
        }

        if (constant.IsInt)
        {
            return constant.Int64;
        }

        if (constant.IsUint)
        {
            throw Errorf($"{text} overflows int");
        }

        return NoValue.Instance;
    }

    private Val EvalFieldNode(Val dot, FieldNode field, List<Node> args, object? final)
    {
        At(field);
        return EvalFieldChain(dot, dot, field, field.Ident, args, final);
    }

    private Val EvalChainNode(Val dot, ChainNode chain, List<Node> args, object? final)
    {
        At(chain);
        if (chain.Target is NilNode)
        {
            throw Errorf($"indirection through explicit nil in {chain}");
        }

        var pipe = EvalArg(dot, GoParam.Any, chain.Target, rawValue: true);
        return EvalFieldChain(dot, pipe, chain, chain.Field, args, final);
    }

    private Val EvalVariableNode(Val dot, VariableNode variable, List<Node> args, object? final)
    {
        At(variable);
        var value = VarValue(variable.Ident[0]);
        if (variable.Ident.Length == 1)
        {
            NotAFunction(args, final);
            return value;
        }

        return EvalFieldChain(dot, value, variable, variable.Ident[1..], args, final);
    }

    private Val EvalFieldChain(Val dot, Val receiver, Node node, IReadOnlyList<string> ident, List<Node>? args, object? final)
    {
        var n = ident.Count;
        for (var i = 0; i < n - 1; i++)
        {
            receiver = EvalField(ident[i], null, MissingFinal.Instance, receiver);
        }

        return EvalField(ident[n - 1], args, final, receiver);
    }

    private Val EvalField(string fieldName, List<Node>? args, object? final, Val receiver)
    {
        if (!receiver.IsValid)
        {
            if (_set.Options.MissingKey == MissingKeyMode.Error)
            {
                throw Errorf($"nil data; no entry for key {GoFormatter.Quote(fieldName)}");
            }

            return Val.Invalid;
        }

        var obj = receiver.Obj;
        var typeName = receiver.Iface ? "interface {}" : GoValues.TypeName(obj);
        if (obj == null)
        {
            throw Errorf($"nil pointer evaluating {typeName}.{fieldName}");
        }

        var hasArgs = (args != null && args.Count > 1) || final is not MissingFinal;
        switch (obj)
        {
            case IDictionary map when MapHasStringKeys(map):
                {
                    if (hasArgs)
                    {
                        throw Errorf($"{fieldName} is not a method but has arguments");
                    }

                    var iface = GoValues.HasInterfaceElements(map);
                    if (map.Contains(fieldName))
                    {
                        return new Val(Elem(map[fieldName], iface), iface);
                    }

                    return _set.Options.MissingKey switch
                    {
                        MissingKeyMode.Zero => new Val(ZeroOfElement(map), iface),
                        MissingKeyMode.Error => throw Errorf($"map has no entry for key {GoFormatter.Quote(fieldName)}"),
                        _ => Val.Invalid,
                    };
                }

            case IDictionary or IList or string or bool or Delegate or TemplateFunction:
                break;
            case var _ when GoValues.IsIntegral(obj) || GoValues.IsFloat(obj):
                break;
            default:
                {
                    var property = Array.Find(GoValues.Properties(obj.GetType()), p => p.Name == fieldName);
                    if (property != null)
                    {
                        if (hasArgs)
                        {
                            throw Errorf($"{fieldName} has arguments but cannot be invoked as function");
                        }

                        var iface = property.PropertyType == typeof(object);
                        return new Val(Elem(property.GetValue(obj), iface), iface);
                    }

                    break;
                }
        }

        throw Errorf($"can't evaluate field {fieldName} in type {typeName}");
    }

    private static bool MapHasStringKeys(IDictionary map) => GoValues.HasStringKeys(map);

    private static object? ZeroOfElement(IDictionary map)
    {
        var generic = map.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        var elementType = generic?.GetGenericArguments()[1];
        if (elementType == null || elementType == typeof(object))
        {
            return null;
        }

        if (elementType == typeof(string))
        {
            return string.Empty;
        }

        return elementType.IsValueType ? GoValues.Normalize(Activator.CreateInstance(elementType)) : null;
    }

    private Val EvalFunction(Val dot, IdentifierNode node, Node cmd, List<Node>? args, object? final)
    {
        At(node);
        var name = node.Ident;
        var function = _set.Functions.Find(name);
        if (function != null)
        {
            return EvalCall(dot, function, false, cmd, name, args, final);
        }

        if (Builtins.Functions.TryGetValue(name, out var builtin))
        {
            return EvalCall(dot, builtin, true, cmd, name, args, final);
        }

        throw Errorf($"{GoFormatter.Quote(name)} is not a defined function");
    }

    private Val EvalCall(Val dot, TemplateFunction fun, bool isBuiltin, Node node, string name, List<Node>? argNodes, object? final)
    {
        var args = argNodes == null ? [] : argNodes.Skip(1).ToList();
        var numIn = args.Count;
        if (final is not MissingFinal)
        {
            numIn++;
        }

        var parameterCount = fun.Parameters.Count;
        var numFixed = args.Count;
        if (fun.IsVariadic)
        {
            numFixed = parameterCount - 1;
            if (numIn < numFixed)
            {
                throw Errorf($"wrong number of args for {name}: want at least {parameterCount - 1} got {args.Count}");
            }
        }
        else if (numIn != parameterCount)
        {
            throw Errorf($"wrong number of args for {name}: want {parameterCount} got {numIn}");
        }

        if (isBuiltin && name is "and" or "or")
        {
            object? v = NoValue.Instance;
            foreach (var arg in args)
            {
                v = EvalArg(dot, GoParam.Value, arg).Obj;
                if (GoValues.Truth(Builtins.IndirectInterface(v)) == (name == "or"))
                {
                    return new Val(v);
                }
            }

            if (final is not MissingFinal)
            {
                v = final;
            }

            return new Val(v);
        }

        var argv = new object?[numIn];
        var i = 0;
        for (; i < numFixed && i < args.Count; i++)
        {
            argv[i] = EvalArg(dot, fun.Parameters[i], args[i]).Obj;
        }

        if (fun.IsVariadic)
        {
            var argType = fun.Parameters[^1];
            for (; i < args.Count; i++)
            {
                argv[i] = EvalArg(dot, argType, args[i]).Obj;
            }
        }

        if (final is not MissingFinal)
        {
            var t = fun.Parameters[^1];
            if (fun.IsVariadic && numIn - 1 < numFixed)
            {
                t = fun.Parameters[numIn - 1];
            }

            argv[i] = ValidateType(new Val(final), t).Obj;
        }

        object? result;
        try
        {
            result = fun.Body(new FunctionCall(argv, this));
        }
        catch (TemplateException e) when (e.Code != TemplateErrorCodes.LimitExceeded)
        {
            At(node);
            throw Error(e.Code, $"error calling {name}: {e.Message}");
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            At(node);
            throw Error(TemplateErrorCodes.LimitExceeded, $"error calling {name}: regular expression match exceeded the time limit of {_set.Options.RegexTimeout.TotalSeconds:0.###}s");
        }

        // Failures a function reports (or the Go panics Sprig would raise) become Go's "error calling" error;
        // limits, cancellation and genuine bugs propagate unchanged.
        catch (Exception e) when (e is TemplateFunctionException or ArgumentException or InvalidOperationException or FormatException
            or OverflowException or InvalidCastException or IndexOutOfRangeException or KeyNotFoundException
            or NotSupportedException or ArithmeticException)
        {
            At(node);
            throw Error(TemplateErrorCodes.ExecError, $"error calling {name}: {e.Message}");
        }

        return new Val(GoValues.Normalize(result));
    }

    private Val EvalArg(Val dot, GoParam typ, Node n, bool rawValue = false)
    {
        At(n);
        switch (n)
        {
            case DotNode:
                return rawValue ? dot : ValidateType(dot, typ);
            case NilNode:
                if (CanBeNil(typ))
                {
                    return typ == GoParam.Value ? Val.Invalid : new Val(null);
                }

                throw Errorf($"cannot assign nil to {ParamTypeName(typ)}");
            case FieldNode field:
                return Validate(EvalFieldNode(dot, field, [n], MissingFinal.Instance));
            case VariableNode variable:
                return Validate(EvalVariableNode(dot, variable, [], MissingFinal.Instance));
            case PipeNode pipe:
                return Validate(EvalPipeline(dot, pipe));
            case IdentifierNode identifier:
                return Validate(EvalFunction(dot, identifier, identifier, null, MissingFinal.Instance));
            case ChainNode chain:
                return Validate(EvalChainNode(dot, chain, [], MissingFinal.Instance));
        }

        switch (typ)
        {
            case GoParam.Bool:
                if (n is BoolNode b)
                {
                    return new Val(b.True);
                }

                throw Errorf($"expected bool; found {n}");
            case GoParam.Float64:
                if (n is NumberNode { IsFloat: true } f)
                {
                    return new Val(f.Float64);
                }

                throw Errorf($"expected float; found {n}");
            case GoParam.Int:
                if (n is NumberNode { IsInt: true } integer)
                {
                    return new Val(integer.Int64);
                }

                throw Errorf($"expected integer; found {n}");
            case GoParam.String:
                if (n is StringNode s)
                {
                    return new Val(s.Text);
                }

                throw Errorf($"expected string; found {n}");
            case GoParam.Any or GoParam.Value:
                return n switch
                {
                    BoolNode bn => new Val(bn.True),
                    NumberNode number => new Val(IdealConstant(number)),
                    StringNode sn => new Val(sn.Text),
                    _ => throw Errorf($"can't handle assignment of {n} to empty interface argument"),
                };
        }

        throw Errorf($"can't handle {n} for arg of type {ParamTypeName(typ)}");

        Val Validate(Val v) => rawValue ? v : ValidateType(v, typ);
    }

    private static bool CanBeNil(GoParam typ) => typ is GoParam.Any or GoParam.Value or GoParam.StringSlice or GoParam.AnySlice or GoParam.Map;

    internal static string ParamTypeName(GoParam typ) => typ switch
    {
        GoParam.Any => "interface {}",
        GoParam.String => "string",
        GoParam.Int => "int",
        GoParam.Float64 => "float64",
        GoParam.Bool => "bool",
        GoParam.StringSlice => "[]string",
        GoParam.AnySlice => "[]interface {}",
        GoParam.Map => "map[string]interface {}",
        _ => "reflect.Value",
    };

    private Val ValidateType(Val value, GoParam typ)
    {
        if (!value.IsValid)
        {
            if (typ == GoParam.Value)
            {
                return Val.Invalid;
            }

            if (CanBeNil(typ))
            {
                return new Val(null);
            }

            throw Errorf($"invalid value; expected {ParamTypeName(typ)}");
        }

        var obj = value.Obj;
        if (typ is GoParam.Any or GoParam.Value)
        {
            return value;
        }

        var ok = typ switch
        {
            GoParam.String => obj is string,
            GoParam.Int => obj is long,
            GoParam.Float64 => obj is double,
            GoParam.Bool => obj is bool,
            GoParam.StringSlice => obj is IList<string>,
            GoParam.AnySlice => obj is IList l && GoValues.HasInterfaceElements(l),
            GoParam.Map => obj is IDictionary d && GoValues.HasInterfaceElements(d) && MapHasStringKeys(d),
            _ => false,
        };
        if (!ok)
        {
            var got = obj == null ? "interface {}" : GoValues.TypeName(obj);
            throw Errorf($"wrong type for value; expected {ParamTypeName(typ)}; got {got}");
        }

        return value;
    }

    private void PrintValue(Node n, Val v)
    {
        At(n);
        if (v.Obj is Delegate or TemplateFunction)
        {
            throw Errorf($"can't print {n} of type {GoValues.TypeName(v.Obj)}");
        }

        Write(v.IsValid ? GoFormatter.Sprint(v.Obj) : "<no value>");
    }

    private Val VarValue(string name)
    {
        for (var i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Name == name)
            {
                return _vars[i].Value;
            }
        }

        throw Errorf($"undefined variable: {name}");
    }

    private void SetVar(string name, Val value)
    {
        for (var i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Name == name)
            {
                _vars[i] = (name, value);
                return;
            }
        }

        throw Errorf($"undefined variable: {name}");
    }

    private void SetTopVar(int n, Val value) => _vars[^n] = (_vars[^n].Name, value);

    private void Pop(int mark)
    {
        if (_vars.Count > mark)
        {
            _vars.RemoveRange(mark, _vars.Count - mark);
        }
    }

    /// <summary>Thrown inside the engine when a limit is hit; turned into a positioned <see cref="TemplateException"/>.</summary>
    internal sealed class LimitException(string message) : Exception(message);

    /// <summary>Counts what is written and stops at the output limit.</summary>
    private sealed class LimitedWriter(TextWriter inner, long budget)
    {
        public long Budget { get; set; } = budget;

        public long Written { get; private set; }

        public long Remaining => Budget - Written;

        public void Write(string s)
        {
            Written += System.Text.Encoding.UTF8.GetByteCount(s);
            if (Written > Budget)
            {
                throw new LimitException($"output exceeded the limit of {Budget} bytes");
            }

            inner.Write(s);
        }
    }
}
